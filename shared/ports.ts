/**
 * What the use cases need from the outside world: one interface per capability (ports), then, per use
 * case, the ports it uses. The use cases depend on these interfaces only; `shared/aws/` implements them
 * with the AWS SDK, and the simulated fleet (`shared/sim/`) stands behind the SDK clients in tests.
 */

import type { FindingKind } from '#core/assessment.ts';
import type { OptInTag } from '#core/instances.ts';
import type { MetricIdentity, MetricWindow, QueryBatch } from '#core/metrics.ts';
import type {
  ActiveEpisode,
  BreakerState,
  EpisodeOutcome,
  InstanceRecord,
  LedgerEvent,
  RemediationMode,
} from '#core/remediation/types.ts';
import type { Verdict } from '#core/remediation/verify.ts';
import type { FindingDetail } from './events/finding.ts';
import type { ShardMessage } from './events/shard.ts';
import type { VerificationDetail } from './events/verification.ts';

export interface Tag {
  readonly key: string;
  readonly value: string;
}

/** An EC2 instance as DescribeInstances reports it. */
export interface Ec2Instance {
  readonly instanceId: string;
  /** running, stopped, stopping, pending, shutting-down, terminated. */
  readonly state: string;
  readonly tags: readonly Tag[];
  /** The account that owns the reservation, for ARNs in findings. */
  readonly ownerId: string | null;
}

export interface InstanceDirectory {
  /**
   * Running instances the service-side filter says carry the opt-in tag, one page at a time as they
   * arrive: a caller that lets go of each page holds no more than one.
   */
  optedInPages(optIn: OptInTag, signal: AbortSignal): AsyncIterable<readonly Ec2Instance[]>;
  /** The instances among `instanceIds` that exist, in any state. Unknown ids are left out. */
  describe(instanceIds: readonly string[], signal: AbortSignal): Promise<Ec2Instance[]>;
}

export interface ManagedInstances {
  /** SSM PingStatus (Online, ConnectionLost, Inactive) of the managed instances among `instanceIds`. */
  pingStatuses(instanceIds: readonly string[], signal: AbortSignal): Promise<ReadonlyMap<string, string>>;
}

export interface MetricCatalog {
  /**
   * Every metric with this namespace and name that has an InstanceId dimension (or, with `instanceId`,
   * that instance's), as ListMetrics names them.
   */
  list(
    query: { readonly namespace: string; readonly metricName: string; readonly instanceId?: string },
    signal: AbortSignal,
  ): Promise<MetricIdentity[]>;
  /** The same listing one page at a time, as it arrives. */
  pages(
    query: { readonly namespace: string; readonly metricName: string; readonly instanceId?: string },
    signal: AbortSignal,
  ): AsyncIterable<readonly MetricIdentity[]>;
}

/** The series of one query, oldest first or in any order. */
export interface FetchedSeries {
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

export interface BatchResult {
  /** By query id. Complete series, or what PartialData left when no NextToken followed. */
  readonly series: ReadonlyMap<string, FetchedSeries>;
  /** Query ids CloudWatch answered with InternalError or Forbidden, with that status. */
  readonly failed: ReadonlyMap<string, string>;
}

export interface MetricData {
  /** Runs one GetMetricData request (and its NextToken pages) for `batch` over `window`. */
  fetch(batch: QueryBatch, window: MetricWindow, signal: AbortSignal): Promise<BatchResult>;
}

export interface FindingPublisher {
  /** Publishes every finding or throws: a caller never has to guess which ones went out. */
  publish(findings: readonly FindingDetail[], signal: AbortSignal): Promise<void>;
}

/** The verification verdicts crawlguard publishes on its bus. */
export interface VerificationPublisher {
  /** Publishes the verdict or throws. */
  publishVerification(detail: VerificationDetail, signal: AbortSignal): Promise<void>;
}

/** A message for a person (the notify topic: e-mail, chat, a ticketing system). */
export interface Notification {
  /** One line (SNS keeps 100 printable ASCII characters). */
  readonly subject: string;
  /** Plain text. */
  readonly body: string;
}

export interface Notifier {
  /** Sends the message or throws. */
  notify(notification: Notification, signal: AbortSignal): Promise<void>;
}

export interface ShardQueue {
  /** Sends every shard or throws. */
  send(shards: readonly ShardMessage[], signal: AbortSignal): Promise<void>;
}

export interface AlarmTags {
  /** The tags of a CloudWatch alarm. */
  tagsOf(alarmArn: string, signal: AbortSignal): Promise<ReadonlyMap<string, string>>;
}

/** What the gate did with one trigger, as its result says (`shared/remediation/gate.ts`). */
export interface GateDecision {
  readonly status: 'started' | 'joined' | 'skipped' | 'escalated';
  /** Why it was skipped or escalated (a policy, claim or budget code). */
  readonly code?: string;
  /** Set when this trigger opened the breaker. */
  readonly breakerOpened?: boolean;
}

/** How the workflow's close step ended an episode (`shared/remediation/steps.ts`). */
export interface ClosedEpisode {
  readonly outcome: EpisodeOutcome;
  /** False for a repeated close (a retried step): it is not counted again. */
  readonly closed: boolean;
  readonly breakerOpened: boolean;
}

/**
 * The pipeline's own CloudWatch metrics: counts by a bounded dimension (kind, decision, outcome,
 * verdict), never by instance — every distinct dimension value is a metric billed by the month.
 */
export interface PipelineMetrics {
  /** The findings one scan, shard or triage published, by kind (a kind left out counts 0: the scan ran). */
  findingsPublished(byKind: Readonly<Partial<Record<FindingKind, number>>>): void;
  /** What the gate did with one trigger; says the breaker's state when the decision shows it. */
  gateDecided(decision: GateDecision): void;
  /** How an episode ended (counted on its first close only). */
  episodeClosed(episode: ClosedEpisode): void;
  /** A verification verdict. */
  verified(verdict: Verdict): void;
}

/** Time left in the invocation. */
export interface Deadline {
  remainingMs(): number;
}

// --- What each use case needs -------------------------------------------------------------------

/** Fleet discovery and re-checks of named instances (`shared/scan/eligibility.ts`). */
export interface FleetDiscoveryPorts {
  readonly instances: InstanceDirectory;
  readonly managed: ManagedInstances;
}

/** Fetching, judging and publishing instances (`shared/scan/scan.ts`). */
export interface InstanceScanPorts {
  readonly metrics: MetricData;
  readonly publisher: FindingPublisher;
}

/** The scheduled fleet scan (`shared/scan/fleet-scan.ts`): discovery, metric discovery, inline scan or shards. */
export interface FleetScanPorts extends FleetDiscoveryPorts, InstanceScanPorts {
  readonly catalog: MetricCatalog;
  readonly queue: ShardQueue;
}

/** One shard of a scheduled run (`shared/scan/shard-worker.ts`). */
export interface ShardScanPorts extends FleetDiscoveryPorts, InstanceScanPorts {}

/** The alarm path (`shared/scan/triage.ts`): the alarm's instance, its metrics, the scan. */
export interface AlarmTriagePorts extends FleetDiscoveryPorts, InstanceScanPorts {
  readonly catalog: MetricCatalog;
  readonly alarmTags: AlarmTags;
}

// --- Remediation ----------------------------------------------------------------------------------

/** Opening an episode: one conditional write on the instance's current item. */
export interface ClaimRequest {
  readonly instanceId: string;
  readonly kind: FindingKind;
  readonly mode: RemediationMode;
  /** The scan run or manual request that asks. */
  readonly runId: string;
  /** ISO instant compared with the claim's expiry, the cooldown and the suppression, in the condition. */
  readonly now: string;
  /** ISO instant after which this claim stops blocking others (its execution may be gone by then). */
  readonly expiresAt: string;
}

export type ClaimResult =
  | {
      readonly claimed: true;
      readonly episode: number;
      readonly executionName: string;
      /** An expired claim this one displaced (its episode never closed): the caller records it as aborted. */
      readonly displaced: ActiveEpisode | null;
      readonly record: InstanceRecord;
    }
  | {
      readonly claimed: false;
      /** What held it: an unexpired claim, a cooldown, a suppression. */
      readonly blockedBy: 'active' | 'cooldown' | 'suppressed';
      readonly record: InstanceRecord;
    };

/** Closing an episode: conditional on it being the instance's active one. */
export interface CloseRequest {
  readonly instanceId: string;
  readonly episode: number;
  readonly outcome: EpisodeOutcome;
  readonly reason: string;
  /** ISO instant. */
  readonly at: string;
  /** No new episode before this (null: none). */
  readonly cooldownUntil: string | null;
  /** Leave the instance alone until then (a denial; null: none). */
  readonly suppressedUntil: string | null;
  /** Counts towards the instance's consecutive failures (else resets them). */
  readonly failed: boolean;
  /** Marks the instance escalated (repeated failures) until an operator clears it. */
  readonly escalated: boolean;
}

/** A remediation waiting for a person's approval. The task token never leaves the ledger. */
export interface Approval {
  /** What the person is given (not the task token). */
  readonly approvalId: string;
  readonly instanceId: string;
  readonly episode: number;
  readonly executionName: string;
  readonly taskToken: string;
  /** ISO instants. */
  readonly requestedAt: string;
  readonly expiresAt: string;
  /** What check mode found: the change that would be made. */
  readonly plan: Readonly<Record<string, unknown>>;
  readonly status: 'pending' | 'approved' | 'denied';
  readonly decidedBy: string | null;
  readonly decidedAt: string | null;
}

/**
 * One digest round of a scan run's approvals: the approvals registered while it was open. Claimed by
 * one execution once it is due, it is closed: approvals that come later open the next round.
 */
export interface DigestRound {
  /** The scan run (or manual request). */
  readonly runId: string;
  /** 1, 2, ... */
  readonly round: number;
  readonly approvalIds: readonly string[];
  /** ISO instants: the first registration, and when the round is sent (the first one plus the delay). */
  readonly openedAt: string;
  readonly dueAt: string;
  /** The approval whose execution claimed the round to send it (null: still open). */
  readonly claimedBy: string | null;
  readonly claimedAt: string | null;
  /** When SNS accepted the digest (null: not sent). */
  readonly sentAt: string | null;
  /** Approvals the sent digest listed. */
  readonly listed: number | null;
}

/**
 * The remediation ledger: one current item per instance, append-only audit events, counters, the
 * breaker and approvals. Every claim and counter is a conditional write: concurrent and repeated
 * deliveries cannot open two episodes or count twice past a limit.
 */
export interface Ledger {
  /** The instance's current item; null for an instance never seen. */
  record(instanceId: string, signal: AbortSignal): Promise<InstanceRecord | null>;
  /** Opens episode N+1 unless an unexpired claim, a cooldown or a suppression holds at `now`. */
  claim(request: ClaimRequest, signal: AbortSignal): Promise<ClaimResult>;
  /** Adds a finding kind to the active episode; false when that episode is no longer active. */
  join(instanceId: string, episode: number, kind: FindingKind, signal: AbortSignal): Promise<boolean>;
  /** Closes the episode; false when it was not the active one (already closed: a repeat). */
  close(request: CloseRequest, signal: AbortSignal): Promise<boolean>;
  /** Appends an audit event; the same `eventId` written twice stays one item. */
  append(event: LedgerEvent, signal: AbortSignal): Promise<void>;
  /** The instance's audit events, oldest first. */
  events(instanceId: string, signal: AbortSignal): Promise<LedgerEvent[]>;
  /**
   * Counts one more under `key` unless the count already reached `limit` (ADD under a condition); the
   * counter item expires at `expiresAt` (TTL cleans up; correctness never depends on it).
   */
  increment(
    key: string,
    limit: number,
    expiresAt: string,
    signal: AbortSignal,
  ): Promise<{ readonly counted: boolean; readonly count: number }>;
  breaker(signal: AbortSignal): Promise<BreakerState>;
  /** Opens the breaker; true only for the call that opened it (one message, not one per finding). */
  tripBreaker(reason: string, at: string, signal: AbortSignal): Promise<boolean>;
  /** Closes the breaker and clears its failure count; true when it was open. */
  resetBreaker(at: string, by: string, signal: AbortSignal): Promise<boolean>;
  /** Fleet-wide run of non-delivery failures: +1 on a failure, back to 0 otherwise; the new count. */
  recordFleetOutcome(failed: boolean, signal: AbortSignal): Promise<number>;
  /** Clears an instance's escalation (an operator looked at it). */
  clearEscalation(instanceId: string, signal: AbortSignal): Promise<void>;
  putApproval(approval: Approval, signal: AbortSignal): Promise<void>;
  approval(approvalId: string, signal: AbortSignal): Promise<Approval | null>;
  /** Records a person's decision; null when the approval is unknown or no longer pending. */
  decideApproval(
    approvalId: string,
    decision: 'approved' | 'denied',
    by: string,
    at: string,
    signal: AbortSignal,
  ): Promise<Approval | null>;
  /**
   * Puts an approval into its run's open digest round (one conditional ADD per round, from the first on):
   * the round it is in. A repeat finds it where it already is; null after the last round a run may have.
   */
  registerForDigest(
    runId: string,
    approvalId: string,
    now: string,
    dueAt: string,
    signal: AbortSignal,
  ): Promise<DigestRound | null>;
  /** The run's digest rounds, first first. */
  digestRounds(runId: string, signal: AbortSignal): Promise<DigestRound[]>;
  /**
   * Claims a round for sending, for `claimant` (an approval of it): the round as claimed, its approvals
   * fixed from then on; null when another claimed it first or it was sent already.
   */
  claimDigest(
    runId: string,
    round: number,
    claimant: string,
    at: string,
    signal: AbortSignal,
  ): Promise<DigestRound | null>;
  /** Records that the claimant's digest went out, listing `listed` approvals. */
  markDigestSent(
    runId: string,
    round: number,
    claimant: string,
    at: string,
    listed: number,
    signal: AbortSignal,
  ): Promise<void>;
}

/** Tasks waiting for their token (`.waitForTaskToken`). */
export interface TaskTokens {
  /** Resumes a task waiting for its token. */
  sendTaskSuccess(taskToken: string, output: unknown, signal: AbortSignal): Promise<void>;
  sendTaskFailure(taskToken: string, error: string, cause: string, signal: AbortSignal): Promise<void>;
}

/** Step Functions executions of the remediation workflow. */
export interface Workflows extends TaskTokens {
  /**
   * Starts an execution by name. The same name with the same input returns the running execution
   * (`alreadyStarted`); another input, or a name used before, fails with ExecutionAlreadyExists.
   */
  start(
    name: string,
    input: unknown,
    signal: AbortSignal,
  ): Promise<{ readonly executionArn: string; readonly startedAt: string; readonly alreadyStarted: boolean }>;
  /** RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE; null for an unknown name. */
  status(name: string, signal: AbortSignal): Promise<string | null>;
}

/** The stack's SSM documents, pinned to a version per execution. */
export interface DocumentCatalog {
  /** The default version of a document (what an execution pins). */
  defaultVersion(name: string, signal: AbortSignal): Promise<string>;
}

/** The remediation workflow's steps: the ledger, the instance as it is now, the documents' versions. */
export interface RemediationPorts extends FleetDiscoveryPorts {
  readonly ledger: Ledger;
  readonly documents: DocumentCatalog;
  /** The instance's metrics since the fix (verification). */
  readonly catalog: MetricCatalog;
  readonly metrics: MetricData;
  readonly verdicts: VerificationPublisher;
  readonly notifier: Notifier;
}

/** The gate: the instance as it is now, the ledger, and the workflow it starts. */
export interface GatePorts extends FleetDiscoveryPorts {
  readonly ledger: Ledger;
  readonly workflows: Workflows;
  /** The one message when a trigger opens the breaker. */
  readonly notifier: Notifier;
}
