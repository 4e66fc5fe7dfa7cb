/**
 * Rule: every function's entry points bundle as `sam build` bundles them (shared/tooling/build.ts),
 * and the bundle lands where the Handler points, exporting the handler it names.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPRODUCED_BUILD_PROPERTIES, samBundle, templateFunctions } from '../build.ts';
import { isNode, place, type TemplateContext } from './model.ts';

/** Problems of the bundles; empty when every function bundles. */
export async function bundleProblems(context: TemplateContext): Promise<string[]> {
  const problems: string[] = [];
  for (const [logicalId, resource] of Object.entries(context.resources)) {
    const properties = isNode(resource.Properties) ? resource.Properties : {};
    if (resource.Type !== 'AWS::Serverless::Function' || properties.InlineCode !== undefined) continue;
    const metadata = isNode(resource.Metadata) ? resource.Metadata : {};
    if (metadata.BuildMethod !== 'esbuild')
      problems.push(
        `${place(['Resources', logicalId, 'Metadata', 'BuildMethod'])}: not esbuild; crawlguard bundles every function with esbuild`,
      );
  }
  const outRoot = mkdtempSync(join(tmpdir(), 'crawlguard-validate-'));
  try {
    for (const fn of templateFunctions(context.templatePath, context.baseDir)) {
      const at = ['Resources', fn.logicalId, 'Metadata', 'BuildProperties'];
      for (const key of Object.keys(fn.properties))
        if (!REPRODUCED_BUILD_PROPERTIES.has(key))
          problems.push(
            `${place([...at, key])}: shared/tooling/build.ts does not reproduce this option of sam build`,
          );
      if (fn.entry === '') {
        problems.push(`${place([...at, 'EntryPoints'])}: no entry point`);
        continue;
      }
      try {
        const result = await samBundle(fn, join(outRoot, fn.logicalId));
        const exportName = fn.handler.slice(fn.handler.lastIndexOf('.') + 1);
        if (result.exports === undefined)
          problems.push(
            `${place(['Resources', fn.logicalId, 'Properties', 'Handler'])}: ${fn.handler}: sam build writes no such file (entry points ${(fn.properties.EntryPoints as string[]).join(', ')})`,
          );
        else if (!result.exports.includes(exportName))
          problems.push(
            `${place(['Resources', fn.logicalId, 'Properties', 'Handler'])}: ${fn.handler}: the bundle exports no ${exportName} (it exports: ${result.exports.join(', ') || 'nothing'})`,
          );
      } catch (error) {
        const messages =
          (error as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> })
            .errors ?? [];
        for (const message of messages.length > 0
          ? messages.slice(0, 5)
          : [{ text: (error as Error).message, location: null }])
          problems.push(
            `${place([...at, 'EntryPoints'])}: does not bundle: ${message.location ? `${message.location.file}:${message.location.line}: ` : ''}${message.text}`,
          );
      }
    }
  } finally {
    rmSync(outRoot, { recursive: true, force: true });
  }
  return problems;
}
