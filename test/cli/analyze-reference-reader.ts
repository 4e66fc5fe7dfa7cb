/**
 * The zod reader that analyze used before the streaming one (shared/cli/metric-data-file.ts at
 * commit 4795a41), kept unchanged as the oracle the streaming reader is compared with: same results,
 * same first problem named (test/cli/analyze-reader.test.ts).
 */
import * as z from 'zod';
import { CrawlguardError } from '#core/errors.ts';
import type { MetricSeries } from '#core/series.ts';

/** What the reference reader throws: the message names the file and the problem. */
export class ReferenceReaderError extends CrawlguardError {
  override readonly name = 'ReferenceReaderError';
}

const statusCodes = ['Complete', 'PartialData', 'InternalError', 'Forbidden'] as const;

/** One result of `aws cloudwatch get-metric-data` (the CLI's JSON output, PascalCase as AWS prints it). */
const metricDataResult = z
  .object({
    Id: z.string().min(1),
    Label: z.string().min(1).max(1024),
    Timestamps: z.array(z.string()),
    Values: z.array(z.number({ error: 'not a number' })),
    StatusCode: z.enum(statusCodes).optional(),
    Messages: z.array(z.object({ Code: z.string().optional(), Value: z.string().optional() })).optional(),
  })
  .refine((result) => result.Timestamps.length === result.Values.length, {
    error: (issue) => {
      const result = issue.input as { Timestamps: unknown[]; Values: unknown[] };
      return `${result.Timestamps.length} Timestamps but ${result.Values.length} Values`;
    },
  });

const getMetricDataOutput = z.object({
  MetricDataResults: z.array(metricDataResult),
  Messages: z.array(z.unknown()).optional(),
  NextToken: z.string().optional(),
});

/** One instance's series, named by its label, merged across files. */
export interface LabelledSeries {
  readonly label: string;
  readonly ids: readonly string[];
  readonly series: MetricSeries;
  /** The worst status CloudWatch reported for this label. */
  readonly statusCode: (typeof statusCodes)[number];
}

/**
 * Parses the text of one get-metric-data output file.
 * @throws ReferenceReaderError naming the first problem (not JSON, wrong shape, lengths, values, timestamps).
 */
export function parseMetricDataFile(name: string, text: string): LabelledSeries[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ReferenceReaderError(`${name}: not JSON (${(error as Error).message})`, { cause: error });
  }
  const parsed = getMetricDataOutput.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = (issue?.path ?? [])
      .map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`))
      .join('')
      .replace(/^\./, '');
    const problem = (issue?.message ?? 'is not a get-metric-data output').replace(/^Invalid input: /, '');
    throw new ReferenceReaderError(`${name}: ${where || 'document'}: ${problem}`, {
      cause: parsed.error,
    });
  }
  return parsed.data.MetricDataResults.map((result, index) => {
    const timestamps = result.Timestamps.map((stamp, k) => {
      const time = Date.parse(stamp);
      if (!ISO_8601.test(stamp) || Number.isNaN(time)) {
        throw new ReferenceReaderError(
          `${name}: MetricDataResults[${index}].Timestamps[${k}]: '${stamp.slice(0, 40)}' is not an ISO 8601 time`,
        );
      }
      return time;
    });
    return {
      label: result.Label,
      ids: [result.Id],
      series: { timestamps, values: result.Values },
      statusCode: result.StatusCode ?? 'Complete',
    };
  });
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
