/**
 * The simulated fleet: EC2, SSM, CloudWatch, EventBridge and SQS replaced in-process (aws-sdk-client-mock
 * on the client classes, so clients built anywhere, at any time, are covered) by fakes that hold a fleet of
 * instances with realistic metrics and enforce the real limits and failure modes, on simulated time.
 *
 * Used by the tests, the bench, and the `invoke` CLI's embedded default:
 *
 *   const fleet = installSimulatedFleet({ instances: 40, seed: 1 });
 *   Object.assign(process.env, fleet.environment);
 *   const { handler } = await import('../functions/fleet-scan/handler.ts');
 *   const result = await handler(event, fleet.lambdaContext('fleet-scan'));
 *   fleet.requests;   // every call, in order, with its input and outcome
 *   fleet.published;  // findings accepted by PutEvents
 *   fleet.queued;     // shard messages accepted by SendMessageBatch
 *   fleet.restore();
 */
import { createHash } from 'node:crypto';
import {
  CloudWatchClient,
  CloudWatchServiceException,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type GetMetricDataCommandOutput,
  InvalidNextToken,
  ListMetricsCommand,
  type ListMetricsCommandInput,
  ListTagsForResourceCommand,
  type ListTagsForResourceCommandInput,
  type MetricDataResult,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch';
import {
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  EC2Client,
  EC2ServiceException,
  type Reservation,
} from '@aws-sdk/client-ec2';
import {
  EventBridgeClient,
  EventBridgeServiceException,
  PutEventsCommand,
  type PutEventsCommandInput,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  SQSClient,
  SQSServiceException,
} from '@aws-sdk/client-sqs';
import {
  DescribeInstanceInformationCommand,
  type DescribeInstanceInformationCommandInput,
  SSMClient,
  SSMServiceException,
} from '@aws-sdk/client-ssm';
import type { Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { INSTANCE_ID_PATTERN } from '#core/instances.ts';
import { metricKey } from '#core/metrics.ts';
import { useRuntimeClock } from '#shared/clock.ts';
import {
  buildFleet,
  OPT_IN_KEY,
  OPT_IN_VALUE,
  SIMULATED_ACCOUNT,
  SIMULATED_ALARMS,
  SIMULATED_REGION,
  type SimInstance,
  type SimMetric,
  seriesOf,
} from './fleet-model.ts';
import { type Random, seededRandom } from './random.ts';
import { VirtualClock } from './virtual-clock.ts';

export type { Behaviour, SimInstance } from './fleet-model.ts';
export { SIMULATED_ACCOUNT, SIMULATED_REGION, WELL_KNOWN } from './fleet-model.ts';

/** 2026-11-04T00:00:30Z: the simulated "now" at which every generated series has just ended. */
export const SIMULATED_START = Date.UTC(2026, 10, 4, 0, 0, 30);
export const SIMULATED_BUS = 'crawlguard-findings';
export const SIMULATED_QUEUE_URL = `https://sqs.${SIMULATED_REGION}.amazonaws.com/${SIMULATED_ACCOUNT}/crawlguard-scan-shards`;
export const SIMULATED_QUEUE_ARN = `arn:aws:sqs:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:crawlguard-scan-shards`;

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
};

/** A client mock of aws-sdk-client-mock, whatever the client. */
export type ClientMock = ReturnType<typeof mockClient>;

/** Account-level quotas the fakes enforce (token buckets holding one second's worth). */
export interface SimulatedLimits {
  readonly getMetricDataPerSecond: number;
  /** 396,000 when StartTime is more than 3 hours ago (AWS knowledge center, GetMetricData quotas). */
  readonly getMetricDataDatapointsPerSecond: number;
  readonly listMetricsPerSecond: number;
  readonly describeInstancesPerSecond: number;
  readonly describeInstanceInformationPerSecond: number;
  readonly putEventsPerSecond: number;
}

/** Failures injected on top of the limits, each a probability. */
export interface SimulatedFailures {
  /** A GetMetricData first page cut in half: results marked PartialData and a NextToken. */
  readonly partialData: number;
  /** A metric answered with StatusCode InternalError and no values. */
  readonly internalError: number;
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
  readonly latencyMs?: Partial<Record<SimulatedCommand, number>>;
  readonly limits?: Partial<SimulatedLimits>;
  readonly failures?: Partial<SimulatedFailures>;
  /**
   * CloudWatch paginates a GetMetricData request above 100,800 datapoints (MaxDatapoints); with this
   * set, such a request fails with a ValidationError instead, to catch a packer that overfills calls.
   */
  readonly strictDatapointLimit?: boolean;
}

export type SimulatedService = 'ec2' | 'ssm' | 'cloudwatch' | 'eventbridge' | 'sqs';
export type SimulatedCommand =
  | 'DescribeInstances'
  | 'DescribeInstanceInformation'
  | 'ListMetrics'
  | 'GetMetricData'
  | 'ListTagsForResource'
  | 'PutEvents'
  | 'SendMessageBatch';

/** One call as the fakes received it. */
export interface RecordedRequest {
  readonly service: SimulatedService;
  /** The command's name without `Command`: one of {@link SimulatedCommand}, or one added through `mocks`. */
  readonly command: SimulatedCommand | (string & {});
  readonly input: unknown;
  /** Simulated time of arrival. */
  readonly at: number;
  /** 'ok', or the name of the error it got. */
  readonly outcome: string;
}

/** An event PutEvents accepted. */
export interface PublishedEvent {
  readonly eventBusName: string | undefined;
  readonly source: string;
  readonly detailType: string;
  readonly resources: readonly string[];
  readonly detail: unknown;
  readonly at: number;
}

/** A message SendMessageBatch accepted. */
export interface QueuedMessage {
  readonly queueUrl: string;
  readonly messageId: string;
  readonly body: string;
  readonly at: number;
}

export interface SimulatedFleet {
  readonly instances: readonly SimInstance[];
  readonly clock: VirtualClock;
  readonly requests: RecordedRequest[];
  readonly published: PublishedEvent[];
  readonly queued: QueuedMessage[];
  /**
   * The client mocks, to simulate more commands (e.g. `fleet.mocks.ssm.on(SendCommandCommand)...`). A
   * command nobody simulates is recorded with outcome `NotSimulated` and fails with a message naming it.
   */
  readonly mocks: {
    readonly ec2: ClientMock;
    readonly ssm: ClientMock;
    readonly cloudwatch: ClientMock;
    readonly eventbridge: ClientMock;
    readonly sqs: ClientMock;
  };
  /** Environment variables for the functions (see {@link SIMULATED_ENVIRONMENT}). */
  readonly environment: Readonly<Record<string, string>>;
  /** Calls received, of one command or in all. */
  count(command?: SimulatedCommand | (string & {})): number;
  /** EC2 state of an instance now (running, stopped), or undefined for an unknown id. */
  stateOf(instanceId: string): string | undefined;
  /** A Lambda context whose deadline runs on simulated time. */
  lambdaContext(functionName: string, timeoutMs?: number): Context;
  /** An SQS event carrying queued messages, as the event source mapping delivers them. */
  sqsEvent(messages: readonly QueuedMessage[]): SQSEvent;
  /** Removes the fakes and gives the runtime back the system clock. */
  restore(): void;
}

const DEFAULT_LIMITS: SimulatedLimits = {
  getMetricDataPerSecond: 50,
  getMetricDataDatapointsPerSecond: 396_000,
  listMetricsPerSecond: 25,
  describeInstancesPerSecond: 20,
  describeInstanceInformationPerSecond: 20,
  putEventsPerSecond: 400,
};
const DEFAULT_FAILURES: SimulatedFailures = {
  partialData: 0.02,
  internalError: 0.0005,
  throttle: 0,
  putEventsEntryFailure: 0.02,
};
const DEFAULT_LATENCY: Record<SimulatedCommand, number> = {
  DescribeInstances: 120,
  DescribeInstanceInformation: 80,
  ListMetrics: 100,
  GetMetricData: 100,
  ListTagsForResource: 50,
  PutEvents: 40,
  SendMessageBatch: 30,
};
const MAX_QUERIES = 500;
const MAX_DATAPOINTS = 100_800;
const PAGE_SIZES = { listMetrics: 500 };

let installed: SimulatedFleet | null = null;

/**
 * Installs the simulated fleet: from now on every EC2, SSM, CloudWatch, EventBridge and SQS client in the
 * process talks to it, and the runtime clock is its simulated clock. One at a time.
 * @throws Error when a fleet is already installed (restore it first).
 */
export function installSimulatedFleet(options: SimulatedFleetOptions = {}): SimulatedFleet {
  if (installed !== null) throw new Error('a simulated fleet is already installed; call restore() first');
  const startMs = options.startMs ?? SIMULATED_START;
  const seed = options.seed ?? 1;
  const instances = buildFleet({
    instances: options.instances ?? 40,
    seed,
    startMs,
    wellKnown: options.wellKnown ?? true,
    stopDuringScan: options.stopDuringScan ?? 0.01,
  });
  const clock = new VirtualClock(startMs, seed);
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const failures = { ...DEFAULT_FAILURES, ...options.failures };
  const latency = { ...DEFAULT_LATENCY, ...options.latencyMs };
  const rng = seededRandom(seed ^ 0x5eed);
  const requests: RecordedRequest[] = [];
  const published: PublishedEvent[] = [];
  const queued: QueuedMessage[] = [];
  const byId = new Map(instances.map((instance) => [instance.instanceId, instance]));
  const catalog = buildCatalog(instances);
  const byKey = new Map(catalog.map((metric) => [metricKey(metric), metric]));

  const stateOf = (instance: SimInstance): 'running' | 'stopped' =>
    instance.initialState === 'stopped' || (instance.stopsAt !== null && clock.now() >= instance.stopsAt)
      ? 'stopped'
      : 'running';

  const buckets = {
    GetMetricData: new Bucket(limits.getMetricDataPerSecond, startMs),
    GetMetricDataDatapoints: new Bucket(limits.getMetricDataDatapointsPerSecond, startMs),
    ListMetrics: new Bucket(limits.listMetricsPerSecond, startMs),
    ListTagsForResource: new Bucket(limits.listMetricsPerSecond, startMs),
    DescribeInstances: new Bucket(limits.describeInstancesPerSecond, startMs),
    DescribeInstanceInformation: new Bucket(limits.describeInstanceInformationPerSecond, startMs),
    PutEvents: new Bucket(limits.putEventsPerSecond, startMs),
  };

  /** Records the call, applies throttling, waits the latency, runs the fake. */
  const serve = async <T>(
    service: SimulatedService,
    command: SimulatedCommand,
    input: unknown,
    work: () => T,
    options: { throttle: () => Error; cost?: () => number; extraLatency?: () => number } = {
      throttle: () => new Error('unthrottled'),
    },
  ): Promise<T> => {
    const record = { service, command, input, at: clock.now(), outcome: 'ok' };
    requests.push(record);
    try {
      const bucket = (buckets as Record<string, Bucket | undefined>)[command];
      if (bucket !== undefined && (!bucket.take(clock.now(), 1) || rng.chance(failures.throttle))) {
        throw options.throttle();
      }
      const result = work();
      const cost = options.cost?.() ?? 0;
      if (command === 'GetMetricData' && !buckets.GetMetricDataDatapoints.take(clock.now(), cost)) {
        throw options.throttle();
      }
      await clock.sleep(latency[command] + (options.extraLatency?.() ?? 0));
      return result;
    } catch (error) {
      record.outcome = error instanceof Error ? error.name : 'error';
      throw error;
    }
  };

  const ec2Error = (name: string, message: string, status = 400) =>
    new EC2ServiceException({
      name,
      $fault: status >= 500 ? 'server' : 'client',
      $metadata: { httpStatusCode: status },
      message,
    });
  const ssmError = (name: string, message: string) =>
    new SSMServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message });
  const cwError = (name: string, message: string) =>
    new CloudWatchServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message });

  // --- EC2 ---------------------------------------------------------------------------------------
  const ec2 = mockClient(EC2Client);
  ec2.on(DescribeInstancesCommand).callsFake((input: DescribeInstancesCommandInput) =>
    serve(
      'ec2',
      'DescribeInstances',
      input,
      () => {
        if (input.InstanceIds !== undefined && input.MaxResults !== undefined) {
          throw ec2Error(
            'InvalidParameterCombination',
            'The parameter instancesSet cannot be used with the parameter maxResults',
          );
        }
        if (input.MaxResults !== undefined && (input.MaxResults < 5 || input.MaxResults > 1000)) {
          throw ec2Error(
            'InvalidParameterValue',
            `Value ( ${input.MaxResults} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`,
          );
        }
        for (const id of input.InstanceIds ?? []) {
          if (!INSTANCE_ID_PATTERN.test(id))
            throw ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
          if (!byId.has(id))
            throw ec2Error('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
        }
        const filters = (input.Filters ?? []).map((filter) => {
          const values = filter.Values ?? [];
          if (values.length > 200)
            throw ec2Error('FilterLimitExceeded', `The filter '${filter.Name}' has more than 200 values`);
          return { name: filter.Name ?? '', values };
        });
        const matches = (instance: SimInstance): boolean =>
          (input.InstanceIds === undefined || input.InstanceIds.includes(instance.instanceId)) &&
          filters.every((filter) => {
            if (filter.name === 'instance-id')
              return filter.values.some((v) => wildcard(v, instance.instanceId));
            if (filter.name === 'instance-state-name')
              return filter.values.some((v) => wildcard(v, stateOf(instance)));
            if (filter.name === 'tag-key')
              return instance.tags.some((t) => filter.values.some((v) => wildcard(v, t.Key)));
            if (filter.name.startsWith('tag:')) {
              const key = filter.name.slice(4);
              return instance.tags.some(
                (t) => t.Key === key && filter.values.some((v) => wildcard(v, t.Value)),
              );
            }
            throw ec2Error('InvalidParameterValue', `The filter '${filter.name}' is invalid`);
          });
        const found = instances.filter(matches);
        const { page, nextToken } = paginate(
          found,
          input.NextToken,
          input.MaxResults ?? found.length,
          'ec2',
          () => ec2Error('InvalidParameterValue', 'Invalid value for NextToken'),
        );
        const reservations: Reservation[] = page.map((instance) => ({
          ReservationId: `r-${instance.instanceId.slice(2)}`,
          OwnerId: SIMULATED_ACCOUNT,
          Instances: [
            {
              InstanceId: instance.instanceId,
              State: { Name: stateOf(instance), Code: stateOf(instance) === 'running' ? 16 : 80 },
              Tags: instance.tags.map((tag) => ({ ...tag })),
              InstanceType: 'm5.large',
              ImageId: 'ami-0abcdef1234567890',
            },
          ],
        }));
        return { Reservations: reservations, NextToken: nextToken, $metadata: {} };
      },
      { throttle: () => ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503) },
    ),
  );

  // --- SSM ---------------------------------------------------------------------------------------
  const ssm = mockClient(SSMClient);
  ssm.on(DescribeInstanceInformationCommand).callsFake((input: DescribeInstanceInformationCommandInput) =>
    serve(
      'ssm',
      'DescribeInstanceInformation',
      input,
      () => {
        const max = input.MaxResults ?? 10;
        if (max < 5 || max > 50) {
          throw ssmError(
            'ValidationException',
            `1 validation error detected: Value '${max}' at 'maxResults' failed to satisfy constraint: Member must have value between 5 and 50`,
          );
        }
        let ids: Set<string> | null = null;
        for (const filter of input.Filters ?? []) {
          if (filter.Key !== 'InstanceIds')
            throw ssmError('InvalidFilterKey', `filter key ${filter.Key} is not supported here`);
          for (const id of filter.Values ?? []) {
            if (!INSTANCE_ID_PATTERN.test(id))
              throw ssmError('InvalidInstanceInformationFilterValue', `${id} is not a valid instance id`);
          }
          ids = new Set(filter.Values ?? []);
        }
        // SSM leaves out unmanaged, stopped and terminated instances.
        const found = instances.filter(
          (instance) =>
            instance.ssm !== null &&
            stateOf(instance) === 'running' &&
            (ids === null || ids.has(instance.instanceId)),
        );
        const { page, nextToken } = paginate(found, input.NextToken, max, 'ssm', () =>
          ssmError('InvalidNextToken', 'The specified token is not valid.'),
        );
        return {
          InstanceInformationList: page.map((instance) => ({
            InstanceId: instance.instanceId,
            PingStatus: instance.ssm ?? undefined,
            PlatformType: 'Linux' as const,
            ResourceType: 'EC2Instance' as const,
          })),
          NextToken: nextToken,
          $metadata: {},
        };
      },
      { throttle: () => ssmError('ThrottlingException', 'Rate exceeded') },
    ),
  );

  // --- CloudWatch --------------------------------------------------------------------------------
  const cloudwatch = mockClient(CloudWatchClient);
  cloudwatch.on(ListMetricsCommand).callsFake((input: ListMetricsCommandInput) =>
    serve(
      'cloudwatch',
      'ListMetrics',
      input,
      () => {
        const filters = input.Dimensions ?? [];
        if (filters.length > 10) throw cwError('InvalidParameterValue', 'At most 10 dimension filters');
        const found = catalog.filter(
          (metric) =>
            (input.Namespace === undefined || metric.namespace === input.Namespace) &&
            (input.MetricName === undefined || metric.metricName === input.MetricName) &&
            filters.every((f) =>
              metric.dimensions.some(
                (d) => d.name === f.Name && (f.Value === undefined || d.value === f.Value),
              ),
            ),
        );
        const { page, nextToken } = paginate(
          found,
          input.NextToken,
          PAGE_SIZES.listMetrics,
          'list-metrics',
          () =>
            new InvalidNextToken({
              $metadata: { httpStatusCode: 400 },
              message: 'The service cannot parse the token',
            }),
        );
        return {
          Metrics: page.map((metric) => ({
            Namespace: metric.namespace,
            MetricName: metric.metricName,
            Dimensions: metric.dimensions.map((d) => ({ Name: d.name, Value: d.value })),
          })),
          NextToken: nextToken,
          $metadata: {},
        };
      },
      { throttle: () => cwError('ThrottlingException', 'Rate exceeded') },
    ),
  );

  const metricData = new GetMetricDataFake(
    byKey,
    rng,
    failures,
    options.strictDatapointLimit ?? false,
    cwError,
  );
  cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
    // sinon keeps every call's response (100,800 Date objects each); the fleet's own record is enough.
    queueMicrotask(() => cloudwatch.resetHistory());
    let cost = 0;
    return serve(
      'cloudwatch',
      'GetMetricData',
      input,
      () => {
        const output = metricData.answer(input, clock.now());
        cost = output.datapoints;
        return output.response;
      },
      {
        throttle: () => cwError('ThrottlingException', 'Rate exceeded'),
        cost: () => cost,
        extraLatency: () => cost / 1000,
      },
    );
  });
  cloudwatch.on(ListTagsForResourceCommand).callsFake((input: ListTagsForResourceCommandInput) =>
    serve(
      'cloudwatch',
      'ListTagsForResource',
      input,
      () => {
        const tags = SIMULATED_ALARMS[input.ResourceARN ?? ''];
        if (tags === undefined) {
          throw new ResourceNotFoundException({
            $metadata: { httpStatusCode: 404 },
            message: `${input.ResourceARN} not found`,
          });
        }
        return { Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })), $metadata: {} };
      },
      { throttle: () => cwError('ThrottlingException', 'Rate exceeded') },
    ),
  );

  // --- EventBridge -------------------------------------------------------------------------------
  const eventbridge = mockClient(EventBridgeClient);
  eventbridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) =>
    serve(
      'eventbridge',
      'PutEvents',
      input,
      () => {
        const entries = input.Entries ?? [];
        if (entries.length < 1 || entries.length > 10) {
          throw new EventBridgeServiceException({
            name: 'ValidationException',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
            message: `${entries.length} entries: must be 1 to 10`,
          });
        }
        const size = entries.reduce(
          (sum, e) =>
            sum +
            Buffer.byteLength(e.Source ?? '') +
            Buffer.byteLength(e.DetailType ?? '') +
            Buffer.byteLength(e.Detail ?? '') +
            (e.Resources ?? []).reduce((s, r) => s + Buffer.byteLength(r), 0) +
            (e.Time === undefined ? 0 : 14),
          0,
        );
        if (size > 256 * 1024) {
          throw new EventBridgeServiceException({
            name: 'ValidationException',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
            message: `Total size of the entries in the request is over the limit (${size} bytes)`,
          });
        }
        const results: PutEventsResultEntry[] = entries.map((entry) => {
          let detail: unknown;
          try {
            detail = JSON.parse(entry.Detail ?? '');
          } catch {
            return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
          }
          if (
            entry.Source === undefined ||
            entry.DetailType === undefined ||
            typeof detail !== 'object' ||
            detail === null
          ) {
            return {
              ErrorCode: 'MalformedDetail',
              ErrorMessage: 'Source, DetailType and an object Detail are required.',
            };
          }
          if (rng.chance(failures.putEventsEntryFailure))
            return { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal failure.' };
          published.push({
            eventBusName: entry.EventBusName,
            source: entry.Source,
            detailType: entry.DetailType,
            resources: entry.Resources ?? [],
            detail,
            at: clock.now(),
          });
          return { EventId: opaqueId(entry.Detail ?? '', published.length) };
        });
        return {
          Entries: results,
          FailedEntryCount: results.filter((r) => r.ErrorCode !== undefined).length,
          $metadata: {},
        };
      },
      {
        throttle: () =>
          new EventBridgeServiceException({
            name: 'ThrottlingException',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
            message: 'Rate exceeded',
          }),
      },
    ),
  );

  // --- SQS ---------------------------------------------------------------------------------------
  const sqs = mockClient(SQSClient);
  sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) =>
    serve('sqs', 'SendMessageBatch', input, () => {
      const entries = input.Entries ?? [];
      const sqsError = (name: string, message: string) =>
        new SQSServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message });
      if (entries.length < 1)
        throw sqsError(
          'EmptyBatchRequest',
          'There should be at least one SendMessageBatchRequestEntry in the request.',
        );
      if (entries.length > 10)
        throw sqsError(
          'TooManyEntriesInBatchRequest',
          `Maximum number of entries per request are 10. You have sent ${entries.length}.`,
        );
      if (new Set(entries.map((e) => e.Id)).size !== entries.length)
        throw sqsError(
          'BatchEntryIdsNotDistinct',
          'Two or more batch entries in the request have the same Id.',
        );
      const size = entries.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody ?? ''), 0);
      if (size > 256 * 1024)
        throw sqsError(
          'BatchRequestTooLong',
          `Batch requests cannot be longer than 262144 bytes. You have sent ${size} bytes.`,
        );
      return {
        Successful: entries.map((entry) => {
          const messageId = opaqueId(entry.MessageBody ?? '', queued.length);
          queued.push({
            queueUrl: input.QueueUrl ?? '',
            messageId,
            body: entry.MessageBody ?? '',
            at: clock.now(),
          });
          return { Id: entry.Id, MessageId: messageId, MD5OfMessageBody: md5(entry.MessageBody ?? '') };
        }),
        Failed: [],
        $metadata: {},
      };
    }),
  );

  const mocks = { ec2, ssm, cloudwatch, eventbridge, sqs } as unknown as SimulatedFleet['mocks'];
  // Anything not simulated fails loudly instead of answering undefined.
  for (const [service, mock] of Object.entries(mocks) as [
    SimulatedService,
    SimulatedFleet['mocks']['ec2'],
  ][]) {
    mock.send.callsFake(async (command: { constructor: { name: string }; input: unknown }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      requests.push({
        service,
        command: name,
        input: command.input,
        at: clock.now(),
        outcome: 'NotSimulated',
      });
      throw new Error(
        `the simulated fleet does not simulate ${service} ${name}; add it with fleet.mocks.${service}.on(...)`,
      );
    });
  }

  const restoreClock = useRuntimeClock(clock);
  const fleet: SimulatedFleet = {
    instances,
    clock,
    requests,
    published,
    queued,
    mocks,
    environment: SIMULATED_ENVIRONMENT,
    count: (command) =>
      command === undefined ? requests.length : requests.filter((r) => r.command === command).length,
    stateOf: (instanceId) => {
      const instance = byId.get(instanceId);
      return instance === undefined ? undefined : stateOf(instance);
    },
    lambdaContext: (functionName, timeoutMs = 300_000) => simulatedContext(clock, functionName, timeoutMs),
    sqsEvent: (messages) => ({
      Records: messages.map((message) => ({
        messageId: message.messageId,
        receiptHandle: `AQEB${message.messageId}`,
        body: message.body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Math.round(message.at)),
          SenderId: 'AROAEXAMPLEID:crawlguard-fleet-scan',
          ApproximateFirstReceiveTimestamp: String(Math.round(clock.now())),
        },
        messageAttributes: {},
        md5OfBody: md5(message.body),
        eventSource: 'aws:sqs',
        eventSourceARN: SIMULATED_QUEUE_ARN,
        awsRegion: SIMULATED_REGION,
      })),
    }),
    restore: () => {
      for (const mock of [ec2, ssm, cloudwatch, eventbridge, sqs]) mock.restore();
      restoreClock();
      installed = null;
    },
  };
  installed = fleet;
  return fleet;
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

/** GetMetricData over the simulated metrics: limits, aggregation by period, pagination, partial data. */
class GetMetricDataFake {
  readonly #byKey: ReadonlyMap<string, SimMetric>;
  readonly #rng: Random;
  readonly #failures: SimulatedFailures;
  readonly #strict: boolean;
  readonly #error: (name: string, message: string) => Error;
  // Requests whose later pages are still to come (several are in flight at once), oldest first.
  readonly #open = new Map<
    string,
    { id: string; label: string; times: Float64Array; values: Float64Array; failed: boolean }[]
  >();

  constructor(
    byKey: ReadonlyMap<string, SimMetric>,
    rng: Random,
    failures: SimulatedFailures,
    strict: boolean,
    error: (name: string, message: string) => Error,
  ) {
    this.#byKey = byKey;
    this.#rng = rng;
    this.#failures = failures;
    this.#strict = strict;
    this.#error = error;
  }

  answer(
    input: GetMetricDataCommandInput,
    nowMs: number,
  ): { response: GetMetricDataCommandOutput; datapoints: number } {
    const queries = input.MetricDataQueries ?? [];
    if (queries.length === 0 || queries.length > MAX_QUERIES) {
      throw this.#error(
        'ValidationError',
        `1 validation error detected: Value at 'metricDataQueries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_QUERIES} (got ${queries.length})`,
      );
    }
    const start = input.StartTime?.getTime() ?? Number.NaN;
    const end = input.EndTime?.getTime() ?? Number.NaN;
    if (!(start < end))
      throw this.#error(
        'ValidationError',
        'The parameter StartTime must be less than the parameter EndTime.',
      );
    const ids = new Set<string>();
    let requested = 0;
    for (const query of queries) {
      if (!/^[a-z][a-zA-Z0-9_]*$/.test(query.Id ?? '') || ids.has(query.Id ?? '')) {
        throw this.#error(
          'ValidationError',
          `The value ${query.Id} for parameter MetricDataQueries.member.Id is invalid or repeated.`,
        );
      }
      ids.add(query.Id ?? '');
      const period = query.MetricStat?.Period ?? 0;
      if (query.MetricStat === undefined || period < 60 || period % 60 !== 0) {
        throw this.#error(
          'ValidationError',
          `Query ${query.Id}: a MetricStat with a period that is a multiple of 60 is required.`,
        );
      }
      if (query.ReturnData !== false) requested += Math.ceil((end - start) / (period * 1000));
    }
    const maxDatapoints = Math.min(input.MaxDatapoints ?? MAX_DATAPOINTS, MAX_DATAPOINTS);
    if (this.#strict && requested > MAX_DATAPOINTS) {
      throw this.#error(
        'ValidationError',
        `The request asks for ${requested} datapoints; at most ${MAX_DATAPOINTS} per call.`,
      );
    }
    const fingerprint = JSON.stringify([
      start,
      end,
      input.ScanBy,
      queries.map((q) => q.Id),
      queries[0]?.MetricStat?.Metric?.Dimensions,
    ]);
    let position = { query: 0, point: 0 };
    let results = this.#open.get(fingerprint);
    if (input.NextToken !== undefined) {
      const token = decodeToken(input.NextToken);
      if (token === null || token.fingerprint !== hash(fingerprint) || results === undefined) {
        throw this.#error(
          'InvalidNextToken',
          'The service cannot parse the token, or it belongs to another request.',
        );
      }
      position = token.position;
    } else {
      results = queries.map((query) => this.#series(query, start, end, nowMs, input.ScanBy));
    }
    let budget = maxDatapoints;
    // Sometimes CloudWatch returns part of what fits and a NextToken anyway.
    if (input.NextToken === undefined && this.#rng.chance(this.#failures.partialData)) {
      budget = Math.max(1, Math.floor(results.reduce((sum, r) => sum + r.values.length, 0) / 2));
    }
    const out: MetricDataResult[] = [];
    let returned = 0;
    let next: { query: number; point: number } | null = null;
    for (let q = position.query; q < results.length; q += 1) {
      const result = results[q] as (typeof results)[number];
      const from = q === position.query ? position.point : 0;
      if (result.failed) {
        out.push({
          Id: result.id,
          Label: result.label,
          Timestamps: [],
          Values: [],
          StatusCode: 'InternalError',
          Messages: [{ Code: 'InternalError', Value: 'Internal error retrieving this metric.' }],
        });
        continue;
      }
      const take = Math.min(result.values.length - from, budget - returned);
      const timestamps: Date[] = new Array(take);
      const values: number[] = new Array(take);
      for (let i = 0; i < take; i += 1) {
        timestamps[i] = new Date(result.times[from + i] as number);
        values[i] = result.values[from + i] as number;
      }
      returned += take;
      const complete = from + take >= result.values.length;
      out.push({
        Id: result.id,
        Label: result.label,
        Timestamps: timestamps,
        Values: values,
        StatusCode: complete ? 'Complete' : 'PartialData',
      });
      if (!complete) {
        next = { query: q, point: from + take };
        break;
      }
    }
    this.#open.delete(fingerprint);
    if (next !== null) {
      this.#open.set(fingerprint, results);
      // A client that never asks for the next page must not keep its series alive for ever.
      for (const key of this.#open.keys()) {
        if (this.#open.size <= 32) break;
        this.#open.delete(key);
      }
    }
    return {
      response: {
        MetricDataResults: out,
        NextToken:
          next === null ? undefined : encodeToken({ fingerprint: hash(fingerprint), position: next }),
        Messages: [],
        $metadata: {},
      },
      datapoints: returned,
    };
  }

  #series(
    query: NonNullable<GetMetricDataCommandInput['MetricDataQueries']>[number],
    start: number,
    end: number,
    nowMs: number,
    scanBy: GetMetricDataCommandInput['ScanBy'],
  ) {
    const id = query.Id ?? '';
    const stat = query.MetricStat;
    const metric = stat?.Metric;
    const label = metric?.MetricName ?? id;
    const empty = { id, label, times: new Float64Array(0), values: new Float64Array(0), failed: false };
    if (this.#rng.chance(this.#failures.internalError)) return { ...empty, failed: true };
    const key = metricKey({
      namespace: metric?.Namespace ?? '',
      metricName: metric?.MetricName ?? '',
      dimensions: (metric?.Dimensions ?? []).map((d) => ({ name: d.Name ?? '', value: d.Value ?? '' })),
    });
    const sim = this.#byKey.get(key);
    // CloudWatch matches dimension sets exactly: a set that was never published has no data.
    if (sim === undefined) return empty;
    const series = seriesOf(sim, nowMs);
    const periodMs = (stat?.Period ?? 300) * 1000;
    const buckets = Math.ceil((end - start) / periodMs);
    const sums = new Float64Array(buckets);
    const counts = new Uint32Array(buckets);
    const maxima = new Float64Array(buckets).fill(Number.NEGATIVE_INFINITY);
    const minima = new Float64Array(buckets).fill(Number.POSITIVE_INFINITY);
    for (let i = 0; i < series.timestamps.length; i += 1) {
      const t = series.timestamps[i] as number;
      if (t < start || t >= end) continue;
      const b = Math.floor((t - start) / periodMs);
      const v = series.values[i] as number;
      sums[b] = (sums[b] as number) + v;
      counts[b] = (counts[b] as number) + 1;
      maxima[b] = Math.max(maxima[b] as number, v);
      minima[b] = Math.min(minima[b] as number, v);
    }
    let filled = 0;
    for (let b = 0; b < buckets; b += 1) if ((counts[b] as number) > 0) filled += 1;
    const times = new Float64Array(filled);
    const values = new Float64Array(filled);
    const descending = scanBy !== 'TimestampAscending';
    let k = 0;
    for (let step = 0; step < buckets; step += 1) {
      const b = descending ? buckets - 1 - step : step;
      const count = counts[b] as number;
      if (count === 0) continue;
      times[k] = start + b * periodMs;
      const statName = stat?.Stat ?? 'Average';
      values[k] =
        statName === 'Sum'
          ? (sums[b] as number)
          : statName === 'Maximum'
            ? (maxima[b] as number)
            : statName === 'Minimum'
              ? (minima[b] as number)
              : statName === 'SampleCount'
                ? count
                : (sums[b] as number) / count;
      k += 1;
    }
    return { id, label, times, values, failed: false };
  }
}

/** A token bucket holding one second's worth of `ratePerSecond`. */
class Bucket {
  readonly #rate: number;
  #tokens: number;
  #last: number;

  constructor(ratePerSecond: number, nowMs: number) {
    this.#rate = ratePerSecond;
    this.#tokens = ratePerSecond;
    this.#last = nowMs;
  }

  take(nowMs: number, cost: number): boolean {
    this.#tokens = Math.min(this.#rate, this.#tokens + ((nowMs - this.#last) / 1000) * this.#rate);
    this.#last = nowMs;
    if (this.#tokens < cost) return false;
    this.#tokens -= cost;
    return true;
  }
}

function paginate<T>(
  items: readonly T[],
  token: string | undefined,
  pageSize: number,
  scope: string,
  invalid: () => Error,
): { page: T[]; nextToken: string | undefined } {
  let offset = 0;
  if (token !== undefined) {
    const match = new RegExp(`^${scope}:(\\d+)$`).exec(Buffer.from(token, 'base64').toString());
    if (match === null) throw invalid();
    offset = Number(match[1]);
  }
  const size = Math.max(1, pageSize);
  const page = items.slice(offset, offset + size);
  const nextToken =
    offset + size < items.length ? Buffer.from(`${scope}:${offset + size}`).toString('base64') : undefined;
  return { page, nextToken };
}

/** EC2 filter values: `*` any run of characters, `?` any one character, case-sensitive. */
function wildcard(pattern: string, value: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === value;
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 's').test(value);
}

function encodeToken(token: { fingerprint: string; position: { query: number; point: number } }): string {
  return Buffer.from(JSON.stringify(token)).toString('base64');
}

function decodeToken(
  token: string,
): { fingerprint: string; position: { query: number; point: number } } | null {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString()) as {
      fingerprint?: unknown;
      position?: { query?: unknown; point?: unknown };
    };
    const { fingerprint, position } = parsed;
    if (
      typeof fingerprint !== 'string' ||
      typeof position?.query !== 'number' ||
      typeof position.point !== 'number'
    )
      return null;
    return { fingerprint, position: { query: position.query, point: position.point } };
  } catch {
    return null;
  }
}

const hash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);
const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

function opaqueId(text: string, n: number): string {
  const h = createHash('sha256').update(`${n}\n${text}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function simulatedContext(clock: VirtualClock, functionName: string, timeoutMs: number): Context {
  const deadline = clock.now() + timeoutMs;
  const requestId = opaqueId(functionName, Math.round(clock.now()));
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `crawlguard-${functionName}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:function:crawlguard-${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/crawlguard-${functionName}`,
    logStreamName: `2026/11/04/[$LATEST]${requestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - clock.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
