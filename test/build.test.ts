import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATED_ENVIRONMENT } from '#shared/sim/fleet.ts';
import { buildAll, samBundle, samEsbuildOptions, templateFunctions } from '#shared/tooling/build.ts';
import { findErrorClasses, typeScriptSources } from '#shared/tooling/error-names.ts';
import { FUNCTIONS, ROOT, readEvent } from '#test/support/handlers.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

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

  it.each(FUNCTIONS)(
    '%s: the minified bundle refuses a bad event with InvalidEventError, its class renamed but not its name',
    async (name) => {
      Object.assign(process.env, SIMULATED_ENVIRONMENT, { POWERTOOLS_LOG_LEVEL: 'SILENT' });
      const { handler } = (await import(
        /* @vite-ignore */ pathToFileURL(join(out, name, 'handler.mjs')).href
      )) as {
        handler: Handler;
      };
      expect(typeof handler).toBe('function');
      const context = { functionName: name, awsRequestId: 'r', getRemainingTimeInMillis: () => 60_000 };
      const error = await handler(
        readEvent('test/fixtures/events/aws-lambda-java-libs/cloudwatch_metric_alarm.json'),
        context,
      ).then(
        () => undefined,
        (thrown: unknown) => thrown as Error,
      );
      expect(error).toMatchObject({
        name: 'InvalidEventError',
        message: expect.stringMatching(/^expected .*, got a CloudWatch alarm-action payload/),
      });
      // Minification renamed the class: the name survives only because the class declares it.
      expect(error?.constructor.name).not.toBe('InvalidEventError');
      expect(String(error)).toMatch(/^InvalidEventError: expected /);
    },
  );

  it.each(FUNCTIONS)(
    '%s: the minified bundle fails its cold start with ConfigError when a variable is missing',
    async (name) => {
      Object.assign(process.env, SIMULATED_ENVIRONMENT, { POWERTOOLS_LOG_LEVEL: 'SILENT' });
      const busName = process.env.FINDINGS_BUS_NAME;
      delete process.env.FINDINGS_BUS_NAME;
      try {
        const url = pathToFileURL(join(out, name, 'handler.mjs'));
        url.search = 'cold-start-without-bus';
        await expect(import(/* @vite-ignore */ url.href)).rejects.toMatchObject({
          name: 'ConfigError',
          message: 'environment variable FINDINGS_BUS_NAME is not set',
        });
      } finally {
        process.env.FINDINGS_BUS_NAME = busName;
      }
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
