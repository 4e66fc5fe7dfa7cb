/**
 * Rule: every function builds as `sam build` builds it — BuildMethod makefile, `make build-<LogicalId>`
 * in its code folder with ARTIFACTS_DIR set (the Makefile runs shared/tooling/build.ts) — and the bundle
 * lands where the Handler points, exporting the handler it names.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { artifactFile, templateFunctions } from '../build.ts';
import { isNode, place, type TemplateContext } from './model.ts';

/** Problems of the bundles; empty when every function bundles. */
export async function bundleProblems(context: TemplateContext): Promise<string[]> {
  const problems: string[] = [];
  const outRoot = mkdtempSync(join(tmpdir(), 'crawlguard-validate-'));
  try {
    for (const fn of templateFunctions(context.templatePath, context.baseDir)) {
      const resource = context.resources[fn.logicalId];
      const properties = isNode(resource?.Properties) ? resource.Properties : {};
      if (properties.InlineCode !== undefined) continue;
      const handlerAt = place(['Resources', fn.logicalId, 'Properties', 'Handler']);
      if (fn.buildMethod !== 'makefile') {
        problems.push(
          `${place(['Resources', fn.logicalId, 'Metadata', 'BuildMethod'])}: not makefile; crawlguard builds every function with shared/tooling/build.ts through the Makefile`,
        );
        continue;
      }
      if (!existsSync(join(fn.codeDir, 'Makefile'))) {
        problems.push(
          `${place(['Resources', fn.logicalId, 'Properties', 'CodeUri'])}: no Makefile in ${fn.codeDir}`,
        );
        continue;
      }
      const artifacts = join(outRoot, fn.logicalId);
      const make = spawnSync(
        'make',
        [
          '-s',
          '-C',
          fn.codeDir,
          `build-${fn.logicalId}`,
          `ARTIFACTS_DIR=${artifacts}`,
          `TEMPLATE=${context.templatePath}`,
        ],
        {
          encoding: 'utf8',
        },
      );
      if (make.status !== 0) {
        const said = `${make.stderr ?? ''}`
          .trim()
          .split('\n')
          .filter((line) => line !== '' && !/^make(\[\d+\])?: \*\*\*/.test(line))
          .slice(0, 5);
        for (const line of said.length > 0 ? said : [String(make.error ?? `make exited with ${make.status}`)])
          problems.push(`${handlerAt}: make build-${fn.logicalId} fails: ${line}`);
        continue;
      }
      const file = artifactFile(fn, artifacts);
      if (!existsSync(file)) {
        problems.push(
          `${handlerAt}: ${fn.handler}: sam build writes no such file (make build-${fn.logicalId} wrote no ${file.slice(artifacts.length + 1)})`,
        );
        continue;
      }
      const exportName = fn.handler.slice(fn.handler.lastIndexOf('.') + 1);
      const exports = await bundleExports(file);
      if (!exports.includes(exportName))
        problems.push(
          `${handlerAt}: ${fn.handler}: the bundle exports no ${exportName} (it exports: ${exports.join(', ') || 'nothing'})`,
        );
    }
  } finally {
    rmSync(outRoot, { recursive: true, force: true });
  }
  return problems;
}

/** The names an ES module exports, read by esbuild without running it. */
async function bundleExports(file: string): Promise<string[]> {
  const result = await build({
    entryPoints: [file],
    bundle: false,
    write: false,
    metafile: true,
    format: 'esm',
    logLevel: 'silent',
  });
  return Object.values(result.metafile.outputs).flatMap((output) => output.exports);
}
