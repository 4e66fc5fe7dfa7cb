/**
 * Assembles crawlguard's SSM Command documents: each `shared/ssm/<name>/document.yaml` names its script
 * with a `<<script:FILE>>` placeholder as the only `runCommand` entry, and the build replaces it with the
 * script's lines. The SSM agent writes `runCommand.join('\n') + '\n'` to `_script.sh`, so the assembled
 * document runs exactly the bytes of the `.sh` file that shellcheck and the tests check.
 *
 * `node shared/ssm/build.ts`          writes build/ssm/<name>.json
 * `node shared/ssm/build.ts --sync`   first copies shared/ssm/lib/*.sh into the scripts' embedded regions
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify as stringifyYaml } from 'yaml';
import { type CommandDocument, commandDocumentSchema } from './document-schema.ts';

export const SSM_DOCUMENT_NAMES = ['diagnose', 'patch-updatedb-conf', 'restart-s3fs'] as const;
export type SsmDocumentName = (typeof SSM_DOCUMENT_NAMES)[number];

/** The repository's `shared/ssm` directory. */
export const SSM_SOURCE_DIR = dirname(fileURLToPath(import.meta.url));

const PLACEHOLDER = /^<<script:([a-z0-9-]+\.sh)>>$/;
const EMBED_BEGIN = /^# >>> embedded lib\/([a-z0-9-]+\.sh)\b.*$/;
const EMBED_END = (lib: string) => `# <<< embedded lib/${lib}`;

export class SsmBuildError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SsmBuildError';
  }
}

export interface AssembledDocument {
  name: SsmDocumentName;
  /** The document content, ready for CreateDocument or an AWS::SSM::Document `Content`. */
  content: CommandDocument;
  /** Script file name per step name, for traceability. */
  scripts: Record<string, string>;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new SsmBuildError(`cannot read ${path}`, { cause: error });
  }
}

/** Lines to place in `runCommand` so that the agent's `join('\n') + '\n'` gives back `script` exactly. */
export function scriptToRunCommand(script: string, file: string): string[] {
  if (!script.endsWith('\n') || script.endsWith('\n\n')) {
    throw new SsmBuildError(`${file} must end with exactly one newline`);
  }
  if (script.includes('\r')) throw new SsmBuildError(`${file} contains a carriage return`);
  if (script.includes('{{')) throw new SsmBuildError(`${file} contains "{{", which SSM would interpolate`);
  return script.slice(0, -1).split('\n');
}

/** Assembles one document from its YAML and script files. */
export function assembleDocument(
  name: SsmDocumentName,
  sourceDir: string = SSM_SOURCE_DIR,
): AssembledDocument {
  const dir = join(sourceDir, name);
  const yamlPath = join(dir, 'document.yaml');
  let raw: unknown;
  try {
    raw = parse(readText(yamlPath));
  } catch (error) {
    throw new SsmBuildError(`${yamlPath} is not valid YAML`, { cause: error });
  }
  const parsed = commandDocumentSchema.safeParse(raw);
  if (!parsed.success) {
    throw new SsmBuildError(`${yamlPath} is not a valid Command document: ${parsed.error.message}`, {
      cause: parsed.error,
    });
  }
  const scripts: Record<string, string> = {};
  const mainSteps = parsed.data.mainSteps.map((step) => {
    const [only, ...rest] = step.inputs.runCommand;
    const match = only === undefined ? null : PLACEHOLDER.exec(only);
    if (match?.[1] === undefined || rest.length > 0) {
      throw new SsmBuildError(`${yamlPath}: step ${step.name} must hold one <<script:FILE>> placeholder`);
    }
    const file = match[1];
    scripts[step.name] = file;
    const runCommand = scriptToRunCommand(readText(join(dir, file)), file);
    return { ...step, inputs: { ...step.inputs, runCommand } };
  });
  const content: CommandDocument = { ...parsed.data, mainSteps };
  if (JSON.stringify(content).includes('<<script:')) {
    throw new SsmBuildError(`${name}: a script placeholder survived the build`);
  }
  return { name, content, scripts };
}

/** Assembles every crawlguard document, in a stable order. */
export function assembleDocuments(sourceDir: string = SSM_SOURCE_DIR): AssembledDocument[] {
  return SSM_DOCUMENT_NAMES.map((name) => assembleDocument(name, sourceDir));
}

/**
 * The `Properties` of an `AWS::SSM::Document` resource for an assembled document; each deployment of
 * a changed document becomes a new document version.
 */
export function toDocumentResourceProperties(document: AssembledDocument, name?: string) {
  return {
    ...(name === undefined ? {} : { Name: name }),
    DocumentType: 'Command',
    DocumentFormat: 'JSON',
    TargetType: '/AWS::EC2::Instance',
    UpdateMethod: 'NewVersion',
    Content: document.content,
  } as const;
}

/**
 * Replaces every `# >>> embedded lib/X.sh` … `# <<< embedded lib/X.sh` region of `script` with
 * the current text of `lib/X.sh`. Returns the new script text.
 */
export function embedLibs(script: string, readLib: (lib: string) => string): string {
  const lines = script.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    out.push(line);
    const lib = EMBED_BEGIN.exec(line)?.[1];
    if (lib === undefined) continue;
    const end = lines.indexOf(EMBED_END(lib), i + 1);
    if (end < 0) throw new SsmBuildError(`embedded lib/${lib} has no end marker`);
    const text = readLib(lib);
    out.push(...text.replace(/\n$/, '').split('\n'), EMBED_END(lib));
    i = end;
  }
  return out.join('\n');
}

/** Lists the libs a script embeds, in order. */
export function embeddedLibs(script: string): string[] {
  return script
    .split('\n')
    .map((line) => EMBED_BEGIN.exec(line)?.[1])
    .filter((lib): lib is string => lib !== undefined);
}

/** Rewrites the embedded lib regions of every script; returns the scripts that changed. */
export function syncEmbeddedLibs(sourceDir: string = SSM_SOURCE_DIR): string[] {
  const changed: string[] = [];
  for (const name of SSM_DOCUMENT_NAMES) {
    const path = join(sourceDir, name, `${name}.sh`);
    const before = readText(path);
    const after = embedLibs(before, (lib) => readText(join(sourceDir, 'lib', lib)));
    if (after !== before) {
      writeFileSync(path, after);
      changed.push(path);
    }
  }
  return changed;
}

/** Writes every assembled document to `outDir/<name>.json`; returns the paths written. */
export function writeDocuments(outDir: string, sourceDir: string = SSM_SOURCE_DIR): string[] {
  mkdirSync(outDir, { recursive: true });
  return assembleDocuments(sourceDir).map((document) => {
    const path = join(outDir, `${document.name}.json`);
    writeFileSync(path, `${JSON.stringify(document.content, null, 2)}\n`);
    return path;
  });
}

export const TEMPLATE_PATH = resolve(SSM_SOURCE_DIR, '../../template.yaml');
const SECTION_START = '  # --- SSM documents (generated by shared/ssm/build.ts) ---';
const SECTION_END = '  # --- end of SSM documents ---';

/** Logical id of a document's resource: patch-updatedb-conf → PatchUpdatedbConfDocument. */
export function documentLogicalId(name: SsmDocumentName): string {
  return `${name.replace(/(^|-)([a-z0-9])/g, (_, __, letter: string) => letter.toUpperCase())}Document`;
}

/**
 * The template's SSM documents section: one AWS::SSM::Document per document, named after the stack
 * (`<stack>-<name>`), its content assembled from document.yaml and the script. Never edited by hand.
 */
export function renderTemplateSection(sourceDir: string = SSM_SOURCE_DIR): string {
  const resources = Object.fromEntries(
    assembleDocuments(sourceDir).map((document) => [
      documentLogicalId(document.name),
      {
        Type: 'AWS::SSM::Document',
        Properties: {
          Name: { 'Fn::Sub': `\${AWS::StackName}-${document.name}` },
          ...toDocumentResourceProperties(document),
        },
      },
    ]),
  );
  const body = stringifyYaml(resources, { lineWidth: 0, indent: 2 })
    .trimEnd()
    .split('\n')
    .map((line) => (line === '' ? '' : `  ${line}`))
    .join('\n');
  const note =
    '  # Run `npm run ssm:template` after editing shared/ssm/; a test checks this section is current.';
  return [SECTION_START, note, body, SECTION_END].join('\n');
}

/** template.yaml with its SSM documents section replaced by {@link renderTemplateSection}. */
export function templateWithDocuments(template: string, sourceDir: string = SSM_SOURCE_DIR): string {
  const start = template.indexOf(SECTION_START);
  const end = template.indexOf(SECTION_END);
  if (start < 0 || end < start) throw new SsmBuildError('template.yaml has no SSM documents section markers');
  return (
    template.slice(0, start) + renderTemplateSection(sourceDir) + template.slice(end + SECTION_END.length)
  );
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--template')) {
    writeFileSync(TEMPLATE_PATH, templateWithDocuments(readText(TEMPLATE_PATH)));
    console.log(`updated the SSM documents section of ${TEMPLATE_PATH}`);
  }
  if (process.argv.includes('--sync')) {
    for (const path of syncEmbeddedLibs()) console.log(`synced ${path}`);
  }
  for (const path of writeDocuments(resolve(SSM_SOURCE_DIR, '../../build/ssm'))) console.log(`wrote ${path}`);
}
