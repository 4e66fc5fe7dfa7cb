/**
 * `crawlguard report`: the HTML report from exported metrics files (what `analyze` reads), for instances
 * nothing was done to: detection only, no decision or verdict sections.
 */
import { resolve } from 'node:path';
import { type Assessment, assessInstance, type InstanceSeries } from '#core/assessment.ts';
import { CrawlguardError } from '#core/errors.ts';
import { DATA_PATHS, type DataPath } from '#core/remediation/savings.ts';
import { cleanSeries, droppedPoints, type MetricSeries } from '#core/series.ts';
import { escapeControl } from '#core/text.ts';
import { buildReport, instanceReport } from '#shared/report/build.ts';
import type { ReportModel } from '#shared/report/model.ts';
import { renderReport } from '#shared/report/render.ts';
import { type CommandIo, maxBytesOption, numberOption, readMetricsFile } from './analyze-command.ts';
import { parseCommandLine, UsageError } from './command-line.ts';
import { type LabelledSeries, mergeByLabel } from './metric-data-file.ts';
import { renderDropped } from './render.ts';

export const REPORT_USAGE = `usage: crawlguard report [--network-out FILE]... [--memory FILE]... [options]

  --network-out FILE   output of 'aws cloudwatch get-metric-data' for AWS/EC2 NetworkOut (Sum), one result
                       per instance named by its Label; repeat for more files (pages are joined by label)
  --memory FILE        the same for mem_used_percent or the s3fs RSS (percent when every value is 0..100)
  --tz ZONE            IANA time zone of the heatmaps' days and windows (default UTC)
  --min-burst-bytes N  smallest NetworkOut burst worth reporting, bytes over baseline (default 1000000)
  --data-path PATH     how the instances reach S3, for the money figures: gateway-endpoint (default; data
                       is free) or nat-gateway (data charged per GB)
  --max-bytes N        largest FILE read, in bytes (default 2147483648: 2 GiB)
  --report PATH        the HTML file to write (default: crawlguard-report.html in the working directory)
  --model PATH         also write the report's data (JSON) there

An instance is the EC2 instance id that starts a label (i-0123456789abcdef0, i-0123456789abcdef0-s3fs-rss),
or else the whole label. The page needs no network to open. The last line printed is 'report: <path>'.
exit codes: 0 written, 1 the report could not be written, 2 bad arguments or input (nothing written)`;

export const DEFAULT_REPORT_FILE = 'crawlguard-report.html';

/** What `report` needs besides what `analyze` does: where it runs, the time, and writing its output. */
export interface ReportIo extends CommandIo {
  readonly cwd: string;
  now(): Date;
  /** Writes every file completely or none of them (temporary files renamed into place at the end). */
  writeFiles(files: readonly { readonly path: string; readonly content: string }[]): void;
}

/** The report could not be written (a missing directory, no permission). */
export class ReportWriteError extends CrawlguardError {
  override readonly name = 'ReportWriteError';
}

interface Options {
  readonly networkOut: readonly string[];
  readonly memory: readonly string[];
  readonly timeZone: string;
  readonly minBurstBytes: number | undefined;
  readonly dataPath: DataPath;
  readonly maxBytes: number;
  readonly report: string;
  readonly model: string | null;
}

/** Runs `report`; returns the exit code. Every expected problem is one line on stderr; nothing is written then. */
export function runReport(argv: readonly string[], io: ReportIo): number {
  try {
    const options = parseOptions(argv, io.cwd);
    if (options === 'help') {
      io.stdout(`${REPORT_USAGE}\n`);
      return 0;
    }
    const model = reportFromFiles(options, io);
    const page = renderReport(model);
    write(io, [
      { path: options.report, content: page },
      ...(options.model === null ? [] : [{ path: options.model, content: `${JSON.stringify(model)}\n` }]),
    ]);
    const { fleet } = model;
    const lines = [
      `scanned ${fleet.scanned} instance(s), flagged ${fleet.flagged}` +
        (fleet.savings.basis === 'none'
          ? ''
          : `; fixing them would save about $${fleet.savings.usdPerMonth.toFixed(2)} a month (${options.dataPath})`),
      ...model.instances
        .filter((instance) => instance.flagged)
        .map((instance) => `  ${escapeControl(instance.instanceId)}  ${instance.verdict}`),
    ];
    if (options.model !== null) lines.push(`model: ${escapeControl(options.model)}`);
    lines.push(`report: ${escapeControl(options.report)}`);
    io.stdout(`${lines.join('\n')}\n`);
    return 0;
  } catch (error) {
    if (error instanceof CrawlguardError) {
      io.stderr(`report: ${escapeControl(error.message)}\n`);
      return error instanceof ReportWriteError ? 1 : 2;
    }
    throw error;
  }
}

function parseOptions(argv: readonly string[], cwd: string): Options | 'help' {
  const { values, positionals } = parseCommandLine(argv, {
    'network-out': { type: 'string', multiple: true },
    memory: { type: 'string', multiple: true },
    tz: { type: 'string' },
    'min-burst-bytes': { type: 'string' },
    'data-path': { type: 'string' },
    'max-bytes': { type: 'string' },
    report: { type: 'string' },
    model: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return 'help';
  if (positionals.length > 0) {
    throw new UsageError(
      `unexpected argument '${positionals[0]}': name each file with --network-out or --memory (see --help)`,
    );
  }
  const networkOut = values['network-out'] ?? [];
  const memory = values.memory ?? [];
  if (networkOut.length + memory.length === 0) {
    throw new UsageError('no metrics given: pass --network-out FILE and/or --memory FILE (see --help)');
  }
  const dataPath = values['data-path'] ?? 'gateway-endpoint';
  if (!(DATA_PATHS as readonly string[]).includes(dataPath)) {
    throw new UsageError(`--data-path must be ${DATA_PATHS.join(' or ')}, got '${dataPath}'`);
  }
  const report = resolve(cwd, nonEmpty('--report', values.report) ?? DEFAULT_REPORT_FILE);
  const model = values.model === undefined ? null : resolve(cwd, nonEmpty('--model', values.model) ?? '');
  if (model === report) throw new UsageError('--model and --report name the same file');
  return {
    networkOut,
    memory,
    timeZone: values.tz ?? 'UTC',
    minBurstBytes: numberOption('--min-burst-bytes', values['min-burst-bytes']),
    dataPath: dataPath as DataPath,
    maxBytes: maxBytesOption(values['max-bytes']),
    report,
    model,
  };
}

function nonEmpty(name: string, value: string | undefined): string | undefined {
  if (value !== undefined && value.trim() === '') throw new UsageError(`${name} must name a file`);
  return value;
}

const INSTANCE_PREFIX = /^i-(?:[0-9a-f]{17}|[0-9a-f]{8})(?![0-9a-f])/;

/** The instance a label names: the EC2 instance id it starts with, else the label itself. */
export function instanceOfLabel(label: string): string {
  return INSTANCE_PREFIX.exec(label)?.[0] ?? label;
}

interface Gathered {
  series: InstanceSeries;
  labels: Partial<Record<keyof InstanceSeries, string>>;
  notes: string[];
}

function reportFromFiles(options: Options, io: ReportIo): ReportModel {
  const read = (files: readonly string[]) =>
    mergeByLabel(files.flatMap((file) => readMetricsFile(io, file, options.maxBytes)));
  const instances = new Map<string, Gathered>();
  const add = (input: LabelledSeries, kind: keyof InstanceSeries) => {
    const id = instanceOfLabel(input.label);
    let entry = instances.get(id);
    if (entry === undefined) {
      entry = { series: {}, labels: {}, notes: [] };
      instances.set(id, entry);
    }
    const earlier = entry.labels[kind];
    if (earlier !== undefined) {
      throw new UsageError(
        `labels '${earlier}' and '${input.label}' both give ${id} a ${kind} series: one label per instance and metric`,
      );
    }
    entry.labels[kind] = input.label;
    entry.series[kind] = input.series;
    const dropped = renderDropped(droppedPoints(input.series)).replace(/^\n\s*/, '');
    if (dropped !== '') entry.notes.push(`${input.label} (${kind}): ${dropped}`);
    if (input.statusCode !== 'Complete')
      entry.notes.push(`${input.label} (${kind}): CloudWatch reported ${input.statusCode}`);
  };
  for (const input of read(options.networkOut)) add(input, 'network-out');
  for (const input of read(options.memory))
    add(input, isPercent(input.series) ? 'mem-used-percent' : 's3fs-rss');

  const reports = [...instances].map(([id, entry]) => {
    const assessment: Assessment = assessInstance(id, entry.series, {
      network: {
        timeZone: options.timeZone,
        includeProfile: true,
        ...(options.minBurstBytes === undefined ? {} : { minBurstBytes: options.minBurstBytes }),
      },
    });
    return instanceReport(assessment, entry.series, { dataPath: options.dataPath, notes: entry.notes });
  });
  const files = [
    ...options.networkOut.map((file) => `${file} (network-out)`),
    ...options.memory.map((file) => `${file} (memory)`),
  ];
  return buildReport({
    generatedAt: io.now().toISOString(),
    source: `metrics files: ${files.join(', ')}; time zone ${options.timeZone}; nothing remediated`,
    instances: reports,
  });
}

/** The memory detector's own rule: a series is percent when every value is 0..100. */
function isPercent(series: MetricSeries): boolean {
  return cleanSeries(series).values.every((value) => value <= 100);
}

function write(io: ReportIo, files: readonly { readonly path: string; readonly content: string }[]): void {
  try {
    io.writeFiles(files);
  } catch (error) {
    const failure = error as { path?: unknown; code?: unknown };
    const where = typeof failure.path === 'string' ? failure.path : files.map((file) => file.path).join(', ');
    const code = typeof failure.code === 'string' ? ` (${failure.code})` : '';
    throw new ReportWriteError(`cannot write ${where}${code}; nothing written`, { cause: error });
  }
}
