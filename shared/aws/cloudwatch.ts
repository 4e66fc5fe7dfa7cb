import {
  type CloudWatchClient,
  GetMetricDataCommand,
  ListMetricsCommand,
  ListTagsForResourceCommand,
  type ListTagsForResourceCommandOutput,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch';
import type { MetricIdentity, MetricWindow, QueryBatch } from '#core/metrics.ts';
import { Pacer, type RateLimits } from '#core/pacing.ts';
import type { Clock } from '#shared/clock.ts';
import type { AlarmTags, BatchResult, FetchedSeries, MetricCatalog, MetricData } from '#shared/ports.ts';
import { pages } from './paging.ts';
import { type RetryPolicy, retryPolicy, withRetry } from './retry.ts';

export interface CloudWatchOptions {
  readonly clock: Clock;
  /** This function's share of the account's GetMetricData quota (50 calls/s, 396,000 datapoints/s). */
  readonly getMetricDataLimits: RateLimits;
  /** ListMetrics is limited to 25 calls/s per account. */
  readonly listMetricsLimits?: RateLimits;
  readonly retry?: Partial<RetryPolicy>;
}

/** CloudWatch adapter: metric discovery, paced GetMetricData, alarm tags. */
export class CloudWatchMetrics implements MetricCatalog, MetricData, AlarmTags {
  readonly #client: CloudWatchClient;
  readonly #clock: Clock;
  readonly #retry: RetryPolicy;
  readonly #dataPacer: Pacer;
  readonly #listPacer: Pacer;

  constructor(client: CloudWatchClient, options: CloudWatchOptions) {
    this.#client = client;
    this.#clock = options.clock;
    this.#retry = retryPolicy(options.clock, options.retry);
    this.#dataPacer = new Pacer(options.getMetricDataLimits);
    this.#listPacer = new Pacer(options.listMetricsLimits ?? { requestsPerSecond: 20 });
  }

  async list(
    query: { readonly namespace: string; readonly metricName: string; readonly instanceId?: string },
    signal: AbortSignal,
  ): Promise<MetricIdentity[]> {
    const metrics: MetricIdentity[] = [];
    for await (const page of this.pages(query, signal)) metrics.push(...page);
    return metrics;
  }

  async *pages(
    query: { readonly namespace: string; readonly metricName: string; readonly instanceId?: string },
    signal: AbortSignal,
  ): AsyncGenerator<MetricIdentity[]> {
    const listPage = (token: string | undefined) =>
      withRetry(
        'ListMetrics',
        async () => {
          await this.#pace(this.#listPacer, 0, signal);
          return this.#client.send(
            new ListMetricsCommand({
              Namespace: query.namespace,
              MetricName: query.metricName,
              // Name-only filter: only per-instance series, not the fleet-wide aggregates.
              Dimensions: [
                query.instanceId === undefined
                  ? { Name: 'InstanceId' }
                  : { Name: 'InstanceId', Value: query.instanceId },
              ],
              NextToken: token,
            }),
            { abortSignal: signal },
          );
        },
        this.#retry,
        signal,
      );
    for await (const page of pages(listPage)) {
      const metrics: MetricIdentity[] = [];
      for (const metric of page.Metrics ?? []) {
        if (metric.Namespace === undefined || metric.MetricName === undefined) continue;
        metrics.push({
          namespace: metric.Namespace,
          metricName: metric.MetricName,
          dimensions: (metric.Dimensions ?? []).flatMap((d) =>
            d.Name === undefined || d.Value === undefined ? [] : [{ name: d.Name, value: d.Value }],
          ),
        });
      }
      yield metrics;
    }
  }

  async fetch(batch: QueryBatch, window: MetricWindow, signal: AbortSignal): Promise<BatchResult> {
    const timestamps = new Map<string, number[]>();
    const values = new Map<string, number[]>();
    const status = new Map<string, string>();
    const input = {
      MetricDataQueries: batch.queries.map((query) => ({
        Id: query.id,
        MetricStat: {
          Metric: {
            Namespace: query.metric.namespace,
            MetricName: query.metric.metricName,
            Dimensions: query.metric.dimensions.map((d) => ({ Name: d.name, Value: d.value })),
          },
          Period: window.periodSeconds,
          Stat: query.stat,
        },
        ReturnData: true,
      })),
      StartTime: new Date(window.startMs),
      EndTime: new Date(window.endMs),
      ScanBy: 'TimestampAscending' as const,
    };
    let cost = batch.datapoints;
    const dataPage = (token: string | undefined) =>
      withRetry(
        'GetMetricData',
        async () => {
          await this.#pace(this.#dataPacer, cost, signal);
          return this.#client.send(new GetMetricDataCommand({ ...input, NextToken: token }), {
            abortSignal: signal,
          });
        },
        this.#retry,
        signal,
      );
    for await (const page of pages(dataPage)) {
      // The first page booked the whole request's datapoints against the quota; later pages only a call.
      cost = 0;
      for (const result of page.MetricDataResults ?? []) {
        if (result.Id === undefined) continue;
        const times = timestamps.get(result.Id) ?? [];
        const points = values.get(result.Id) ?? [];
        for (const t of result.Timestamps ?? []) times.push(t.getTime());
        for (const v of result.Values ?? []) points.push(v);
        timestamps.set(result.Id, times);
        values.set(result.Id, points);
        // PartialData means "more on the next page": keep reading; the last page's status stands.
        if (result.StatusCode !== undefined) status.set(result.Id, result.StatusCode);
      }
    }

    const series = new Map<string, FetchedSeries>();
    const failed = new Map<string, string>();
    for (const query of batch.queries) {
      const code = status.get(query.id) ?? 'Missing';
      if (code === 'InternalError' || code === 'Forbidden' || code === 'Missing') {
        failed.set(query.id, code);
        continue;
      }
      const times = timestamps.get(query.id) ?? [];
      const points = values.get(query.id) ?? [];
      series.set(query.id, { timestamps: Float64Array.from(times), values: Float64Array.from(points) });
    }
    return { series, failed };
  }

  async tagsOf(alarmArn: string, signal: AbortSignal): Promise<ReadonlyMap<string, string>> {
    let output: ListTagsForResourceCommandOutput;
    try {
      output = await withRetry(
        'ListTagsForResource',
        () =>
          this.#client.send(new ListTagsForResourceCommand({ ResourceARN: alarmArn }), {
            abortSignal: signal,
          }),
        this.#retry,
        signal,
      );
    } catch (error) {
      // An alarm deleted since it fired has no tags left to read.
      if (error instanceof ResourceNotFoundException) return new Map();
      throw error;
    }
    const tags = new Map<string, string>();
    for (const tag of output.Tags ?? [])
      if (tag.Key !== undefined && tag.Value !== undefined) tags.set(tag.Key, tag.Value);
    return tags;
  }

  async #pace(pacer: Pacer, datapoints: number, signal: AbortSignal): Promise<void> {
    const wait = pacer.reserve(this.#clock.now(), datapoints);
    if (wait > 0) await this.#clock.sleep(wait, signal);
  }
}
