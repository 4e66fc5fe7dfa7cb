/**
 * The stack's SSM Command documents as the simulated account holds them: named `<stack>-<name>`, their
 * parameters and `allowedPattern`s, step name and timeout read from shared/ssm/<name>/document.yaml (the
 * same assembly the template uses), and their versions (each deployment of a changed document adds one
 * and makes it the default, as CloudFormation's `UpdateMethod: NewVersion` does).
 */
import { createHash } from 'node:crypto';
import { type AssembledDocument, assembleDocuments, type SsmDocumentName } from '#shared/ssm/build.ts';

export interface DocumentParameter {
  readonly name: string;
  readonly description: string;
  readonly defaultValue: string;
  readonly allowedPattern: RegExp;
  readonly allowedPatternSource: string;
}

export interface DocumentVersion {
  readonly version: string;
  /** Sha256 of the content, as DescribeDocument reports it. */
  readonly hash: string;
  readonly createdAt: number;
  readonly content: AssembledDocument['content'];
}

/** One document of the stack in the simulated account. */
export interface SimDocument {
  /** The document's name in the account: `<stack>-<short>`. */
  readonly name: string;
  readonly short: SsmDocumentName;
  readonly description: string;
  readonly parameters: readonly DocumentParameter[];
  /** The single `aws:runShellScript` step: GetCommandInvocation's PluginName. */
  readonly stepName: string;
  /** The step's `timeoutSeconds`: the execution timeout. */
  readonly stepTimeoutSeconds: number;
  readonly versions: DocumentVersion[];
  defaultVersion: string;
}

let assembled: readonly AssembledDocument[] | undefined;

/** The three documents of a stack named `stackName`, at version 1, created at `createdAt`. */
export function stackDocuments(stackName: string, createdAt: number): SimDocument[] {
  assembled ??= assembleDocuments();
  return assembled.map((document) => {
    const step = document.content.mainSteps[0];
    if (step === undefined) throw new Error(`${document.name} has no step`);
    return {
      name: `${stackName}-${document.name}`,
      short: document.name,
      description: document.content.description,
      parameters: Object.entries(document.content.parameters).map(([name, parameter]) => ({
        name,
        description: parameter.description,
        defaultValue: parameter.default ?? '',
        allowedPattern: new RegExp(parameter.allowedPattern),
        allowedPatternSource: parameter.allowedPattern,
      })),
      stepName: step.name,
      stepTimeoutSeconds: step.inputs.timeoutSeconds,
      versions: [version('1', document.content, createdAt)],
      defaultVersion: '1',
    };
  });
}

function version(number: string, content: AssembledDocument['content'], createdAt: number): DocumentVersion {
  return {
    version: number,
    hash: createHash('sha256').update(JSON.stringify(content)).digest('hex'),
    createdAt,
    content,
  };
}

/**
 * A new version of a document (a stack update that changed it), made the default. `edit` changes the
 * content (by default only the description, which is enough to change the hash).
 */
export function publishVersion(
  document: SimDocument,
  createdAt: number,
  edit: (content: AssembledDocument['content']) => AssembledDocument['content'] = (content) => ({
    ...content,
    description: `${content.description}\n`,
  }),
): DocumentVersion {
  const latest = document.versions.at(-1);
  if (latest === undefined) throw new Error(`${document.name} has no version`);
  const next = version(String(Number(latest.version) + 1), edit(latest.content), createdAt);
  document.versions.push(next);
  document.defaultVersion = next.version;
  return next;
}

/** The version a request names: a number, `$DEFAULT`, `$LATEST`, or nothing (the default). */
export function resolveVersion(
  document: SimDocument,
  requested: string | undefined,
): DocumentVersion | undefined {
  const wanted =
    requested === undefined || requested === '$DEFAULT'
      ? document.defaultVersion
      : requested === '$LATEST'
        ? document.versions.at(-1)?.version
        : requested;
  return document.versions.find((v) => v.version === wanted);
}
