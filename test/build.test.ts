import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATED_ENVIRONMENT } from '#shared/sim/fleet.ts';
import {
  artifactFile,
  buildAll,
  buildFunction,
  esbuildOptions,
  literalSchemaKeys,
  namespaceZodImports,
  templateFunctions,
} from '#shared/tooling/build.ts';
import { findErrorClasses, typeScriptSources } from '#shared/tooling/error-names.ts';
import { FUNCTION_NAMES as FUNCTIONS, ROOT } from '#test/support/handlers.ts';

// The functions whose environment names the findings bus (the remediation functions have their own tests below).
const SCANNING = ['fleet-scan', 'scan-worker', 'alarm-triage'] as const;

const out = mkdtempSync(join(tmpdir(), 'crawlguard-build-'));
let bundles: Map<string, string>;
beforeAll(async () => {
  bundles = await buildAll(out);
}, 60_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npm run build', () => {
  it('bundles every function into <name>/handler.mjs', () => {
    expect([...bundles.keys()].sort()).toEqual([...FUNCTIONS].sort());
    for (const name of FUNCTIONS) expect(bundles.get(name)).toBe(join(out, name, 'handler.mjs'));
  });

  it.each(FUNCTIONS)('%s: an ESM bundle with the createRequire banner and the AWS SDK inside', (name) => {
    const code = readFileSync(join(out, name, 'handler.mjs'), 'utf8');
    expect(
      code.startsWith(
        "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      ),
    ).toBe(true);
    expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
    expect(code).not.toMatch(/from\s*["']#(core|aws|shared)\//);
    // Test doubles stay out of what is deployed.
    expect(code).not.toContain('aws-sdk-client-mock');
  });

  /** Runs a bundle as Lambda does: a fresh process with the function's environment; the handler gets one event. */
  function runBundle(name: string, env: Record<string, string | undefined>, event: string) {
    const script = `
      const { handler } = await import(${JSON.stringify(pathToFileURL(join(out, name, 'handler.mjs')).href)}).catch((error) => {
        console.log(JSON.stringify({ phase: 'init', name: error.name, message: error.message }));
        process.exit(0);
      });
      const context = { functionName: 'f', awsRequestId: 'r', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f', getRemainingTimeInMillis: () => 60_000 };
      try { await handler(JSON.parse(process.argv[1]), context); console.log(JSON.stringify({ phase: 'returned' })); }
      catch (error) { console.log(JSON.stringify({ phase: 'invoke', name: error.name, message: error.message, className: error.constructor.name, text: String(error) })); }`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script, event], {
      env: { PATH: process.env.PATH, POWERTOOLS_LOG_LEVEL: 'SILENT', ...env },
      encoding: 'utf8',
    });
    return JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as Record<string, string>;
  }
  const badEvent = () =>
    readFileSync(
      join(ROOT, 'test/fixtures/events/aws-lambda-java-libs/cloudwatch_metric_alarm.json'),
      'utf8',
    );

  it.each(SCANNING)(
    '%s: the minified bundle refuses a bad event with InvalidEventError, its class renamed but not its name',
    (name) => {
      const result = runBundle(name, { ...SIMULATED_ENVIRONMENT }, badEvent());
      expect(result).toMatchObject({
        phase: 'invoke',
        name: 'InvalidEventError',
        message: expect.stringMatching(/^expected .*, got a CloudWatch alarm-action payload/),
      });
      // Minification renamed the class: the name survives only because the class declares it.
      expect(result.className).not.toBe('InvalidEventError');
      expect(result.text).toMatch(/^InvalidEventError: expected /);
    },
  );

  it.each(SCANNING)(
    '%s: the minified bundle fails its cold start with ConfigError when a variable is missing',
    (name) => {
      const { FINDINGS_BUS_NAME: _, ...withoutBus } = SIMULATED_ENVIRONMENT;
      expect(runBundle(name, withoutBus, '{}')).toEqual({
        phase: 'init',
        name: 'ConfigError',
        message: 'environment variable FINDINGS_BUS_NAME is not set',
      });
    },
  );
});

describe('error names in minified bundles', () => {
  it('every exported error class of the function bundles keeps its name, built with the template settings', async () => {
    const [first] = templateFunctions();
    if (first === undefined) throw new Error('template.yaml has no function');
    expect(esbuildOptions(first, 'probe.mjs').minify).toBe(true);
    // The source files that end up in some function's bundle, and the error classes they export.
    const inputs = new Set<string>();
    const artifacts = mkdtempSync(join(tmpdir(), 'crawlguard-names-'));
    try {
      for (const fn of templateFunctions()) {
        for (const input of (await buildFunction(fn, join(artifacts, fn.name, 'handler.mjs'))).inputs)
          inputs.add(input);
      }
      const sources = typeScriptSources(ROOT, ['shared', 'functions']).filter((f) => inputs.has(f.path));
      const classes = findErrorClasses(sources).filter((c) => c.exported);
      expect(classes.map((c) => c.name)).toEqual(
        expect.arrayContaining(['CrawlguardError', 'InvalidEventError', 'ConfigError', 'PublishError']),
      );
      // One module exporting every class, bundled exactly as the functions are (minified, ESM).
      const entry = join(artifacts, 'error-classes.ts');
      writeFileSync(
        entry,
        [
          ...classes.map((c) => `import { ${c.name} } from ${JSON.stringify(resolve(ROOT, c.path))};`),
          `export const classes = { ${classes.map((c) => c.name).join(', ')} };`,
        ].join('\n'),
      );
      await build({
        ...esbuildOptions(first, join(artifacts, 'probe', 'error-classes.mjs')),
        entryPoints: [entry],
      });
      const probe = (await import(
        /* @vite-ignore */ pathToFileURL(join(artifacts, 'probe', 'error-classes.mjs')).href
      )) as { classes: Record<string, new (message: string) => Error> };
      for (const [className, ErrorClass] of Object.entries(probe.classes)) {
        const error = new ErrorClass('probe');
        expect(error.name, className).toBe(className);
        expect(ErrorClass.name, `${className} was not renamed: is the bundle minified?`).not.toBe(className);
      }
    } finally {
      rmSync(artifacts, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('sam build (BuildMethod: makefile)', () => {
  it.each(templateFunctions())(
    '$name: the bundle lands where the Handler points, exporting it',
    async (fn) => {
      const artifacts = mkdtempSync(join(tmpdir(), 'crawlguard-sam-'));
      try {
        const result = await buildFunction(fn, artifactFile(fn, artifacts));
        expect(result.file).toBe(join(artifacts, 'functions', fn.name, 'handler.mjs'));
        expect(existsSync(result.file)).toBe(true);
        expect(result.exports).toContain(fn.handler.slice(fn.handler.lastIndexOf('.') + 1));
        expect(result.inputs).toContain(`functions/${fn.name}/handler.ts`);
      } finally {
        rmSync(artifacts, { recursive: true, force: true });
      }
    },
  );

  it('make build-<LogicalId> writes the bundle into ARTIFACTS_DIR, as sam build runs it', () => {
    const [fn] = templateFunctions();
    if (fn === undefined) throw new Error('template.yaml has no function');
    const artifacts = mkdtempSync(join(tmpdir(), 'crawlguard-make-'));
    try {
      execFileSync('make', ['-s', '-C', ROOT, `build-${fn.logicalId}`, `ARTIFACTS_DIR=${artifacts}`], {
        stdio: 'ignore',
      });
      expect(readFileSync(artifactFile(fn, artifacts), 'utf8')).toBe(
        readFileSync(join(out, fn.name, 'handler.mjs'), 'utf8'),
      );
    } finally {
      rmSync(artifacts, { recursive: true, force: true });
    }
  }, 60_000);

  it('an unknown function or no artifacts folder: one line, exit code 2', () => {
    const run = (args: string[]) => {
      try {
        execFileSync(process.execPath, [join(ROOT, 'shared/tooling/build.ts'), ...args], {
          cwd: ROOT,
          encoding: 'utf8',
          stdio: 'pipe',
        });
        return { status: 0, stderr: '' };
      } catch (error) {
        const failed = error as { status: number; stderr: string };
        return { status: failed.status, stderr: failed.stderr };
      }
    };
    expect(run(['--function', 'NoSuchFunction', '--artifacts', tmpdir()])).toEqual({
      status: 2,
      stderr: `build: ${join(ROOT, 'template.yaml')} has no function NoSuchFunction\n`,
    });
    expect(run(['--function', 'FleetScanFunction'])).toEqual({
      status: 2,
      stderr: 'build: --artifacts DIR is missing\n',
    });
  });
});

describe('what the bundles leave out', () => {
  it.each(FUNCTIONS)(
    '%s: at most 1 MB, with zod without its locales, EC2 without its unused schemas, built-ins required',
    async (name) => {
      const [fn] = templateFunctions().filter((f) => f.name === name);
      if (fn === undefined) throw new Error(`template.yaml has no ${name}`);
      const probe = mkdtempSync(join(tmpdir(), 'crawlguard-inputs-'));
      try {
        const { inputs } = await buildFunction(fn, join(probe, 'handler.mjs'));
        expect(statSync(join(out, name, 'handler.mjs')).size).toBeLessThanOrEqual(1_000_000);
        expect(inputs.filter((input) => /zod\/v4\/locales\/(?!en\.js|index\.js)/.test(input))).toEqual([]);
        const code = readFileSync(join(out, name, 'handler.mjs'), 'utf8');
        // A schema of an EC2 operation no function calls.
        expect(code).not.toContain('"CreateVpcPeeringConnectionRequest"');
        expect(code).toContain('DescribeInstances');
        // Built-in modules are required, not imported: no ES module facade of node:http (which loads undici).
        expect(code).not.toMatch(/\b(from|import)\s*\(?\s*["'](node:)?(http|https|crypto|stream|os|fs)["']/);
        expect(code).toMatch(/\.exports=[\w$]+\("(node:)?http"\)/);
      } finally {
        rmSync(probe, { recursive: true, force: true });
      }
    },
  );

  it('literalSchemaKeys puts a string constant of the file in place of a computed key, and only that', () => {
    const source = [
      'const _A = "Address";',
      'const _e = "error";',
      'export var Address$ = [3, n0, _A, { [_e]: _c, [other]: 1 }, [_A], [0]];',
    ].join('\n');
    expect(literalSchemaKeys(source).split('\n').at(-1)).toBe(
      'export var Address$ = [3, n0, _A, { "error": _c, [other]: 1 }, [_A], [0]];',
    );
  });

  it('namespaceZodImports turns a named z into a namespace import, keeping the other names', () => {
    expect(namespaceZodImports("import { z } from 'zod';\nz.object({});")).toBe(
      "import * as z from 'zod';\nz.object({});",
    );
    expect(namespaceZodImports("import { ZodError, z } from 'zod';")).toBe(
      "import * as z from 'zod'; import { ZodError } from 'zod';",
    );
    expect(namespaceZodImports("import { ZodError } from 'zod';")).toBe("import { ZodError } from 'zod';");
    expect(namespaceZodImports("import { z } from 'zod-extra';")).toBe("import { z } from 'zod-extra';");
  });
});
