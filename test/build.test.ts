import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATED_ENVIRONMENT } from '#shared/sim/fleet.ts';
import { buildAll, samBundle, samEsbuildOptions, templateFunctions } from '#shared/tooling/build.ts';
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
    if (first === undefined) throw new Error('template.yaml has no esbuild function');
    expect(first.properties.Minify).toBe(true);
    // The source files that end up in some function's bundle, and the error classes they export.
    const inputs = new Set<string>();
    const artifacts = mkdtempSync(join(tmpdir(), 'crawlguard-names-'));
    try {
      for (const fn of templateFunctions()) {
        for (const input of (await samBundle(fn, join(artifacts, fn.name))).inputs) inputs.add(input);
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
        ...samEsbuildOptions(first, join(artifacts, 'probe')),
        entryPoints: [entry],
        logLevel: 'silent',
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

describe('sam build (its esbuild invocation, as aws-lambda-builders makes it)', () => {
  it.each(templateFunctions())(
    '$name: writes the bundle where the Handler points, exporting it',
    async (fn) => {
      const artifacts = mkdtempSync(join(tmpdir(), 'crawlguard-sam-'));
      try {
        const result = await samBundle(fn, artifacts);
        expect(result.handlerFile).toBe(join(artifacts, 'functions', fn.name, 'handler.mjs'));
        expect(existsSync(result.handlerFile)).toBe(true);
        expect(result.exports).toContain(fn.handler.slice(fn.handler.lastIndexOf('.') + 1));
        expect(result.inputs).toContain(`functions/${fn.name}/handler.ts`);
      } finally {
        rmSync(artifacts, { recursive: true, force: true });
      }
    },
  );
});
