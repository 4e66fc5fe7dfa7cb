/**
 * The simulated fleet: EC2, SSM, CloudWatch, EventBridge and SQS fakes (one module each under `aws/`, on
 * the shared core of `aws/core.ts`) over a fleet of instances with realistic metrics, enforcing the real
 * limits and failure modes on simulated time. It hands out SDK client instances whose `send` it answers;
 * nothing is patched globally, so several fleets can live side by side.
 *
 *   const fleet = createSimulatedFleet({ instances: 40, seed: 1 });
 *   const handler = createHandler(depsFromEnv(fleet.environment, { clients: fleet.clients, clock: fleet.clock, logger }));
 *   fleet.requests;   // every call, in order, with its input and outcome
 *   fleet.published;  // findings accepted by PutEvents
 *   fleet.queued;     // shard messages accepted by SendMessageBatch
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { AwsClients } from '#aws/clients.ts';
import { metricKey } from '#core/metrics.ts';
import type { MetricSeries } from '#core/series.ts';
import { type CloudWatchLimits, simulateCloudWatch } from './aws/cloudwatch.ts';
import { type ClientMock, type InjectedFault, type RecordedRequest, SimulatedAws } from './aws/core.ts';
import { simulateEc2 } from './aws/ec2.ts';
import { type PublishedEvent, simulateEventBridge } from './aws/eventbridge.ts';
import type { MetricDataFailures } from './aws/get-metric-data.ts';
import { type NotifiedMessage, simulateSns } from './aws/sns.ts';
import { type QueuedMessage, simulateSqs } from './aws/sqs.ts';
import { simulateSsm } from './aws/ssm.ts';
import {
  DEFAULT_RUN_COMMAND_RATES,
  type RunCommandRates,
  type RunCommandSimulator,
  simulateRunCommand,
} from './aws/ssm-run-command.ts';
import {
  buildFleet,
  hostInstance,
  OPT_IN_KEY,
  OPT_IN_VALUE,
  SIMULATED_ACCOUNT,
  SIMULATED_ALARMS,
  SIMULATED_REGION,
  type SimInstance,
  type SimMetric,
  seriesOf,
} from './fleet-model.ts';
import { type HostSpec, SimHost } from './host.ts';
import { SimulatedInstances } from './instances.ts';
import { seededRandom } from './random.ts';
import { VirtualClock } from './virtual-clock.ts';

export type { ClientMock, InjectedFault, RecordedRequest } from './aws/core.ts';
export type { PublishedEvent } from './aws/eventbridge.ts';
export type { NotifiedMessage } from './aws/sns.ts';
export type { QueuedMessage } from './aws/sqs.ts';
export type {
  InjectedRunCommandFault,
  RunCommandFault,
  RunCommandFaultOutcome,
  RunCommandSimulator,
  SimCommand,
  SimInvocation,
} from './aws/ssm-run-command.ts';
export type { Behaviour, SimInstance } from './fleet-model.ts';
export { SIMULATED_ACCOUNT, SIMULATED_REGION, WELL_KNOWN } from './fleet-model.ts';
export type { HostSpec } from './host.ts';
export { SimHost } from './host.ts';

/** 2026-11-04T00:00:30Z: the simulated "now" at which every generated series has just ended. */
export const SIMULATED_START = Date.UTC(2026, 10, 4, 0, 0, 30);
export const SIMULATED_BUS = 'crawlguard-findings';
/** The stack the simulated account runs: its SSM documents are `crawlguard-diagnose`, ... */
export const SIMULATED_STACK = 'crawlguard';
export const SIMULATED_QUEUE_URL = `https://sqs.${SIMULATED_REGION}.amazonaws.com/${SIMULATED_ACCOUNT}/crawlguard-scan-shards`;
export const SIMULATED_QUEUE_ARN = `arn:aws:sqs:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:crawlguard-scan-shards`;
/** The stack's notify topic (messages for a person). */
export const SIMULATED_NOTIFY_TOPIC_ARN = `arn:aws:sns:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:crawlguard-NotifyTopic-SIM0000001`;

/**
 * Environment variables of the functions in the simulation: the defaults template.yaml gives them
 * (a test keeps the two in step), with the simulated bus and queue.
 */
export const SIMULATED_ENVIRONMENT: Readonly<Record<string, string>> = {
  AWS_REGION: SIMULATED_REGION,
  OPT_IN_TAG_KEY: OPT_IN_KEY,
  OPT_IN_TAG_VALUE: OPT_IN_VALUE,
  LOOKBACK_DAYS: '14',
  FINDINGS_BUS_NAME: SIMULATED_BUS,
  SHARD_QUEUE_URL: SIMULATED_QUEUE_URL,
  SHARD_METRICS: '1000',
  METRICS_REQUESTS_PER_SECOND: '20',
  METRICS_DATAPOINTS_PER_SECOND: '178000',
  METRICS_CONCURRENCY: '4',
  POWERTOOLS_SERVICE_NAME: 'crawlguard',
  // The remediation resources, as the stack names them (the local stack points the table at dynalite).
  LEDGER_TABLE_NAME: 'crawlguard-ledger',
  STATE_MACHINE_ARN: `arn:aws:states:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:stateMachine:crawlguard-remediation`,
  DIAGNOSE_DOCUMENT: 'crawlguard-diagnose',
  PATCH_DOCUMENT: 'crawlguard-patch-updatedb-conf',
  RESTART_DOCUMENT: 'crawlguard-restart-s3fs',
  NOTIFY_TOPIC_ARN: SIMULATED_NOTIFY_TOPIC_ARN,
};

/** Account-level quotas the fakes enforce (token buckets holding one second's worth). */
export interface SimulatedLimits extends CloudWatchLimits, RunCommandRates {
  readonly describeInstancesPerSecond: number;
  readonly describeInstanceInformationPerSecond: number;
  readonly putEventsPerSecond: number;
  readonly snsPublishPerSecond: number;
}

/** Failures injected on top of the limits, each a probability. */
export interface SimulatedFailures extends MetricDataFailures {
  /** A call throttled although under the quota (AWS throttles on its own terms too). */
  readonly throttle: number;
  /** A PutEvents entry answered with ErrorCode InternalFailure. */
  readonly putEventsEntryFailure: number;
}

export interface SimulatedFleetOptions {
  /** Generated instances (default 40), on top of the well-known ones. */
  readonly instances?: number;
  readonly seed?: number;
  readonly startMs?: number;
  /** Adds the instances the sample events name (`WELL_KNOWN`). Default true. */
  readonly wellKnown?: boolean;
  /** Share of running, online instances that stop within two minutes (default 0.01). */
  readonly stopDuringScan?: number;
  /** Milliseconds each call takes, by command; GetMetricData adds 1 ms per 1,000 datapoints. */
  readonly latencyMs?: Partial<Record<string, number>>;
  readonly limits?: Partial<SimulatedLimits>;
  readonly failures?: Partial<SimulatedFailures>;
  /**
   * CloudWatch paginates a GetMetricData request above 100,800 datapoints (MaxDatapoints); with this
   * set, such a request fails with a ValidationError instead, to catch a packer that overfills calls.
   */
  readonly strictDatapointLimit?: boolean;
  /** Requests kept in full by the request log (counts stay exact). Default: all. */
  readonly requestLogLimit?: number;
  /**
   * Modelled hosts (shared/sim/host.ts; rosters in host-rosters.ts), on top of the generated and
   * well-known instances: their metrics follow their state, and SSM Run Command runs crawlguard's
   * documents on them.
   */
  readonly hosts?: readonly HostSpec[];
}

export interface SimulatedFleet {
  readonly instances: readonly SimInstance[];
  readonly clock: VirtualClock;
  /** SDK clients answered by the fakes: give them to a handler's dependencies. */
  readonly clients: AwsClients;
  /** Every call, in order (the most recent ones when a log limit was set). */
  readonly requests: readonly RecordedRequest[];
  readonly published: PublishedEvent[];
  readonly queued: QueuedMessage[];
  /** Messages the notify topic accepted (SNS Publish). */
  readonly notified: NotifiedMessage[];
  /**
   * The client mocks, to simulate more commands (e.g. `fleet.mocks.ssm.on(SendCommandCommand)...`). A
   * command nobody simulates is recorded with outcome `NotSimulated` and fails with a message naming it.
   */
  readonly mocks: { readonly [service in keyof AwsClients]: ClientMock };
  /** The shared core of the fakes (request log, quotas, injected faults), for fakes added later. */
  readonly aws: SimulatedAws;
  /** The modelled hosts by instance id (options.hosts). */
  readonly hosts: ReadonlyMap<string, SimHost>;
  /** SSM Run Command: the commands sent, their invocations, documents and versions, and its fault API. */
  readonly runCommand: RunCommandSimulator;
  /** Environment variables for the functions (see {@link SIMULATED_ENVIRONMENT}). */
  readonly environment: Readonly<Record<string, string>>;
  /** Calls received, of one command or in all. */
  count(command?: string): number;
  /** EC2 state of an instance now (running, stopped), or undefined for an unknown id. */
  stateOf(instanceId: string): string | undefined;
  /** Makes the next calls of a command fail. */
  inject(fault: InjectedFault): void;
  /** An SQS event carrying queued messages, as the event source mapping delivers them. */
  sqsEvent(messages: readonly QueuedMessage[]): import('aws-lambda').SQSEvent;
  /** Removes the fakes from the clients. */
  restore(): void;
}

const DEFAULT_LIMITS: SimulatedLimits = {
  getMetricDataPerSecond: 50,
  getMetricDataDatapointsPerSecond: 396_000,
  listMetricsPerSecond: 25,
  describeInstancesPerSecond: 20,
  describeInstanceInformationPerSecond: 20,
  putEventsPerSecond: 400,
  // SNS Publish's smallest regional quota for standard topics.
  snsPublishPerSecond: 300,
  ...DEFAULT_RUN_COMMAND_RATES,
};
const DEFAULT_FAILURES: SimulatedFailures = {
  partialData: 0.02,
  internalError: 0.0005,
  throttle: 0,
  putEventsEntryFailure: 0.02,
};
const DEFAULT_LATENCY: Record<string, number> = {
  DescribeInstances: 120,
  DescribeInstanceInformation: 80,
  ListMetrics: 100,
  GetMetricData: 100,
  ListTagsForResource: 50,
  PutEvents: 40,
  Publish: 30,
  SendMessageBatch: 30,
  SendCommand: 150,
  GetCommandInvocation: 50,
  ListCommands: 80,
  CancelCommand: 80,
  DescribeDocument: 60,
};

/** Builds a simulated fleet and the SDK clients that talk to it. Deterministic for a seed. */
export function createSimulatedFleet(options: SimulatedFleetOptions = {}): SimulatedFleet {
  const startMs = options.startMs ?? SIMULATED_START;
  const seed = options.seed ?? 1;
  const scenarioModels = buildFleet({
    instances: options.instances ?? 40,
    seed,
    startMs,
    wellKnown: options.wellKnown ?? true,
    stopDuringScan: options.stopDuringScan ?? 0.01,
  });
  const hosts = new Map<string, SimHost>();
  for (const spec of options.hosts ?? []) {
    if (hosts.has(spec.instanceId) || scenarioModels.some((m) => m.instanceId === spec.instanceId)) {
      throw new RangeError(`the simulated fleet already has an instance ${spec.instanceId}`);
    }
    hosts.set(spec.instanceId, new SimHost(spec));
  }
  const models = [...scenarioModels, ...[...hosts.values()].map(hostInstance)];
  const clock = new VirtualClock(startMs, seed);
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const failures = { ...DEFAULT_FAILURES, ...options.failures };
  const aws = new SimulatedAws({
    clock,
    rng: seededRandom(seed ^ 0x5eed),
    latencyMs: { ...DEFAULT_LATENCY, ...options.latencyMs } as Record<string, number>,
    throttle: failures.throttle,
    ...(options.requestLogLimit === undefined ? {} : { requestLogLimit: options.requestLogLimit }),
  });
  const instances = new SimulatedInstances(models, clock);
  const catalog = [
    ...buildCatalog(scenarioModels),
    ...models.flatMap((model) => (model.host === undefined ? [] : model.metrics)),
  ];
  const byKey = new Map(catalog.map((metric) => [metricKey(metric), metric]));
  let runCommand: RunCommandSimulator | undefined;
  const seriesByKey = (
    key: string,
    nowMs: number,
    startMs: number,
    endMs: number,
  ): MetricSeries | undefined => {
    const metric = byKey.get(key);
    if (metric === undefined) return undefined;
    // A host's metrics show what the commands sent so far have done to it by now.
    if (metric.source.generator === 'host') runCommand?.settle(nowMs);
    return seriesOf(metric, nowMs, startMs, endMs);
  };

  const ec2 = simulateEc2(aws, instances, { ...limits, accountId: SIMULATED_ACCOUNT });
  const ssm = simulateSsm(aws, instances, limits);
  const cloudwatch = simulateCloudWatch(aws, {
    limits,
    failures,
    catalog,
    seriesOf: seriesByKey,
    alarms: SIMULATED_ALARMS,
    strictDatapointLimit: options.strictDatapointLimit ?? false,
  });
  const eventbridge = simulateEventBridge(aws, {
    putEventsPerSecond: limits.putEventsPerSecond,
    entryFailure: failures.putEventsEntryFailure,
  });
  const sqs = simulateSqs(aws, { queueArn: SIMULATED_QUEUE_ARN, region: SIMULATED_REGION });
  const sns = simulateSns(aws, {
    topicArns: [SIMULATED_NOTIFY_TOPIC_ARN],
    publishPerSecond: limits.snsPublishPerSecond,
    region: SIMULATED_REGION,
  });
  // State and workflows are not faked here: the local stack (shared/local/stack.ts) points DynamoDB at a
  // real DynamoDB-protocol server and runs the real state machine definitions; until then every call fails.
  const dynamodb = new DynamoDBClient({ region: SIMULATED_REGION });
  const sfn = new SFNClient({ region: SIMULATED_REGION });
  const dynamodbMock = aws.mock('dynamodb', dynamodb);
  const sfnMock = aws.mock('sfn', sfn);
  runCommand = simulateRunCommand(aws, ssm.mock, {
    stackName: SIMULATED_STACK,
    accountId: SIMULATED_ACCOUNT,
    seed: seed ^ 0x55c0,
    instances,
    hosts,
    rates: limits,
  });

  return {
    instances: models,
    clock,
    clients: {
      ec2: ec2.client,
      ssm: ssm.client,
      cloudwatch: cloudwatch.client,
      eventbridge: eventbridge.client,
      sqs: sqs.client,
      dynamodb,
      sfn,
      sns: sns.client,
    },
    get requests() {
      return aws.log.records;
    },
    published: eventbridge.published,
    queued: sqs.queued,
    notified: sns.notified,
    mocks: {
      ec2: ec2.mock,
      ssm: ssm.mock,
      cloudwatch: cloudwatch.mock,
      eventbridge: eventbridge.mock,
      sqs: sqs.mock,
      dynamodb: dynamodbMock,
      sfn: sfnMock,
      sns: sns.mock,
    },
    aws,
    hosts,
    runCommand,
    environment: SIMULATED_ENVIRONMENT,
    count: (command) => aws.log.count(command),
    stateOf: (instanceId) => {
      const instance = instances.get(instanceId);
      return instance === undefined ? undefined : instances.stateOf(instance);
    },
    inject: (fault) => aws.inject(fault),
    sqsEvent: sqs.sqsEvent,
    restore: () => aws.restore(),
  };
}

/** Every metric CloudWatch holds: each instance's, plus fleet-wide aggregates ListMetrics also returns. */
function buildCatalog(instances: readonly SimInstance[]): SimMetric[] {
  const catalog: SimMetric[] = instances.flatMap((instance) => instance.metrics);
  const aggregate = { generator: 'network' as const, family: 'smooth-day-night', seed: 7 };
  for (let group = 0; group * 50 < instances.length; group += 1) {
    catalog.push({
      namespace: 'AWS/EC2',
      metricName: 'NetworkOut',
      dimensions: [{ name: 'AutoScalingGroupName', value: `web-asg-${group}` }],
      source: aggregate,
    });
  }
  catalog.push({
    namespace: 'AWS/EC2',
    metricName: 'NetworkOut',
    dimensions: [{ name: 'InstanceType', value: 'm5.large' }],
    source: aggregate,
  });
  catalog.push({
    namespace: 'CWAgent',
    metricName: 'mem_used_percent',
    dimensions: [{ name: 'host', value: 'ip-10-0-0-1' }],
    source: { generator: 'memory', family: 'flat-noise', seed: 9 },
  });
  return catalog;
}
