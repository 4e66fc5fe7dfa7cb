import {
  CloudWatchClient,
  CloudWatchServiceException,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  InvalidNextToken,
  ListMetricsCommand,
  type ListMetricsCommandInput,
  ListTagsForResourceCommand,
  type ListTagsForResourceCommandInput,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch';
import type { SimMetric } from '../fleet-model.ts';
import { type ClientMock, paginate, type SimulatedAws, serviceError } from './core.ts';
import { GetMetricDataFake, type MetricDataFailures, type SeriesSource } from './get-metric-data.ts';

const LIST_METRICS_PAGE = 500;

export const cwError = (name: string, message: string) =>
  serviceError(CloudWatchServiceException, name, message);

export interface CloudWatchLimits {
  readonly getMetricDataPerSecond: number;
  /** 396,000 when StartTime is more than 3 hours ago (AWS knowledge center, GetMetricData quotas). */
  readonly getMetricDataDatapointsPerSecond: number;
  readonly listMetricsPerSecond: number;
}

export interface SimulatedCloudWatchOptions {
  readonly limits: CloudWatchLimits;
  readonly failures: MetricDataFailures;
  /** Every metric CloudWatch holds, in the order ListMetrics lists them. */
  readonly catalog: readonly SimMetric[];
  /** The datapoints of a metric (by its {@link metricKey}) as of `nowMs`; undefined for an unknown one. */
  readonly seriesOf: SeriesSource;
  /** Alarm ARN → its tags (ListTagsForResource). */
  readonly alarms: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Refuse GetMetricData requests above 100,800 datapoints instead of paging them (catches an overfilling packer). */
  readonly strictDatapointLimit: boolean;
}

/** CloudWatch: ListMetrics (exact dimension sets), GetMetricData (limits, paging, partial data), alarm tags. */
export function simulateCloudWatch(
  aws: SimulatedAws,
  options: SimulatedCloudWatchOptions,
): { readonly client: CloudWatchClient; readonly mock: ClientMock } {
  const client = new CloudWatchClient({ region: 'us-east-1' });
  const mock = aws.mock('cloudwatch', client);
  const throttle = () => cwError('ThrottlingException', 'Rate exceeded');
  aws.limit('ListMetrics', options.limits.listMetricsPerSecond);
  aws.limit('ListTagsForResource', options.limits.listMetricsPerSecond);
  aws.limit('GetMetricData', options.limits.getMetricDataPerSecond);
  const datapoints = aws.limit('GetMetricDataDatapoints', options.limits.getMetricDataDatapointsPerSecond);

  // A listing is filtered once and then paged: ListMetrics pages a fleet's worth of metrics.
  const listings = new Map<string, readonly SimMetric[]>();
  mock.on(ListMetricsCommand).callsFake((input: ListMetricsCommandInput) =>
    aws.serve(
      'cloudwatch',
      'ListMetrics',
      input,
      () => {
        const filters = input.Dimensions ?? [];
        if (filters.length > 10) throw cwError('InvalidParameterValue', 'At most 10 dimension filters');
        const query = JSON.stringify([input.Namespace, input.MetricName, filters]);
        const found =
          listings.get(query) ??
          options.catalog.filter(
            (metric) =>
              (input.Namespace === undefined || metric.namespace === input.Namespace) &&
              (input.MetricName === undefined || metric.metricName === input.MetricName) &&
              filters.every((f) =>
                metric.dimensions.some(
                  (d) => d.name === f.Name && (f.Value === undefined || d.value === f.Value),
                ),
              ),
          );
        listings.set(query, found);
        const { page, nextToken } = paginate(
          found,
          input.NextToken,
          LIST_METRICS_PAGE,
          'list-metrics',
          () =>
            new InvalidNextToken({
              $metadata: { httpStatusCode: 400 },
              message: 'The service cannot parse the token',
            }),
        );
        if (nextToken === undefined) listings.delete(query);
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
      { throttle },
    ),
  );

  const metricData = new GetMetricDataFake(
    options.seriesOf,
    aws.rng,
    options.failures,
    options.strictDatapointLimit,
    cwError,
  );
  mock.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
    // sinon keeps every call's response (100,800 Date objects each); the request log is enough.
    queueMicrotask(() => mock.resetHistory());
    let cost = 0;
    return aws.serve(
      'cloudwatch',
      'GetMetricData',
      input,
      () => {
        const output = metricData.answer(input, aws.clock.now());
        cost = output.datapoints;
        return output.response;
      },
      { throttle, cost: () => cost, costBucket: datapoints, extraLatencyMs: () => cost / 1000 },
    );
  });

  mock.on(ListTagsForResourceCommand).callsFake((input: ListTagsForResourceCommandInput) =>
    aws.serve(
      'cloudwatch',
      'ListTagsForResource',
      input,
      () => {
        const tags = options.alarms[input.ResourceARN ?? ''];
        if (tags === undefined) {
          throw new ResourceNotFoundException({
            $metadata: { httpStatusCode: 404 },
            message: `${input.ResourceARN} not found`,
          });
        }
        return { Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })), $metadata: {} };
      },
      { throttle },
    ),
  );
  return { client, mock };
}
