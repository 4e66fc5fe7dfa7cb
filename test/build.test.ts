import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATED_ENVIRONMENT } from '#shared/sim/fleet.ts';
import { buildAll, templateFunctions } from '#shared/tooling/build.ts';
import { FUNCTION_NAMES as FUNCTIONS, ROOT } from '#test/support/handlers.ts';

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
    '%s: the bundle loads in a fresh process with its environment, and refuses a bad event without AWS',
    (name) => {
      // As Lambda does: a new process, the function's environment, the handler called with an event.
      const script = `
        const { handler } = await import(${JSON.stringify(pathToFileURL(join(out, name, 'handler.mjs')).href)});
        const event = JSON.parse(process.argv[1]);
        const context = { functionName: 'f', awsRequestId: 'r', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f', getRemainingTimeInMillis: () => 60_000 };
        try { await handler(event, context); console.log(JSON.stringify({ returned: true })); }
        catch (error) { console.log(JSON.stringify({ name: error.name, message: error.message })); }`;
      const event = readFileSync(
        join(ROOT, 'test/fixtures/events/aws-lambda-java-libs/cloudwatch_metric_alarm.json'),
        'utf8',
      );
      const output = execFileSync(process.execPath, ['--input-type=module', '-e', script, event], {
        env: { PATH: process.env.PATH, ...SIMULATED_ENVIRONMENT, POWERTOOLS_LOG_LEVEL: 'SILENT' },
        encoding: 'utf8',
      });
      expect(JSON.parse(output.trim().split('\n').at(-1) ?? '{}')).toMatchObject({
        name: 'InvalidEventError',
        message: expect.stringMatching(/^expected .*, got a CloudWatch alarm-action payload/),
      });
    },
  );
});

describe('sam build (its esbuild invocation, as aws-lambda-builders makes it)', () => {
  it.each(templateFunctions())('$name: writes the bundle where the Handler points', async (fn) => {
    const artifacts = mkdtempSync(join(tmpdir(), 'crawlguard-sam-'));
    try {
      const entries = fn.properties.EntryPoints as string[];
      await build({
        entryPoints: entries.map((entry) => resolve(ROOT, entry)),
        bundle: true,
        platform: 'node',
        outdir: artifacts,
        format: 'esm',
        target: 'node22',
        minify: true,
        outExtension: { '.js': '.mjs' },
        logLevel: 'silent',
      });
      const handlerFile = `${fn.handler.slice(0, fn.handler.lastIndexOf('.'))}.mjs`;
      expect(existsSync(join(artifacts, handlerFile)), handlerFile).toBe(true);
    } finally {
      rmSync(artifacts, { recursive: true, force: true });
    }
  });
});
