/** The layering of STYLE.md, checked on the source: core pure, SDK only in adapters, signals passed on. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
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
      expect(target, `${path} imports ${target}`).toMatch(/^\.\.?\/([\w-]+\/)*[\w-]+\.ts$/);
      // Relative, and still inside the core.
      expect(relative(ROOT, resolve(ROOT, dirname(path), target)), `${path} imports ${target}`).toMatch(
        /^shared\/core\//,
      );
    }
    expect(code(path)).not.toMatch(/process\.env|Date\.now\(|performance\.now\(|Math\.random\(|new Date\(\)/);
  });

  it('only the adapters (and the simulated fleet and local runtime, which play AWS) import the AWS SDK', () => {
    const all = [...sources('shared'), ...sources('functions')];
    for (const path of all) {
      const sdk = imports(path).filter((target) => /^@(aws-sdk|smithy)\//.test(target));
      if (sdk.length > 0)
        expect(relative(ROOT, join(ROOT, path)), sdk.join(', ')).toMatch(/^shared\/(aws|sim|local)\//);
    }
  });

  it('reads the environment in shared/config.ts only (and the local commands, which only read it)', () => {
    for (const path of [...sources('shared'), ...sources('functions')]) {
      if (path === join('shared', 'config.ts')) continue;
      if (path.startsWith(join('shared', 'cli'))) {
        // The local commands read the shell's variables; none writes the environment a handler reads.
        expect(code(path), path).not.toMatch(
          /process\.env(\.\w+|\[[^\]]+\])?\s*=[^=]|Object\.assign\(process\.env/,
        );
        continue;
      }
      expect(code(path), path).not.toMatch(/process\.env/);
    }
  });

  const adapters = sources('shared/aws').filter((path) => sendCalls(code(path)).length > 0);
  it.each(adapters)('%s passes the abort signal with every SDK call', (path) => {
    for (const call of sendCalls(code(path)))
      expect(call).toMatch(/\{\s*abortSignal: signal,?\s*\}\s*,?\s*$/);
  });

  it('finds adapters to check (every file of shared/aws that sends a command is one)', () => {
    expect(adapters.length).toBeGreaterThanOrEqual(5);
  });
});

const functionNames = readdirSync(join(ROOT, 'functions')).filter((name) =>
  statSync(join(ROOT, 'functions', name)).isDirectory(),
);

describe('handlers', () => {
  it.each(functionNames)(
    'functions/%s/handler.ts is the entry point: createHandler(depsFromEnv()), nothing else',
    (name) => {
      const text = code(join('functions', name, 'handler.ts'));
      expect(text).toMatch(/export \{ createHandler \};/);
      expect(text).toMatch(/export const handler = createHandler\(depsFromEnv\(\)\);/);
      expect(imports(join('functions', name, 'handler.ts'))).toEqual(['./app.ts']);
    },
  );

  it.each(functionNames)(
    'functions/%s/app.ts: createHandler(deps) is a short middy chain that validates its event first',
    (name) => {
      const path = join('functions', name, 'app.ts');
      const text = code(path);
      expect(text).toMatch(/export function createHandler\(/);
      expect(text).toMatch(/export function depsFromEnv\(/);
      expect(text).toMatch(/middy<unknown, \w+>\(\)\s*\.use\(injectLambdaContext\(logger\)\)\s*\.handler\(/);
      expect(text).toMatch(/parseEvent\(/);
      expect(read(path).split('\n').length).toBeLessThan(120);
    },
  );
});

/** Every project file a module imports, transitively (`#alias/...` and relative imports). */
function closure(entry: string): Set<string> {
  const aliases: Record<string, string> = {
    '#core/': 'shared/core/',
    '#aws/': 'shared/aws/',
    '#shared/': 'shared/',
    '#functions/': 'functions/',
    '#test/': 'test/',
  };
  const seen = new Set<string>();
  const visit = (path: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const target of imports(path)) {
      const alias = Object.keys(aliases).find((prefix) => target.startsWith(prefix));
      const next = alias
        ? `${aliases[alias]}${target.slice(alias.length)}`
        : target.startsWith('.')
          ? relative(ROOT, resolve(ROOT, dirname(path), target))
          : null;
      if (next !== null && existsSync(join(ROOT, next))) visit(next);
    }
  };
  visit(entry);
  return seen;
}

describe('what is deployed', () => {
  it.each(functionNames)(
    'functions/%s/handler.ts never reaches the simulator, the local runtime, the commands or the tests',
    (name) => {
      const reached = [...closure(join('functions', name, 'handler.ts'))];
      expect(reached.length).toBeGreaterThan(10);
      expect(reached.filter((path) => /^(shared\/(sim|local|cli|tooling)|test)\//.test(path))).toEqual([]);
      for (const path of reached) expect(read(path), path).not.toContain('aws-sdk-client-mock');
    },
  );

  it('keeps no mutable state at module level in what is deployed (time and clients are injected)', () => {
    const deployed = new Set(
      functionNames.flatMap((name) => [...closure(join('functions', name, 'handler.ts'))]),
    );
    for (const path of deployed) expect(code(path), path).not.toMatch(/^(let|var) /m);
    expect(code('shared/clock.ts')).not.toMatch(/useRuntimeClock|runtimeClock/);
  });
});
