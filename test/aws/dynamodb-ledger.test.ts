/** The DynamoDB ledger against dynalite on 127.0.0.1 (real requests, real conditional writes). */
import { GetItemCommand, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DynamoDbLedger,
  InvalidLedgerRequestError,
  LEDGER_LIMITS,
  LEDGER_TABLE,
  LedgerError,
} from '#aws/dynamodb-ledger.ts';
import type { LedgerEvent } from '#core/remediation/types.ts';
import type { Approval, ClaimRequest, CloseRequest } from '#shared/ports.ts';
import { type LocalLedger, localLedger } from '#test/support/local-ledger.ts';

const ID = 'i-0123456789abcdef0';
const OTHER = 'i-0fedcba9876543210';
const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const at = (ms: number) => new Date(T0 + ms).toISOString();
const signal = () => new AbortController().signal;
const utf8 = (text: string) => new TextEncoder().encode(text).length;
/** C0, DEL and C1 characters: what a terminal may take as a command. */
const controlCharacters = (text: string) =>
  [...text].filter((char) => {
    const code = char.codePointAt(0) ?? 0;
    return code < 0x20 || (code >= 0x7f && code <= 0x9f);
  });

const claimAt = (ms: number, overrides: Partial<ClaimRequest> = {}): ClaimRequest => ({
  instanceId: ID,
  kind: 'updatedb-crawl',
  mode: 'apply',
  runId: 'run-1',
  now: at(ms),
  expiresAt: at(ms + HOUR),
  ...overrides,
});

const closing = (episode: number, overrides: Partial<CloseRequest> = {}): CloseRequest => ({
  instanceId: ID,
  episode,
  outcome: 'remediated',
  reason: 'patched and restarted',
  at: at(10 * MINUTE),
  cooldownUntil: null,
  suppressedUntil: null,
  failed: false,
  escalated: false,
  ...overrides,
});

let local: LocalLedger;
let ledger: DynamoDbLedger;
beforeEach(async () => {
  local = await localLedger();
  ledger = local.ledger;
});
afterEach(async () => {
  await local.close();
});

/** The item as DynamoDB holds it, bypassing the adapter. */
async function rawItem(pk: string, sk = 'current') {
  const output = await local.db.client.send(
    new GetItemCommand({ TableName: local.db.tableName, Key: { pk: { S: pk }, sk: { S: sk } } }),
  );
  return output.Item;
}

describe('claims', () => {
  it('knows no record for an instance never seen, and opens episode 1 on the first claim', async () => {
    expect(await ledger.record(ID, signal())).toBeNull();
    const result = await ledger.claim(claimAt(0, { runId: 'scan-2026-12-01' }), signal());
    const expectedActive = {
      episode: 1,
      kinds: ['updatedb-crawl'],
      executionName: `${ID}-1`,
      mode: 'apply',
      claimedAt: at(0),
      expiresAt: at(HOUR),
      runId: 'scan-2026-12-01',
    };
    expect(result).toEqual({
      claimed: true,
      episode: 1,
      executionName: `${ID}-1`,
      displaced: null,
      record: {
        instanceId: ID,
        episode: 1,
        active: expectedActive,
        lastClosed: null,
        cooldownUntil: null,
        suppressedUntil: null,
        consecutiveFailures: 0,
        escalated: false,
      },
    });
    // What the claim reports is what is stored.
    expect(await ledger.record(ID, signal())).toEqual(result.record);
    expect(await ledger.record(OTHER, signal())).toBeNull();
  });

  it('lets exactly one of 50 concurrent claims for one instance win; the others see it active', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => ledger.claim(claimAt(0, { runId: `run-${i}` }), signal())),
    );
    const winners = results.filter((r) => r.claimed);
    expect(winners).toHaveLength(1);
    const winner = winners[0];
    if (!winner?.claimed) throw new Error('no winner');
    expect(winner.episode).toBe(1);
    for (const loser of results.filter((r) => !r.claimed)) {
      expect(loser).toMatchObject({ claimed: false, blockedBy: 'active' });
      expect(loser.record.active?.runId).toBe(winner.record.active?.runId);
    }
    expect((await ledger.record(ID, signal()))?.episode).toBe(1);
  });

  it('blocks while the claim is unexpired (its expiry instant included) and displaces it after', async () => {
    const first = await ledger.claim(claimAt(0), signal());
    expect(await ledger.claim(claimAt(30 * MINUTE), signal())).toMatchObject({
      claimed: false,
      blockedBy: 'active',
    });
    expect(await ledger.claim(claimAt(HOUR), signal())).toMatchObject({
      claimed: false,
      blockedBy: 'active',
    });
    const second = await ledger.claim(claimAt(HOUR + 1, { kind: 'memory-growth', runId: 'run-2' }), signal());
    expect(second).toMatchObject({ claimed: true, episode: 2, executionName: `${ID}-2` });
    if (!second.claimed || !first.claimed) throw new Error('expected both claims');
    expect(second.displaced).toEqual(first.record.active);
    expect(second.record.active).toMatchObject({ episode: 2, kinds: ['memory-growth'], runId: 'run-2' });
    expect(await ledger.record(ID, signal())).toEqual(second.record);
    // The displaced episode can no longer close.
    expect(await ledger.close(closing(1), signal())).toBe(false);
  });

  it('compares instants across day and year boundaries as times', async () => {
    const lateInYear = Date.parse('2026-12-31T23:59:59.999Z') - T0;
    await ledger.claim(claimAt(0, { expiresAt: at(lateInYear) }), signal());
    expect(await ledger.claim(claimAt(lateInYear), signal())).toMatchObject({ claimed: false });
    expect(await ledger.claim(claimAt(lateInYear + 1), signal())).toMatchObject({
      claimed: true,
      record: { active: { claimedAt: '2027-01-01T00:00:00.000Z' } },
    });
  });

  it('blocks a claim during a cooldown and lets one through after it', async () => {
    await ledger.claim(claimAt(0), signal());
    expect(await ledger.close(closing(1, { cooldownUntil: at(DAY) }), signal())).toBe(true);
    const blocked = await ledger.claim(claimAt(12 * HOUR), signal());
    expect(blocked).toMatchObject({
      claimed: false,
      blockedBy: 'cooldown',
      record: { cooldownUntil: at(DAY) },
    });
    expect(await ledger.claim(claimAt(DAY), signal())).toMatchObject({
      claimed: false,
      blockedBy: 'cooldown',
    });
    expect(await ledger.claim(claimAt(DAY + 1), signal())).toMatchObject({
      claimed: true,
      episode: 2,
      displaced: null,
    });
  });

  it('blocks a suppressed instance until the suppression passes; a later close without one lifts it', async () => {
    await ledger.claim(claimAt(0), signal());
    await ledger.close(closing(1, { outcome: 'denied', suppressedUntil: at(7 * DAY) }), signal());
    expect(await ledger.claim(claimAt(3 * DAY), signal())).toMatchObject({
      claimed: false,
      blockedBy: 'suppressed',
    });
    const second = await ledger.claim(claimAt(7 * DAY + 1), signal());
    expect(second).toMatchObject({ claimed: true, episode: 2, record: { suppressedUntil: at(7 * DAY) } });
    await ledger.close(closing(2), signal());
    expect(await ledger.record(ID, signal())).toMatchObject({ cooldownUntil: null, suppressedUntil: null });
  });

  it('refuses malformed requests before writing anything', async () => {
    const bad: Partial<ClaimRequest>[] = [
      { instanceId: 'i-XYZ' },
      { instanceId: `${ID}\n` },
      { now: '2026-12-01T10:00:00Z' },
      { now: '2026-12-01T10:00:00.000+01:00' },
      { now: '2026-02-30T10:00:00.000Z' },
      { expiresAt: at(0) },
      { expiresAt: at(-1) },
      { kind: 'coffee' as ClaimRequest['kind'] },
      { mode: 'yolo' as ClaimRequest['mode'] },
    ];
    for (const overrides of bad) {
      await expect(ledger.claim(claimAt(0, overrides), signal()), JSON.stringify(overrides)).rejects.toThrow(
        InvalidLedgerRequestError,
      );
    }
    expect(await ledger.record(ID, signal())).toBeNull();
    await expect(ledger.record('../etc', signal())).rejects.toThrow(/not an EC2 instance id: "\.\.\/etc"/);
  });
});

describe('joining and closing episodes', () => {
  it('joins a second finding kind to the active episode once; two kinds at once share one episode', async () => {
    const [crawl, memory] = await Promise.all([
      ledger.claim(claimAt(0, { kind: 'updatedb-crawl' }), signal()),
      ledger.claim(claimAt(0, { kind: 'memory-growth' }), signal()),
    ]);
    const [winner, loser] = crawl?.claimed ? [crawl, memory] : [memory, crawl];
    if (!winner?.claimed || loser === undefined || loser.claimed) throw new Error('expected one winner');
    expect(loser.blockedBy).toBe('active');
    const loserKind =
      winner.record.active?.kinds[0] === 'updatedb-crawl' ? 'memory-growth' : 'updatedb-crawl';
    expect(await ledger.join(ID, loser.record.episode, loserKind, signal())).toBe(true);
    expect(await ledger.join(ID, 1, loserKind, signal())).toBe(true);
    const record = await ledger.record(ID, signal());
    expect(record?.active?.kinds).toHaveLength(2);
    expect(new Set(record?.active?.kinds)).toEqual(new Set(['updatedb-crawl', 'memory-growth']));
    expect(record?.episode).toBe(1);
  });

  it('joins nothing to an episode that is not the active one', async () => {
    expect(await ledger.join(ID, 1, 'memory-growth', signal())).toBe(false);
    await ledger.claim(claimAt(0), signal());
    expect(await ledger.join(ID, 2, 'memory-growth', signal())).toBe(false);
    await ledger.close(closing(1), signal());
    expect(await ledger.join(ID, 1, 'memory-growth', signal())).toBe(false);
    expect((await ledger.record(ID, signal()))?.active).toBeNull();
  });

  it('closes once: a repeat is a no-op that changes nothing', async () => {
    await ledger.claim(claimAt(0), signal());
    const request = closing(1, { cooldownUntil: at(DAY), reason: 'patched' });
    expect(await ledger.close(request, signal())).toBe(true);
    const closed = await ledger.record(ID, signal());
    expect(closed).toMatchObject({
      episode: 1,
      active: null,
      lastClosed: { episode: 1, outcome: 'remediated', closedAt: at(10 * MINUTE), reason: 'patched' },
      cooldownUntil: at(DAY),
      consecutiveFailures: 0,
    });
    expect(await ledger.close({ ...request, outcome: 'failed', failed: true }, signal())).toBe(false);
    expect(await ledger.close(closing(2), signal())).toBe(false);
    expect(await ledger.record(ID, signal())).toEqual(closed);
  });

  it('lets exactly one of concurrent closes of an episode win', async () => {
    await ledger.claim(claimAt(0), signal());
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ledger.close(closing(1, { failed: i % 2 === 0 }), signal())),
    );
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    expect((await ledger.record(ID, signal()))?.consecutiveFailures).toBeLessThanOrEqual(1);
  });

  it('counts failures in a row, resets them on any other outcome, and keeps an escalation until cleared', async () => {
    const episode = async (n: number, overrides: Partial<CloseRequest>) => {
      const claim = await ledger.claim(claimAt(n * HOUR), signal());
      expect(claim).toMatchObject({ claimed: true, episode: n });
      expect(await ledger.close(closing(n, { at: at(n * HOUR + 1), ...overrides }), signal())).toBe(true);
      return ledger.record(ID, signal());
    };
    expect(await episode(1, { outcome: 'failed', failed: true })).toMatchObject({ consecutiveFailures: 1 });
    expect(await episode(2, { outcome: 'failed', failed: true, escalated: true })).toMatchObject({
      consecutiveFailures: 2,
      escalated: true,
    });
    expect(await episode(3, { outcome: 'checked' })).toMatchObject({
      consecutiveFailures: 0,
      escalated: true,
    });
    await ledger.clearEscalation(ID, signal());
    expect(await ledger.record(ID, signal())).toMatchObject({ escalated: false, episode: 3 });
    // Clearing an instance never seen writes nothing.
    await ledger.clearEscalation(OTHER, signal());
    expect(await ledger.record(OTHER, signal())).toBeNull();
  });
});

describe('audit events', () => {
  const event = (n: number, overrides: Partial<LedgerEvent> = {}): LedgerEvent => ({
    instanceId: ID,
    eventId: `ev-${n.toString().padStart(3, '0')}`,
    at: at(n * MINUTE),
    type: 'command',
    episode: 1,
    summary: `command ${n}`,
    detail: { n, commandId: `c-${n}` },
    ...overrides,
  });

  it('reads every event oldest first across Query pages, and nothing but events', async () => {
    await local.close();
    local = await localLedger({ pageSize: 4 });
    ledger = local.ledger;
    await ledger.claim(claimAt(0), signal());
    // Written out of order: the key sorts them.
    const order = Array.from({ length: 23 }, (_, i) => (i * 7) % 23);
    for (const n of order) await ledger.append(event(n), signal());
    await ledger.append(event(1, { instanceId: OTHER }), signal());
    const events = await ledger.events(ID, signal());
    expect(events.map((e) => e.eventId)).toEqual(Array.from({ length: 23 }, (_, n) => event(n).eventId));
    expect(events[5]).toEqual(event(5));
    expect(await ledger.events(OTHER, signal())).toEqual([event(1, { instanceId: OTHER })]);
    expect(await ledger.events('i-00000000', signal())).toEqual([]);
  });

  it('keeps one item per event id, even when a retry comes stamped later or with other content', async () => {
    await ledger.append(event(1), signal());
    await ledger.append(event(1), signal());
    await ledger.append(event(1, { at: at(HOUR), summary: 'retried later' }), signal());
    await Promise.all(Array.from({ length: 10 }, () => ledger.append(event(2), signal())));
    expect(await ledger.events(ID, signal())).toEqual([event(1), event(2)]);
  });

  it('stores hostile text bounded, on one line, and reads it back exactly as stored', async () => {
    const hostile = 'ok\u001b[31mred\u001b[0m\r\nline2\u0000\u009b\u007f';
    await ledger.append(
      event(1, {
        summary: `${hostile}${'x'.repeat(1_000_000)}`,
        detail: { output: `${'y'.repeat(100_000)}`, nested: { ansi: hostile } },
      }),
      signal(),
    );
    await ledger.append(
      event(2, { summary: `lone \ud800 surrogate ${hostile}`, detail: { ansi: hostile } }),
      signal(),
    );
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await ledger.append(event(3, { detail: { big: 10n } as unknown as Record<string, unknown> }), signal());
    await ledger.append(event(4, { detail: circular }), signal());
    const [huge, small, bigint, cyclic] = await ledger.events(ID, signal());
    expect(
      huge?.summary.startsWith('ok\\u001b[31mred\\u001b[0m\\u000d\\u000aline2\\u0000\\u009b\\u007f'),
    ).toBe(true);
    expect(huge?.summary.endsWith('…[truncated]')).toBe(true);
    expect(utf8(huge?.summary ?? '')).toBeLessThanOrEqual(LEDGER_LIMITS.lineBytes);
    expect(controlCharacters(huge?.summary ?? '')).toEqual([]);
    expect(huge?.detail).toMatchObject({ truncated: true, bytes: expect.any(Number) });
    expect(huge?.detail.bytes).toBeGreaterThan(100_000);
    expect(utf8(String(huge?.detail.preview))).toBeLessThanOrEqual(LEDGER_LIMITS.detailBytes);
    // Detail is data: its strings come back whole (JSON escapes them), only its size is bounded.
    expect(small?.detail).toEqual({ ansi: hostile });
    expect(small?.summary).toMatch(/^lone \uFFFD surrogate ok\\u001b/);
    expect(bigint?.detail).toMatchObject({ unserialisable: expect.stringMatching(/BigInt/) });
    expect(cyclic?.detail).toMatchObject({ unserialisable: expect.stringMatching(/circular/i) });
  });

  it('refuses an event with a malformed id, instant or type, writing nothing', async () => {
    const bad: Partial<LedgerEvent>[] = [
      { eventId: '' },
      { eventId: 'has space' },
      { eventId: 'x'.repeat(257) },
      { at: 'yesterday' },
      { type: 'gossip' as LedgerEvent['type'] },
      { episode: 0 },
      { episode: 1.5 },
      { instanceId: 'i-nope' },
    ];
    for (const overrides of bad) {
      await expect(ledger.append(event(1, overrides), signal()), JSON.stringify(overrides)).rejects.toThrow(
        InvalidLedgerRequestError,
      );
    }
    expect(await ledger.events(ID, signal())).toEqual([]);
  });
});

describe('counters', () => {
  it('counts up to the limit and no further, with a TTL in epoch seconds', async () => {
    const expiresAt = at(HOUR);
    const counts = [];
    for (let i = 0; i < 5; i += 1)
      counts.push(await ledger.increment('remediations#2026-12-01T10', 3, expiresAt, signal()));
    expect(counts).toEqual([
      { counted: true, count: 1 },
      { counted: true, count: 2 },
      { counted: true, count: 3 },
      { counted: false, count: 3 },
      { counted: false, count: 3 },
    ]);
    const item = await rawItem('counter#remediations#2026-12-01T10');
    expect(item?.[LEDGER_TABLE.ttlAttribute]).toEqual({ N: String((T0 + HOUR) / 1000) });
    expect(await ledger.increment('other', 3, expiresAt, signal())).toEqual({ counted: true, count: 1 });
  });

  it('never passes its limit under 100 concurrent increments', async () => {
    const results = await Promise.all(
      Array.from({ length: 100 }, () => ledger.increment('burst', 10, at(HOUR), signal())),
    );
    expect(results.filter((r) => r.counted)).toHaveLength(10);
    expect(new Set(results.filter((r) => r.counted).map((r) => r.count))).toEqual(
      new Set(Array.from({ length: 10 }, (_, i) => i + 1)),
    );
    expect(results.filter((r) => !r.counted).every((r) => r.count === 10)).toBe(true);
    expect(await rawItem('counter#burst')).toMatchObject({ count: { N: '10' } });
  });

  it('counts nothing under a limit of 0 and refuses a limit or key that is not one', async () => {
    expect(await ledger.increment('zero', 0, at(HOUR), signal())).toEqual({ counted: false, count: 0 });
    expect(await rawItem('counter#zero')).toBeUndefined();
    await expect(ledger.increment('k', -1, at(HOUR), signal())).rejects.toThrow(InvalidLedgerRequestError);
    await expect(ledger.increment('k', 1.5, at(HOUR), signal())).rejects.toThrow(InvalidLedgerRequestError);
    await expect(ledger.increment('a key', 1, at(HOUR), signal())).rejects.toThrow(InvalidLedgerRequestError);
    await expect(ledger.increment('k', 1, 'soon', signal())).rejects.toThrow(InvalidLedgerRequestError);
  });
});

describe('the circuit breaker', () => {
  it('is closed until tripped; only the call that opened it says so; a reset closes it once', async () => {
    expect(await ledger.breaker(signal())).toEqual({
      open: false,
      reason: null,
      openedAt: null,
      consecutiveFailures: 0,
    });
    expect(await ledger.tripBreaker('12 of 20 opted-in instances claimed in one run', at(0), signal())).toBe(
      true,
    );
    expect(await ledger.tripBreaker('another reason', at(MINUTE), signal())).toBe(false);
    expect(await ledger.breaker(signal())).toEqual({
      open: true,
      reason: '12 of 20 opted-in instances claimed in one run',
      openedAt: at(0),
      consecutiveFailures: 0,
    });
    expect(await ledger.resetBreaker(at(HOUR), 'alice', signal())).toBe(true);
    expect(await ledger.resetBreaker(at(HOUR), 'alice', signal())).toBe(false);
    expect(await ledger.breaker(signal())).toEqual({
      open: false,
      reason: null,
      openedAt: null,
      consecutiveFailures: 0,
    });
    expect(await ledger.tripBreaker('again', at(2 * HOUR), signal())).toBe(true);
  });

  it('opens exactly once under 30 concurrent trips, and resets exactly once under concurrent resets', async () => {
    const trips = await Promise.all(
      Array.from({ length: 30 }, (_, i) => ledger.tripBreaker(`reason ${i}`, at(i), signal())),
    );
    expect(trips.filter(Boolean)).toHaveLength(1);
    const winner = trips.indexOf(true);
    expect(await ledger.breaker(signal())).toMatchObject({
      open: true,
      reason: `reason ${winner}`,
      openedAt: at(winner),
    });
    const resets = await Promise.all(
      Array.from({ length: 10 }, () => ledger.resetBreaker(at(HOUR), 'bob', signal())),
    );
    expect(resets.filter(Boolean)).toHaveLength(1);
  });

  it('counts fleet failures in a row; a success or a reset clears them', async () => {
    expect(await ledger.recordFleetOutcome(true, signal())).toBe(1);
    expect(await ledger.recordFleetOutcome(true, signal())).toBe(2);
    expect((await ledger.breaker(signal())).consecutiveFailures).toBe(2);
    expect(await ledger.recordFleetOutcome(false, signal())).toBe(0);
    const concurrent = await Promise.all(
      Array.from({ length: 25 }, () => ledger.recordFleetOutcome(true, signal())),
    );
    expect(new Set(concurrent)).toEqual(new Set(Array.from({ length: 25 }, (_, i) => i + 1)));
    await ledger.resetBreaker(at(0), 'carol', signal());
    expect((await ledger.breaker(signal())).consecutiveFailures).toBe(0);
  });

  it('stores a hostile reason bounded on one line', async () => {
    await ledger.tripBreaker(`bad\nreason\u001b]0;title\u0007${'z'.repeat(5000)}`, at(0), signal());
    const { reason } = await ledger.breaker(signal());
    expect(reason?.startsWith('bad\\u000areason\\u001b]0;title\\u0007zzz')).toBe(true);
    expect(utf8(reason ?? '')).toBeLessThanOrEqual(LEDGER_LIMITS.lineBytes);
  });
});

describe('approvals', () => {
  const pending = (overrides: Partial<Approval> = {}): Approval => ({
    approvalId: 'ap-1',
    instanceId: ID,
    episode: 1,
    executionName: `${ID}-1`,
    taskToken: 'AQB8AAAAKgAAAAMAAAAAAAAAAe...token',
    requestedAt: at(0),
    expiresAt: at(DAY),
    plan: { prunefs: { add: ['fuse.s3fs'] }, restart: ['/mnt/data'] },
    status: 'pending',
    decidedBy: null,
    decidedAt: null,
    ...overrides,
  });

  it('stores a pending approval with a TTL past its expiry, and reads it back', async () => {
    expect(await ledger.approval('ap-1', signal())).toBeNull();
    await ledger.putApproval(pending(), signal());
    expect(await ledger.approval('ap-1', signal())).toEqual(pending());
    const item = await rawItem('approval#ap-1');
    expect(Number(item?.expiresAt?.N)).toBe((T0 + DAY) / 1000 + 30 * 86_400);
  });

  it('is decided once: a second approval and a denial after it get null', async () => {
    await ledger.putApproval(pending(), signal());
    const approved = await ledger.decideApproval('ap-1', 'approved', 'alice', at(HOUR), signal());
    expect(approved).toEqual(pending({ status: 'approved', decidedBy: 'alice', decidedAt: at(HOUR) }));
    expect(await ledger.decideApproval('ap-1', 'approved', 'alice', at(2 * HOUR), signal())).toBeNull();
    expect(await ledger.decideApproval('ap-1', 'denied', 'bob', at(2 * HOUR), signal())).toBeNull();
    expect(await ledger.approval('ap-1', signal())).toEqual(approved);
    // Written again after the decision (a retried task): the decision stands.
    await ledger.putApproval(pending({ taskToken: 'new-token' }), signal());
    expect(await ledger.approval('ap-1', signal())).toEqual(approved);
  });

  it('lets exactly one of concurrent decisions through', async () => {
    await ledger.putApproval(pending(), signal());
    const decisions = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        ledger.decideApproval('ap-1', i % 2 === 0 ? 'approved' : 'denied', `person-${i}`, at(HOUR), signal()),
      ),
    );
    const made = decisions.filter((d) => d !== null);
    expect(made).toHaveLength(1);
    expect(await ledger.approval('ap-1', signal())).toEqual(made[0]);
  });

  it('decides nothing unknown or expired; a pending one written again takes the new token', async () => {
    expect(await ledger.decideApproval('nope', 'approved', 'alice', at(0), signal())).toBeNull();
    expect(await ledger.approval('nope', signal())).toBeNull();
    await ledger.putApproval(pending(), signal());
    await ledger.putApproval(pending({ taskToken: 'second-token' }), signal());
    expect((await ledger.approval('ap-1', signal()))?.taskToken).toBe('second-token');
    expect(await ledger.decideApproval('ap-1', 'approved', 'alice', at(DAY), signal())).toBeNull();
    expect((await ledger.approval('ap-1', signal()))?.status).toBe('pending');
  });

  it('bounds the plan and the decider, and refuses what cannot be stored faithfully', async () => {
    await ledger.putApproval(pending({ plan: { diff: 'd'.repeat(200_000) } }), signal());
    const stored = await ledger.approval('ap-1', signal());
    expect(stored?.plan).toMatchObject({ truncated: true, bytes: 200_011 });
    expect(utf8(String(stored?.plan.preview))).toBeLessThanOrEqual(LEDGER_LIMITS.planBytes);
    const decided = await ledger.decideApproval(
      'ap-1',
      'denied',
      `mallory\u001b[2J${'m'.repeat(999)}`,
      at(1),
      signal(),
    );
    expect(decided?.decidedBy?.startsWith('mallory\\u001b[2J')).toBe(true);
    expect(utf8(decided?.decidedBy ?? '')).toBeLessThanOrEqual(LEDGER_LIMITS.nameBytes);

    for (const overrides of [
      { taskToken: 't'.repeat(2049) },
      { taskToken: 'line\nbreak' },
      { taskToken: '' },
      { status: 'approved' as const },
      { decidedBy: 'alice' },
      { approvalId: 'a b' },
      { expiresAt: '2026-12-02' },
    ]) {
      await expect(
        ledger.putApproval(pending({ approvalId: 'ap-2', ...overrides }), signal()),
      ).rejects.toThrow(InvalidLedgerRequestError);
    }
    expect(await ledger.approval('ap-2', signal())).toBeNull();
  });
});

describe('DynamoDB failures', () => {
  it('maps a service error to a LedgerError with the cause, in one line', async () => {
    const missing = new DynamoDbLedger(local.db.client, { tableName: 'no-such-table', clock: local.clock });
    const failure = await missing.record(ID, signal()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LedgerError);
    expect((failure as LedgerError).message).toMatch(
      /^ledger record on "instance#i-0123456789abcdef0" failed: ResourceNotFoundException: /,
    );
    expect((failure as LedgerError).message).not.toContain('\n');
    expect((failure as LedgerError).cause).toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('retries throttling on the injected clock, one SDK attempt per call', async () => {
    let throttled = 0;
    local.db.client.middlewareStack.add(
      (next) => async (args) => {
        if (throttled < 3) {
          throttled += 1;
          throw new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });
        }
        return next(args);
      },
      { step: 'initialize', name: 'throttleThreeTimes' },
    );
    const started = local.clock.now();
    expect(await ledger.claim(claimAt(0), signal())).toMatchObject({ claimed: true, episode: 1 });
    expect(throttled).toBe(3);
    // Three backoffs happened in simulated time, none in real time.
    expect(local.clock.now()).toBeGreaterThan(started);
  });

  it('gives up after the retry bound with a LedgerError, having written nothing', async () => {
    local.db.client.middlewareStack.add(
      () => async () => {
        throw new ProvisionedThroughputExceededException({ message: 'always', $metadata: {} });
      },
      { step: 'initialize', name: 'throttleAlways' },
    );
    await expect(ledger.increment('k', 5, at(HOUR), signal())).rejects.toThrow(
      /^ledger increment on "counter#k" failed: RetriesExhaustedError: increment failed 6 times/,
    );
  });

  it('leaves an abort as it is (the deadline of the caller), not a LedgerError', async () => {
    const aborter = new AbortController();
    aborter.abort(new Error('deadline'));
    await expect(ledger.record(ID, aborter.signal)).rejects.toThrow('deadline');
  });
});

describe('the simulated clock while requests are in flight', () => {
  it('does not move while a DynamoDB request is in flight, even with a 2-day sleeper waiting', async () => {
    const start = local.clock.now();
    let woke = Number.NaN;
    const sleeper = local.clock.sleep(2 * DAY).then(() => {
      woke = local.clock.now();
    });
    for (let i = 0; i < 20; i += 1) {
      await ledger.increment('held', 100, at(HOUR), signal());
      expect(local.clock.now()).toBe(start);
    }
    expect(Number.isNaN(woke)).toBe(true);
    await sleeper;
    expect(woke).toBe(start + 2 * DAY);
  });
});
