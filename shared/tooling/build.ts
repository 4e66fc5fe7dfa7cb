/**
 * `npm run build`: bundles every function of template.yaml with the esbuild settings of its Metadata
 * (ESM, .mjs, the createRequire banner, @aws-sdk bundled) into dist/<name>/handler.mjs — what
 * `sam build` produces, without SAM.
 */
import { rmSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { build } from 'esbuild';
import { readTemplate } from './cfn-yaml.ts';

/** A function of the template and how SAM bundles it. */
export interface BundledFunction {
  /** The folder name under functions/, e.g. fleet-scan. */
  readonly name: string;
  readonly logicalId: string;
  /** The entry file, e.g. functions/fleet-scan/handler.ts. */
  readonly entry: string;
  readonly handler: string;
  readonly properties: Readonly<Record<string, unknown>>;
}

const ROOT = resolve(import.meta.dirname, '../..');

/** Every esbuild-built function of template.yaml. */
export function templateFunctions(templatePath = resolve(ROOT, 'template.yaml')): BundledFunction[] {
  const template = readTemplate(templatePath) as {
    Resources: Record<
      string,
      {
        Type: string;
        Metadata?: { BuildMethod?: string; BuildProperties?: Record<string, unknown> };
        Properties: { Handler: string };
      }
    >;
  };
  return Object.entries(template.Resources)
    .filter(
      ([, resource]) =>
        resource.Type === 'AWS::Serverless::Function' && resource.Metadata?.BuildMethod === 'esbuild',
    )
    .map(([logicalId, resource]) => {
      const properties = resource.Metadata?.BuildProperties ?? {};
      const entry = ((properties.EntryPoints as string[] | undefined) ?? [])[0] ?? '';
      return {
        name: basename(dirname(entry)),
        logicalId,
        entry,
        handler: resource.Properties.Handler,
        properties,
      };
    });
}

/** Bundles one function into `outdir`/handler.mjs with its template settings. */
export async function bundle(fn: BundledFunction, outdir: string): Promise<string> {
  const p = fn.properties;
  const pairs = (key: string) =>
    Object.fromEntries(
      ((p[key] as string[] | undefined) ?? []).map((item) => {
        const at = item.indexOf('=');
        return [item.slice(0, at), item.slice(at + 1)];
      }),
    );
  await build({
    entryPoints: [resolve(ROOT, fn.entry)],
    outdir,
    bundle: true,
    platform: 'node',
    format: (p.Format as 'esm' | undefined) ?? 'cjs',
    target: (p.Target as string | undefined) ?? 'es2020',
    sourcemap: p.Sourcemap === true,
    minify: p.Minify !== false,
    outExtension: pairs('OutExtension'),
    banner: pairs('Banner'),
    logLevel: 'warning',
  });
  return resolve(outdir, 'handler.mjs');
}

/** Bundles every function into `outRoot`/<name>/handler.mjs; returns the files by function name. */
export async function buildAll(outRoot = resolve(ROOT, 'dist')): Promise<Map<string, string>> {
  rmSync(outRoot, { recursive: true, force: true });
  const files = new Map<string, string>();
  for (const fn of templateFunctions()) files.set(fn.name, await bundle(fn, resolve(outRoot, fn.name)));
  return files;
}

if (import.meta.main) {
  for (const [name, file] of await buildAll()) console.log(`${name}: ${file.slice(ROOT.length + 1)}`);
}
