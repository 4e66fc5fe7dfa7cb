/**
 * The rules of `npm run validate`, each a check of the template offline, and the runner that applies
 * them and prints one line per rule with one line per problem under a failed rule.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseTemplateStrictly } from '../cfn-yaml.ts';
import { errorNameProblems, typeScriptSources } from '../error-names.ts';
import { bundleProblems } from './bundles.ts';
import { type IamVerdict, iamVerdict } from './iam.ts';
import { isNode, type TemplateContext, templateContext } from './model.ts';
import { asyncFailureProblems, deadLetterAlarmProblems, logRetentionProblems } from './operations.ts';
import { referenceProblems } from './references.ts';
import { resourceProblems } from './resources.ts';
import { stateMachineProblems } from './state-machines.ts';

export type RuleId =
  | 'parse'
  | 'size'
  | 'resources'
  | 'references'
  | 'state-machines'
  | 'bundles'
  | 'iam-actions'
  | 'iam-mutating'
  | 'iam-send-command'
  | 'error-names'
  | 'async-failures'
  | 'log-retention'
  | 'dead-letter-alarms'
  | 'sam-lint';

/** What a rule found. `skip` says why it could not run. */
export interface RuleOutcome {
  readonly id: RuleId;
  readonly title: string;
  readonly status: 'pass' | 'fail' | 'skip';
  readonly problems: readonly string[];
  /** Said after the title: what was checked, or why it was skipped. */
  readonly note?: string;
}

interface Checked {
  readonly problems: readonly string[];
  readonly note?: string;
  readonly skip?: boolean;
}

interface Rule {
  readonly id: RuleId;
  readonly title: string;
  readonly check: (context: TemplateContext, shared: Shared) => Promise<Checked> | Checked;
}

/** Results several rules share, computed once. */
interface Shared {
  iam(): Promise<IamVerdict>;
}

// Inline templates above 51,200 bytes must go through S3; S3-hosted ones may hold 1 MB.
const INLINE_LIMIT = 51_200;
const S3_LIMIT = 1_000_000;

export const RULES: readonly Rule[] = [
  {
    id: 'size',
    title: "the template fits CloudFormation's size limits",
    check: ({ text, baseDir }) => {
      const bytes = Buffer.byteLength(text);
      if (bytes > S3_LIMIT)
        return { problems: [`the template is ${bytes} bytes, over the 1,000,000-byte limit`] };
      if (bytes <= INLINE_LIMIT) return { problems: [], note: `${bytes} bytes` };
      const samconfig = join(baseDir, 'samconfig.toml');
      const deploy = existsSync(samconfig) ? deploySection(readFileSync(samconfig, 'utf8')) : '';
      return /^\s*(resolve_s3\s*=\s*true|s3_bucket\s*=\s*"[^"]+")\s*$/m.test(deploy)
        ? { problems: [], note: `${bytes} bytes; samconfig.toml has sam deploy upload it to S3` }
        : {
            problems: [
              `the template is ${bytes} bytes, over the 51,200 bytes CloudFormation takes inline, and samconfig.toml [default.deploy.parameters] sets neither resolve_s3 = true nor s3_bucket`,
            ],
          };
    },
  },
  {
    id: 'resources',
    title: 'every resource type and property exists (CloudFormation resource specification, SAM schema)',
    check: (context) => ({ problems: resourceProblems(context) }),
  },
  {
    id: 'references',
    title: 'every Ref, GetAtt, Sub variable, DependsOn and Condition names something that exists',
    check: (context) => ({ problems: referenceProblems(context) }),
  },
  {
    id: 'state-machines',
    title: 'every state machine definition is valid ASL, its states and substitutions exist',
    check: (context) => {
      const count = Object.values(context.resources).filter((r) =>
        String(r.Type).endsWith('::StateMachine'),
      ).length;
      return {
        problems: stateMachineProblems(context),
        note: count === 0 ? 'no state machine yet' : `${count} checked`,
      };
    },
  },
  {
    id: 'bundles',
    title: 'every function builds as sam build builds it (make build-<LogicalId>), exporting the Handler',
    check: async (context) => ({ problems: await bundleProblems(context) }),
  },
  {
    id: 'iam-actions',
    title: 'IAM: every granted action exists, and none is a wildcard (*, service:*, service:Get*)',
    check: async (_, shared) => ({ problems: (await shared.iam()).actions }),
  },
  {
    id: 'iam-mutating',
    title:
      'IAM: no mutating action (Write, Permissions management, Tagging) on Resource "*" without a Condition',
    check: async (_, shared) => ({ problems: (await shared.iam()).mutating }),
  },
  {
    id: 'iam-send-command',
    title:
      "IAM: ssm:SendCommand only on this stack's SSM documents, and on instances only with the opt-in tag condition",
    check: async (_, shared) => {
      const verdict = await shared.iam();
      return {
        problems: verdict.sendCommand,
        ...(verdict.grantsSendCommand ? {} : { note: 'nothing grants it yet' }),
      };
    },
  },
  {
    id: 'error-names',
    title: 'every error class declares its name (minified bundles keep error names)',
    check: ({ baseDir }) => {
      const dirs = ['shared', 'functions'].filter((dir) => existsSync(join(baseDir, dir)));
      return { problems: errorNameProblems(typeScriptSources(baseDir, dirs)) };
    },
  },
  {
    id: 'async-failures',
    title:
      'every asynchronous invocation keeps what fails (an on-failure destination or dead-letter queue; a DeadLetterConfig on every rule and schedule target)',
    check: (context) => ({ problems: asyncFailureProblems(context) }),
  },
  {
    id: 'log-retention',
    title:
      'every function and state machine logs into a log group of the template, and every log group has a retention',
    check: (context) => ({ problems: logRetentionProblems(context) }),
  },
  {
    id: 'dead-letter-alarms',
    title: 'every dead-letter queue has an alarm with actions on the messages waiting in it',
    check: (context) => ({ problems: deadLetterAlarmProblems(context) }),
  },
  {
    id: 'sam-lint',
    title: 'sam validate --lint',
    check: ({ templatePath }) => {
      const run = spawnSync('sam', ['validate', '--lint', '--template-file', templatePath], {
        encoding: 'utf8',
      });
      if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
        return {
          problems: [],
          skip: true,
          note: 'the sam CLI is not installed; it comes from PyPI, which this machine cannot reach',
        };
      if (run.status === 0) return { problems: [] };
      const output = `${run.stdout ?? ''}${run.stderr ?? ''}`
        .split('\n')
        .filter((line) => line.trim() !== '');
      return {
        problems:
          output.length > 0
            ? output
            : [`sam validate --lint failed (${run.error?.message ?? `exit ${run.status}`})`],
      };
    },
  },
];

/** The [default.deploy.parameters] table of a samconfig.toml. */
function deploySection(toml: string): string {
  const start = toml.search(/^\[default\.deploy\.parameters\]\s*$/m);
  if (start < 0) return '';
  const rest = toml.slice(start).split('\n').slice(1).join('\n');
  const end = rest.search(/^\[/m);
  return end < 0 ? rest : rest.slice(0, end);
}

export const PARSE_TITLE = 'the template parses with CloudFormation tags';

/**
 * Applies the rules (all, or those of `only`) to a template.
 * @param baseDir where the template's relative paths start (its folder by default).
 */
export async function validateTemplate(
  templatePath: string,
  options: { baseDir?: string; only?: readonly RuleId[] } = {},
): Promise<RuleOutcome[]> {
  const path = resolve(templatePath);
  const baseDir = resolve(options.baseDir ?? resolve(path, '..'));
  const wanted = (id: RuleId) => options.only === undefined || options.only.includes(id);
  const text = readFileSync(path, 'utf8');
  const { template, problems } = parseTemplateStrictly(text);
  const structure = template === undefined ? [] : structureProblems(template);
  const outcomes: RuleOutcome[] = [];
  if (wanted('parse'))
    outcomes.push({
      id: 'parse',
      title: PARSE_TITLE,
      status: problems.length + structure.length > 0 ? 'fail' : 'pass',
      problems: [...problems, ...structure],
    });
  if (template === undefined || structure.length > 0) {
    for (const rule of RULES.filter((r) => wanted(r.id)))
      outcomes.push({
        id: rule.id,
        title: rule.title,
        status: 'skip',
        problems: [],
        note: 'skipped: the template does not parse',
      });
    return outcomes;
  }
  const context = templateContext(path, baseDir, text, template);
  let iam: Promise<IamVerdict> | undefined;
  const shared: Shared = { iam: () => (iam ??= iamVerdict(context)) };
  for (const rule of RULES.filter((r) => wanted(r.id))) {
    const result = await rule.check(context, shared);
    outcomes.push({
      id: rule.id,
      title: rule.title,
      status: result.skip === true ? 'skip' : result.problems.length > 0 ? 'fail' : 'pass',
      problems: result.problems,
      ...(result.note === undefined ? {} : { note: result.note }),
    });
  }
  return outcomes;
}

/** The shape every SAM template has: a version, the transform, and resources with a Type. */
function structureProblems(template: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (template.AWSTemplateFormatVersion !== undefined && template.AWSTemplateFormatVersion !== '2010-09-09')
    problems.push(`AWSTemplateFormatVersion: ${String(template.AWSTemplateFormatVersion)} is not 2010-09-09`);
  const resources = template.Resources;
  if (!isNode(resources) || Object.keys(resources).length === 0) problems.push('Resources: missing or empty');
  else
    for (const [logicalId, resource] of Object.entries(resources)) {
      if (!/^[A-Za-z0-9]+$/.test(logicalId)) problems.push(`${logicalId}: a logical id is alphanumeric`);
      if (!isNode(resource) || typeof resource.Type !== 'string') problems.push(`${logicalId}: no Type`);
    }
  const usesSam =
    isNode(resources) &&
    Object.values(resources).some((r) => isNode(r) && String(r.Type).startsWith('AWS::Serverless::'));
  const transforms = [template.Transform ?? []].flat();
  if (usesSam && !transforms.includes('AWS::Serverless-2016-10-31'))
    problems.push('Transform: AWS::Serverless-2016-10-31 is needed for the AWS::Serverless resources');
  return problems;
}

/** The report: one line per rule, one indented line per problem, and a last line with the count. */
export function formatReport(templateLabel: string, outcomes: readonly RuleOutcome[]): string {
  const lines = [`validate ${templateLabel}`];
  for (const outcome of outcomes) {
    const status = outcome.status === 'fail' ? 'FAIL' : outcome.status;
    lines.push(
      `${status.padEnd(5)}${outcome.title}${outcome.note === undefined ? '' : ` (${outcome.note})`}`,
    );
    for (const problem of outcome.problems) lines.push(`       ${problem}`);
  }
  const failed = outcomes.filter((o) => o.status === 'fail').length;
  const skipped = outcomes.filter((o) => o.status === 'skip').length;
  lines.push(
    failed === 0
      ? `validate: every rule holds (${outcomes.length - skipped} checked, ${skipped} skipped)`
      : `validate: ${failed} of ${outcomes.length} rules failed`,
  );
  return lines.join('\n');
}
