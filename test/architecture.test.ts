/** The layering of STYLE.md, checked on the source: core pure, SDK only in adapters, signals passed on. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '#test/support/handlers.ts';

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(join(ROOT, path)).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
/** The code without its comments (examples in TSDoc may name what the code must not do). */
const code = (path: string) =>
  read(path)
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:])\/\/.*$/gm, '$1');
/** The argument list of each `.send(` call: up to its closing parenthesis. */
function sendCalls(text: string): string[] {
  return text
    .split('.send(')
    .slice(1)
    .map((rest) => {
      let depth = 1;
      for (let i = 0; i < rest.length; i += 1) {
        if (rest[i] === '(') depth += 1;
        else if (rest[i] === ')' && --depth === 0) return rest.slice(0, i);
      }
      return rest;
    });
}
const imports = (path: string) =>
  [...read(path).matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm)].map((m) => m[1] ?? '');

describe('layering', () => {
  it.each(sources('shared/core'))('%s is pure: no AWS, no environment, no clock, no randomness', (path) => {
    for (const target of imports(path)) {
      expect(target, `${path} imports ${target}`).toMatch(/^\.\.?\/([\w-]+\/)?[\w-]+\.ts$/);
      expect(join(dirname(path), target), `${path} imports ${target}`).toMatch(/^shared\/core\//);
    }
    expect(code(path)).not.toMatch(/process\.env|Date\.now\(|performance\.now\(|Math\.random\(|new Date\(\)/);
  });

  it('only the adapters (and the simulated fleet that fakes AWS) import the AWS SDK', () => {
    const all = [...sources('shared'), ...sources('functions')];
    for (const path of all) {
      const sdk = imports(path).filter((target) => /^@(aws-sdk|smithy)\//.test(target));
      if (sdk.length > 0)
        expect(relative(ROOT, join(ROOT, path)), sdk.join(', ')).toMatch(/^shared\/(aws|sim)\//);
    }
  });

  it('reads the environment in shared/config.ts only', () => {
    for (const path of [...sources('shared'), ...sources('functions')]) {
      if (path === join('shared', 'config.ts')) continue;
      // The local commands play the Lambda runtime's part: they set the environment a handler reads.
      if (path.startsWith(join('shared', 'cli'))) continue;
      expect(code(path), path).not.toMatch(/process\.env/);
    }
  });

  const adapters = sources('shared/aws').filter((path) => sendCalls(code(path)).length > 0);
  it.each(adapters)('%s passes the abort signal with every SDK call', (path) => {
    for (const call of sendCalls(code(path)))
      expect(call).toMatch(/\{\s*abortSignal: signal,?\s*\}\s*,?\s*$/);
  });

  it('finds the five adapters it checks', () => {
    expect(adapters.length).toBe(5);
  });

  it.each(sources('functions'))('%s is a short middy chain that validates its event first', (path) => {
    const text = code(path);
    expect(text).toMatch(/middy<unknown, \w+>\(\)\s*\.use\(injectLambdaContext\(logger\)\)\s*\.handler\(/);
    expect(text).toMatch(/parseEvent\(/);
    expect(read(path).split('\n').length).toBeLessThan(100);
  });
});
