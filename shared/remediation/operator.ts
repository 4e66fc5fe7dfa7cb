/**
 * What an operator does to remediations: approve or deny one that waits (by its approval id; the task
 * token never leaves the ledger), and reset the circuit breaker. Each decision is taken once (a
 * conditional write) and written to the audit trail.
 */
import { CrawlguardError } from '#core/errors.ts';
import type { Clock } from '#shared/clock.ts';
import type { Ledger, TaskTokens } from '#shared/ports.ts';
import { clipText } from './ids.ts';

export interface OperatorDeps {
  readonly ledger: Ledger;
  readonly workflows: TaskTokens;
  readonly clock: Clock;
}

/** The approval id is unknown, or the approval is no longer pending. */
export class ApprovalNotPendingError extends CrawlguardError {
  override readonly name = 'ApprovalNotPendingError';
}

/** The error a denial fails the waiting task with (the workflow's Catch names it). */
export const DENIED_ERROR = 'crawlguard.Denied';

export interface ApprovalOutcome {
  readonly approvalId: string;
  readonly instanceId: string;
  readonly episode: number;
  readonly executionName: string;
  readonly decision: 'approved' | 'denied';
}

/** Approves a waiting remediation: the workflow re-checks the plan, the tag and the ping, then applies. */
export async function approve(
  approvalId: string,
  by: string,
  deps: OperatorDeps,
  signal: AbortSignal,
): Promise<ApprovalOutcome> {
  return decide(approvalId, 'approved', by, '', deps, signal);
}

/** Denies a waiting remediation: the episode closes as denied and the instance is left alone for a while. */
export async function deny(
  approvalId: string,
  by: string,
  reason: string,
  deps: OperatorDeps,
  signal: AbortSignal,
): Promise<ApprovalOutcome> {
  return decide(approvalId, 'denied', by, reason, deps, signal);
}

async function decide(
  approvalId: string,
  decision: 'approved' | 'denied',
  by: string,
  reason: string,
  deps: OperatorDeps,
  signal: AbortSignal,
): Promise<ApprovalOutcome> {
  const at = new Date(deps.clock.now()).toISOString();
  const approval = await deps.ledger.decideApproval(approvalId, decision, by, at, signal);
  if (approval === null) {
    const known = await deps.ledger.approval(approvalId, signal);
    throw new ApprovalNotPendingError(
      known === null
        ? `no approval ${approvalId}`
        : `approval ${approvalId} is ${known.status}${known.decidedBy === null ? '' : ` (by ${known.decidedBy} at ${known.decidedAt})`}, not pending`,
    );
  }
  if (decision === 'approved') {
    await deps.workflows.sendTaskSuccess(approval.taskToken, { decision, by, at }, signal);
  } else {
    await deps.workflows.sendTaskFailure(
      approval.taskToken,
      DENIED_ERROR,
      clipText(`denied by ${by}: ${reason}`, 256),
      signal,
    );
  }
  await deps.ledger.append(
    {
      instanceId: approval.instanceId,
      eventId: `${approval.executionName}:approval-${decision}:${approvalId}`,
      at,
      type: 'approval',
      episode: approval.episode,
      summary: clipText(
        `approval ${approvalId} ${decision} by ${by}${reason === '' ? '' : `: ${reason}`}`,
        1000,
      ),
      detail: { approvalId, decision, by },
    },
    signal,
  );
  return {
    approvalId,
    instanceId: approval.instanceId,
    episode: approval.episode,
    executionName: approval.executionName,
    decision,
  };
}

/** An approval as the listing shows it: never the task token. */
export interface ListedApproval {
  readonly approvalId: string;
  readonly instanceId: string;
  readonly episode: number;
  readonly status: 'pending' | 'approved' | 'denied' | 'expired';
  readonly digestRound: number;
  readonly requestedAt: string;
  readonly expiresAt: string;
  /** What check mode found would change. */
  readonly summary: string;
}

/**
 * Every approval a scan run (or manual request) asked for, by digest round (what a digest too large for
 * SNS points to); `all: false` keeps those still waiting.
 */
export async function listApprovals(
  runId: string,
  all: boolean,
  deps: Pick<OperatorDeps, 'ledger' | 'clock'>,
  signal: AbortSignal,
): Promise<ListedApproval[]> {
  const now = deps.clock.now();
  const listed: ListedApproval[] = [];
  for (const round of await deps.ledger.digestRounds(runId, signal)) {
    for (const approvalId of round.approvalIds) {
      const approval = await deps.ledger.approval(approvalId, signal);
      if (approval === null) continue;
      const status =
        approval.status === 'pending' && Date.parse(approval.expiresAt) <= now ? 'expired' : approval.status;
      if (!all && status !== 'pending') continue;
      const summary = approval.plan.summary;
      listed.push({
        approvalId,
        instanceId: approval.instanceId,
        episode: approval.episode,
        status,
        digestRound: round.round,
        requestedAt: approval.requestedAt,
        expiresAt: approval.expiresAt,
        summary: typeof summary === 'string' ? summary : '',
      });
    }
  }
  return listed;
}

/** Closes the circuit breaker; false when it was not open. */
export async function resetBreaker(
  by: string,
  deps: Pick<OperatorDeps, 'ledger' | 'clock'>,
  signal: AbortSignal,
): Promise<boolean> {
  return deps.ledger.resetBreaker(new Date(deps.clock.now()).toISOString(), by, signal);
}
