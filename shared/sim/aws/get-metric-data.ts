import type {
  GetMetricDataCommandInput,
  GetMetricDataCommandOutput,
  MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { metricKey } from '#core/metrics.ts';
import type { MetricSeries } from '#core/series.ts';
import type { Random } from '../random.ts';
import { shortHash as hash } from './core.ts';

const MAX_QUERIES = 500;
const MAX_DATAPOINTS = 100_800;

/** The datapoints of a metric (by its metricKey) as of `nowMs`, at least over [startMs, endMs); undefined for an unknown one. */
export type SeriesSource = (
  key: string,
  nowMs: number,
  startMs: number,
  endMs: number,
) => MetricSeries | undefined;

/** Failures GetMetricData injects, each a probability. */
export interface MetricDataFailures {
  /** A first page cut in half: results marked PartialData and a NextToken. */
  readonly partialData: number;
  /** A metric answered with StatusCode InternalError and no values. */
  readonly internalError: number;
}

/** GetMetricData over the simulated metrics: limits, aggregation by period, pagination, partial data. */
export class GetMetricDataFake {
  readonly #seriesOf: SeriesSource;
  readonly #rng: Random;
  readonly #failures: MetricDataFailures;
  readonly #strict: boolean;
  readonly #error: (name: string, message: string) => Error;
  // Requests whose later pages are still to come (several are in flight at once), oldest first.
  readonly #open = new Map<
    string,
    { id: string; label: string; times: Float64Array; values: Float64Array; failed: boolean }[]
  >();

  constructor(
    seriesOf: SeriesSource,
    rng: Random,
    failures: MetricDataFailures,
    strict: boolean,
    error: (name: string, message: string) => Error,
  ) {
    this.#seriesOf = seriesOf;
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
    const series = this.#seriesOf(key, nowMs, start, end);
    // CloudWatch matches dimension sets exactly: a set that was never published has no data.
    if (series === undefined) return empty;
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
