import { isAbsolute, resolve } from 'node:path';
import { CrawlguardError } from '#core/errors.ts';
import { DATA_PATHS, type DataPath } from '#core/remediation/savings.ts';
import type { PipelineOptions, PipelineRun } from '#shared/local/pipeline.ts';
import { renderReport } from '#shared/report/render.ts';
import { parseCommandLine, UsageError } from './command-line.ts';

export const START_USAGE = `usage: npm start [-- --report PATH] [--seed N] [--data-path gateway-endpoint|nat-gateway]
       crawlguard start|demo [same options]

Runs the whole pipeline on the embedded default: a simulated fleet of a few dozen instances (cron- and
systemd-crawled, leaking, a backup job that is not updatedb, healthy, one not opted in, one with a writer
holding its mount) over simulated days — the scheduled scan, findings, the gate's policy, the remediation
workflow (the deployed ASL definitions) in dry-run, then in apply, and verification — with no AWS
credentials and no Docker. Progress and a short summary on the terminal; a self-contained HTML report.

  --report PATH    where the report goes (default: crawlguard-report.html in the current directory)
  --seed N         the demo fleet's seed (default 1): other ids, the same cases
  --data-path P    how the fleet reaches S3, for the money figures (default nat-gateway)

The last line printed is 'report: <absolute path>'.
exit codes: 0 done, 1 the run failed (one line says why), 2 bad arguments`;

export interface StartIo {
  /** Where relative paths start (npm's INIT_CWD: where the person typed the command). */
  readonly cwd: string;
  readonly run: (options: PipelineOptions) => Promise<PipelineRun>;
  readonly writeFiles: (files: readonly { readonly path: string; readonly content: string }[]) => void;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** `npm start`: parses, runs the pipeline, writes the report; every expected problem is one line. */
export async function runStart(argv: readonly string[], io: StartIo): Promise<number> {
  let options: { report: string; seed: number; dataPath: DataPath };
  try {
    const { values, positionals } = parseCommandLine(argv, {
      report: { type: 'string' },
      seed: { type: 'string' },
      'data-path': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help === true) {
      io.stdout(`${START_USAGE}\n`);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}' (see --help)`);
    const seed = values.seed === undefined ? 1 : Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 31 - 1)
      throw new UsageError(`--seed must be a whole number from 0 to ${2 ** 31 - 1}, got '${values.seed}'`);
    const dataPath = values['data-path'] ?? 'nat-gateway';
    if (!(DATA_PATHS as readonly string[]).includes(dataPath))
      throw new UsageError(`--data-path must be one of ${DATA_PATHS.join(', ')}, got '${dataPath}'`);
    const report = values.report ?? 'crawlguard-report.html';
    if (report === '') throw new UsageError('--report needs a file name');
    options = {
      report: isAbsolute(report) ? report : resolve(io.cwd, report),
      seed,
      dataPath: dataPath as DataPath,
    };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`start: ${error.message}\n`);
    return 2;
  }
  try {
    const started = Date.now();
    const run = await io.run({
      seed: options.seed,
      dataPath: options.dataPath,
      onProgress: (line) => io.stdout(`${line}\n`),
    });
    io.writeFiles([{ path: options.report, content: renderReport(run.model) }]);
    io.stdout(
      `\n${run.summary.join('\n')}\n` +
        `${run.simulatedDays.toFixed(1)} simulated days in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    io.stdout(`report: ${options.report}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof CrawlguardError)) throw error;
    io.stderr(`start: ${error.message}\n`);
    return 1;
  }
}
