import { CrawlguardError } from '#core/errors.ts';
import { analyzeMemory, type MemoryAnalysis } from '#core/memory.ts';
import { analyzeNetworkOut, type NetworkOutAnalysis } from '#core/network-out/index.ts';
import { type DroppedPoints, droppedPoints } from '#core/series.ts';
import { escapeControl } from '#core/text.ts';
import { parseCommandLine, UsageError } from './command-line.ts';
import { type LabelledSeries, mergeByLabel, readMetricDataFile } from './metric-data-file.ts';
import { type ByteSource, DEFAULT_MAX_INPUT_BYTES, InputFileError } from './read-input.ts';
import { renderDropped, renderMemory, renderNetworkOut } from './render.ts';

/** What the command may touch: injected, so tests run it without a process or files. */
export interface CommandIo {
  /** Opens an input file, refusing what is not a regular file and reading at most `maxBytes`. */
  openFile(path: string, maxBytes: number): ByteSource;
  stdout(text: string): void;
  stderr(text: string): void;
}

export const USAGE = `usage: npm run --silent analyze -- --metric <network-out|memory> [--tz ZONE] [--json] FILE...

  FILE                 output of 'aws cloudwatch get-metric-data' (one result per instance, named by Label)
  --metric             network-out (AWS/EC2 NetworkOut, Sum) or memory (mem_used_percent or a process RSS)
  --tz ZONE            IANA time zone for days and windows (network-out; default UTC)
  --min-burst-bytes N  smallest burst worth reporting, bytes over baseline (network-out; default 1000000)
  --threshold PCT      level whose arrival is projected (memory, percent series; default 90)
  --max-bytes N        largest FILE read, in bytes (default 2147483648: 2 GiB)
  --json               one JSON document: {"results": [{"label", "metric", "verdict", ...}]}

exit codes: 0 analysed, 2 bad arguments or input`;

type Result = { label: string; ids: readonly string[]; statusCode: string } & (
  | NetworkOutAnalysis
  | MemoryAnalysis
);

/** Runs `analyze`; returns the exit code. Every problem with arguments or input is one line on stderr and exit 2. */
export function runAnalyze(argv: readonly string[], io: CommandIo): number {
  try {
    const options = parseOptions(argv);
    if (options === 'help') {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    const inputs = mergeByLabel(options.files.flatMap((file) => readMetricsFile(io, file, options.maxBytes)));
    const results: Result[] = [];
    const reports: string[] = [];
    for (const input of inputs) {
      const { result, report } = analyzeOne(input, options);
      results.push(result);
      reports.push(report);
    }
    // Escaping keeps the JSON valid and its values; C1 and bidi controls in labels no longer reach the terminal.
    if (options.json) io.stdout(`${escapeControl(JSON.stringify({ results }, jsonSafe))}\n`);
    else io.stdout(`${reports.join('\n\n')}\n`);
    return 0;
  } catch (error) {
    if (error instanceof CrawlguardError) {
      // File names, time zones and values from the input are in the message: escaped, it stays one line.
      io.stderr(`analyze: ${escapeControl(error.message)}\n`);
      return 2;
    }
    throw error;
  }
}

interface Options {
  readonly metric: 'network-out' | 'memory';
  readonly timeZone: string;
  readonly minBurstBytes: number | undefined;
  readonly thresholdPercent: number | undefined;
  readonly json: boolean;
  readonly maxBytes: number;
  readonly files: readonly string[];
}

function parseOptions(argv: readonly string[]): Options | 'help' {
  const { values, positionals } = parse(argv);
  if (values.help) return 'help';
  if (values.metric !== 'network-out' && values.metric !== 'memory') {
    throw new UsageError(
      values.metric === undefined
        ? '--metric is required: network-out or memory'
        : `--metric must be network-out or memory, got '${values.metric}'`,
    );
  }
  if (positionals.length === 0)
    throw new UsageError('no FILE given: pass one or more get-metric-data outputs');
  return {
    metric: values.metric,
    timeZone: values.tz ?? 'UTC',
    minBurstBytes: numberOption('--min-burst-bytes', values['min-burst-bytes']),
    thresholdPercent: numberOption('--threshold', values.threshold),
    json: values.json ?? false,
    maxBytes: maxBytesOption(values['max-bytes']),
    files: positionals,
  };
}

function parse(argv: readonly string[]) {
  return parseCommandLine(argv, {
    metric: { type: 'string' },
    tz: { type: 'string' },
    'min-burst-bytes': { type: 'string' },
    threshold: { type: 'string' },
    'max-bytes': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
}

/** A number option's value, or undefined when not given. @throws UsageError */
export function numberOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value))
    throw new UsageError(`${name} must be a number, got '${text}'`);
  return value;
}

/** `--max-bytes`: a whole number of bytes ≥ 1, DEFAULT_MAX_INPUT_BYTES when not given. @throws UsageError */
export function maxBytesOption(text: string | undefined): number {
  if (text === undefined) return DEFAULT_MAX_INPUT_BYTES;
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`--max-bytes must be a whole number of bytes ≥ 1, got '${text}'`);
  }
  return Number(text);
}

/** The results of one get-metric-data file; a file over `maxBytes` says which option raises the limit. */
export function readMetricsFile(
  io: Pick<CommandIo, 'openFile'>,
  file: string,
  maxBytes: number,
): LabelledSeries[] {
  try {
    const source = io.openFile(file, maxBytes);
    try {
      return readMetricDataFile(file, source);
    } finally {
      source.close();
    }
  } catch (error) {
    if (error instanceof InputFileError && error.problem === 'too-large') {
      throw new InputFileError(`${error.message}; raise --max-bytes to read it`, error.problem, {
        cause: error,
      });
    }
    throw error;
  }
}

function analyzeOne(input: LabelledSeries, options: Options): { result: Result; report: string } {
  const meta = { label: input.label, ids: input.ids, statusCode: input.statusCode };
  const dropped = droppedPoints(input.series);
  const note =
    renderDropped(dropped) +
    (input.statusCode === 'Complete'
      ? ''
      : `\n  note: CloudWatch reported ${input.statusCode} for this result`);
  if (options.metric === 'network-out') {
    const analysis = analyzeNetworkOut(input.series, {
      timeZone: options.timeZone,
      ...(options.minBurstBytes === undefined ? {} : { minBurstBytes: options.minBurstBytes }),
      includeProfile: !options.json,
    });
    const { profile: _profile, ...withoutProfile } = analysis;
    return {
      result: { ...meta, ...withoutProfile, evidence: withDropped(analysis.evidence, dropped) },
      report: renderNetworkOut(input.label, analysis) + note,
    };
  }
  const analysis = analyzeMemory(input.series, {
    ...(options.thresholdPercent === undefined ? {} : { thresholdPercent: options.thresholdPercent }),
  });
  return {
    result: { ...meta, ...analysis, evidence: withDropped(analysis.evidence, dropped) },
    report: renderMemory(input.label, analysis, input.series) + note,
  };
}

/**
 * The detector's evidence and, after its fields, what the detector dropped that it does not count
 * apart: negative values (among `invalidDatapoints`) and repeated timestamps with another value (among
 * `duplicateDatapoints`; the first in the order of the files was kept).
 */
function withDropped<E extends object>(evidence: E, dropped: DroppedPoints) {
  return {
    ...evidence,
    negativeDatapoints: dropped.negativePoints,
    conflictingDuplicateDatapoints: dropped.conflictingDuplicatePoints,
  };
}

/** JSON has no Infinity or NaN: print them as null rather than lose the document. */
function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}
