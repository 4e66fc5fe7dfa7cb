/**
 * The approval digest on the local stack: a scan run's approvals in approve mode become one message per
 * digest round, whatever the number of instances and however their executions interleave; the ledger's
 * digest rounds on dynalite; the listing command it points to.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidLedgerRequestError, MAX_DIGEST_ROUNDS } from '#aws/dynamodb-ledger.ts';
import { runOperator } from '#shared/cli/operator-command.ts';
import { approvalIdFor } from '#shared/remediation/ids.ts';
import { SIMULATED_START } from '#shared/sim/fleet.ts';
import type { HostSpec } from '#shared/sim/host.ts';
import { type Json, readEvent } from '#test/support/handlers.ts';
import { type RemediationStack, remediationStack } from '#test/support/remediation-stack.ts';

const MINUTE = 60_000;
const signal = () => AbortSignal.timeout(30_000);
let stack: RemediationStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** Copies of a crawled demo host under other ids and names: as many approvals as a test needs. */
const clones =
  (count: number, prefix = 'media') =>
  (demo: readonly HostSpec[]): HostSpec[] => {
    const base = demo.find((h) => h.name === 'cron-media-1');
    if (base === undefined) throw new Error('no cron-media-1');
    return Array.from({ length: count }, (_, n) => ({
      ...base,
      instanceId: `i-0000000000000${prefix === 'media' ? 'b' : 'c'}${n.toString(16).padStart(3, '0')}`,
      name: `${prefix}-${n + 1}`,
    }));
  };

/** A finding of `runId` for a host (the published sample, moved to now), as the bus delivers it. */
function finding(s: RemediationStack, name: string, runId: string) {
  const host = s.host(name);
  const at = new Date(s.fleet.clock.now()).toISOString();
  const n = s.hosts.indexOf(host);
  const event = readEvent('events/findings/updatedb-crawl-cron.json') as Json;
  event.id = `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  event.time = at.replace(/\.\d{3}Z$/, 'Z');
  event.resources = [`arn:aws:ec2:us-east-1:123456789012:instance/${host.instanceId}`];
  const detail = event.detail;
  detail.instanceId = host.instanceId;
  detail.findingId = `${detail.findingId.slice(0, 16)}${n.toString(16).padStart(16, '0')}`;
  detail.detectedAt = at;
  detail.trigger.runId = runId;
  detail.trigger.scheduledAt = at;
  return event;
}

async function deliver(s: RemediationStack, names: readonly string[], runId: string) {
  // Concurrent deliveries: every execution of the run races for the same digest round.
  const results = await Promise.all(names.map((name) => s.invoke('remediate', finding(s, name, runId))));
  for (const result of results)
    expect(result, JSON.stringify(result)).toMatchObject({
      outcome: 'returned',
      result: { status: 'started' },
    });
}

const digests = (s: RemediationStack) =>
  s.fleet.notified.filter((m) => m.subject?.includes('await approval') === true);
const listedIds = (message: string) =>
  [...message.matchAll(/approval (apv-[0-9a-f]{16}), answer by/g)].map((m) => m[1]);

/** Lets simulated time pass (the executions run meanwhile) until `count` digests went out. */
async function untilDigests(s: RemediationStack, count: number) {
  for (let i = 0; i < 500 && digests(s).length < count; i += 1) await s.fleet.clock.sleep(10_000);
  expect(digests(s)).toHaveLength(count);
}

const operator = async (s: RemediationStack, ...argv: string[]) => {
  let out = '';
  let err = '';
  const code = await runOperator(
    argv[0] as 'approve' | 'deny' | 'approvals',
    [...argv.slice(1), '--table', s.tableName, '--by', 'alice'],
    { stdout: (t) => (out += t), stderr: (t) => (err += t) },
    () => ({ ledger: s.ledger, workflows: s.sfn, clock: s.fleet.clock }),
  );
  return { code, out, err };
};

describe('the approval digest of a scan run', () => {
  it('sends one message listing every approval of the run, however many executions race for it', async () => {
    stack = await remediationStack('approve', { DIGEST_DELAY_SECONDS: '300' }, clones(6));
    const s = stack;
    const names = Array.from({ length: 6 }, (_, n) => `media-${n + 1}`);
    const asked = s.fleet.clock.now();
    await deliver(s, names, 'run-a');
    await untilDigests(s, 1);
    // Gathered for the delay after the first approval, not sent per instance as each one came.
    const [digest] = digests(s);
    expect(digest?.at).toBeGreaterThanOrEqual(asked + 300_000);
    const expected = names.map((name) => approvalIdFor(`${s.host(name).instanceId}-1`, 0)).sort();
    expect(listedIds(digest?.message ?? '').sort()).toEqual(expected);
    expect(digest?.subject).toBe('crawlguard: 6 remediation(s) await approval (run run-a, digest 1)');
    for (const name of names)
      expect(digest?.message).toContain(`${s.host(name).instanceId} (${name}), episode 1`);
    expect(digest?.message).toContain('updatedb.conf: PRUNEFS');
    expect(digest?.message).toContain(`restart s3fs on ${s.host('media-1').mounts[0]?.mountPoint}`);
    expect(digest?.message).toContain(`--table ${s.tableName}`);
    // The ledger: one round, claimed by one of its approvals, sent with all six.
    const rounds = await s.ledger.digestRounds('run-a', signal());
    expect(rounds).toHaveLength(1);
    expect(rounds[0]).toMatchObject({ round: 1, listed: 6, sentAt: expect.any(String) });
    expect(expected).toContain(rounds[0]?.claimedBy);
    // Exactly one execution audited the sending.
    const sentEvents = (
      await Promise.all(names.map((name) => s.ledger.events(s.host(name).instanceId, signal())))
    )
      .flat()
      .filter((e) => e.eventId.includes(':digest:run-a:1'));
    expect(sentEvents).toHaveLength(1);

    // The digest's ids work with the operator command; nothing else is sent while they wait.
    const [first, second, ...rest] = listedIds(digest?.message ?? '');
    expect(await operator(s, 'approve', first as string)).toMatchObject({ code: 0 });
    expect(await operator(s, 'deny', second as string, '--reason', 'not this week')).toMatchObject({
      code: 0,
    });
    const listing = await operator(s, 'approvals', '--run', 'run-a');
    expect(listing.code).toBe(0);
    expect(
      listing.out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).approvalId)
        .sort(),
    ).toEqual(rest.sort());
    await s.workflows.idle();
    const outcomes = await Promise.all(
      names.map(
        async (name) => (await s.ledger.record(s.host(name).instanceId, signal()))?.lastClosed?.outcome,
      ),
    );
    expect(outcomes.filter((o) => o === 'remediated')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'denied')).toHaveLength(1);
    // The rest timed out as before: the approval's own timeout is kept.
    expect(outcomes.filter((o) => o === 'skipped')).toHaveLength(4);
    expect(digests(s)).toHaveLength(1);

    // No message ever carries a task token.
    const tokens = await Promise.all(
      expected.map(async (id) => (await s.ledger.approval(id, signal()))?.taskToken),
    );
    for (const message of s.fleet.notified)
      for (const token of tokens) expect(message.message).not.toContain(token as string);
    expect(s.fleet.notified.some((m) => /local-token|taskToken/i.test(m.message))).toBe(false);
  });

  it('a digest step that times out after its work is retried by Step Functions without a second message', async () => {
    stack = await remediationStack('approve', { DIGEST_DELAY_SECONDS: '300' }, clones(4));
    const s = stack;
    const names = ['media-1', 'media-2', 'media-3', 'media-4'];
    const asked = s.fleet.clock.now();
    await deliver(s, names, 'run-r');
    // Every approval waits for its person; the digest steps all run once the round is due.
    await s.fleet.clock.sleep(asked + 299_000 - s.fleet.clock.now());
    expect(digests(s)).toEqual([]);
    // Each of the four executions' digest step: the claim and the send happen, the result is lost.
    s.timeOutNext('workflow-step', 4);
    await untilDigests(s, 1);
    await s.fleet.clock.sleep(30 * MINUTE);
    expect(s.timedOut).toBe(4);
    expect(digests(s)).toHaveLength(1);
    expect(listedIds(digests(s)[0]?.message ?? '')).toHaveLength(4);
  });

  it('a late approval of the same run starts a second digest; every approval is in exactly one', async () => {
    stack = await remediationStack('approve', { DIGEST_DELAY_SECONDS: '300' }, clones(4));
    const s = stack;
    await deliver(s, ['media-1', 'media-2', 'media-3'], 'run-b');
    await untilDigests(s, 1);
    await deliver(s, ['media-4'], 'run-b');
    await untilDigests(s, 2);
    const [one, two] = digests(s);
    const ids = (names: string[]) => names.map((n) => approvalIdFor(`${s.host(n).instanceId}-1`, 0)).sort();
    expect(listedIds(one?.message ?? '').sort()).toEqual(ids(['media-1', 'media-2', 'media-3']));
    expect(listedIds(two?.message ?? '')).toEqual(ids(['media-4']));
    expect(two?.subject).toBe('crawlguard: 1 remediation(s) await approval (run run-b, digest 2)');
    expect((await s.ledger.digestRounds('run-b', signal())).map((r) => [r.round, r.listed])).toEqual([
      [1, 3],
      [2, 1],
    ]);
    // A manual request is its own run: its own digest, not the scan run's.
    await s.request('cron-media-1');
    await untilDigests(s, 3);
    expect(listedIds(digests(s)[2]?.message ?? '')).toEqual([
      approvalIdFor(`${s.host('cron-media-1').instanceId}-1`, 0),
    ]);
  });
});

describe('digest rounds in the ledger (dynalite)', () => {
  const at = (ms: number) => new Date(SIMULATED_START + ms).toISOString();

  it('registers once per round, claims once, and sends a retried registration nowhere twice', async () => {
    stack = await remediationStack('approve');
    const { ledger } = stack;
    const register = (id: string, ms: number) =>
      ledger.registerForDigest('run-c', id, at(ms), at(ms + 300_000), signal());
    expect(await register('apv-a', 0)).toMatchObject({
      round: 1,
      approvalIds: ['apv-a'],
      dueAt: at(300_000),
    });
    // The round's due time is its first registration's; a repeat is a no-op.
    expect(await register('apv-b', MINUTE)).toMatchObject({
      round: 1,
      approvalIds: ['apv-a', 'apv-b'],
      dueAt: at(300_000),
    });
    expect(await register('apv-a', 2 * MINUTE)).toMatchObject({ round: 1, approvalIds: ['apv-a', 'apv-b'] });
    // Concurrent claims: exactly one wins; the winner may claim again (its retried step) until it sent.
    const claims = await Promise.all(
      ['apv-a', 'apv-b', 'apv-a', 'apv-b'].map((id) =>
        ledger.claimDigest('run-c', 1, id, at(6 * MINUTE), signal()),
      ),
    );
    const winners = new Set(claims.filter((c) => c !== null).map((c) => c?.claimedBy));
    expect(winners.size).toBe(1);
    const winner = [...winners][0] as string;
    const loser = winner === 'apv-a' ? 'apv-b' : 'apv-a';
    expect(await ledger.claimDigest('run-c', 1, winner, at(7 * MINUTE), signal())).toMatchObject({
      claimedBy: winner,
    });
    // Not a member, or another member: no claim.
    expect(await ledger.claimDigest('run-c', 1, 'apv-z', at(7 * MINUTE), signal())).toBeNull();
    expect(await ledger.claimDigest('run-c', 1, loser, at(7 * MINUTE), signal())).toBeNull();
    await expect(ledger.markDigestSent('run-c', 1, loser, at(8 * MINUTE), 2, signal())).rejects.toThrow(
      /not claimed by/,
    );
    await ledger.markDigestSent('run-c', 1, winner, at(8 * MINUTE), 2, signal());
    expect(await ledger.claimDigest('run-c', 1, winner, at(9 * MINUTE), signal())).toBeNull();
    // After the claim: a member's retried registration stays in round 1; a new one opens round 2.
    expect(await register('apv-b', 10 * MINUTE)).toMatchObject({ round: 1 });
    expect(await register('apv-c', 10 * MINUTE)).toMatchObject({
      round: 2,
      approvalIds: ['apv-c'],
      dueAt: at(10 * MINUTE + 300_000),
    });
    expect(
      (await ledger.digestRounds('run-c', signal())).map((r) => [r.round, r.approvalIds, r.sentAt]),
    ).toEqual([
      [1, ['apv-a', 'apv-b'], at(8 * MINUTE)],
      [2, ['apv-c'], null],
    ]);
  });

  it('bounds the rounds of a run', async () => {
    stack = await remediationStack('approve');
    const { ledger } = stack;
    for (let round = 1; round <= MAX_DIGEST_ROUNDS; round += 1) {
      const id = `apv-${round}`;
      expect(await ledger.registerForDigest('run-d', id, at(round), at(round + 1), signal())).toMatchObject({
        round,
      });
      expect(await ledger.claimDigest('run-d', round, id, at(round + 2), signal())).not.toBeNull();
    }
    expect(await ledger.registerForDigest('run-d', 'apv-late', at(100), at(200), signal())).toBeNull();
  });

  it('refuses bad input before writing anything', async () => {
    stack = await remediationStack('approve');
    const { ledger } = stack;
    const bad = [
      () => ledger.registerForDigest('run/../x', 'apv-a', at(0), at(1), signal()),
      () => ledger.registerForDigest('run-e', 'apv a', at(0), at(1), signal()),
      () => ledger.registerForDigest('run-e', 'apv-a', 'yesterday', at(1), signal()),
      () => ledger.claimDigest('run-e', 0, 'apv-a', at(0), signal()),
      () => ledger.claimDigest('run-e', MAX_DIGEST_ROUNDS + 1, 'apv-a', at(0), signal()),
      () => ledger.markDigestSent('run-e', 1, 'apv-a', at(0), -1, signal()),
      () => ledger.digestRounds('', signal()),
    ];
    for (const call of bad) await expect(call()).rejects.toThrow(InvalidLedgerRequestError);
    expect(await ledger.digestRounds('run-e', signal())).toEqual([]);
  });
});

describe('bad input to the digest step and the listing command', () => {
  it('refuses a malformed approval-digest payload with one line, sending and writing nothing', async () => {
    stack = await remediationStack('approve');
    const s = stack;
    const refused = await s.invoke('workflow-step', {
      schemaVersion: 1,
      action: 'approval-digest',
      mode: 'approve',
      execution: 'i-0000000000000b000-1',
      state: {
        schemaVersion: 1,
        instanceId: 'i-0000000000000b000',
        episode: 1,
        kinds: ['updatedb-crawl'],
        trigger: { type: 'request', requestId: 'run\nSubject: x', requestedBy: 'x', reason: 'x' },
        autoScalingGroup: null,
      },
    });
    expect(refused.outcome).toBe('threw');
    expect((refused as { errorMessage?: string }).errorMessage ?? '').not.toContain('\n');
    expect(s.fleet.notified).toEqual([]);
    expect(await s.ledger.digestRounds('run', signal())).toEqual([]);
  });

  it('the listing command refuses a malformed run id, and lists nothing for an unknown run', async () => {
    stack = await remediationStack('approve');
    const s = stack;
    expect(await operator(s, 'approvals', '--run', 'run/../x')).toMatchObject({
      code: 2,
      err: expect.stringMatching(/^approvals: approvals needs --run RUN/),
    });
    expect(await operator(s, 'approvals')).toMatchObject({ code: 2 });
    expect(await operator(s, 'approvals', '--run', 'nobody-ran-this')).toMatchObject({
      code: 0,
      out: '',
      err: 'approvals: 0 of run nobody-ran-this still waiting\n',
    });
  });
});
