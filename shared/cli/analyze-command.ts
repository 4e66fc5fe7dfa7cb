import { CrawlguardError } from '#core/errors.ts';
import { analyzeMemory, type MemoryAnalysis } from '#core/memory.ts';
import { analyzeNetworkOut, type NetworkOutAnalysis } from '#core/network-out/index.ts';
import { parseCommandLine, UsageError } from './command-line.ts';
import {
  type LabelledSeries,
  MetricFileError,
  mergeByLabel,
  parseMetricDataFile,
} from './metric-data-file.ts';
import { renderMemory, renderNetworkOut } from './render.ts';

/** What the command may touch: injected, so tests run it without a process or files. */
export interface CommandIo {
  readFile(path: string): string;
  stdout(text: string): void;
  stderr(text: string): void;
}

export const USAGE = `usage: npm run --silent analyze -- --metric <network-out|memory> [--tz ZONE] [--json] FILE...

  FILE                 output of 'aws cloudwatch get-metric-data' (one result per instance, named by Label)
  --metric             network-out (AWS/EC2 NetworkOut, Sum) or memory (mem_used_percent or a process RSS)
  --tz ZONE            IANA time zone for days and windows (network-out; default UTC)
  --min-burst-bytes N  smallest burst worth reporting, bytes over baseline (network-out; default 1000000)
  --threshold PCT      level whose arrival is projected (memory, percent series; default 90)
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
    const inputs = mergeByLabel(options.files.flatMap((file) => parseMetricDataFile(file, read(io, file))));
    const results: Result[] = [];
    const reports: string[] = [];
    for (const input of inputs) {
      const { result, report } = analyzeOne(input, options);
      results.push(result);
      reports.push(report);
    }
    if (options.json) io.stdout(`${JSON.stringify({ results }, jsonSafe)}\n`);
    else io.stdout(`${reports.join('\n\n')}\n`);
    return 0;
  } catch (error) {
    if (error instanceof CrawlguardError) {
      io.stderr(`analyze: ${error.message.split('\n')[0]}\n`);
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
    files: positionals,
  };
}

function parse(argv: readonly string[]) {
  return parseCommandLine(argv, {
    metric: { type: 'string' },
    tz: { type: 'string' },
    'min-burst-bytes': { type: 'string' },
    threshold: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
}

function numberOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value))
    throw new UsageError(`${name} must be a number, got '${text}'`);
  return value;
}

function read(io: CommandIo, file: string): string {
  try {
    return io.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new MetricFileError(`cannot read ${file} (${code})`, { cause: error });
  }
}

function analyzeOne(input: LabelledSeries, options: Options): { result: Result; report: string } {
  const meta = { label: input.label, ids: input.ids, statusCode: input.statusCode };
  const note =
    input.statusCode === 'Complete'
      ? ''
      : `\n  note: CloudWatch reported ${input.statusCode} for this result`;
  if (options.metric === 'network-out') {
    const analysis = analyzeNetworkOut(input.series, {
      timeZone: options.timeZone,
      ...(options.minBurstBytes === undefined ? {} : { minBurstBytes: options.minBurstBytes }),
      includeProfile: !options.json,
    });
    const { profile: _profile, ...withoutProfile } = analysis;
    return { result: { ...meta, ...withoutProfile }, report: renderNetworkOut(input.label, analysis) + note };
  }
  const analysis = analyzeMemory(input.series, {
    ...(options.thresholdPercent === undefined ? {} : { thresholdPercent: options.thresholdPercent }),
  });
  return {
    result: { ...meta, ...analysis },
    report: renderMemory(input.label, analysis, input.series) + note,
  };
}

/** JSON has no Infinity or NaN: print them as null rather than lose the document. */
function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}
