/**
 * The messages crawlguard sends a person (the notify topic): one per episode that needs one, one per
 * breaker trip, one approval digest per scan run. Plain text with the numbers behind each statement.
 * Pure: everything is given; the SNS adapter enforces the service's limits on what this builds.
 */
import type { FindingKind } from '../assessment.ts';
import { formatBytes } from '../format.ts';
import type { CrawlCost, DataPath, Savings } from './savings.ts';
import type { EpisodeOutcome, RemediationMode } from './types.ts';
import type { Verdict } from './verify.ts';

export interface Message {
  readonly subject: string;
  readonly body: string;
}

/** Outcomes a person should hear about: what changed, what would change, and what needs them. */
const NOTIFY_OUTCOMES: ReadonlySet<EpisodeOutcome> = new Set([
  'remediated',
  'checked',
  'escalated',
  'failed',
  'inconclusive',
]);

/** Whether an episode that ended so is worth a message (skips, cooldowns and duplicates are not). */
export function needsPerson(outcome: EpisodeOutcome): boolean {
  return NOTIFY_OUTCOMES.has(outcome);
}

export interface EpisodeReport {
  readonly instanceId: string;
  readonly episode: number;
  readonly mode: RemediationMode;
  readonly kinds: readonly FindingKind[];
  readonly outcome: EpisodeOutcome;
  readonly reason: string;
  /** What the finding said (null for an operator's request). */
  readonly finding: { readonly summary: string; readonly detectedAt: string } | null;
  /** What the plan prunes and restarts (null when no plan was made). */
  readonly plan: {
    readonly pruneFsTypes: readonly string[];
    readonly prunePaths: readonly string[];
    readonly restartMounts: readonly string[];
  } | null;
  /** Each command sent: `patch (apply) succeeded: patched`. */
  readonly commands: readonly string[];
  readonly verification: {
    readonly verdict: Verdict;
    readonly reason: string;
    readonly rounds: number;
  } | null;
  readonly savings: Savings | null;
  readonly dataPath: DataPath;
  readonly executionName: string;
}

/** The message of one episode: found, done (or would be done), outcome, verdict, savings, escalation. */
export function episodeMessage(report: EpisodeReport): Message {
  const { instanceId, episode, outcome } = report;
  const verdict = report.verification?.verdict;
  const headline =
    outcome === 'remediated' && verdict !== undefined
      ? `fixed, verified ${verdict}`
      : outcome === 'checked'
        ? 'dry run: would fix'
        : outcome;
  const lines: string[] = [
    `crawlguard ${report.mode}: ${instanceId} episode ${episode}: ${headline}`,
    '',
    'Found',
    `  ${report.finding === null ? `an operator asked for a remediation (${report.kinds.join(', ')})` : `${report.finding.summary} (detected ${report.finding.detectedAt})`}`,
  ];
  lines.push('', report.mode === 'dry-run' ? 'Would be done (check mode, nothing changed)' : 'Done');
  if (report.plan !== null) {
    const prune = [...report.plan.pruneFsTypes, ...report.plan.prunePaths];
    lines.push(
      `  plan: prune ${prune.length > 0 ? prune.join(', ') : 'nothing'} in /etc/updatedb.conf; restart s3fs ${report.plan.restartMounts.length > 0 ? `on ${report.plan.restartMounts.join(', ')}` : 'not needed'}`,
    );
  }
  for (const command of report.commands) lines.push(`  ${command}`);
  if (report.commands.length === 0 && report.plan === null) lines.push('  nothing was sent to the instance');
  lines.push('', 'Outcome', `  ${outcome}: ${report.reason}`);
  lines.push('', 'Verification');
  if (report.verification !== null) {
    lines.push(
      `  ${report.verification.verdict} after ${report.verification.rounds} look(s) at the metrics since the fix: ${report.verification.reason}`,
    );
  } else if (report.mode === 'dry-run') {
    lines.push('  none: a dry run changes nothing, so there is nothing to verify');
  } else {
    lines.push('  none: nothing was changed on the instance');
  }
  if (report.savings !== null) lines.push('', 'Savings', ...savingsLines(report.savings, report.dataPath));
  const escalation = escalationOf(report);
  if (escalation !== null) lines.push('', 'Needs a person', `  ${escalation}`);
  lines.push('', `Execution ${report.executionName}; the ledger holds every step.`);
  return {
    subject: `crawlguard: ${instanceId} ${headline}`,
    body: lines.join('\n'),
  };
}

function escalationOf(report: EpisodeReport): string | null {
  if (report.verification?.verdict === 'not-resolved')
    return `the fix did not fix it (${report.verification.reason}). crawlguard does not retry on its own: look at the instance.`;
  if (report.outcome === 'escalated') return report.reason;
  if (report.outcome === 'failed') return `the remediation failed: ${report.reason}`;
  if (report.outcome === 'inconclusive') return `no proof either way: ${report.reason}`;
  if (report.verification?.verdict === 'inconclusive')
    return `verification stayed inconclusive (${report.verification.reason}): check the instance's metrics by hand`;
  return null;
}

function costLine(label: string, cost: CrawlCost): string {
  return `  ${label}: ${formatBytes(cost.bytesPerDay)}/day sent, ~${cost.requestsPerDay.toLocaleString('en-US')} S3 requests/day, $${(cost.requestUsdPerMonth + cost.dataUsdPerMonth).toFixed(2)}/month`;
}

/** Before, after and the difference, at list prices on the stack's data path. */
export function savingsLines(savings: Savings, dataPath: DataPath): string[] {
  return [
    costLine('before', savings.before),
    costLine('after', savings.after),
    `  saved: $${savings.savedUsdPerMonth.toFixed(2)}/month at list prices (S3 requests; data path ${dataPath}${dataPath === 'gateway-endpoint' ? ': data free' : ': NAT processing per GB'})`,
  ];
}

/** The one message when the circuit breaker opens: every remediation stops until an operator resets it. */
export function breakerMessage(reason: string, openedAt: string): Message {
  return {
    subject: 'crawlguard: circuit breaker OPEN, remediations stopped',
    body: [
      `crawlguard's circuit breaker opened at ${openedAt}.`,
      '',
      `Why: ${reason}`,
      '',
      'No remediation starts until an operator resets it (crawlguard breaker reset --table TABLE). Findings keep being',
      'published and recorded. This is the only message about it.',
    ].join('\n'),
  };
}

export interface PendingApproval {
  readonly approvalId: string;
  readonly instanceId: string;
  /** What check mode found would change. */
  readonly summary: string;
  readonly expiresAt: string;
}

/** One message for the approvals a scan run asks for (never one per instance). */
export function approvalDigestMessage(runId: string, approvals: readonly PendingApproval[]): Message {
  const lines = [
    `Scan run ${runId} asks to remediate ${approvals.length} instance(s). Check mode found, per instance:`,
    '',
  ];
  for (const approval of approvals) {
    lines.push(
      `- ${approval.instanceId} (approval ${approval.approvalId}, until ${approval.expiresAt})`,
      `  ${approval.summary}`,
      `  crawlguard approve ${approval.approvalId} --table TABLE   |   crawlguard deny ${approval.approvalId} --reason TEXT --table TABLE`,
    );
  }
  lines.push('', 'An approval not answered in time ends as skipped.');
  return {
    subject: `crawlguard: ${approvals.length} remediation(s) await approval (run ${runId})`,
    body: lines.join('\n'),
  };
}
