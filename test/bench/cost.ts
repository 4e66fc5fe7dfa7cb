/**
 * The monthly bill, from usage measured by the bench and list prices. Prices are us-east-1 list prices
 * (on-demand, no free tier), as the pages named beside them gave them; change them here when they change.
 */

/** AWS Lambda, arm64: per GB-second of duration and per request (aws.amazon.com/lambda/pricing). */
export const LAMBDA_ARM_USD_PER_GB_SECOND = 0.0000133334;
export const LAMBDA_USD_PER_REQUEST = 0.2 / 1_000_000;
/** Step Functions Standard: per state transition (aws.amazon.com/step-functions/pricing). */
export const STEP_FUNCTIONS_USD_PER_TRANSITION = 0.025 / 1000;
/** DynamoDB on-demand: per write request unit (aws.amazon.com/dynamodb/pricing/on-demand). */
export const DYNAMODB_USD_PER_WRITE_UNIT = 0.625 / 1_000_000;
/** CloudWatch: GetMetricData per metric requested; ListMetrics per request (aws.amazon.com/cloudwatch/pricing). */
export const CLOUDWATCH_USD_PER_METRIC_REQUESTED = 0.01 / 1000;
export const CLOUDWATCH_USD_PER_API_REQUEST = 0.01 / 1000;
/** CloudWatch Logs: ingestion per GB, storage per GB-month (aws.amazon.com/cloudwatch/pricing). */
export const LOGS_USD_PER_GB_INGESTED = 0.5;
export const LOGS_USD_PER_GB_MONTH_STORED = 0.03;
/** CloudWatch custom metrics per metric-month, alarms per standard-resolution metric, dashboards per month. */
export const CLOUDWATCH_USD_PER_CUSTOM_METRIC_MONTH = 0.3;
export const CLOUDWATCH_USD_PER_ALARM_METRIC_MONTH = 0.1;
export const CLOUDWATCH_USD_PER_DASHBOARD_MONTH = 3;
/** EventBridge custom events, per event published (aws.amazon.com/eventbridge/pricing). */
export const EVENTBRIDGE_USD_PER_EVENT = 1 / 1_000_000;
/** SQS standard queues, per request (64 KB chunk) (aws.amazon.com/sqs/pricing). */
export const SQS_USD_PER_REQUEST = 0.4 / 1_000_000;
/**
 * An SQS event source mapping polls its queue all the time: at least five pollers, each a ReceiveMessage
 * long poll of up to 20 s (docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html).
 */
export const SQS_POLLERS = 5;
export const SQS_LONG_POLL_SECONDS = 20;
// EC2 DescribeInstances, SSM DescribeInstanceInformation and Run Command cost nothing.

export const DAYS_PER_MONTH = 30;

/** What one unit of work uses: a day's scan, or one remediation episode. */
export interface Usage {
  /** Lambda: invocations and their GB-seconds (billed duration × memory). */
  readonly lambdaInvocations: number;
  readonly lambdaGbSeconds: number;
  readonly stateTransitions: number;
  readonly tableWriteUnits: number;
  readonly metricsRequested: number;
  readonly cloudWatchRequests: number;
  readonly logBytes: number;
  readonly events: number;
  readonly queueRequests: number;
  /** Custom metrics the functions publish (each a metric-month). */
  readonly customMetrics: number;
}

export const NO_USAGE: Usage = {
  lambdaInvocations: 0,
  lambdaGbSeconds: 0,
  stateTransitions: 0,
  tableWriteUnits: 0,
  metricsRequested: 0,
  cloudWatchRequests: 0,
  logBytes: 0,
  events: 0,
  queueRequests: 0,
  customMetrics: 0,
};

/** `a` plus `b` times `times`. */
export function addUsage(a: Usage, b: Usage, times = 1): Usage {
  return Object.fromEntries(
    Object.entries(a).map(([key, value]) => [key, value + (b[key as keyof Usage] as number) * times]),
  ) as unknown as Usage;
}

/** One line of the bill. */
export interface CostItem {
  readonly item: string;
  readonly quantity: string;
  readonly usd: number;
}

/** A month of `usage` at list prices, item by item (log storage counted for one month of retention). */
export function monthlyBill(usage: Usage): CostItem[] {
  const gb = usage.logBytes / 1024 ** 3;
  const n = (value: number) => Math.round(value).toLocaleString('en-US');
  return [
    {
      item: 'Lambda requests',
      quantity: `${n(usage.lambdaInvocations)} invocations`,
      usd: usage.lambdaInvocations * LAMBDA_USD_PER_REQUEST,
    },
    {
      item: 'Lambda duration (arm64)',
      quantity: `${usage.lambdaGbSeconds.toFixed(1)} GB-s`,
      usd: usage.lambdaGbSeconds * LAMBDA_ARM_USD_PER_GB_SECOND,
    },
    {
      item: 'Step Functions transitions',
      quantity: `${n(usage.stateTransitions)} transitions`,
      usd: usage.stateTransitions * STEP_FUNCTIONS_USD_PER_TRANSITION,
    },
    {
      item: 'DynamoDB writes',
      quantity: `${n(usage.tableWriteUnits)} WRU`,
      usd: usage.tableWriteUnits * DYNAMODB_USD_PER_WRITE_UNIT,
    },
    {
      item: 'GetMetricData metrics',
      quantity: `${n(usage.metricsRequested)} metrics`,
      usd: usage.metricsRequested * CLOUDWATCH_USD_PER_METRIC_REQUESTED,
    },
    {
      item: 'CloudWatch API requests',
      quantity: `${n(usage.cloudWatchRequests)} requests`,
      usd: usage.cloudWatchRequests * CLOUDWATCH_USD_PER_API_REQUEST,
    },
    {
      item: 'CloudWatch Logs',
      quantity: `${(gb * 1024).toFixed(1)} MiB`,
      usd: gb * (LOGS_USD_PER_GB_INGESTED + LOGS_USD_PER_GB_MONTH_STORED),
    },
    {
      item: 'Custom metrics',
      quantity: `${n(usage.customMetrics)} metrics`,
      usd: usage.customMetrics * CLOUDWATCH_USD_PER_CUSTOM_METRIC_MONTH,
    },
    {
      item: 'EventBridge events',
      quantity: `${n(usage.events)} events`,
      usd: usage.events * EVENTBRIDGE_USD_PER_EVENT,
    },
    {
      item: 'SQS requests',
      quantity: `${n(usage.queueRequests)} requests`,
      usd: usage.queueRequests * SQS_USD_PER_REQUEST,
    },
  ];
}

/** What does not grow with the fleet: the template's dashboards and alarms (metrics each alarm watches). */
export function fixedBill(
  resources: Readonly<Record<string, { Type?: unknown; Properties?: unknown }>>,
): CostItem[] {
  let dashboards = 0;
  let alarmMetrics = 0;
  let sqsMappings = 0;
  for (const resource of Object.values(resources)) {
    if (resource.Type === 'AWS::Serverless::Function') {
      const events = (resource.Properties as { Events?: Record<string, { Type?: unknown }> } | undefined)
        ?.Events;
      sqsMappings += Object.values(events ?? {}).filter((event) => event.Type === 'SQS').length;
    }
    if (resource.Type === 'AWS::CloudWatch::Dashboard') dashboards += 1;
    if (resource.Type === 'AWS::CloudWatch::Alarm') {
      // A metric-math alarm is billed per metric it reads.
      const metrics = (resource.Properties as { Metrics?: { MetricStat?: unknown }[] } | undefined)?.Metrics;
      alarmMetrics += Array.isArray(metrics)
        ? Math.max(1, metrics.filter((m) => m.MetricStat !== undefined).length)
        : 1;
    }
  }
  const polls = (sqsMappings * SQS_POLLERS * DAYS_PER_MONTH * 86_400) / SQS_LONG_POLL_SECONDS;
  return [
    {
      item: 'SQS polling (event source)',
      quantity: `${Math.round(polls).toLocaleString('en-US')} requests`,
      usd: polls * SQS_USD_PER_REQUEST,
    },
    {
      item: 'CloudWatch dashboards',
      quantity: `${dashboards} dashboards`,
      usd: dashboards * CLOUDWATCH_USD_PER_DASHBOARD_MONTH,
    },
    {
      item: 'CloudWatch alarms',
      quantity: `${alarmMetrics} alarm metrics`,
      usd: alarmMetrics * CLOUDWATCH_USD_PER_ALARM_METRIC_MONTH,
    },
  ];
}

/** The sum of a bill, in dollars rounded to the cent's hundredth. */
export function total(bill: readonly CostItem[]): number {
  return Math.round(bill.reduce((sum, item) => sum + item.usd, 0) * 10_000) / 10_000;
}
