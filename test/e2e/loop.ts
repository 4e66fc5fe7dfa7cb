/**
 * The whole remediation loop on the real mount: the real instance of the e2e (s3fs in a namespace, the
 * real cron.daily/plocate, the veth's tx counter as NetworkOut) stands in for one host of the simulated
 * account, and the local stack runs the deployed pipeline on it in `apply` mode — fleet-scan and
 * scan-worker (the real detectors) → a finding → the gate (remediate) → remediation.asl.json and
 * run-command.asl.json in the local Step Functions, whose Run Command runs the real document scripts in
 * the namespace → the real daily job, run again when simulated time reaches its next run → verification
 * on the metrics since the fix.
 *
 * Simulated time: the instance was launched seven days before the simulation's start; each of those days
 * the daily job ran at its time of day and cost what the real crawl measured before the fix (bytes on the
 * veth, s3fs RSS growth), on a baseline. From the start on, every run of the daily job is a real run in
 * the namespace (time stands still while it runs), laid on the metrics at the simulated instant it ran.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricSeries } from '#core/series.ts';
import { MS_PER_DAY } from '#core/time-zone.ts';
import { startLocalStack } from '#shared/local/stack.ts';
import { SIMULATED_START } from '#shared/sim/fleet.ts';
import { mix } from '#shared/sim/fleet-model.ts';
import {
  DEFAULT_S3FS_MEMORY,
  type ExternalCommand,
  type ExternalHost,
  type ExternalScriptResult,
  type HostMetric,
  type HostSpec,
} from '#shared/sim/host.ts';
import type { VirtualClock } from '#shared/sim/virtual-clock.ts';
import type { LoopSummary } from './loop-line.ts';
import { E2eError, type InstanceNamespace } from './namespaces.ts';

/** What one real run of the daily job cost. */
export interface CrawlMeasure {
  readonly requests: number;
  readonly txBytes: number;
}

export interface LoopOptions {
  readonly ns: InstanceNamespace;
  /** The s3fs mount (from an fstab line) the daily job crawls. */
  readonly mountPoint: string;
  /** Bucket objects below the mount. */
  readonly objects: number;
  /** A scratch directory visible in the namespace (the agent's script files go there). */
  readonly work: string;
  /** Runs the real daily job in the namespace and measures it. */
  readonly crawl: () => Promise<CrawlMeasure>;
  readonly progress: (line: string) => void;
}

export interface LoopResult {
  readonly summary: LoopSummary;
  /** The verdict's one-line reason, for the log. */
  readonly reason: string;
  /** Real runs of the daily job after the start, at their simulated instants. */
  readonly crawlsAfter: readonly {
    readonly at: number;
    readonly requests: number;
    readonly txBytes: number;
  }[];
}

const INSTANCE_ID = 'i-0e2e0000000100001';
const PERIOD_MS = 300_000;
const HISTORY_DAYS = 7;
// Debian's /etc/crontab runs cron.daily at 06:25 (what the instance's cron would do; the namespace runs none).
const DEBIAN_CRON_DAILY = '25 6 * * *';
const TRAFFIC = { baseBytesPerMinute: 40_000, diurnal: 0.3, noiseCv: 0.05 };
const SEED = 12;
const AGENT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

interface CrawlRun {
  readonly at: number;
  readonly durationMs: number;
  readonly txBytes: number;
}

interface RssSample {
  readonly at: number;
  readonly bytes: number;
}

/**
 * The e2e's instance as the simulated account sees it: its NetworkOut and s3fs RSS are what the real
 * instance measured, laid on simulated time; Run Command runs the document's script in its namespace.
 */
class RealInstance implements ExternalHost {
  readonly #options: LoopOptions;
  readonly #launchedAt: number;
  readonly #crawls: CrawlRun[] = [];
  readonly #rss: RssSample[] = [];
  clock: VirtualClock | undefined;

  constructor(options: LoopOptions, launchedAt: number) {
    this.#options = options;
    this.#launchedAt = launchedAt;
  }

  /** The days before the start: the measured crawl every day at `minuteOfDay`, RSS growing by its growth. */
  layHistory(
    measured: { durationMs: number; txBytes: number; rssBefore: number; rssAfter: number },
    minuteOfDay: number,
  ) {
    this.#rss.push({ at: this.#launchedAt, bytes: measured.rssBefore });
    const growth = Math.max(0, measured.rssAfter - measured.rssBefore);
    let day = 0;
    for (const at of crawlInstants(minuteOfDay, this.#launchedAt, SIMULATED_START)) {
      day += 1;
      this.#crawls.push({ at, durationMs: measured.durationMs, txBytes: measured.txBytes });
      this.#rss.push({ at: at + measured.durationMs, bytes: measured.rssBefore + day * growth });
    }
  }

  /** A real run of the daily job that happened at simulated `at`. */
  recordCrawl(run: CrawlRun) {
    this.#crawls.push(run);
    this.sampleRss(run.at + run.durationMs);
  }

  /** What the agent's procstat would read now: the s3fs daemon's RSS. */
  sampleRss(at: number) {
    const bytes = s3fsRssBytes(this.#options.ns, this.#options.mountPoint);
    if (bytes !== null) this.#rss.push({ at, bytes });
    this.#rss.sort((a, b) => a.at - b.at);
  }

  series(kind: HostMetric['kind'], startMs: number, endMs: number, nowMs: number): MetricSeries {
    const first =
      Math.max(Math.ceil(startMs / PERIOD_MS), Math.ceil(this.#launchedAt / PERIOD_MS)) * PERIOD_MS;
    const last = Math.min(endMs - 1, nowMs - PERIOD_MS);
    const times: number[] = [];
    const values: number[] = [];
    for (let t = first; t <= last; t += PERIOD_MS) {
      if (kind === 'network-out') values.push(this.#networkOut(t));
      else if (kind === 's3fs-rss') values.push(this.#rssAt(t));
      else continue;
      times.push(t);
    }
    return { timestamps: Float64Array.from(times), values: Float64Array.from(values) };
  }

  /** Bytes sent in the period starting at `t`: the baseline plus the share of every crawl inside it. */
  #networkOut(t: number): number {
    const minute = (t % MS_PER_DAY) / 60_000;
    const cycle = 1 + TRAFFIC.diurnal * Math.cos(((minute - 15 * 60) / 1440) * 2 * Math.PI);
    const noise = 1 + TRAFFIC.noiseCv * (2 * (mix(SEED, t / PERIOD_MS) / 2 ** 32) - 1) * Math.sqrt(3);
    let bytes = TRAFFIC.baseBytesPerMinute * 5 * cycle * noise;
    for (const crawl of this.#crawls) {
      const overlap = Math.min(t + PERIOD_MS, crawl.at + crawl.durationMs) - Math.max(t, crawl.at);
      if (overlap > 0) bytes += (crawl.txBytes * overlap) / crawl.durationMs;
    }
    return Math.round(bytes);
  }

  #rssAt(t: number): number {
    let level = this.#rss[0]?.bytes ?? 0;
    for (const sample of this.#rss) if (sample.at <= t) level = sample.bytes;
    return level;
  }

  /**
   * As the SSM agent runs aws:runShellScript: the first step's `runCommand` joined by newlines into
   * `_script.sh` (with `{{ Name }}` replaced, which crawlguard's scripts never use), run by `sh -c` as
   * root with the agent's PATH and each ENV_VAR parameter as `SSM_<Name>`.
   */
  runShellScript(command: ExternalCommand): ExternalScriptResult {
    const step = command.content.mainSteps[0];
    if (step === undefined || step.action !== 'aws:runShellScript')
      throw new E2eError(`${command.documentName}: no aws:runShellScript step`);
    const text = `${step.inputs.runCommand.join('\n')}\n`.replace(
      /\{\{\s*(\w+)\s*\}\}/g,
      (whole, name: string) => command.parameters[name] ?? whole,
    );
    const dir = join(this.#options.work, 'ssm', command.commandId, step.name);
    mkdirSync(dir, { recursive: true });
    const script = join(dir, '_script.sh');
    writeFileSync(script, text, { mode: 0o700 });
    const env = Object.entries(command.content.parameters ?? {})
      .filter(([, parameter]) => parameter.interpolationType === 'ENV_VAR')
      .map(([name]) => `SSM_${name}=${command.parameters[name] ?? ''}`);
    const started = Date.now();
    const result = this.#options.ns.run(
      ['env', '-i', `PATH=${AGENT_PATH}`, 'HOME=/root', ...env, 'sh', '-c', script],
      { check: false, timeoutMs: (step.inputs.timeoutSeconds ?? 3600) * 1000 },
    );
    const durationMs = Date.now() - started;
    const mode = command.parameters.Mode ?? '-';
    this.#options.progress(
      `loop: Run Command ${command.documentName}${mode === '-' ? '' : ` Mode=${mode}`} ran in the namespace: exit ${result.status}, ${durationMs} ms`,
    );
    // The restart's effect on memory, as procstat would see it from now on.
    if (mode === 'apply' && /restart-s3fs$/.test(command.documentName) && this.clock !== undefined)
      this.sampleRss(this.clock.now() + durationMs);
    return { exitCode: result.status, stdout: result.stdout, stderr: result.stderr, durationMs };
  }
}

/** Every instant in [from, to) at which the daily job starts, `minuteOfDay` after UTC midnight. */
function crawlInstants(minuteOfDay: number, from: number, to: number): number[] {
  const instants: number[] = [];
  for (let day = Math.floor(from / MS_PER_DAY); day * MS_PER_DAY < to; day += 1) {
    const at = day * MS_PER_DAY + minuteOfDay * 60_000;
    if (at >= from && at < to) instants.push(at);
  }
  return instants;
}

/** The RSS of the s3fs daemon serving `mountPoint` (one of the namespace's processes), or null. */
function s3fsRssBytes(ns: InstanceNamespace, mountPoint: string): number | null {
  for (const pid of ns.members()) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 's3fs') continue;
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!argv.includes(mountPoint)) continue;
      const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (match !== null) return Number(match[1]) * 1024;
    } catch {
      // The process ended meanwhile.
    }
  }
  return null;
}

/** The minute of the day cron.daily runs at, from a crontab's `m h dom mon dow` fields. */
export function cronMinuteOfDay(crontabTime: string): number {
  const match = /^(\d{1,2})\s+(\d{1,2})\s/.exec(crontabTime);
  const minute = Number(match?.[1]);
  const hour = Number(match?.[2]);
  if (match === null || minute > 59 || hour > 23)
    throw new E2eError(`not a daily crontab time: ${crontabTime}`);
  return hour * 60 + minute;
}

function statusOf(stdout: string | undefined): string {
  const last = (stdout ?? '').trimEnd().split('\n').at(-1) ?? '';
  try {
    const status = (JSON.parse(last) as { status?: unknown }).status;
    return typeof status === 'string' && status !== '' ? status : 'unparsed';
  } catch {
    return 'unparsed';
  }
}

/** Runs the loop; the instance's /etc/updatedb.conf must be the default (crawled) one and the mount up. */
export async function runRemediationLoop(options: LoopOptions): Promise<LoopResult> {
  const { ns, progress } = options;
  const launchedAt = SIMULATED_START - HISTORY_DAYS * MS_PER_DAY;
  const instance = new RealInstance(options, launchedAt);

  // The crawl before the fix, for real: its bytes and s3fs's growth are the seven days of history.
  const rssBefore = s3fsRssBytes(ns, options.mountPoint);
  const started = Date.now();
  const before = await options.crawl();
  const durationMs = Math.max(1_000, Date.now() - started);
  const rssAfter = s3fsRssBytes(ns, options.mountPoint);
  if (rssBefore === null || rssAfter === null) throw new E2eError(`no s3fs daemon for ${options.mountPoint}`);
  const crontab = ns
    .bash("grep -hE '^[^#]*cron\\.daily' /etc/crontab 2>/dev/null | head -n 1 || true")
    .stdout.trim();
  const minuteOfDay = cronMinuteOfDay(crontab === '' ? DEBIAN_CRON_DAILY : crontab);
  instance.layHistory({ durationMs, txBytes: before.txBytes, rssBefore, rssAfter }, minuteOfDay);
  progress(
    `loop: real crawl before the fix: ${before.requests} requests, ${before.txBytes} B on the veth in ${durationMs} ms, ` +
      `s3fs RSS ${Math.round(rssBefore / 1024)} -> ${Math.round(rssAfter / 1024)} KiB; laid on ${HISTORY_DAYS} simulated days at ` +
      `${String(Math.floor(minuteOfDay / 60)).padStart(2, '0')}:${String(minuteOfDay % 60).padStart(2, '0')} UTC` +
      (crontab === ''
        ? " (Debian's cron.daily time: the namespace has no /etc/crontab)"
        : ` (/etc/crontab: ${crontab})`),
  );

  const spec: HostSpec = {
    instanceId: INSTANCE_ID,
    name: 'e2e-real-instance',
    behaviour: 'updatedb-crawl',
    seed: SEED,
    optIn: 'true',
    distro: 'debian-12',
    mounts: [
      {
        mountPoint: options.mountPoint,
        type: 'fuse.s3fs',
        source: 's3fs',
        bucket: 'crawlguard-test',
        mountedBy: 'fstab',
        objects: options.objects,
      },
    ],
    traffic: TRAFFIC,
    memory: {
      totalBytes: 8 * 2 ** 30,
      basePercent: 30,
      noisePercent: 0.5,
      leakPercentPerDay: 0,
      s3fs: DEFAULT_S3FS_MEMORY,
    },
    agent: { memory: null, procstat: 'exe' },
    launchedAtMs: launchedAt,
    external: instance,
  };
  const stack = await startLocalStack({
    instances: 0,
    wellKnown: false,
    seed: SEED,
    hosts: [spec],
    mode: 'apply',
    failures: { partialData: 0, internalError: 0, putEventsEntryFailure: 0 },
  });
  const crawlsAfter: { at: number; requests: number; txBytes: number }[] = [];
  const cron = new AbortController();
  try {
    const clock = stack.fleet.clock;
    instance.clock = clock;
    const findings = await stack.scan('e2e-loop-scan');
    const finding = findings.find((f) => (f.detail as { instanceId?: unknown }).instanceId === INSTANCE_ID);
    const kind = String((finding?.detail as { kind?: unknown } | undefined)?.kind ?? 'none');
    progress(`loop: fleet-scan and scan-worker on ${HISTORY_DAYS} days of metrics: finding ${kind}`);

    // The instance's cron: each day at its time the real daily job runs (simulated time waits for it).
    const daily = (async () => {
      let from = clock.now();
      for (;;) {
        const [next] = crawlInstants(minuteOfDay, from, from + 2 * MS_PER_DAY);
        if (next === undefined) return;
        from = next + 1;
        await clock.sleep(next - clock.now(), cron.signal);
        await clock.hold(
          (async () => {
            const t0 = Date.now();
            const measured = await options.crawl();
            const took = Math.max(1_000, Date.now() - t0);
            instance.recordCrawl({ at: next, durationMs: took, txBytes: measured.txBytes });
            crawlsAfter.push({ at: next, requests: measured.requests, txBytes: measured.txBytes });
            progress(
              `loop: ${new Date(next).toISOString()}: the daily job ran for real: ${measured.requests} requests, ${measured.txBytes} B on the veth`,
            );
          })(),
        );
      }
    })().catch((error: unknown) => {
      if (!cron.signal.aborted) throw error;
    });

    const answers = await stack.deliverFindings();
    await stack.workflows.idle();
    cron.abort(new Error('the workflow is done'));
    await daily;

    const { ledger } = stack;
    const events = await ledger.events(INSTANCE_ID, AbortSignal.timeout(10_000));
    const decision = events.filter((e) => e.type === 'decision').at(-1);
    const verdict = events.filter((e) => e.type === 'verdict').at(-1);
    const outcome = events.filter((e) => e.type === 'outcome').at(-1);
    const commandStatus = (short: string, mode?: string) => {
      const sent = stack.fleet.runCommand.commands.filter(
        (c) => c.document.short === short && (mode === undefined || c.resolved.Mode === mode),
      );
      const last = sent.at(-1)?.invocations[0];
      return last === undefined ? 'none' : statusOf(last.stdout);
    };
    const summary: LoopSummary = {
      mode: stack.environment('remediate').REMEDIATION_MODE ?? 'none',
      finding: kind,
      decision: String(decision?.detail.action ?? (answers.length === 0 ? 'none' : 'unrecorded')),
      diagnose: commandStatus('diagnose'),
      patch: commandStatus('patch-updatedb-conf', 'apply'),
      restart: commandStatus('restart-s3fs', 'apply'),
      verify: String(verdict?.detail.verdict ?? 'none'),
      requestsBefore: before.requests,
      requestsAfter: crawlsAfter.reduce((sum, c) => sum + c.requests, 0),
    };
    // The outcome's summary carries the verdict once it is known.
    const reason = String(verdict === undefined ? (outcome?.summary ?? 'no outcome') : verdict.summary);
    return { summary, reason, crawlsAfter };
  } finally {
    cron.abort(new Error('the loop ended'));
    await stack.close();
  }
}
