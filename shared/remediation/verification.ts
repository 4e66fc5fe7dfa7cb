/**
 * After a fix: when to look at the instance's metrics, what they say (the pure verification core on what
 * CloudWatch returns since the fix), the verdict in the ledger and on the bus, and the one message per
 * episode a person gets. Each step is idempotent: Step Functions retries a step after a timeout.
 */
import { type MetricKind, type MetricWindow, planBatches } from '#core/metrics.ts';
import {
  breakerMessage,
  type EpisodeReport,
  episodeMessage,
  needsPerson,
} from '#core/remediation/messages.ts';
import type { CrawlSchedule } from '#core/remediation/plan.ts';
import type { Savings } from '#core/remediation/savings.ts';
import type { EpisodeOutcome } from '#core/remediation/types.ts';
import {
  afterRound,
  BEFORE_FIX_DAYS,
  judgeRound,
  MAX_VERIFY_ROUNDS,
  nextLookAt,
  savingsFrom,
  type VerificationSeries,
  windowFromFinding,
} from '#core/remediation/verification.ts';
import { MS_PER_DAY } from '#core/time-zone.ts';
import {
  VERIFICATION_SCHEMA_VERSION,
  type VerificationDetail,
  VerificationDetailSchema,
} from '#shared/events/verification.ts';
import {
  type StepPayload,
  type Verification,
  type WorkflowState,
  WorkflowStateSchema,
} from '#shared/events/workflow.ts';
import type { FetchedSeries } from '#shared/ports.ts';
import { discoverMetrics } from '#shared/scan/discover-metrics.ts';
import { clipText } from './ids.ts';
import { audit, MissingStateError, requireDecision, type WorkflowStepDeps } from './steps.ts';

type InWorkflow = Extract<StepPayload, { state: WorkflowState }>;
type ClosePayload = Extract<StepPayload, { action: 'close' }>;

const iso = (ms: number) => new Date(ms).toISOString();
const PERIOD_MS = 300_000;

function scheduleOf(plan: Readonly<Record<string, unknown>> | null): CrawlSchedule | null {
  const schedule = plan?.schedule as
    | { kind?: unknown; minuteOfDay?: unknown; jitterMinutes?: unknown }
    | undefined;
  if (schedule?.kind === 'cron-daily' && typeof schedule.minuteOfDay === 'number')
    return {
      kind: 'cron-daily',
      minuteOfDay: schedule.minuteOfDay,
      jitterMinutes: typeof schedule.jitterMinutes === 'number' ? schedule.jitterMinutes : 0,
    };
  return null;
}

function findingWindowOf(state: WorkflowState) {
  return state.trigger.type === 'finding' ? state.trigger.window : null;
}

/** Right after the fix: when the next expected crawl has passed (its window, the random delay, a margin). */
export function scheduleVerify(payload: InWorkflow, deps: WorkflowStepDeps): Verification {
  const { state } = payload;
  const decision = requireDecision(state);
  const now = deps.clock.now();
  const restarted = state.commands?.restart?.value.outcome === 'succeeded';
  const window = windowFromFinding(findingWindowOf(state), scheduleOf(decision.plan));
  return {
    next: 'wait',
    waitUntil: iso(nextLookAt(window, now)),
    round: 0,
    fixedAt: iso(now),
    restartedAt: restarted ? iso(now) : null,
    verdict: null,
    reason: 'waiting for the next expected crawl',
    savings: null,
  };
}

/** One look at the metrics since the fix: a verdict (ledger, bus), or wait and look again within the bound. */
export async function verify(
  payload: InWorkflow,
  deps: WorkflowStepDeps,
  signal: AbortSignal,
): Promise<Verification> {
  const { state } = payload;
  const before = state.verification?.value;
  if (before === undefined) throw new MissingStateError('the workflow state has no verification to continue');
  const decision = requireDecision(state);
  const now = deps.clock.now();
  const fixedAt = Date.parse(before.fixedAt);
  const restartedAt = before.restartedAt === null ? null : Date.parse(before.restartedAt);
  const record = await deps.ledger.record(state.instanceId, signal);
  const kinds = [
    ...new Set([...state.kinds, ...(record?.active?.episode === state.episode ? record.active.kinds : [])]),
  ];
  const series = await readSeries(
    state.instanceId,
    fixedAt - BEFORE_FIX_DAYS * MS_PER_DAY,
    now,
    deps,
    signal,
  );
  const scope = {
    kinds,
    fixedAt,
    restartedAt,
    findingWindow: findingWindowOf(state),
    schedule: scheduleOf(decision.plan),
  };
  const judged = judgeRound(scope, series, now);
  const round = before.round + 1;
  const after = afterRound(judged, round, now);
  if (after.next === 'wait') {
    return {
      ...before,
      next: 'wait',
      waitUntil: iso(after.waitUntil),
      round,
      verdict: null,
      reason: clipText(judged.reason, 3000),
    };
  }
  const reason = clipText(
    judged.verdict === 'inconclusive'
      ? `still inconclusive after ${round} look(s) over ${((now - fixedAt) / MS_PER_DAY).toFixed(1)} day(s) (at most ${MAX_VERIFY_ROUNDS}): ${judged.reason}`
      : judged.reason,
    1900,
  );
  const network = judged.network;
  const saved = savingsFrom(network, deps.settings.dataPath);
  const detail: VerificationDetail = {
    schemaVersion: VERIFICATION_SCHEMA_VERSION,
    verificationId: payload.execution,
    instanceId: state.instanceId,
    episode: state.episode,
    kinds,
    verdict: judged.verdict,
    reason,
    rounds: round,
    fixedAt: before.fixedAt,
    restartedAt: before.restartedAt,
    verifiedAt: iso(now),
    network:
      network === null
        ? null
        : {
            verdict: network.verdict,
            beforeBytesPerDay: network.beforeBytesPerDay,
            afterBytesPerDay: network.afterBytesPerDay,
            movedTo: network.moved?.startsAt ?? null,
          },
    memory:
      judged.memory === null
        ? null
        : { verdict: judged.memory.verdict, before: judged.memory.before, after: judged.memory.after },
    savings: saved === null ? null : { dataPath: deps.settings.dataPath, ...saved },
  };
  await audit(
    deps,
    payload,
    'verdict',
    `verified ${judged.verdict}: ${reason}`,
    { ...detail, mode: payload.mode },
    signal,
    'verdict',
  );
  await deps.verdicts.publishVerification(VerificationDetailSchema.parse(detail), signal);
  return {
    ...before,
    next: 'close',
    waitUntil: null,
    round,
    verdict: judged.verdict,
    reason,
    savings: detail.savings,
  };
}

/** The instance's NetworkOut and memory (s3fs RSS when reported, else mem_used_percent) since `fromMs`. */
async function readSeries(
  instanceId: string,
  fromMs: number,
  now: number,
  deps: WorkflowStepDeps,
  signal: AbortSignal,
): Promise<VerificationSeries> {
  const selection = await discoverMetrics(deps.catalog, new Set([instanceId]), signal, instanceId);
  const metrics = selection.byInstance.get(instanceId) ?? {};
  const endMs = Math.floor(now / PERIOD_MS) * PERIOD_MS;
  const startMs = Math.floor(fromMs / PERIOD_MS) * PERIOD_MS;
  const window: MetricWindow = {
    startMs,
    endMs,
    periodSeconds: PERIOD_MS / 1000,
    datapointsPerMetric: Math.max(1, (endMs - startMs) / PERIOD_MS),
  };
  const byKind = new Map<MetricKind, FetchedSeries>();
  for (const batch of planBatches([[instanceId, metrics]], window)) {
    const result = await deps.metrics.fetch(batch, window, signal);
    for (const query of batch.queries) {
      const series = result.series.get(query.id);
      if (series !== undefined && series.timestamps.length > 0) byKind.set(query.kind, series);
    }
  }
  const rss = byKind.get('s3fs-rss');
  const percent = byKind.get('mem-used-percent');
  return {
    networkOut: byKind.get('network-out') ?? null,
    memory:
      rss !== undefined
        ? { series: rss, unit: 'bytes' }
        : percent !== undefined
          ? { series: percent, unit: 'percent' }
          : null,
  };
}

const COMMAND_ORDER = ['diagnose', 'checkPatch', 'checkRestart', 'patch', 'restart', 'outage'];

/**
 * The message of a closed episode, once per execution (a retried close does not send it twice; a close
 * whose send failed sends it on its retry), and the breaker's one message when this close opened it.
 */
export async function notifyEpisode(
  payload: ClosePayload,
  closing: {
    readonly outcome: EpisodeOutcome;
    readonly reason: string;
    readonly closed: boolean;
    readonly breakerOpened: boolean;
  },
  deps: WorkflowStepDeps,
  signal: AbortSignal,
): Promise<void> {
  const { state } = payload;
  if (!closing.closed) {
    const record = await deps.ledger.record(state.instanceId, signal);
    if (record?.lastClosed?.episode !== state.episode) return;
  }
  const now = deps.clock.now();
  const key = `notified#${payload.execution}`;
  const expires = iso(now + 30 * MS_PER_DAY);
  if ((await deps.ledger.increment(key, 0, expires, signal)).count > 0) return;
  if (closing.breakerOpened) {
    const breaker = await deps.ledger.breaker(signal);
    await deps.notifier.notify(
      breakerMessage(breaker.reason ?? closing.reason, breaker.openedAt ?? iso(now)),
      signal,
    );
  }
  if (needsPerson(closing.outcome)) {
    await deps.notifier.notify(
      episodeMessage(reportOf(payload, closing.outcome, closing.reason, deps)),
      signal,
    );
  }
  await deps.ledger.increment(key, 1, expires, signal);
}

function reportOf(
  payload: ClosePayload,
  outcome: EpisodeOutcome,
  reason: string,
  deps: WorkflowStepDeps,
): EpisodeReport {
  // The close step takes any state; what the message shows is read only where it is what it should be.
  const parsed = WorkflowStateSchema.safeParse(payload.state);
  const state = parsed.success ? parsed.data : null;
  const plan = state?.decision?.value.plan as
    | { pruneFsTypes?: unknown; prunePaths?: unknown; restartMounts?: unknown }
    | null
    | undefined;
  const list = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);
  const commands = COMMAND_ORDER.flatMap((key) => {
    const result = state?.commands?.[key]?.value;
    if (result === undefined) return [];
    return [
      `${key}: ${result.outcome}${result.scriptStatus === null ? '' : ` (${result.scriptStatus})`}${result.outcome === 'succeeded' ? '' : `: ${clipText(result.reason, 300)}`}`,
    ];
  });
  const verification = state?.verification?.value;
  const savings = VerificationDetailSchema.shape.savings.safeParse(verification?.savings ?? null);
  return {
    instanceId: payload.state.instanceId,
    episode: payload.state.episode,
    mode: payload.mode,
    kinds: state?.kinds ?? [],
    outcome,
    // The close reason ends with the verdict; the message gives the verdict its own section.
    reason:
      verification?.verdict === undefined || verification.verdict === null
        ? reason
        : (reason.split('; verified ')[0] ?? reason),
    finding:
      state?.trigger.type === 'finding'
        ? { summary: state.trigger.summary, detectedAt: state.trigger.detectedAt }
        : null,
    plan:
      plan === null || plan === undefined
        ? null
        : {
            pruneFsTypes: list(plan.pruneFsTypes),
            prunePaths: list(plan.prunePaths),
            restartMounts: list(plan.restartMounts),
          },
    commands,
    verification:
      verification?.verdict === undefined || verification.verdict === null
        ? null
        : { verdict: verification.verdict, reason: verification.reason, rounds: verification.round },
    savings: savings.success && savings.data !== null ? (savings.data as Savings) : null,
    dataPath: deps.settings.dataPath,
    executionName: payload.execution,
  };
}
