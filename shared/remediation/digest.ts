/**
 * The approval digest: one message per scan run's round of approvals, never one per instance. Each
 * approval registers in its run's open round (a conditional ADD in the ledger); the approval's second
 * branch waits until the round is due (its first registration plus DigestDelaySeconds), then every
 * execution of the round tries one conditional claim: exactly one wins and sends the digest, the others
 * learn it went out. Approvals registered after the claim open the next round (bounded).
 */
import { approvalDigestMessage, type ConfChange, type PendingApproval } from '#core/remediation/messages.ts';
import type { DigestStep, StepPayload, WorkflowState } from '#shared/events/workflow.ts';
import type { Approval, DigestRound } from '#shared/ports.ts';
import { approvalIdFor, clipText } from './ids.ts';
import { audit, requireDecision, type WorkflowStepDeps } from './steps.ts';

type InWorkflow = Extract<StepPayload, { state: WorkflowState }>;

/** Calls of the digest step per approval: a round not found after this many waits is given up. */
export const MAX_DIGEST_POLLS = 12;
// Reads of approvals in flight while a digest is built.
const READ_CONCURRENCY = 16;

const iso = (ms: number) => new Date(ms).toISOString();

/** The scan run an execution belongs to; a manual request is its own run. */
export function runIdOf(state: WorkflowState): string {
  return state.trigger.type === 'finding' ? state.trigger.runId : state.trigger.requestId;
}

/** Registers a stored approval in its run's open digest round; null when the run has no round left. */
export async function registerForDigest(
  state: WorkflowState,
  approvalId: string,
  deps: WorkflowStepDeps,
  signal: AbortSignal,
): Promise<DigestRound | null> {
  const now = deps.clock.now();
  return deps.ledger.registerForDigest(
    runIdOf(state),
    approvalId,
    iso(now),
    iso(now + deps.settings.digestDelaySeconds * 1000),
    signal,
  );
}

/**
 * The approval's digest branch, called again after each wait it asks for: not registered yet → wait a
 * delay; round not due → wait until it is; due → claim it, and the winner sends the digest.
 */
export async function approvalDigest(
  payload: InWorkflow,
  deps: WorkflowStepDeps,
  signal: AbortSignal,
): Promise<DigestStep> {
  const { state } = payload;
  const decision = requireDecision(state);
  const approvalId = approvalIdFor(payload.execution, decision.round);
  const runId = runIdOf(state);
  const now = deps.clock.now();
  const polls = (state.digest?.value.polls ?? 0) + 1;
  const done = (outcome: DigestStep['outcome'], round: number | null, reason: string): DigestStep => ({
    next: 'done',
    waitUntil: null,
    polls,
    round,
    outcome,
    reason: clipText(reason, 1000),
  });
  const wait = (until: number, round: number | null, reason: string): DigestStep =>
    polls >= MAX_DIGEST_POLLS
      ? done('not-in-a-digest', round, `given up after ${polls} looks: ${reason}`)
      : { next: 'wait', waitUntil: iso(until), polls, round, outcome: 'waiting', reason };

  const rounds = await deps.ledger.digestRounds(runId, signal);
  const mine = rounds.find((r) => r.approvalIds.includes(approvalId));
  if (mine === undefined) {
    return wait(
      now + deps.settings.digestDelaySeconds * 1000,
      null,
      `approval ${approvalId} is not in a digest round of run ${runId} yet`,
    );
  }
  if (mine.sentAt !== null || (mine.claimedBy !== null && mine.claimedBy !== approvalId)) {
    return done(
      'sent-by-other',
      mine.round,
      `digest ${mine.round} of run ${runId} ${mine.sentAt === null ? 'is being sent' : 'was sent'} by ${mine.claimedBy === approvalId ? 'this execution' : `the execution of ${mine.claimedBy}`}`,
    );
  }
  const due = Date.parse(mine.dueAt);
  if (mine.claimedBy === null && due > now)
    return wait(due, mine.round, `digest ${mine.round} of run ${runId} is due at ${mine.dueAt}`);
  const claimed = await deps.ledger.claimDigest(runId, mine.round, approvalId, iso(now), signal);
  if (claimed === null)
    return done(
      'sent-by-other',
      mine.round,
      `digest ${mine.round} of run ${runId} was claimed by another execution`,
    );
  return sendDigest(payload, claimed, approvalId, deps, signal, done);
}

async function sendDigest(
  payload: InWorkflow,
  round: DigestRound,
  claimant: string,
  deps: WorkflowStepDeps,
  signal: AbortSignal,
  done: (outcome: DigestStep['outcome'], round: number | null, reason: string) => DigestStep,
): Promise<DigestStep> {
  const now = deps.clock.now();
  const approvals = await readApprovals(round.approvalIds, deps, signal);
  const waiting = approvals.filter((a) => a.status === 'pending' && Date.parse(a.expiresAt) > now);
  const names = await instanceNames(
    waiting.map((a) => a.instanceId),
    deps,
    signal,
  );
  const listed = waiting.map((a) => pendingOf(a, names.get(a.instanceId) ?? null));
  if (listed.length > 0) {
    const message = approvalDigestMessage({
      runId: round.runId,
      round: round.round,
      approvals: listed,
      alreadyDecided: approvals.length - waiting.length,
      table: deps.settings.ledgerTableName,
    });
    await deps.notifier.notify(message, signal);
  }
  await deps.ledger.markDigestSent(
    round.runId,
    round.round,
    claimant,
    new Date(deps.clock.now()).toISOString(),
    listed.length,
    signal,
  );
  const summary =
    listed.length > 0
      ? `approval digest ${round.round} of run ${round.runId} sent: ${listed.length} remediation(s) listed`
      : `approval digest ${round.round} of run ${round.runId}: every approval was already answered, nothing sent`;
  await audit(
    deps,
    payload,
    'approval',
    summary,
    { runId: round.runId, round: round.round, listed: listed.length, approvals: round.approvalIds.length },
    signal,
    `digest:${round.runId}:${round.round}`,
  );
  return done(listed.length > 0 ? 'sent' : 'nothing-to-send', round.round, summary);
}

async function readApprovals(
  ids: readonly string[],
  deps: WorkflowStepDeps,
  signal: AbortSignal,
): Promise<Approval[]> {
  const found: Approval[] = [];
  for (let i = 0; i < ids.length; i += READ_CONCURRENCY) {
    const chunk = await Promise.all(
      ids.slice(i, i + READ_CONCURRENCY).map((id) => deps.ledger.approval(id, signal)),
    );
    for (const approval of chunk) if (approval !== null) found.push(approval);
  }
  return found;
}

/** The Name tags of the instances (an instance gone meanwhile has none). */
async function instanceNames(
  instanceIds: readonly string[],
  deps: WorkflowStepDeps,
  signal: AbortSignal,
): Promise<ReadonlyMap<string, string>> {
  if (instanceIds.length === 0) return new Map();
  const instances = await deps.instances.describe([...new Set(instanceIds)], signal);
  const names = new Map<string, string>();
  for (const instance of instances) {
    const name = instance.tags.find((tag) => tag.key === 'Name')?.value;
    if (name !== undefined && name !== '') names.set(instance.instanceId, name);
  }
  return names;
}

/** What the digest shows of a stored approval: never its task token. */
function pendingOf(approval: Approval, instanceName: string | null): PendingApproval {
  const plan = approval.plan as { summary?: unknown; changes?: unknown; restartMounts?: unknown };
  const changes = Array.isArray(plan.changes) ? plan.changes.flatMap(confChange) : [];
  return {
    approvalId: approval.approvalId,
    instanceId: approval.instanceId,
    instanceName,
    episode: approval.episode,
    changes,
    restartMounts: Array.isArray(plan.restartMounts) ? plan.restartMounts.map(String) : [],
    summary: typeof plan.summary === 'string' ? plan.summary : '(no check-mode summary)',
    expiresAt: approval.expiresAt,
  };
}

function confChange(value: unknown): ConfChange[] {
  const c = value as { variable?: unknown; action?: unknown; added?: unknown } | null;
  if (c === null || typeof c !== 'object') return [];
  return [
    {
      variable: String(c.variable ?? '?'),
      action: String(c.action ?? '?'),
      added: Array.isArray(c.added) ? c.added.map(String) : [],
    },
  ];
}
