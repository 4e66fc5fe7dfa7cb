/**
 * The messages crawlguard sends a person (the notify topic): one per episode that needs one, one per
 * breaker trip, one approval digest per scan run. Plain text with the numbers behind each statement.
 * Pure: everything is given; the SNS adapter enforces the service's limits on what this builds.
 */
import type { FindingKind } from '../assessment.ts';
import { formatBytes } from '../format.ts';
import { escapeControl } from '../text.ts';
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

/** One change check mode found in updatedb.conf (the patch document's `changes`). */
export interface ConfChange {
  /** PRUNEFS, PRUNEPATHS. */
  readonly variable: string;
  /** What the patch would do to the line: append, add, ... */
  readonly action: string;
  /** The values it would add. */
  readonly added: readonly string[];
}

/** A remediation waiting for a person, as the digest lists it. Never carries the task token. */
export interface PendingApproval {
  readonly approvalId: string;
  readonly instanceId: string;
  /** The instance's Name tag, if it has one. */
  readonly instanceName: string | null;
  readonly episode: number;
  /** What check mode found would change in updatedb.conf (empty: nothing to patch). */
  readonly changes: readonly ConfChange[];
  /** The s3fs mounts the remediation would restart (empty: no restart). */
  readonly restartMounts: readonly string[];
  /** Check mode's findings in one line (`would change updatedb.conf: ...; restart check checked`). */
  readonly summary: string;
  /** ISO instant after which the remediation ends as skipped. */
  readonly expiresAt: string;
}

/** The approvals of one scan run (or manual request) that one digest round tells a person about. */
export interface ApprovalDigest {
  /** The scan run (`trigger.runId`) or the manual request's id. */
  readonly runId: string;
  /** 1 for the run's first digest; approvals that came after it went out make round 2, ... */
  readonly round: number;
  readonly approvals: readonly PendingApproval[];
  /** Approvals of this round already answered (by the listing command) before the digest went out. */
  readonly alreadyDecided: number;
  /** The ledger table the operator commands act on. */
  readonly table: string;
}

/** SNS's bound on a message (UTF-8 bytes). */
export const DIGEST_MAX_BYTES = 256 * 1024;
// What stays free of the budget for the closing lines, whatever the run id and table name.
const DIGEST_FOOTER_RESERVE = 2048;
const NAME_CHARS = 128;
const TEXT_CHARS = 600;

const utf8 = new TextEncoder();
const byteLength = (text: string): number => utf8.encode(text).length;

/** Text from outside (tags, check output) on one line, bounded. */
function shown(text: string, max: number): string {
  const line = escapeControl(text);
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function approvalLines(approval: PendingApproval, index: number, table: string): string[] {
  const name = approval.instanceName === null ? '' : ` (${shown(approval.instanceName, NAME_CHARS)})`;
  const lines = [
    `${index}. ${approval.instanceId}${name}, episode ${approval.episode}: approval ${approval.approvalId}, answer by ${approval.expiresAt}`,
  ];
  if (approval.changes.length === 0) lines.push('   updatedb.conf: nothing to change');
  for (const change of approval.changes.slice(0, 10)) {
    lines.push(
      `   updatedb.conf: ${shown(change.variable, 32)} ${shown(change.action, 32)} +${shown(change.added.join(' +'), TEXT_CHARS)}`,
    );
  }
  lines.push(
    approval.restartMounts.length === 0
      ? '   restart s3fs: not planned'
      : `   restart s3fs on ${shown(approval.restartMounts.join(', '), TEXT_CHARS)}`,
    `   check mode: ${shown(approval.summary, TEXT_CHARS)}`,
    `   npm run --silent approve -- ${approval.approvalId} --table ${table}`,
    `   npm run --silent deny -- ${approval.approvalId} --reason TEXT --table ${table}`,
  );
  return lines;
}

/**
 * The one message for the approvals a scan run's digest round asks for (never one per instance): per
 * instance what check mode found, the approval id and its expiry, and the commands that answer it. A
 * round too large for `maxBytes` (SNS: 256 KiB) lists as many as fit and says how many more there are and
 * which command lists them all.
 */
export function approvalDigestMessage(digest: ApprovalDigest, maxBytes = DIGEST_MAX_BYTES): Message {
  const { runId, round, table } = digest;
  const approvals = [...digest.approvals].sort(
    (a, b) =>
      (a.instanceName ?? '').localeCompare(b.instanceName ?? '') || a.instanceId.localeCompare(b.instanceId),
  );
  const count = approvals.length;
  const head = [
    `crawlguard approve: ${count} remediation(s) of run ${runId} await a person (digest ${round} of this run).`,
    'Nothing has been changed on these instances. Check mode found, per instance:',
    '',
  ];
  const listing = `npm run --silent approvals -- --run ${runId} --table ${table}`;
  const footer = [
    'An approved remediation re-checks the plan, the opt-in tag and SSM before it changes anything; a different plan asks again.',
    'A remediation not answered by its time ends as skipped, with nothing changed.',
    `Everything of this run that still waits: ${listing}`,
  ];
  if (digest.alreadyDecided > 0)
    footer.push(`${digest.alreadyDecided} more of this round were answered before this digest went out.`);
  let used = byteLength(`${head.join('\n')}\n`) + DIGEST_FOOTER_RESERVE;
  const body = [...head];
  let listed = 0;
  for (const [index, approval] of approvals.entries()) {
    const block = [...approvalLines(approval, index + 1, table), ''];
    const bytes = byteLength(`${block.join('\n')}\n`);
    if (used + bytes > maxBytes) break;
    used += bytes;
    body.push(...block);
    listed += 1;
  }
  if (listed < count) {
    body.push(
      `... and ${count - listed} more not listed here: the message would exceed SNS's ${Math.floor(maxBytes / 1024)} KiB.`,
      `They are all listed, with their approval ids, by: ${listing}`,
    );
  }
  body.push(...footer);
  return {
    subject: `crawlguard: ${count} remediation(s) await approval (run ${runId}, digest ${round})`,
    body: body.join('\n'),
  };
}
