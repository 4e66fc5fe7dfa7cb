import { describe, expect, it } from 'vitest';
import {
  afterOutcome,
  DEFAULT_BUDGET,
  DEFAULT_COOLDOWN,
  DEFAULT_POLICY,
  decide,
  hourKey,
  POLICY_RULES,
  type PolicyInput,
  runClaimLimit,
} from '#core/remediation/policy.ts';
import { EPISODE_OUTCOMES, type InstanceRecord } from '#core/remediation/types.ts';

const NOW = Date.parse('2026-11-04T13:00:00.000Z');
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

const record = (overrides: Partial<InstanceRecord> = {}): InstanceRecord => ({
  instanceId: 'i-0123456789abcdef0',
  episode: 2,
  active: null,
  lastClosed: { episode: 2, outcome: 'remediated', closedAt: iso(NOW - 30 * 24 * HOUR), reason: 'patched' },
  cooldownUntil: null,
  suppressedUntil: null,
  consecutiveFailures: 0,
  escalated: false,
  ...overrides,
});

/** A finding that should be remediated: every rule passes. */
const base = (): PolicyInput => ({
  now: NOW,
  trigger: { type: 'finding', kind: 'updatedb-crawl', detectedAt: NOW - HOUR },
  live: { exists: true, state: 'running', optedIn: true, pingStatus: 'Online', autoScalingGroup: null },
  record: record(),
  breaker: { open: false, reason: null, openedAt: null, consecutiveFailures: 0 },
  config: DEFAULT_POLICY,
});

const active = {
  episode: 3,
  kinds: ['updatedb-crawl' as const],
  executionName: 'i-0123456789abcdef0-3',
  mode: 'apply' as const,
  claimedAt: iso(NOW - 2 * HOUR),
  expiresAt: iso(NOW + 20 * 24 * HOUR),
  runId: 'run-1',
};

/** One condition per rule, in rule order: each makes exactly that rule apply. */
const CONDITIONS: readonly {
  readonly rule: string;
  readonly expect: Record<string, unknown>;
  readonly apply: (input: PolicyInput) => PolicyInput;
}[] = [
  {
    rule: 'instance-gone',
    expect: { action: 'skip', code: 'instance-gone' },
    apply: (i) => ({ ...i, live: { ...i.live, exists: false } }),
  },
  {
    rule: 'stale-finding',
    expect: { action: 'skip', code: 'stale-finding' },
    apply: (i) => ({
      ...i,
      trigger: { type: 'finding', kind: 'updatedb-crawl', detectedAt: NOW - 49 * HOUR },
    }),
  },
  {
    rule: 'opted-in',
    expect: { action: 'skip', code: 'not-opted-in' },
    apply: (i) => ({ ...i, live: { ...i.live, optedIn: false } }),
  },
  {
    rule: 'running',
    expect: { action: 'skip', code: 'not-running' },
    apply: (i) => ({ ...i, live: { ...i.live, state: 'stopped' } }),
  },
  {
    rule: 'managed',
    expect: { action: 'skip', code: 'offline' },
    apply: (i) => ({ ...i, live: { ...i.live, pingStatus: 'ConnectionLost' } }),
  },
  {
    rule: 'one-episode',
    expect: { action: 'skip', code: 'duplicate' },
    apply: (i) => ({ ...i, record: { ...(i.record ?? record()), episode: 3, active } }),
  },
  {
    rule: 'breaker',
    expect: { action: 'skip', code: 'breaker-open' },
    apply: (i) => ({
      ...i,
      breaker: {
        open: true,
        reason: 'run claimed 40 of 100',
        openedAt: iso(NOW - HOUR),
        consecutiveFailures: 0,
      },
    }),
  },
  {
    rule: 'suppressed',
    expect: { action: 'skip', code: 'suppressed' },
    apply: (i) => ({ ...i, record: { ...(i.record ?? record()), suppressedUntil: iso(NOW + 24 * HOUR) } }),
  },
  {
    rule: 'escalated',
    expect: { action: 'skip', code: 'escalated' },
    apply: (i) => ({ ...i, record: { ...(i.record ?? record()), escalated: true } }),
  },
  {
    rule: 'repeated-failures',
    expect: { action: 'escalate', code: 'repeated-failures' },
    apply: (i) => ({ ...i, record: { ...(i.record ?? record()), consecutiveFailures: 3 } }),
  },
  {
    rule: 'cooldown',
    expect: { action: 'skip', code: 'cooldown' },
    apply: (i) => ({ ...i, record: { ...(i.record ?? record()), cooldownUntil: iso(NOW + HOUR) } }),
  },
];

describe('decide', () => {
  it('has one condition per rule, in the rules’ order', () => {
    expect(CONDITIONS.map((c) => c.rule)).toEqual(POLICY_RULES.map((r) => r.name));
  });

  it('remediates when no rule applies (and when the instance was never seen)', () => {
    expect(decide(base())).toMatchObject({ action: 'remediate', rule: 'default' });
    expect(decide({ ...base(), record: null })).toMatchObject({ action: 'remediate' });
  });

  it.each(CONDITIONS)('$rule: applies on its own, with its reason', ({ rule, expect: expected, apply }) => {
    const decision = decide(apply(base()));
    expect(decision).toMatchObject({ ...expected, rule });
    expect(decision.reason.length).toBeGreaterThan(10);
  });

  const pairs = CONDITIONS.flatMap((first, i) =>
    CONDITIONS.slice(i + 1).map((second) => [first, second] as const),
  );
  it.each(pairs.map(([a, b]) => [a.rule, b.rule, a, b] as const))(
    '%s wins over %s',
    (_first, _second, first, second) => {
      expect(decide(second.apply(first.apply(base())))).toMatchObject({ ...first.expect, rule: first.rule });
      expect(decide(first.apply(second.apply(base())))).toMatchObject({ ...first.expect, rule: first.rule });
    },
  );

  it('joins an episode in progress for another kind, and skips the same kind as a duplicate', () => {
    const running = { ...base(), record: record({ episode: 3, active }) };
    expect(
      decide({ ...running, trigger: { type: 'finding', kind: 'memory-growth', detectedAt: NOW - HOUR } }),
    ).toMatchObject({ action: 'join', episode: 3 });
    expect(decide(running)).toMatchObject({ action: 'skip', code: 'duplicate' });
  });

  it('lets a new episode open once the active claim has expired (its execution is gone)', () => {
    const expired = { ...active, expiresAt: iso(NOW - 1) };
    expect(decide({ ...base(), record: record({ episode: 3, active: expired }) })).toMatchObject({
      action: 'remediate',
    });
  });

  it('compares cooldown and suppression with now: one millisecond after, the instance is eligible again', () => {
    expect(decide({ ...base(), record: record({ cooldownUntil: iso(NOW) }) })).toMatchObject({
      action: 'remediate',
    });
    expect(decide({ ...base(), record: record({ suppressedUntil: iso(NOW - 1) }) })).toMatchObject({
      action: 'remediate',
    });
  });

  it('takes a finding of exactly 48 h, not one a millisecond older', () => {
    const at = (age: number) =>
      decide({ ...base(), trigger: { type: 'finding', kind: 'memory-growth', detectedAt: NOW - age } });
    expect(at(48 * HOUR)).toMatchObject({ action: 'remediate' });
    expect(at(48 * HOUR + 1)).toMatchObject({ action: 'skip', code: 'stale-finding' });
  });

  it('never calls an operator request stale, but holds it to every other rule', () => {
    const request = { type: 'request' as const, kind: 'updatedb-crawl' as const, requestedBy: 'alice' };
    expect(decide({ ...base(), trigger: request })).toMatchObject({
      action: 'remediate',
      reason: expect.stringContaining('alice'),
    });
    expect(decide({ ...base(), trigger: request, live: { ...base().live, optedIn: false } })).toMatchObject({
      code: 'not-opted-in',
    });
  });

  it('calls a terminated or terminating instance gone', () => {
    for (const state of ['terminated', 'shutting-down'])
      expect(decide({ ...base(), live: { ...base().live, state } })).toMatchObject({ code: 'instance-gone' });
  });

  it('treats an instance SSM does not manage apart from one that is offline', () => {
    expect(decide({ ...base(), live: { ...base().live, pingStatus: null } })).toMatchObject({
      code: 'not-managed',
    });
  });
});

describe('budgets and cooldowns', () => {
  it.each([
    [0, 10],
    [50, 10],
    [100, 10],
    [101, 11],
    [1000, 100],
  ])('a run over %i opted-in instances may claim %i', (optedIn, limit) => {
    expect(runClaimLimit(optedIn, DEFAULT_BUDGET)).toBe(limit);
  });

  it('counts remediations per UTC hour', () => {
    expect(hourKey(NOW)).toBe('hour#2026-11-04T13');
    expect(hourKey(NOW + HOUR - 1)).toBe('hour#2026-11-04T13');
    expect(hourKey(NOW + HOUR)).toBe('hour#2026-11-04T14');
  });

  it.each(EPISODE_OUTCOMES)('%s leaves a cooldown or a suppression, never both', (outcome) => {
    const after = afterOutcome(outcome, NOW, DEFAULT_COOLDOWN);
    expect([after.cooldownUntil, after.suppressedUntil].filter((v) => v !== null)).toHaveLength(1);
  });

  it('suppresses a denied instance for the configured days, and lets a dry run check again the next day', () => {
    expect(afterOutcome('denied', NOW, DEFAULT_COOLDOWN).suppressedUntil).toBe(iso(NOW + 30 * 24 * HOUR));
    expect(afterOutcome('checked', NOW, DEFAULT_COOLDOWN).cooldownUntil).toBe(iso(NOW + 20 * HOUR));
    expect(afterOutcome('remediated', NOW, DEFAULT_COOLDOWN).cooldownUntil).toBe(iso(NOW + 7 * 24 * HOUR));
  });
});
