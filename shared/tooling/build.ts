/**
 * The one build of the functions. `npm run build` bundles every function of template.yaml into
 * dist/<name>/handler.mjs; `sam build` runs the same bundling through the Makefile (BuildMethod: makefile,
 * one `build-<LogicalId>` target per function: `build.ts --function <LogicalId> --artifacts DIR`), writing
 * DIR/functions/<name>/handler.mjs where the Handler points. ESM for Node 22, minified (error classes
 * declare their names, see error-names.ts), with a source map of positions only, the AWS SDK inside.
 *
 * Two settings keep each bundle to what its function uses: `mainFields: module,main` takes the SDK's
 * ES modules (its CommonJS builds are one file per client, which nothing can trim), and
 * {@link sdkSchemaKeys} lets esbuild drop the SDK's unused schemas (aws/aws-sdk-js-v3#7607).
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';
import { readTemplate } from './cfn-yaml.ts';

/** A function of the template and where its code is. */
export interface BundledFunction {
  /** The folder name under functions/, e.g. fleet-scan. */
  readonly name: string;
  readonly logicalId: string;
  /** The entry file, relative to the code folder, e.g. functions/fleet-scan/handler.ts. */
  readonly entry: string;
  /** The Handler, e.g. functions/fleet-scan/handler.handler. */
  readonly handler: string;
  /** The Metadata's BuildMethod. */
  readonly buildMethod: string | undefined;
  /** Where the Handler is relative to: the template's folder joined with CodeUri (the Makefile's folder). */
  readonly codeDir: string;
}

/** What one build wrote. */
export interface BuiltBundle {
  /** The bundle (…/handler.mjs). */
  readonly file: string;
  /** The names the bundle exports. */
  readonly exports: readonly string[];
  /** Source files in the bundle, relative to the code folder. */
  readonly inputs: readonly string[];
}

const ROOT = resolve(import.meta.dirname, '../..');

type TemplateResource = {
  Type?: string;
  Metadata?: { BuildMethod?: string };
  Properties?: { Handler?: string; CodeUri?: unknown };
};

/**
 * Every function of a template, whatever its BuildMethod (the bundles rule of validate checks it).
 * The entry file is the Handler's module with `.ts` (or `.js`): `functions/<name>/handler.handler` is
 * built from `functions/<name>/handler.ts`.
 * @param baseDir the folder the template's relative paths start from (its own folder by default).
 */
export function templateFunctions(
  templatePath = resolve(ROOT, 'template.yaml'),
  baseDir = dirname(templatePath),
): BundledFunction[] {
  const template = readTemplate(templatePath) as { Resources?: Record<string, TemplateResource> };
  const codeUri = (template as { Globals?: { Function?: { CodeUri?: unknown } } }).Globals?.Function?.CodeUri;
  return Object.entries(template.Resources ?? {})
    .filter(([, resource]) => resource.Type === 'AWS::Serverless::Function')
    .map(([logicalId, resource]) => {
      const handler = resource.Properties?.Handler ?? '';
      const module = handler.slice(0, Math.max(0, handler.lastIndexOf('.')));
      const uri = resource.Properties?.CodeUri ?? codeUri;
      const codeDir = resolve(baseDir, typeof uri === 'string' ? uri : '.');
      return {
        name: module.split('/').at(-2) ?? '',
        logicalId,
        entry: entryFile(codeDir, module),
        handler,
        buildMethod: resource.Metadata?.BuildMethod,
        codeDir,
      };
    });
}

/** The Handler module's source: `<module>.ts`, or `<module>.js` when only that exists. */
function entryFile(codeDir: string, module: string): string {
  return !existsSync(join(codeDir, `${module}.ts`)) && existsSync(join(codeDir, `${module}.js`))
    ? `${module}.js`
    : `${module}.ts`;
}

/**
 * Rewrites the SDK's generated schemas so that esbuild can drop the ones a bundle never uses. They
 * declare trait keys as computed properties (`{ [_xN]: _m }`, `_xN` a string constant of the same
 * file); esbuild cannot tell that computing a key has no side effect, so it keeps every schema of the
 * service (EC2: 550 kB for one operation). This puts each constant's literal in place of the computed
 * key — the same objects, which smithy-lang/smithy-typescript#1889 proposes to generate. Keys whose
 * name is not a string constant of the file are left as they are.
 */
export const sdkSchemaKeys: Plugin = {
  name: 'sdk-schema-literal-keys',
  setup(builder) {
    builder.onLoad(
      { filter: /[\\/]@aws-sdk[\\/].*[\\/]dist-es[\\/](.*[\\/])?schemas[\\/][^\\/]+\.js$/ },
      (args) => ({
        contents: literalSchemaKeys(readFileSync(args.path, 'utf8')),
        loader: 'js',
      }),
    );
  },
};

/** `source` with each computed key `[NAME]:` whose NAME is a top-level `const NAME = "…";` replaced by that literal. */
export function literalSchemaKeys(source: string): string {
  const constants = new Map<string, string>();
  for (const match of source.matchAll(/^const ([A-Za-z_$][\w$]*) = ("(?:[^"\\\n]|\\.)*");$/gm))
    constants.set(match[1] as string, match[2] as string);
  return source.replace(/\[([A-Za-z_$][\w$]*)\]:/g, (key, name: string) => {
    const literal = constants.get(name);
    return literal === undefined ? key : `${literal}:`;
  });
}

/**
 * Makes the libraries that import zod as `import { z } from 'zod'` (the Powertools parser's schemas)
 * import it as a namespace, as zod's own docs do: a namespace whose members are only read lets esbuild
 * keep the members used, where the named `z` object keeps all of zod, its 40 locales included (360 kB).
 */
export const zodNamespaceImports: Plugin = {
  name: 'zod-namespace-imports',
  setup(builder) {
    builder.onLoad({ filter: /[\\/]node_modules[\\/]@aws-lambda-powertools[\\/].*\.js$/ }, (args) => ({
      contents: namespaceZodImports(readFileSync(args.path, 'utf8')),
      loader: 'js',
    }));
  },
};

/** `source` with each `import { …, z, … } from 'zod';` split into `import * as z from 'zod';` and the rest. */
export function namespaceZodImports(source: string): string {
  return source.replace(
    /^import \{([^}]*)\} from (['"])zod\2;$/gm,
    (statement, list: string, quote: string) => {
      const names = list.split(',').map((name) => name.trim());
      if (!names.includes('z')) return statement;
      const rest = names.filter((name) => name !== 'z' && name !== '');
      const namespace = `import * as z from ${quote}zod${quote};`;
      return rest.length === 0
        ? namespace
        : `${namespace} import { ${rest.join(', ')} } from ${quote}zod${quote};`;
    },
  );
}

/**
 * Loads Node's built-in modules with `require` (the banner's createRequire) instead of `import`: the ES
 * module facade Node builds for a built-in reads every export, and node:http's include lazy getters
 * that load undici (fetch, WebSocket) — 25-40 ms of every cold start for nothing used.
 */
export const requireBuiltins: Plugin = {
  name: 'require-builtins',
  setup(builder) {
    builder.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) =>
      isBuiltin(args.path) && args.namespace !== 'builtin'
        ? { path: args.path, namespace: 'builtin' }
        : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

/** The esbuild options of every function: one place, used by npm run build, sam build, validate and the bench. */
export function esbuildOptions(fn: BundledFunction, outfile: string): BuildOptions {
  return {
    entryPoints: [resolve(fn.codeDir, fn.entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    // Positions only: stack traces map to the sources (NODE_OPTIONS=--enable-source-maps) without
    // shipping, and loading at every cold start, a copy of every source file.
    sourcemap: true,
    sourcesContent: false,
    mainFields: ['module', 'main'],
    // ESM has no require: the CommonJS modules the SDK still bundles call it.
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
    plugins: [sdkSchemaKeys, zodNamespaceImports, requireBuiltins],
    logLevel: 'silent',
  };
}

/**
 * Bundles one function into `outfile` (a .mjs file).
 * @throws esbuild's error when the entry point does not bundle.
 */
export async function buildFunction(fn: BundledFunction, outfile: string): Promise<BuiltBundle> {
  const result = await build({ ...esbuildOptions(fn, outfile), metafile: true });
  const outputs: Metafile['outputs'] = result.metafile.outputs;
  const output = Object.entries(outputs).find(([file]) => resolve(file) === resolve(outfile))?.[1];
  return {
    file: outfile,
    exports: output?.exports ?? [],
    inputs: Object.keys(output?.inputs ?? {}).map((file) => relative(fn.codeDir, resolve(file))),
  };
}

/** Where `sam build` wants the bundle of `fn` in its artifacts folder: the Handler's module, as .mjs. */
export function artifactFile(fn: BundledFunction, artifactsDir: string): string {
  return join(artifactsDir, `${fn.handler.slice(0, fn.handler.lastIndexOf('.'))}.mjs`);
}

/** Bundles every function into `outRoot`/<name>/handler.mjs; returns the files by function name. */
export async function buildAll(outRoot = resolve(ROOT, 'dist')): Promise<Map<string, string>> {
  rmSync(outRoot, { recursive: true, force: true });
  const files = new Map<string, string>();
  for (const fn of templateFunctions()) {
    const file = join(outRoot, fn.name, 'handler.mjs');
    await buildFunction(fn, file);
    files.set(fn.name, file);
  }
  return files;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { function: { type: 'string' }, artifacts: { type: 'string' }, template: { type: 'string' } },
  });
  try {
    if (values.function === undefined) {
      for (const [name, file] of await buildAll())
        console.log(`${name}: ${relative(ROOT, file)} (${statSync(file).size.toLocaleString('en')} bytes)`);
    } else {
      // sam build, through the Makefile: `build.ts --function <LogicalId> --artifacts $(ARTIFACTS_DIR) [--template T]`.
      const template = resolve(values.template ?? 'template.yaml');
      // make runs in the function's code folder (SAM's copy of it, CodeUri: .): paths start there.
      const fn = templateFunctions(template, process.cwd()).find((f) => f.logicalId === values.function);
      if (fn === undefined) throw new Error(`${template} has no function ${values.function}`);
      if (values.artifacts === undefined) throw new Error('--artifacts DIR is missing');
      // make runs in the function's code folder (SAM's copy of it): the Handler is relative to it.
      const built = await buildFunction(
        { ...fn, codeDir: process.cwd() },
        artifactFile(fn, values.artifacts),
      );
      console.log(`${fn.logicalId}: ${built.file} (${statSync(built.file).size.toLocaleString('en')} bytes)`);
    }
  } catch (error) {
    // One line per esbuild error (file:line: text), or the error's message.
    const messages =
      (error as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> })
        .errors ?? [];
    if (messages.length === 0) console.error(`build: ${(error as Error).message}`);
    for (const message of messages.slice(0, 5))
      console.error(
        `build: ${message.location ? `${message.location.file}:${message.location.line}: ` : ''}${message.text}`,
      );
    process.exit(2);
  }
}
