/**
 * The remediation policy: whether a finding (or an operator's request) leads to a remediation, is left
 * alone (with the reason), joins the episode in progress, or goes to a person. Pure and table-driven: the
 * rules are tried in order and the first that applies decides. Budgets that need an atomic count (per
 * hour, per scan run) are charged by the gate when it claims, with the limits computed here.
 */
import type { FindingKind } from '../assessment.ts';
import type { BreakerState, EpisodeOutcome, InstanceRecord } from './types.ts';

const HOUR_MS = 3_600_000;

export interface PolicyConfig {
  /** Findings older than this are stale: the scan will say again tomorrow if it still holds. */
  readonly maxFindingAgeHours: number;
  /** Episodes in a row that failed before the instance is handed to a person. */
  readonly escalateAfterFailures: number;
}

export const DEFAULT_POLICY: PolicyConfig = { maxFindingAgeHours: 48, escalateAfterFailures: 3 };

/** The instance as EC2 and SSM report it now (re-checked live by the gate, whatever the finding says). */
export interface LiveInstance {
  /** False when EC2 does not know it (or reports it terminated). */
  readonly exists: boolean;
  readonly state: string | null;
  /** Carries the opt-in tag with exactly the configured value. */
  readonly optedIn: boolean;
  /** SSM PingStatus, or null when SSM does not manage it. */
  readonly pingStatus: string | null;
  readonly autoScalingGroup: string | null;
}

/** What asks for a remediation. */
export type PolicyTrigger =
  | {
      readonly type: 'finding';
      readonly kind: FindingKind;
      /** Epoch ms. */
      readonly detectedAt: number;
    }
  | { readonly type: 'request'; readonly kind: FindingKind; readonly requestedBy: string };

export interface PolicyInput {
  /** Epoch ms. */
  readonly now: number;
  readonly trigger: PolicyTrigger;
  readonly live: LiveInstance;
  readonly record: InstanceRecord | null;
  readonly breaker: BreakerState;
  readonly config: PolicyConfig;
}

export const SKIP_CODES = [
  'instance-gone',
  'stale-finding',
  'not-opted-in',
  'not-running',
  'not-managed',
  'offline',
  'duplicate',
  'breaker-open',
  'suppressed',
  'escalated',
  'cooldown',
] as const;
export type SkipCode = (typeof SKIP_CODES)[number];

export type Decision =
  | { readonly action: 'remediate'; readonly rule: string; readonly reason: string }
  /** Another kind for the episode in progress: it joins (one episode per instance, whatever the kind). */
  | { readonly action: 'join'; readonly rule: string; readonly episode: number; readonly reason: string }
  | { readonly action: 'skip'; readonly rule: string; readonly code: SkipCode; readonly reason: string }
  | {
      readonly action: 'escalate';
      readonly rule: string;
      readonly code: 'repeated-failures';
      readonly reason: string;
    };

interface Rule {
  readonly name: string;
  /** The decision when the rule applies, else null. */
  readonly apply: (input: PolicyInput) => Decision | null;
}

const skip = (rule: string, code: SkipCode, reason: string): Decision => ({
  action: 'skip',
  rule,
  code,
  reason,
});
const iso = (ms: number): string => new Date(ms).toISOString();
const activeUnexpired = (input: PolicyInput) => {
  const active = input.record?.active ?? null;
  return active !== null && Date.parse(active.expiresAt) > input.now ? active : null;
};

/** The rules, in the order they are tried. */
export const POLICY_RULES: readonly Rule[] = [
  {
    name: 'instance-gone',
    apply: ({ live }) =>
      !live.exists || live.state === 'terminated' || live.state === 'shutting-down'
        ? skip('instance-gone', 'instance-gone', `EC2 reports the instance ${live.state ?? 'unknown'}`)
        : null,
  },
  {
    name: 'stale-finding',
    apply: ({ trigger, now, config }) =>
      trigger.type === 'finding' && now - trigger.detectedAt > config.maxFindingAgeHours * HOUR_MS
        ? skip(
            'stale-finding',
            'stale-finding',
            `finding detected at ${iso(trigger.detectedAt)}, more than ${config.maxFindingAgeHours} h ago`,
          )
        : null,
  },
  {
    name: 'opted-in',
    apply: ({ live }) =>
      live.optedIn
        ? null
        : skip('opted-in', 'not-opted-in', 'the instance does not carry the opt-in tag (now)'),
  },
  {
    name: 'running',
    apply: ({ live }) =>
      live.state === 'running'
        ? null
        : skip('running', 'not-running', `EC2 state is ${live.state ?? 'unknown'}`),
  },
  {
    name: 'managed',
    apply: ({ live }) =>
      live.pingStatus === null
        ? skip('managed', 'not-managed', 'SSM does not manage the instance')
        : live.pingStatus !== 'Online'
          ? skip('managed', 'offline', `SSM PingStatus is ${live.pingStatus}`)
          : null,
  },
  {
    name: 'one-episode',
    apply: (input) => {
      const active = activeUnexpired(input);
      if (active === null) return null;
      return active.kinds.includes(input.trigger.kind)
        ? skip(
            'one-episode',
            'duplicate',
            `episode ${active.episode} (${active.executionName}) is already handling ${input.trigger.kind}`,
          )
        : {
            action: 'join',
            rule: 'one-episode',
            episode: active.episode,
            reason: `${input.trigger.kind} joins episode ${active.episode} (${active.executionName}), which handles ${active.kinds.join(', ')}`,
          };
    },
  },
  {
    name: 'breaker',
    apply: ({ breaker }) =>
      breaker.open
        ? skip(
            'breaker',
            'breaker-open',
            `the circuit breaker is open since ${breaker.openedAt ?? '?'}: ${breaker.reason ?? ''}`,
          )
        : null,
  },
  {
    name: 'suppressed',
    apply: ({ record, now }) =>
      record?.suppressedUntil != null && Date.parse(record.suppressedUntil) > now
        ? skip(
            'suppressed',
            'suppressed',
            `an operator denied a remediation; left alone until ${record.suppressedUntil}`,
          )
        : null,
  },
  {
    name: 'escalated',
    apply: ({ record }) =>
      record?.escalated === true
        ? skip(
            'escalated',
            'escalated',
            'escalated to a person after repeated failures; waiting for an operator',
          )
        : null,
  },
  {
    name: 'repeated-failures',
    apply: ({ record, config }) =>
      record !== null && record.consecutiveFailures >= config.escalateAfterFailures
        ? {
            action: 'escalate',
            rule: 'repeated-failures',
            code: 'repeated-failures',
            reason: `the last ${record.consecutiveFailures} remediations of this instance failed`,
          }
        : null,
  },
  {
    name: 'cooldown',
    apply: ({ record, now }) =>
      record?.cooldownUntil != null && Date.parse(record.cooldownUntil) > now
        ? skip(
            'cooldown',
            'cooldown',
            `episode ${record.lastClosed?.episode ?? '?'} ended ${record.lastClosed?.outcome ?? ''}; cooling down until ${record.cooldownUntil}`,
          )
        : null,
  },
];

/** Decides what to do about one finding or request. The first rule that applies wins; else: remediate. */
export function decide(input: PolicyInput): Decision {
  for (const rule of POLICY_RULES) {
    const decision = rule.apply(input);
    if (decision !== null) return decision;
  }
  const what =
    input.trigger.type === 'finding'
      ? `a ${input.trigger.kind} finding`
      : `a request by ${input.trigger.requestedBy}`;
  return {
    action: 'remediate',
    rule: 'default',
    reason: `${what} on an opted-in, online instance with no episode in progress`,
  };
}

export interface BudgetConfig {
  /** Remediations started per hour, fleet-wide. */
  readonly maxPerHour: number;
  /** A scan run may claim at most max(this, runSharePercent % of its opted-in instances) before the breaker opens. */
  readonly runClaimFloor: number;
  readonly runSharePercent: number;
  /** Remediations in a row, fleet-wide, that fail for reasons other than delivery before the breaker opens. */
  readonly failuresToTrip: number;
}

export const DEFAULT_BUDGET: BudgetConfig = {
  maxPerHour: 20,
  runClaimFloor: 10,
  runSharePercent: 10,
  failuresToTrip: 5,
};

/** How many claims one scan run may make before the breaker opens: max(K, p % of its opted-in fleet). */
export function runClaimLimit(optedIn: number, budget: BudgetConfig): number {
  return Math.max(budget.runClaimFloor, Math.ceil((Math.max(0, optedIn) * budget.runSharePercent) / 100));
}

/** The key of the hour a remediation is counted in. */
export function hourKey(now: number): string {
  return `hour#${iso(now).slice(0, 13)}`;
}

export interface CooldownConfig {
  /** After a change was made (or was found unnecessary): let verification see the effect. */
  readonly afterChangeHours: number;
  /** After a dry run, an inconclusive or skipped episode: try again with the next scan. */
  readonly afterCheckHours: number;
  /** After a person denied: leave the instance alone this long. */
  readonly denySuppressDays: number;
}

export const DEFAULT_COOLDOWN: CooldownConfig = {
  afterChangeHours: 24 * 7,
  afterCheckHours: 20,
  denySuppressDays: 30,
};

/** The cooldown and suppression an outcome leaves behind (ISO instants or null). */
export function afterOutcome(
  outcome: EpisodeOutcome,
  now: number,
  config: CooldownConfig,
): { readonly cooldownUntil: string | null; readonly suppressedUntil: string | null } {
  switch (outcome) {
    case 'remediated':
    case 'nothing-to-do':
    case 'not-updatedb':
      return { cooldownUntil: iso(now + config.afterChangeHours * HOUR_MS), suppressedUntil: null };
    case 'denied':
      return { cooldownUntil: null, suppressedUntil: iso(now + config.denySuppressDays * 24 * HOUR_MS) };
    case 'checked':
    case 'inconclusive':
    case 'skipped':
    case 'aborted':
    case 'instance-gone':
      return { cooldownUntil: iso(now + config.afterCheckHours * HOUR_MS), suppressedUntil: null };
    case 'failed':
    case 'escalated':
      return { cooldownUntil: iso(now + config.afterChangeHours * HOUR_MS), suppressedUntil: null };
  }
}
