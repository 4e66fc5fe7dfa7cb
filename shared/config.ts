import * as z from 'zod';
import { CrawlguardError } from '#core/errors.ts';
import { hasControlCharacter, quote } from '#core/instances.ts';
import type { BudgetConfig, CooldownConfig, PolicyConfig } from '#core/remediation/policy.ts';
import { DATA_PATHS, type DataPath } from '#core/remediation/savings.ts';
import { REMEDIATION_MODES, type RemediationMode } from '#core/remediation/types.ts';

/** A missing or invalid environment variable; raised at cold start, naming the variable. */
export class ConfigError extends CrawlguardError {
  override readonly name = 'ConfigError';
}

/** Environment variables, as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

const tagKey = z
  .string()
  .min(1)
  .max(128)
  .refine((value) => !hasControlCharacter(value), 'must not contain control characters')
  .refine((key) => !key.toLowerCase().startsWith('aws:'), 'must not start with aws: (reserved by AWS)')
  // It is written into an IAM policy document (the SendCommand tag condition).
  .regex(/^[^"\\]*$/, 'must not contain " or \\');
// EC2 filter values treat * and ? as wildcards (and \ escapes them): a value with them would match other values.
const tagValue = z
  .string()
  .min(1)
  .max(256)
  .refine((value) => !hasControlCharacter(value), 'must not contain control characters')
  .regex(
    /^[^*?"\\]*$/,
    'must not contain * ? " or \\ (wildcards in EC2 filters; quotes in the IAM condition)',
  );
const wholeNumber = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const positive = z.coerce.number().positive().finite();

const common = {
  OPT_IN_TAG_KEY: tagKey,
  OPT_IN_TAG_VALUE: tagValue,
  LOOKBACK_DAYS: wholeNumber(1, 455),
  FINDINGS_BUS_NAME: z.string().regex(/^[A-Za-z0-9._\-/:]{1,1600}$/, 'is not an event bus name or ARN'),
  METRICS_REQUESTS_PER_SECOND: positive,
  METRICS_DATAPOINTS_PER_SECOND: positive,
  METRICS_CONCURRENCY: wholeNumber(1, 64),
};

/** Settings every scanning function shares. */
export interface ScanConfig {
  readonly optIn: { readonly key: string; readonly value: string };
  readonly lookbackDays: number;
  readonly findingsBusName: string;
  /** This function's share of the GetMetricData quota. */
  readonly metricsLimits: { readonly requestsPerSecond: number; readonly datapointsPerSecond: number };
  readonly metricsConcurrency: number;
  readonly region: string | null;
}

/** fleet-scan adds the queue and the shard size. */
export interface FleetScanConfig extends ScanConfig {
  readonly shardQueueUrl: string;
  /** Metrics per shard; a fleet with no more metrics than this is scanned inline. */
  readonly shardMetrics: number;
}

/** Reads the settings of scan-worker and alarm-triage. @throws ConfigError */
export function loadScanConfig(env: Env = process.env): ScanConfig {
  const values = read(z.object(common), env);
  return {
    optIn: { key: values.OPT_IN_TAG_KEY, value: values.OPT_IN_TAG_VALUE },
    lookbackDays: values.LOOKBACK_DAYS,
    findingsBusName: values.FINDINGS_BUS_NAME,
    metricsLimits: {
      requestsPerSecond: values.METRICS_REQUESTS_PER_SECOND,
      datapointsPerSecond: values.METRICS_DATAPOINTS_PER_SECOND,
    },
    metricsConcurrency: values.METRICS_CONCURRENCY,
    region: env.AWS_REGION ?? null,
  };
}

/** Reads the settings of fleet-scan. @throws ConfigError */
export function loadFleetScanConfig(env: Env = process.env): FleetScanConfig {
  const values = read(
    z.object({
      SHARD_QUEUE_URL: z.url({ protocol: /^https?$/ }),
      SHARD_METRICS: wholeNumber(1, 100_000),
    }),
    env,
  );
  return {
    ...loadScanConfig(env),
    shardQueueUrl: values.SHARD_QUEUE_URL,
    shardMetrics: values.SHARD_METRICS,
  };
}

function read<S extends z.ZodObject>(schema: S, env: Env): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name = String(issue?.path[0] ?? 'environment');
  const value = env[name];
  throw new ConfigError(
    value === undefined
      ? `environment variable ${name} is not set`
      : `environment variable ${name}=${quote(value)}: ${issue?.message ?? 'invalid'}`,
    { cause: result.error },
  );
}

const ledger = {
  LEDGER_TABLE_NAME: z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, 'is not a DynamoDB table name'),
};
const documentName = z.string().regex(/^[A-Za-z0-9_.-]{3,128}$/, 'is not an SSM document name');
const flag = z.enum(['true', 'false']).transform((value) => value === 'true');
const topicArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'is not an SNS topic ARN');
const remediationCommon = {
  ...ledger,
  NOTIFY_TOPIC_ARN: topicArn,
  OPT_IN_TAG_KEY: tagKey,
  OPT_IN_TAG_VALUE: tagValue,
  MAX_REMEDIATIONS_PER_HOUR: wholeNumber(1, 10_000),
  RUN_CLAIM_FLOOR: wholeNumber(1, 100_000),
  RUN_CLAIM_PERCENT: wholeNumber(1, 100),
  BREAKER_FAILURES: wholeNumber(1, 1000),
};

/** Settings of the remediation gate. */
export interface RemediationConfig {
  readonly optIn: { readonly key: string; readonly value: string };
  readonly mode: RemediationMode;
  readonly stateMachineArn: string;
  readonly ledgerTableName: string;
  readonly policy: PolicyConfig;
  readonly budget: BudgetConfig;
  readonly claimTtlHours: number;
  /** Where messages for a person go (the breaker's). */
  readonly notifyTopicArn: string;
}

/** Reads the settings of the remediate function (the gate). @throws ConfigError */
export function loadRemediationConfig(env: Env = process.env): RemediationConfig {
  const values = read(
    z.object({
      ...remediationCommon,
      REMEDIATION_MODE: z.enum(REMEDIATION_MODES),
      STATE_MACHINE_ARN: z
        .string()
        .regex(
          /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/,
          'is not a state machine ARN',
        ),
      MAX_FINDING_AGE_HOURS: wholeNumber(1, 24 * 30),
      ESCALATE_AFTER_FAILURES: wholeNumber(1, 100),
      CLAIM_TTL_HOURS: wholeNumber(1, 24 * 365),
    }),
    env,
  );
  return {
    optIn: { key: values.OPT_IN_TAG_KEY, value: values.OPT_IN_TAG_VALUE },
    mode: values.REMEDIATION_MODE,
    stateMachineArn: values.STATE_MACHINE_ARN,
    ledgerTableName: values.LEDGER_TABLE_NAME,
    policy: {
      maxFindingAgeHours: values.MAX_FINDING_AGE_HOURS,
      escalateAfterFailures: values.ESCALATE_AFTER_FAILURES,
    },
    budget: budgetOf(values),
    claimTtlHours: values.CLAIM_TTL_HOURS,
    notifyTopicArn: values.NOTIFY_TOPIC_ARN,
  };
}

/** Settings of the workflow-step function. */
export interface WorkflowStepConfig {
  readonly optIn: { readonly key: string; readonly value: string };
  readonly ledgerTableName: string;
  readonly documents: { readonly diagnose: string; readonly patch: string; readonly restart: string };
  readonly approvalTimeoutSeconds: number;
  /** How long a stopped (or SSM-offline) instance is waited for before the episode is skipped. */
  readonly maxNotReadyHours: number;
  /** Restart s3fs after every patch, not only when memory growth was found. */
  readonly alwaysRestart: boolean;
  readonly cooldown: CooldownConfig;
  readonly budget: BudgetConfig;
  /** Episodes in a row that failed before the instance is marked escalated. */
  readonly escalateAfterFailures: number;
  /** Where messages for a person go. */
  readonly notifyTopicArn: string;
  /** The bus verification verdicts are published on. */
  readonly findingsBusName: string;
  /** How instances reach S3 (the DataPath parameter): prices the data of a crawl. */
  readonly dataPath: DataPath;
  /** How long a scan run's approvals gather before their one digest message goes out. */
  readonly digestDelaySeconds: number;
}

/** Reads the settings of the workflow-step function. @throws ConfigError */
export function loadWorkflowStepConfig(env: Env = process.env): WorkflowStepConfig {
  const values = read(
    z.object({
      ...remediationCommon,
      DIAGNOSE_DOCUMENT: documentName,
      PATCH_DOCUMENT: documentName,
      RESTART_DOCUMENT: documentName,
      APPROVAL_TIMEOUT_HOURS: wholeNumber(1, 168),
      // Below the shortest approval timeout (1 h): the digest goes out while the approvals still wait.
      DIGEST_DELAY_SECONDS: wholeNumber(10, 1800),
      MAX_NOT_READY_HOURS: wholeNumber(1, 24 * 14),
      ALWAYS_RESTART: flag,
      COOLDOWN_HOURS: wholeNumber(1, 24 * 365),
      RECHECK_HOURS: wholeNumber(1, 24 * 30),
      DENY_SUPPRESS_DAYS: wholeNumber(1, 3650),
      ESCALATE_AFTER_FAILURES: wholeNumber(1, 100),
      FINDINGS_BUS_NAME: common.FINDINGS_BUS_NAME,
      DATA_PATH: z.enum(DATA_PATHS),
    }),
    env,
  );
  return {
    optIn: { key: values.OPT_IN_TAG_KEY, value: values.OPT_IN_TAG_VALUE },
    notifyTopicArn: values.NOTIFY_TOPIC_ARN,
    findingsBusName: values.FINDINGS_BUS_NAME,
    dataPath: values.DATA_PATH,
    ledgerTableName: values.LEDGER_TABLE_NAME,
    documents: {
      diagnose: values.DIAGNOSE_DOCUMENT,
      patch: values.PATCH_DOCUMENT,
      restart: values.RESTART_DOCUMENT,
    },
    approvalTimeoutSeconds: values.APPROVAL_TIMEOUT_HOURS * 3600,
    digestDelaySeconds: values.DIGEST_DELAY_SECONDS,
    maxNotReadyHours: values.MAX_NOT_READY_HOURS,
    alwaysRestart: values.ALWAYS_RESTART,
    cooldown: {
      afterChangeHours: values.COOLDOWN_HOURS,
      afterCheckHours: values.RECHECK_HOURS,
      denySuppressDays: values.DENY_SUPPRESS_DAYS,
    },
    budget: budgetOf(values),
    escalateAfterFailures: values.ESCALATE_AFTER_FAILURES,
  };
}

function budgetOf(values: {
  MAX_REMEDIATIONS_PER_HOUR: number;
  RUN_CLAIM_FLOOR: number;
  RUN_CLAIM_PERCENT: number;
  BREAKER_FAILURES: number;
}): BudgetConfig {
  return {
    maxPerHour: values.MAX_REMEDIATIONS_PER_HOUR,
    runClaimFloor: values.RUN_CLAIM_FLOOR,
    runSharePercent: values.RUN_CLAIM_PERCENT,
    failuresToTrip: values.BREAKER_FAILURES,
  };
}
