/**
 * The remediation gate: every finding (and every operator request) passes the policy against the
 * instance as it is now and its ledger record; what passes claims one episode (a conditional write),
 * is charged against the run's and the hour's budgets, and starts the workflow by the episode's name.
 * A duplicate or concurrent delivery is a no-op: the claim is the lock, never the finding's id.
 */

import type { FindingKind } from '#core/assessment.ts';
import { isOptedIn, type OptInTag } from '#core/instances.ts';
import { breakerMessage } from '#core/remediation/messages.ts';
import {
  type BudgetConfig,
  type Decision,
  decide,
  hourKey,
  type LiveInstance,
  type PolicyConfig,
  type PolicyTrigger,
  runClaimLimit,
} from '#core/remediation/policy.ts';
import type { InstanceRecord, RemediationMode } from '#core/remediation/types.ts';
import type { Clock } from '#shared/clock.ts';
import { instantMs } from '#shared/events/fields.ts';
import type { FindingEvent, RemediationRequest } from '#shared/events/remediation.ts';
import { WORKFLOW_SCHEMA_VERSION, type WorkflowInput } from '#shared/events/workflow.ts';
import type { GatePorts } from '#shared/ports.ts';
import { clipText } from './ids.ts';

export interface GateSettings {
  readonly optIn: OptInTag;
  readonly mode: RemediationMode;
  readonly policy: PolicyConfig;
  readonly budget: BudgetConfig;
  /** How long a claim blocks others if its execution never closes it (then it closes as aborted). */
  readonly claimTtlHours: number;
}

export type GateDeps = GatePorts & { readonly clock: Clock };

/** What the gate did with one trigger. */
export type GateResult =
  | {
      readonly status: 'started';
      readonly instanceId: string;
      readonly episode: number;
      readonly executionName: string;
      readonly executionArn: string;
      readonly mode: RemediationMode;
      readonly reason: string;
    }
  | {
      readonly status: 'joined';
      readonly instanceId: string;
      readonly episode: number;
      readonly reason: string;
    }
  | {
      readonly status: 'skipped';
      readonly instanceId: string;
      readonly code: string;
      readonly reason: string;
      /** Set when this trigger opened the breaker (the one message about it). */
      readonly breakerOpened?: boolean;
    }
  | {
      readonly status: 'escalated';
      readonly instanceId: string;
      readonly code: string;
      readonly reason: string;
    };

/** The trigger as the gate reads it. */
interface Asked {
  readonly instanceId: string;
  readonly kind: FindingKind;
  /** Idempotency key of the trigger (the finding's id, the request's id). */
  readonly triggerId: string;
  readonly runId: string;
  /** Opted-in instances of the scan run, when the finding says (the breaker's denominator). */
  readonly optedIn: number | null;
  readonly policy: PolicyTrigger;
  readonly workflow: WorkflowInput['trigger'];
}

/** Runs one finding or request through the policy, the claim, the budgets and, if all pass, starts the workflow. */
export async function runGate(
  event: FindingEvent | RemediationRequest,
  settings: GateSettings,
  deps: GateDeps,
  signal: AbortSignal,
): Promise<GateResult> {
  const asked = read(event);
  const now = deps.clock.now();
  const at = new Date(now).toISOString();
  const [live, found, breaker] = await Promise.all([
    liveInstance(asked.instanceId, settings.optIn, deps, signal),
    deps.ledger.record(asked.instanceId, signal),
    deps.ledger.breaker(signal),
  ]);
  const record = await closeIfGone(found, now, deps, signal);
  const decision = decide({ now, trigger: asked.policy, live, record, breaker, config: settings.policy });
  await audit(
    deps,
    asked,
    at,
    'decision',
    decision.reason,
    { ...decisionDetail(decision), mode: settings.mode },
    'decision',
    signal,
  );

  if (decision.action === 'skip')
    return { status: 'skipped', instanceId: asked.instanceId, code: decision.code, reason: decision.reason };
  if (decision.action === 'escalate') {
    return {
      status: 'escalated',
      instanceId: asked.instanceId,
      code: decision.code,
      reason: decision.reason,
    };
  }
  if (decision.action === 'join') return join(asked, decision.episode, decision.reason, deps, signal);

  const claim = await deps.ledger.claim(
    {
      instanceId: asked.instanceId,
      kind: asked.kind,
      mode: settings.mode,
      runId: asked.runId,
      now: at,
      expiresAt: new Date(now + settings.claimTtlHours * 3_600_000).toISOString(),
    },
    signal,
  );
  if (!claim.claimed) {
    // Another delivery got there first (concurrent or repeated): join it, or it is the same kind.
    const active = claim.record.active;
    if (claim.blockedBy === 'active' && active !== null) {
      return active.kinds.includes(asked.kind)
        ? {
            status: 'skipped',
            instanceId: asked.instanceId,
            code: 'duplicate',
            reason: `episode ${active.episode} already handles ${asked.kind}`,
          }
        : join(asked, active.episode, `${asked.kind} joins episode ${active.episode}`, deps, signal);
    }
    return {
      status: 'skipped',
      instanceId: asked.instanceId,
      code: claim.blockedBy,
      reason: `the ledger refused the claim (${claim.blockedBy})`,
    };
  }
  const { episode, executionName } = claim;
  if (claim.displaced !== null) {
    await abortDisplaced(asked, claim.displaced.episode, claim.displaced.executionName, at, deps, signal);
  }

  const over = await chargeBudgets(asked, now, settings.budget, deps, signal);
  if (over !== null) {
    // The claimed episode number is spent: the audit says how it ended.
    await closeAtGate(
      deps,
      { instanceId: asked.instanceId, episode, outcome: 'skipped', reason: over.reason, at },
      `${executionName}:${over.code}`,
      { code: over.code, executionName },
      signal,
    );
    // The one message about the breaker: only the call that opened it sends it.
    if (over.opened) await deps.notifier.notify(breakerMessage(over.reason, at), signal);
    return {
      status: 'skipped',
      instanceId: asked.instanceId,
      code: over.code,
      reason: over.reason,
      breakerOpened: over.opened,
    };
  }

  const input: WorkflowInput = {
    schemaVersion: WORKFLOW_SCHEMA_VERSION,
    instanceId: asked.instanceId,
    episode,
    kinds: [asked.kind],
    trigger: asked.workflow,
    autoScalingGroup: live.autoScalingGroup,
  };
  const started = await deps.workflows.start(executionName, input, signal);
  await audit(
    deps,
    asked,
    at,
    'claim',
    `episode ${episode} started (${settings.mode}): ${executionName}`,
    { episode, executionName, executionArn: started.executionArn, mode: settings.mode },
    'claim',
    signal,
    episode,
  );
  return {
    status: 'started',
    instanceId: asked.instanceId,
    episode,
    executionName,
    executionArn: started.executionArn,
    mode: settings.mode,
    reason: decision.reason,
  };
}

function read(event: FindingEvent | RemediationRequest): Asked {
  if ('crawlguard' in event) {
    return {
      instanceId: event.instanceId,
      kind: event.kind,
      triggerId: event.requestId,
      runId: event.requestId,
      optedIn: null,
      policy: { type: 'request', kind: event.kind, requestedBy: event.requestedBy },
      workflow: {
        type: 'request',
        requestId: event.requestId,
        requestedBy: event.requestedBy,
        reason: event.reason,
      },
    };
  }
  const finding = event.detail;
  const window = finding.evidence.networkOut?.windows[0];
  return {
    instanceId: finding.instanceId,
    kind: finding.kind,
    triggerId: finding.findingId,
    runId: finding.trigger.runId,
    optedIn: finding.trigger.type === 'schedule' ? (finding.trigger.optedIn ?? null) : null,
    policy: { type: 'finding', kind: finding.kind, detectedAt: instantMs(finding.detectedAt) },
    workflow: {
      type: 'finding',
      findingId: finding.findingId,
      runId: finding.trigger.runId,
      detectedAt: finding.detectedAt,
      summary: clipText(finding.summary, 2000),
      window:
        window === undefined
          ? null
          : {
              start: window.start,
              end: window.end,
              latestStart: window.latestStart,
              timeZone: finding.evidence.networkOut?.timeZone ?? 'UTC',
            },
    },
  };
}

/** The instance now: EC2 state and tags, SSM ping, Auto Scaling group. */
async function liveInstance(
  instanceId: string,
  optIn: OptInTag,
  deps: GateDeps,
  signal: AbortSignal,
): Promise<LiveInstance> {
  const [instance] = await deps.instances.describe([instanceId], signal);
  if (instance === undefined)
    return { exists: false, state: null, optedIn: false, pingStatus: null, autoScalingGroup: null };
  const ping =
    instance.state === 'running'
      ? ((await deps.managed.pingStatuses([instanceId], signal)).get(instanceId) ?? null)
      : null;
  return {
    exists: true,
    state: instance.state,
    optedIn: isOptedIn(instance.tags, optIn),
    pingStatus: ping,
    autoScalingGroup: instance.tags.find((tag) => tag.key === 'aws:autoscaling:groupName')?.value ?? null,
  };
}

async function join(
  asked: Asked,
  episode: number,
  reason: string,
  deps: GateDeps,
  signal: AbortSignal,
): Promise<GateResult> {
  const joined = await deps.ledger.join(asked.instanceId, episode, asked.kind, signal);
  return joined
    ? { status: 'joined', instanceId: asked.instanceId, episode, reason }
    : {
        status: 'skipped',
        instanceId: asked.instanceId,
        code: 'duplicate',
        reason: `episode ${episode} closed before ${asked.kind} could join it`,
      };
}

/**
 * The run's budget (max(K, p %) of its opted-in instances; beyond it the breaker opens) and the hour's.
 * @returns null when both had room, else why not.
 */
async function chargeBudgets(
  asked: Asked,
  now: number,
  budget: BudgetConfig,
  deps: GateDeps,
  signal: AbortSignal,
): Promise<{ code: string; reason: string; opened: boolean } | null> {
  const day = new Date(now + 2 * 86_400_000).toISOString();
  if (asked.optedIn !== null) {
    const limit = runClaimLimit(asked.optedIn, budget);
    const run = await deps.ledger.increment(`run#${asked.runId}`, limit, day, signal);
    if (!run.counted) {
      const reason = `scan run ${asked.runId} asked to remediate more than ${limit} of its ${asked.optedIn} opted-in instances: the circuit breaker opened`;
      const opened = await deps.ledger.tripBreaker(reason, new Date(now).toISOString(), signal);
      return { code: 'breaker-open', reason, opened };
    }
  }
  const hour = await deps.ledger.increment(hourKey(now), budget.maxPerHour, day, signal);
  if (!hour.counted) {
    return {
      code: 'rate-limited',
      reason: `${budget.maxPerHour} remediations already started this hour`,
      opened: false,
    };
  }
  return null;
}

// A claim younger than this may not have started its execution yet (the gate claims, then starts).
const START_GRACE_MS = 15 * 60_000;
const ENDED = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

/**
 * A claim whose execution is gone (failed, timed out, aborted, or never started) closes as aborted, so
 * that the instance is not blocked until the claim expires.
 * @returns the record as it is now.
 */
async function closeIfGone(record: InstanceRecord | null, now: number, deps: GateDeps, signal: AbortSignal) {
  const active = record?.active ?? null;
  if (record === null || active === null || Date.parse(active.expiresAt) <= now) return record;
  if (now - Date.parse(active.claimedAt) < START_GRACE_MS) return record;
  const status = await deps.workflows.status(active.executionName, signal);
  if (status !== null && !ENDED.has(status)) return record;
  const at = new Date(now).toISOString();
  const reason = `its execution ${active.executionName} is ${status === null ? 'not there' : status.toLowerCase()} without having closed it`;
  await closeAtGate(
    deps,
    { instanceId: record.instanceId, episode: active.episode, outcome: 'aborted', reason, at },
    `${active.executionName}:aborted`,
    { executionName: active.executionName, executionStatus: status },
    signal,
  );
  return deps.ledger.record(record.instanceId, signal);
}

/**
 * Closes an episode the gate ends itself (no workflow ran it to its end: over budget, or its execution is
 * gone) without a cooldown, and appends how it ended to the audit trail.
 */
async function closeAtGate(
  deps: GateDeps,
  episode: {
    readonly instanceId: string;
    readonly episode: number;
    readonly outcome: 'skipped' | 'aborted';
    readonly reason: string;
    readonly at: string;
  },
  eventId: string,
  detail: Record<string, unknown>,
  signal: AbortSignal,
): Promise<void> {
  const closed = await deps.ledger.close(
    { ...episode, cooldownUntil: null, suppressedUntil: null, failed: false, escalated: false },
    signal,
  );
  if (!closed) return;
  await deps.ledger.append(
    {
      instanceId: episode.instanceId,
      eventId,
      at: episode.at,
      type: 'outcome',
      episode: episode.episode,
      summary: `episode ${episode.episode} ${episode.outcome}: ${episode.reason}`,
      detail: { outcome: episode.outcome, ...detail },
    },
    signal,
  );
}

/** An expired claim was displaced: its execution never closed it; the audit says so. */
async function abortDisplaced(
  asked: Asked,
  episode: number,
  executionName: string,
  at: string,
  deps: GateDeps,
  signal: AbortSignal,
) {
  await deps.ledger.append(
    {
      instanceId: asked.instanceId,
      eventId: `${executionName}:aborted`,
      at,
      type: 'outcome',
      episode,
      summary: `episode ${episode} aborted: its claim expired without its execution (${executionName}) closing it`,
      detail: { outcome: 'aborted', executionName },
    },
    signal,
  );
}

function decisionDetail(decision: Decision): Record<string, unknown> {
  return {
    action: decision.action,
    rule: decision.rule,
    ...('code' in decision ? { code: decision.code } : {}),
    ...('episode' in decision ? { episode: decision.episode } : {}),
  };
}

async function audit(
  deps: GateDeps,
  asked: Asked,
  at: string,
  type: 'decision' | 'claim',
  summary: string,
  detail: Record<string, unknown>,
  key: string,
  signal: AbortSignal,
  episode: number | null = null,
): Promise<void> {
  await deps.ledger.append(
    {
      instanceId: asked.instanceId,
      eventId: `${asked.triggerId}:${asked.kind}:${key}`,
      at,
      type,
      episode,
      summary: clipText(summary, 1000),
      detail: { trigger: asked.policy.type, triggerId: asked.triggerId, kind: asked.kind, ...detail },
    },
    signal,
  );
}
