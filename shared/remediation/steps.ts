/**
 * The remediation workflow's decisions, one use case per Task state of remediation.asl.json and
 * run-command.asl.json. Step Functions keeps the durable part (waits, retries, the sequence); each step
 * here reads the workflow's state, decides with the pure core, writes what happened to the ledger (every
 * write idempotent: Step Functions retries a step after a timeout), and says where to go next.
 */
import type { FindingKind } from '#core/assessment.ts';
import { CrawlguardError } from '#core/errors.ts';
import { isOptedIn } from '#core/instances.ts';
import {
  adoptCommand,
  type CommandLimits,
  type CommandResult,
  type CommandRun,
  DELIVERY_OUTCOMES,
  newCommandRun,
  trackCommand,
} from '#core/remediation/command.ts';
import { type Diagnosis, planFromDiagnosis, type RemediationPlan } from '#core/remediation/plan.ts';
import { afterOutcome } from '#core/remediation/policy.ts';
import type { EpisodeOutcome, RemediationMode } from '#core/remediation/types.ts';
import type { Clock } from '#shared/clock.ts';
import type { WorkflowStepConfig } from '#shared/config.ts';
import { DiagnosisSchema } from '#shared/events/diagnosis.ts';
import type { Prepared, StepPayload, WorkflowDecision, WorkflowState } from '#shared/events/workflow.ts';
import type { Ledger, RemediationPorts } from '#shared/ports.ts';
import { approvalDigest, registerForDigest, runIdOf } from './digest.ts';
import { approvalIdFor, clipText } from './ids.ts';
import { notifyEpisode, scheduleVerify, verify } from './verification.ts';

/** What the steps need: the function's configuration, less where it sends things, and the command bounds. */
export type WorkflowSettings = Omit<WorkflowStepConfig, 'notifyTopicArn' | 'findingsBusName'> & {
  readonly commandLimits: CommandLimits;
};

export type WorkflowStepDeps = RemediationPorts & {
  readonly clock: Clock;
  readonly settings: WorkflowSettings;
};

const NOT_READY_POLL_MS = 30 * 60_000;
const MAX_APPROVAL_ROUNDS = 2;

type InWorkflow = Extract<StepPayload, { state: WorkflowState }>;

/** Runs one step; what it returns becomes the Task state's result. */
export async function runStep(
  payload: StepPayload,
  deps: WorkflowStepDeps,
  signal: AbortSignal,
): Promise<unknown> {
  const now = deps.clock.now();
  switch (payload.action) {
    case 'start-command':
      return newCommandRun(payload.input);
    case 'track-command':
      return trackCommand(payload.run as CommandRun, now, deps.settings.commandLimits);
    case 'adopt-command':
      return adoptCommand(
        payload.run as CommandRun,
        payload.run.earlier?.commands ?? [],
        now,
        deps.settings.commandLimits,
      );
    case 'prepare':
      return prepare(payload, deps, signal);
    case 'plan':
      return plan(payload, deps, signal);
    case 'after-checks':
      return afterChecks(payload, deps, signal);
    case 'request-approval':
      return requestApproval(payload, deps, signal);
    case 'approval-digest':
      return approvalDigest(payload, deps, signal);
    case 'compare-plans':
      return comparePlans(payload, deps, signal);
    case 'after-patch':
      return afterPatch(payload, deps, signal);
    case 'after-restart':
      return afterRestart(payload, deps, signal);
    case 'escalate-outage':
      return escalateOutage(payload, deps, signal);
    case 'schedule-verify':
      return scheduleVerify(payload, deps);
    case 'verify':
      return verify(payload, deps, signal);
    case 'close':
      return close(payload, deps, signal);
  }
}

/**
 * Before anything is sent: the episode is still this execution's, the instance still exists, carries the
 * opt-in tag, runs and is online in SSM (a stopped one is waited for, within a bound), and the documents'
 * versions are pinned for the whole execution.
 */
async function prepare(payload: InWorkflow, deps: WorkflowStepDeps, signal: AbortSignal): Promise<Prepared> {
  const { state } = payload;
  const now = deps.clock.now();
  const closeWith = (outcome: EpisodeOutcome, reason: string): Prepared => ({
    next: 'close',
    outcome,
    reason,
    documents: null,
    waitUntil: null,
    notReadySince: null,
    approvalTimeoutSeconds: deps.settings.approvalTimeoutSeconds,
    autoScalingGroup: state.autoScalingGroup,
  });
  const record = await deps.ledger.record(state.instanceId, signal);
  if (record?.active?.episode !== state.episode) {
    return closeWith('aborted', `episode ${state.episode} is no longer the instance's active episode`);
  }
  const [instance] = await deps.instances.describe([state.instanceId], signal);
  if (instance === undefined || instance.state === 'terminated' || instance.state === 'shutting-down') {
    return closeWith('instance-gone', `EC2 reports the instance ${instance?.state ?? 'unknown'}`);
  }
  if (!isOptedIn(instance.tags, deps.settings.optIn)) {
    return closeWith('skipped', `the opt-in tag ${deps.settings.optIn.key} was removed or changed`);
  }
  const ping =
    instance.state === 'running'
      ? ((await deps.managed.pingStatuses([state.instanceId], signal)).get(state.instanceId) ?? null)
      : null;
  if (instance.state !== 'running' || ping !== 'Online') {
    const since = state.prepared?.value.notReadySince ?? new Date(now).toISOString();
    const why =
      instance.state !== 'running'
        ? `the instance is ${instance.state}`
        : `SSM PingStatus is ${ping ?? 'unknown'}`;
    if (now - Date.parse(since) >= deps.settings.maxNotReadyHours * 3_600_000) {
      return closeWith('skipped', `${why} since ${since}, longer than ${deps.settings.maxNotReadyHours} h`);
    }
    return {
      ...closeWith('skipped', `${why}: waiting`),
      next: 'wait',
      outcome: null,
      waitUntil: new Date(now + NOT_READY_POLL_MS).toISOString(),
      notReadySince: since,
    };
  }
  const names = deps.settings.documents;
  const [diagnose, patch, restart] = await Promise.all(
    [names.diagnose, names.patch, names.restart].map(async (name) => ({
      name,
      version: await deps.documents.defaultVersion(name, signal),
    })),
  );
  const autoScalingGroup =
    instance.tags.find((tag) => tag.key === 'aws:autoscaling:groupName')?.value ?? null;
  return {
    next: 'diagnose',
    outcome: null,
    reason: `instance running and online; documents pinned (${diagnose?.version}, ${patch?.version}, ${restart?.version})`,
    documents: {
      diagnose: diagnose as DocumentRefValue,
      patch: patch as DocumentRefValue,
      restart: restart as DocumentRefValue,
    },
    waitUntil: null,
    notReadySince: null,
    approvalTimeoutSeconds: deps.settings.approvalTimeoutSeconds,
    autoScalingGroup,
  };
}

type DocumentRefValue = { name: string; version: string };

/** From the diagnosis: what to prune and restart, or why this is not updatedb's traffic. */
async function plan(
  payload: InWorkflow,
  deps: WorkflowStepDeps,
  signal: AbortSignal,
): Promise<WorkflowDecision> {
  const { state } = payload;
  const diagnosed = await recordCommand(payload, 'diagnose', deps, signal);
  if (diagnosed.outcome !== 'succeeded')
    return closeDecision(commandOutcome(diagnosed), `diagnose: ${diagnosed.reason}`);
  const parsed = DiagnosisSchema.safeParse(diagnosed.output);
  if (!parsed.success) {
    return closeDecision(
      'inconclusive',
      `diagnose printed JSON that is not its documented output (${parsed.error.issues[0]?.message ?? 'invalid'})`,
    );
  }
  const kinds = await episodeKinds(state, deps, signal);
  const made = planFromDiagnosis(parsed.data as Diagnosis, kinds, {
    alwaysRestart: deps.settings.alwaysRestart,
  });
  if (made.action === 'not-updatedb') return closeDecision('not-updatedb', made.reason, made);
  if (made.action === 'escalate') return closeDecision('escalated', made.reason, made);
  return {
    next: 'check-patch',
    outcome: null,
    reason: made.reason,
    restart: made.restartMounts.length > 0,
    plan: { ...made },
    parameters: parametersOf(made),
    round: 0,
  };
}

/** The documents' parameters for a plan (lists joined by commas, as the documents take them). */
function parametersOf(made: RemediationPlan): NonNullable<WorkflowDecision['parameters']> {
  const patch = { PruneFsTypes: [made.pruneFsTypes.join(',')], PrunePaths: [made.prunePaths.join(',')] };
  const restart = { Mounts: [made.restartMounts.join(',')] };
  return {
    checkPatch: { Mode: ['check'], ...patch },
    applyPatch: { Mode: ['apply'], ...patch },
    checkRestart: { Mode: ['check'], ...restart },
    applyRestart: { Mode: ['apply'], ...restart },
  };
}

/** After check mode: a dry run ends here with the diff; otherwise ask a person, or apply. */
async function afterChecks(
  payload: InWorkflow,
  deps: WorkflowStepDeps,
  signal: AbortSignal,
): Promise<WorkflowDecision> {
  const decision = requireDecision(payload.state);
  const check = await recordCommand(payload, 'checkPatch', deps, signal);
  const restartCheck = decision.restart ? await recordCommand(payload, 'checkRestart', deps, signal) : null;
  if (check.outcome !== 'succeeded')
    return { ...closeDecision(commandOutcome(check), `patch check: ${check.reason}`), plan: decision.plan };
  const needsPatch = check.scriptStatus === 'nonCompliant';
  const diff = describeChecks(check, restartCheck);
  if (payload.mode === 'dry-run') {
    return { ...decision, next: 'close', outcome: 'checked', reason: `dry run: ${diff}` };
  }
  if (check.scriptStatus === 'notInstalled')
    return {
      ...decision,
      next: 'close',
      outcome: 'not-updatedb',
      reason: 'no updatedb is installed any more',
    };
  if (!needsPatch && !decision.restart) {
    return {
      ...decision,
      next: 'close',
      outcome: 'nothing-to-do',
      reason: 'updatedb.conf already prunes every crawled mount',
    };
  }
  return {
    ...decision,
    next: payload.mode === 'approve' ? 'request-approval' : 'apply-patch',
    reason: diff,
  };
}

function describeChecks(check: CommandResult, restartCheck: CommandResult | null): string {
  const changes = Array.isArray(check.output?.changes) ? check.output.changes : [];
  const lines = changes.slice(0, 5).map((change) => {
    const c = change as { variable?: unknown; action?: unknown; added?: unknown };
    return `${String(c.variable)} ${String(c.action)} +${Array.isArray(c.added) ? c.added.join(' ') : ''}`;
  });
  const patchText =
    check.scriptStatus === 'alreadyCompliant'
      ? 'updatedb.conf already prunes the mounts'
      : `would change updatedb.conf: ${lines.join('; ') || check.reason}`;
  const restartText =
    restartCheck === null
      ? 'no restart planned'
      : restartCheck.outcome === 'succeeded'
        ? `restart check ${restartCheck.scriptStatus}`
        : `restart check ${restartCheck.outcome}: ${restartCheck.reason}`;
  return clipText(`${patchText}; ${restartText}`, 1000);
}

/**
 * Asks a person: the approval (with the task token, which never leaves the ledger) is stored, then
 * registered in its run's digest round; the digest branch sends the round's one message.
 */
async function requestApproval(
  payload: InWorkflow & { taskToken: string },
  deps: WorkflowStepDeps,
  signal: AbortSignal,
): Promise<{ approvalId: string; digestRound: number | null }> {
  const decision = requireDecision(payload.state);
  const now = deps.clock.now();
  const approvalId = approvalIdFor(payload.execution, decision.round);
  const check = payload.state.commands?.checkPatch?.value;
  const changes = Array.isArray(check?.output?.changes) ? check.output.changes.slice(0, 20) : [];
  const restartMounts = decision.restart
    ? ((decision.plan as { restartMounts?: unknown } | null)?.restartMounts ?? [])
    : [];
  await deps.ledger.putApproval(
    {
      approvalId,
      instanceId: payload.state.instanceId,
      episode: payload.state.episode,
      executionName: payload.execution,
      taskToken: payload.taskToken,
      requestedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + deps.settings.approvalTimeoutSeconds * 1000).toISOString(),
      plan: {
        summary: decision.reason,
        prune: decision.parameters?.applyPatch ?? null,
        restart: decision.restart ? decision.parameters?.applyRestart : null,
        changes,
        restartMounts: Array.isArray(restartMounts) ? restartMounts.map(String) : [],
        runId: runIdOf(payload.state),
      },
      status: 'pending',
      decidedBy: null,
      decidedAt: null,
    },
    signal,
  );
  const round = await registerForDigest(payload.state, approvalId, deps, signal);
  await audit(
    deps,
    payload,
    'approval',
    `approval ${approvalId} requested (${round === null ? `run ${runIdOf(payload.state)} has no digest round left: listed by npm run approvals` : `digest ${round.round} of run ${round.runId}`}): ${decision.reason}`,
    { approvalId, round: decision.round, digestRound: round?.round ?? null },
    signal,
    `approval-requested:${decision.round}`,
  );
  return { approvalId, digestRound: round?.round ?? null };
}

/** After an approval: the plan is made again; the same plan goes on, a different one asks again (once). */
async function comparePlans(
  payload: InWorkflow,
  deps: WorkflowStepDeps,
  signal: AbortSignal,
): Promise<WorkflowDecision> {
  const approved = requireDecision(payload.state);
  const fresh = await plan(payload, deps, signal);
  if (fresh.next !== 'check-patch') return { ...fresh, round: approved.round };
  const same =
    JSON.stringify(fresh.parameters?.applyPatch) === JSON.stringify(approved.parameters?.applyPatch) &&
    JSON.stringify(fresh.parameters?.applyRestart) === JSON.stringify(approved.parameters?.applyRestart) &&
    fresh.restart === approved.restart;
  if (same)
    return { ...approved, next: 'apply-patch', reason: `approved plan still holds: ${approved.reason}` };
  if (approved.round + 1 >= MAX_APPROVAL_ROUNDS) {
    return {
      ...fresh,
      next: 'close',
      outcome: 'skipped',
      reason: 'the plan kept changing after approval',
      round: approved.round,
    };
  }
  return {
    ...fresh,
    round: approved.round + 1,
    reason: `the plan changed since it was approved: ${fresh.reason}`,
  };
}

/** Restart only after patched or alreadyCompliant, and only when it was planned. */
async function afterPatch(
  payload: InWorkflow,
  deps: WorkflowStepDeps,
  signal: AbortSignal,
): Promise<WorkflowDecision> {
  const decision = requireDecision(payload.state);
  const patched = await recordCommand(payload, 'patch', deps, signal);
  if (
    patched.outcome !== 'succeeded' ||
    (patched.scriptStatus !== 'patched' && patched.scriptStatus !== 'alreadyCompliant')
  ) {
    return {
      ...decision,
      ...closeDecision(commandOutcome(patched), `patch: ${patched.reason}`),
      plan: decision.plan,
    };
  }
  if (decision.restart)
    return { ...decision, next: 'apply-restart', reason: `patch ${patched.scriptStatus}; restarting s3fs` };
  // The episode's outcome is set now; verification looks at the metrics before it closes.
  return {
    ...decision,
    next: 'verify',
    outcome: 'remediated',
    reason: `patch ${patched.scriptStatus}; no restart needed`,
  };
}

/** A deferred restart escalates naming the holders; one that timed out is a suspected outage. */
async function afterRestart(
  payload: InWorkflow,
  deps: WorkflowStepDeps,
  signal: AbortSignal,
): Promise<WorkflowDecision> {
  const decision = requireDecision(payload.state);
  const restarted = await recordCommand(payload, 'restart', deps, signal);
  if (restarted.outcome === 'succeeded') {
    return {
      ...decision,
      next: 'verify',
      outcome: 'remediated',
      reason: `patched and s3fs ${restarted.scriptStatus}`,
    };
  }
  if (restarted.outcome === 'deferred') {
    return {
      ...decision,
      next: 'close',
      outcome: 'escalated',
      reason: `patched, but the restart was deferred ${restarted.attempts} times: ${holdersOf(restarted)}; restart s3fs once they are done`,
    };
  }
  if (
    restarted.outcome === 'timed-out' ||
    restarted.outcome === 'cancelled' ||
    restarted.outcome === 'failed'
  ) {
    return {
      ...decision,
      next: 'diagnose-outage',
      outcome: null,
      reason: `restart ${restarted.outcome}: ${restarted.reason}`,
    };
  }
  return {
    ...decision,
    ...closeDecision(commandOutcome(restarted), `restart: ${restarted.reason}`),
    plan: decision.plan,
  };
}

function holdersOf(result: CommandResult): string {
  const mounts = Array.isArray(result.output?.mounts) ? result.output.mounts : [];
  const holders = mounts.flatMap((mount) => {
    const m = mount as { mountPoint?: unknown; holders?: unknown };
    const list = Array.isArray(m.holders) ? m.holders : [];
    return list.map((h) => {
      const holder = h as { pid?: unknown; command?: unknown };
      return `${String(holder.command)} (pid ${String(holder.pid)}) on ${String(m.mountPoint)}`;
    });
  });
  return holders.length > 0 ? `held by ${clipText(holders.slice(0, 10).join(', '), 800)}` : result.reason;
}

/** After a failed restart: what diagnose sees now, for the person it goes to. */
async function escalateOutage(
  payload: InWorkflow,
  deps: WorkflowStepDeps,
  signal: AbortSignal,
): Promise<WorkflowDecision> {
  const decision = requireDecision(payload.state);
  const seen = await recordCommand(payload, 'outage', deps, signal);
  const summary =
    seen.outcome === 'succeeded' && typeof seen.output?.summary === 'object'
      ? JSON.stringify(seen.output.summary)
      : `diagnose ${seen.outcome}`;
  return {
    ...decision,
    next: 'close',
    outcome: 'escalated',
    reason: clipText(`suspected outage after ${decision.reason}; now: ${summary}`, 1500),
  };
}

/** The end of an episode: the ledger closes it (cooldown, failures, escalation), the breaker may open. */
async function close(
  payload: Extract<StepPayload, { action: 'close' }>,
  deps: WorkflowStepDeps,
  signal: AbortSignal,
): Promise<{ outcome: EpisodeOutcome; reason: string; closed: boolean; breakerOpened: boolean }> {
  const { state } = payload;
  const now = deps.clock.now();
  const decided = state.decision?.value;
  let outcome: EpisodeOutcome;
  let reason: string;
  if (payload.failure !== undefined) {
    outcome = 'failed';
    reason = clipText(
      `unexpected error ${payload.failure.Error ?? '?'}: ${payload.failure.Cause ?? ''}`,
      1500,
    );
  } else if (
    (decided?.next === 'close' || decided?.next === 'verify') &&
    decided.outcome !== null &&
    decided.outcome !== undefined
  ) {
    outcome = decided.outcome;
    reason = decided.reason ?? '';
    const verified = state.verification?.value;
    if (decided.next === 'verify' && verified?.verdict !== undefined && verified.verdict !== null) {
      // not-resolved goes to a person, never to an automatic retry.
      if (verified.verdict === 'not-resolved') outcome = 'escalated';
      reason = `${reason}; verified ${verified.verdict}: ${verified.reason ?? ''}`;
    } else if (decided.next === 'verify') {
      const error = state.verificationError;
      reason = `${reason}; not verified${error === undefined ? '' : ` (${error.Error ?? 'error'}: ${clipText(error.Cause ?? '', 300)})`}`;
    }
  } else {
    outcome = 'failed';
    reason = 'the workflow reached its end without an outcome';
  }
  const group = state.autoScalingGroup ?? state.prepared?.value.autoScalingGroup ?? null;
  if (group !== null) {
    reason = `${reason}. The instance belongs to Auto Scaling group ${group}: fix its launch template too, or a replacement comes back unfixed`;
  }
  const record = await deps.ledger.record(state.instanceId, signal);
  const failed = outcome === 'failed';
  const escalated =
    outcome === 'escalated' ||
    (failed && (record?.consecutiveFailures ?? 0) + 1 >= deps.settings.escalateAfterFailures);
  const closed = await deps.ledger.close(
    {
      instanceId: state.instanceId,
      episode: state.episode,
      outcome,
      reason: clipText(reason, 2000),
      at: new Date(now).toISOString(),
      ...afterOutcome(outcome, now, deps.settings.cooldown),
      failed,
      escalated,
    },
    signal,
  );
  let breakerOpened = false;
  // Only the first close of an episode counts (a retried step must not count twice).
  if (closed && !DELIVERY_OUTCOMES_AS_EPISODE.has(outcome)) {
    const failures = await deps.ledger.recordFleetOutcome(failed, signal);
    if (failed && failures >= deps.settings.budget.failuresToTrip) {
      breakerOpened = await deps.ledger.tripBreaker(
        `${failures} remediations in a row failed (for reasons other than delivery); the last: ${state.instanceId}`,
        new Date(now).toISOString(),
        signal,
      );
    }
  }
  await audit(
    deps,
    payload,
    'outcome',
    `episode ${state.episode} ${outcome}: ${reason}`,
    { outcome, closed, breakerOpened },
    signal,
    'outcome',
  );
  // One message per episode that needs a person, and one when this close opened the breaker.
  await notifyEpisode(payload, { outcome, reason, closed, breakerOpened }, deps, signal);
  return { outcome, reason, closed, breakerOpened };
}

// Outcomes that say nothing about whether remediations work (no proof either way): they leave the fleet's failure run alone.
const DELIVERY_OUTCOMES_AS_EPISODE = new Set<EpisodeOutcome>([
  'inconclusive',
  'aborted',
  'instance-gone',
  'skipped',
]);

/** A command's result from the state, recorded once in the ledger. */
async function recordCommand(
  payload: InWorkflow,
  key: string,
  deps: WorkflowStepDeps,
  signal: AbortSignal,
): Promise<CommandResult> {
  const result = payload.state.commands?.[key]?.value;
  if (result === undefined) throw new MissingStateError(`the workflow state has no ${key} command result`);
  await audit(
    deps,
    payload,
    'command',
    `${result.step} (${key}) ${result.outcome}: ${result.reason}`,
    {
      key,
      step: result.step,
      outcome: result.outcome,
      scriptStatus: result.scriptStatus,
      exitCode: result.exitCode,
      commandId: result.commandId,
      attempts: result.attempts,
    },
    signal,
    `command:${key}:${result.commandId ?? 'none'}`,
  );
  return result as CommandResult;
}

/** The episode outcome a failed command leads to: delivery failures and unreadable output prove nothing. */
function commandOutcome(result: CommandResult): EpisodeOutcome {
  if (DELIVERY_OUTCOMES.includes(result.outcome) || result.outcome === 'inconclusive') return 'inconclusive';
  if (result.outcome === 'refused' || result.outcome === 'busy' || result.outcome === 'deferred')
    return 'escalated';
  if (result.outcome === 'timed-out' || result.outcome === 'cancelled') return 'inconclusive';
  return 'failed';
}

function closeDecision(
  outcome: EpisodeOutcome,
  reason: string,
  made: RemediationPlan | null = null,
): WorkflowDecision {
  return {
    next: 'close',
    outcome,
    reason: clipText(reason, 1500),
    restart: false,
    plan: made === null ? null : { ...made },
    parameters: null,
    round: 0,
  };
}

export function requireDecision(state: WorkflowState): WorkflowDecision {
  const decision = state.decision?.value;
  if (decision === undefined) throw new MissingStateError('the workflow state has no decision yet');
  return decision;
}

/** The kinds of the episode as the ledger has them now (a finding that joined since the start counts). */
async function episodeKinds(
  state: WorkflowState,
  deps: { readonly ledger: Ledger },
  signal: AbortSignal,
): Promise<FindingKind[]> {
  const record = await deps.ledger.record(state.instanceId, signal);
  const kinds = new Set<FindingKind>(state.kinds);
  if (record?.active?.episode === state.episode) for (const kind of record.active.kinds) kinds.add(kind);
  return [...kinds];
}

export async function audit(
  deps: WorkflowStepDeps,
  payload: {
    readonly execution: string;
    readonly mode: RemediationMode;
    readonly state: { readonly instanceId: string; readonly episode: number };
  },
  type: 'command' | 'outcome' | 'approval' | 'verdict',
  summary: string,
  detail: Record<string, unknown>,
  signal: AbortSignal,
  key: string,
): Promise<void> {
  await deps.ledger.append(
    {
      instanceId: payload.state.instanceId,
      eventId: `${payload.execution}:${key}`,
      at: new Date(deps.clock.now()).toISOString(),
      type,
      episode: payload.state.episode,
      summary: clipText(summary, 1000),
      detail: { mode: payload.mode, ...detail },
    },
    signal,
  );
}

/** The workflow's state lacks what a step needs: the definition and the function disagree. */
export class MissingStateError extends CrawlguardError {
  override readonly name = 'MissingStateError';
}
