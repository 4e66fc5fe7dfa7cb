/**
 * `npm run build`: bundles every function of template.yaml with the esbuild settings of its Metadata
 * (ESM, .mjs, the createRequire banner, @aws-sdk bundled, minified) into dist/<name>/handler.mjs — what
 * `sam build` produces, without SAM. `samBundle` reproduces `sam build` itself (every entry point, the
 * bundle where the Handler points), for `npm run validate`.
 */
import { rmSync, statSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { readTemplate } from './cfn-yaml.ts';

/** A function of the template and how SAM bundles it. */
export interface BundledFunction {
  /** The folder name under functions/, e.g. fleet-scan. */
  readonly name: string;
  readonly logicalId: string;
  /** The entry file, e.g. functions/fleet-scan/handler.ts. */
  readonly entry: string;
  readonly handler: string;
  /** The esbuild BuildProperties of its Metadata. */
  readonly properties: Readonly<Record<string, unknown>>;
  /** Where the entry points and the Handler are relative to: the template's folder joined with CodeUri. */
  readonly codeDir: string;
}

/** What `sam build` wrote for one function. */
export interface SamBundle {
  /** The file the Handler names (e.g. <outdir>/functions/fleet-scan/handler.mjs); may not exist. */
  readonly handlerFile: string;
  /** The names that file exports, or undefined when esbuild wrote no such file. */
  readonly exports: readonly string[] | undefined;
  /** Source files in the bundle, relative to the code folder. */
  readonly inputs: readonly string[];
}

const ROOT = resolve(import.meta.dirname, '../..');

// BuildProperties this file turns into esbuild options, as aws-lambda-builders passes them to esbuild.
export const REPRODUCED_BUILD_PROPERTIES = new Set([
  'EntryPoints',
  'Format',
  'Target',
  'Minify',
  'Sourcemap',
  'OutExtension',
  'Banner',
  'Footer',
  'External',
  'Loader',
  'MainFields',
]);

type TemplateResource = {
  Type?: string;
  Metadata?: { BuildMethod?: string; BuildProperties?: Record<string, unknown> };
  Properties?: { Handler?: string; CodeUri?: unknown };
};

/**
 * Every esbuild-built function of a template.
 * @param baseDir the folder the template's relative paths start from (its own folder by default).
 */
export function templateFunctions(
  templatePath = resolve(ROOT, 'template.yaml'),
  baseDir = dirname(templatePath),
): BundledFunction[] {
  const template = readTemplate(templatePath) as { Resources?: Record<string, TemplateResource> };
  const codeUri = (template as { Globals?: { Function?: { CodeUri?: unknown } } }).Globals?.Function?.CodeUri;
  return Object.entries(template.Resources ?? {})
    .filter(
      ([, resource]) =>
        resource.Type === 'AWS::Serverless::Function' && resource.Metadata?.BuildMethod === 'esbuild',
    )
    .map(([logicalId, resource]) => {
      const properties = resource.Metadata?.BuildProperties ?? {};
      const entry = ((properties.EntryPoints as string[] | undefined) ?? [])[0] ?? '';
      const uri = resource.Properties?.CodeUri ?? codeUri;
      return {
        name: basename(dirname(entry)),
        logicalId,
        entry,
        handler: resource.Properties?.Handler ?? '',
        properties,
        codeDir: resolve(baseDir, typeof uri === 'string' ? uri : '.'),
      };
    });
}

/** The esbuild options `sam build` uses for `fn` (aws-lambda-builders' defaults: cjs, es2020, minify). */
export function samEsbuildOptions(fn: BundledFunction, outdir: string): BuildOptions {
  const p = fn.properties;
  const pairs = (key: string) =>
    Object.fromEntries(
      ((p[key] as string[] | undefined) ?? []).map((item) => {
        const at = item.indexOf('=');
        return [item.slice(0, at), item.slice(at + 1)];
      }),
    );
  const entries = (p.EntryPoints as string[] | undefined) ?? [];
  return {
    entryPoints: entries.map((entry) => resolve(fn.codeDir, entry)),
    outdir,
    bundle: true,
    platform: 'node',
    format: (p.Format as 'esm' | 'cjs' | undefined) ?? 'cjs',
    target: (p.Target as string | undefined) ?? 'es2020',
    sourcemap: p.Sourcemap === true,
    minify: p.Minify !== false,
    outExtension: pairs('OutExtension'),
    banner: pairs('Banner'),
    footer: pairs('Footer'),
    external: (p.External as string[] | undefined) ?? [],
    loader: pairs('Loader') as BuildOptions['loader'],
    ...(p.MainFields === undefined ? {} : { mainFields: String(p.MainFields).split(',') }),
  };
}

/** Bundles one function into `outdir`/handler.mjs (its first entry point only) with its template settings. */
export async function bundle(fn: BundledFunction, outdir: string): Promise<string> {
  const options = samEsbuildOptions(fn, outdir);
  await build({
    ...options,
    entryPoints: (options.entryPoints as string[]).slice(0, 1),
    logLevel: 'warning',
  });
  return resolve(outdir, 'handler.mjs');
}

/**
 * Runs `sam build`'s esbuild invocation for `fn` into `outdir` (every entry point, so the outbase is the
 * code folder and the bundle lands where the Handler points).
 * @throws esbuild's error when the entry points do not bundle.
 */
export async function samBundle(fn: BundledFunction, outdir: string): Promise<SamBundle> {
  const options = samEsbuildOptions(fn, outdir);
  const result = await build({ ...options, metafile: true, logLevel: 'silent' });
  const handlerModule = fn.handler.slice(0, fn.handler.lastIndexOf('.'));
  const handlerFile = resolve(outdir, `${handlerModule}${options.outExtension?.['.js'] ?? '.js'}`);
  const outputs: Metafile['outputs'] = result.metafile.outputs;
  const output = Object.entries(outputs).find(([file]) => resolve(file) === handlerFile)?.[1];
  return {
    handlerFile,
    exports: output?.exports,
    inputs: Object.keys(output?.inputs ?? {}).map((file) => relative(fn.codeDir, resolve(file))),
  };
}

/** Bundles every function into `outRoot`/<name>/handler.mjs; returns the files by function name. */
export async function buildAll(outRoot = resolve(ROOT, 'dist')): Promise<Map<string, string>> {
  rmSync(outRoot, { recursive: true, force: true });
  const files = new Map<string, string>();
  for (const fn of templateFunctions()) files.set(fn.name, await bundle(fn, resolve(outRoot, fn.name)));
  return files;
}

if (import.meta.main) {
  for (const [name, file] of await buildAll())
    console.log(`${name}: ${relative(ROOT, file)} (${statSync(file).size.toLocaleString('en')} bytes)`);
}
