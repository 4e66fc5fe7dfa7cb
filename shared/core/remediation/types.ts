/**
 * The vocabulary of remediation: modes, episodes, the ledger's records and events, decisions and outcomes.
 * Pure types and constants; the policy, the command protocol and the plan build on them.
 */
import type { FindingKind } from '../assessment.ts';

/** How far the workflow goes (a stack parameter, never read from event input). */
export const REMEDIATION_MODES = ['dry-run', 'approve', 'apply'] as const;
export type RemediationMode = (typeof REMEDIATION_MODES)[number];

/** How an episode ended. */
export const EPISODE_OUTCOMES = [
  /** apply: patched (and restarted when asked) */
  'remediated',
  /** dry-run: check mode ran; nothing changed */
  'checked',
  /** diagnose found nothing updatedb crawls: not our problem */
  'not-updatedb',
  /** the plan needed no change (already compliant, nothing to restart) */
  'nothing-to-do',
  /** left alone on purpose (approval timed out, the instance stopped for too long, opted out meanwhile...) */
  'skipped',
  /** a person said no */
  'denied',
  /** a command failed for a reason that is not delivery */
  'failed',
  /** no proof either way (delivery failed, output unreadable) */
  'inconclusive',
  /** handed to a person (holders never left, refused, suspected outage, repeated failures) */
  'escalated',
  /** the instance was terminated */
  'instance-gone',
  /** the execution is gone without closing its episode */
  'aborted',
] as const;
export type EpisodeOutcome = (typeof EPISODE_OUTCOMES)[number];

/** The episode in progress on an instance: at most one, whatever the finding kinds. */
export interface ActiveEpisode {
  readonly episode: number;
  /** Finding kinds that joined this episode (a crawl and a memory finding share one). */
  readonly kinds: readonly FindingKind[];
  /** The Step Functions execution name: `<instanceId>-<episode>`. */
  readonly executionName: string;
  readonly mode: RemediationMode;
  /** ISO instant the claim was made. */
  readonly claimedAt: string;
  /** ISO instant after which the claim no longer blocks a new one (the execution may be gone). */
  readonly expiresAt: string;
  /** The scan run (or manual request) that opened it. */
  readonly runId: string;
}

/** The ledger's current item of one instance. */
export interface InstanceRecord {
  readonly instanceId: string;
  /** Number of the latest episode opened (0: none yet). Episode numbers only grow. */
  readonly episode: number;
  readonly active: ActiveEpisode | null;
  readonly lastClosed: {
    readonly episode: number;
    readonly outcome: EpisodeOutcome;
    readonly closedAt: string;
    readonly reason: string;
  } | null;
  /** ISO instant before which no new episode opens (after a remediation). */
  readonly cooldownUntil: string | null;
  /** ISO instant before which the instance is left alone (an operator denied a remediation). */
  readonly suppressedUntil: string | null;
  /** Episodes in a row that ended `failed`; reset by any other outcome. */
  readonly consecutiveFailures: number;
  /** Set when the instance was escalated for repeated failures; cleared by an operator. */
  readonly escalated: boolean;
}

/** The fleet-wide circuit breaker. */
export interface BreakerState {
  readonly open: boolean;
  readonly reason: string | null;
  readonly openedAt: string | null;
  /** Remediations in a row, fleet-wide, that failed for reasons other than delivery. */
  readonly consecutiveFailures: number;
}

/** An append-only audit item: what was decided, sent and concluded, per instance. */
export interface LedgerEvent {
  readonly instanceId: string;
  /** Idempotency key: the same event written twice is one item. */
  readonly eventId: string;
  /** ISO instant. */
  readonly at: string;
  readonly type: 'decision' | 'claim' | 'command' | 'outcome' | 'approval' | 'verdict' | 'breaker';
  readonly episode: number | null;
  /** One line a person can read. */
  readonly summary: string;
  /** JSON-serialisable details (bounded: a few kB). */
  readonly detail: Readonly<Record<string, unknown>>;
}
