import { z } from 'zod';
import { CrawlguardError } from '#core/errors.ts';
import { hasControlCharacter, quote } from '#core/instances.ts';

/** A missing or invalid environment variable; raised at cold start, naming the variable. */
export class ConfigError extends CrawlguardError {
  override readonly name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

const tagKey = z
  .string()
  .min(1)
  .max(128)
  .refine((value) => !hasControlCharacter(value), 'must not contain control characters')
  .refine((key) => !key.toLowerCase().startsWith('aws:'), 'must not start with aws: (reserved by AWS)');
// EC2 filter values treat * and ? as wildcards (and \ escapes them): a value with them would match other values.
const tagValue = z
  .string()
  .min(1)
  .max(256)
  .refine((value) => !hasControlCharacter(value), 'must not contain control characters')
  .regex(/^[^*?\\]*$/, 'must not contain * ? or \\ (wildcards in EC2 filters)');
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
