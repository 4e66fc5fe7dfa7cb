/**
 * Verification on the simulated fleet, end to end on the local stack: the workflow fixes a host in apply
 * mode, waits (on the virtual clock) until its next expected crawl has passed, reads its metrics from the
 * simulated CloudWatch (which shows what the commands did to the host) and ends in a verdict — in the
 * ledger, on the bus, in the episode's outcome and in the one message a person gets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_VERIFY_ROUNDS } from '#core/remediation/verification.ts';
import { VERIFICATION_DETAIL_TYPE, VerificationDetailSchema } from '#shared/events/verification.ts';
import { SIMULATED_NOTIFY_TOPIC_ARN, SIMULATED_START } from '#shared/sim/fleet.ts';
import type { HostSpec } from '#shared/sim/host.ts';
import { type RemediationStack, remediationStack } from '#test/support/remediation-stack.ts';

const HOUR = 3_600_000;
const signal = () => AbortSignal.timeout(30_000);
let stack: RemediationStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** A copy of a demo host under another id and name, changed by `change`. */
const variant =
  (from: string, instanceId: string, name: string, change: (spec: HostSpec) => Partial<HostSpec>) =>
  (demo: readonly HostSpec[]): HostSpec[] => {
    const spec = demo.find((h) => h.name === from);
    if (spec === undefined) throw new Error(`no demo host ${from}`);
    return [{ ...spec, instanceId, name, ...change(spec) }];
  };

async function fix(
  name: string,
  options: {
    mode?: 'apply' | 'dry-run';
    kind?: 'updatedb-crawl' | 'memory-growth';
    hosts?: (demo: readonly HostSpec[]) => HostSpec[];
    parameters?: Record<string, string>;
  } = {},
) {
  stack = await remediationStack(options.mode ?? 'apply', options.parameters ?? {}, options.hosts);
  const s = stack;
  expect(await s.request(name, options.kind)).toMatchObject({ status: 'started', episode: 1 });
  await s.workflows.idle();
  const id = s.host(name).instanceId;
  const events = await s.ledger.events(id, signal());
  const verdicts = s.fleet.published
    .filter((e) => e.detailType === VERIFICATION_DETAIL_TYPE)
    .map((e) => VerificationDetailSchema.parse(e.detail));
  return {
    s,
    id,
    record: await s.ledger.record(id, signal()),
    verdictEvents: events.filter((e) => e.type === 'verdict'),
    verdicts,
    messages: s.fleet.notified,
  };
}

describe('verification on the simulated fleet', () => {
  it('a fixed crawl: resolved, with savings, in the ledger, on the bus and in one message', async () => {
    const { id, record, verdictEvents, verdicts, messages, s } = await fix('cron-media-1');
    expect(record?.lastClosed).toMatchObject({
      outcome: 'remediated',
      reason: expect.stringContaining('verified resolved'),
    });
    expect(verdictEvents).toHaveLength(1);
    expect(verdictEvents[0]).toMatchObject({
      episode: 1,
      detail: expect.objectContaining({ verdict: 'resolved' }),
    });
    expect(verdicts).toHaveLength(1);
    const [verdict] = verdicts;
    expect(verdict).toMatchObject({ schemaVersion: 1, instanceId: id, episode: 1, verdict: 'resolved' });
    // cron-media-1's crawl: 60,000 objects × 1.06 requests × 557 bytes ≈ 35 MB a day before, nothing after.
    expect(verdict?.network?.beforeBytesPerDay).toBeGreaterThan(30e6);
    expect(verdict?.network?.beforeBytesPerDay).toBeLessThan(40e6);
    expect(verdict?.network?.afterBytesPerDay).toBeLessThan(0.1 * (verdict?.network?.beforeBytesPerDay ?? 0));
    expect(verdict?.savings?.dataPath).toBe('gateway-endpoint');
    expect(verdict?.savings?.before.requestsPerDay).toBeGreaterThan(50_000);
    expect(verdict?.savings?.before.dataUsdPerMonth).toBe(0);
    expect(verdict?.savings?.savedUsdPerMonth).toBeGreaterThan(0);
    // The verdict came after the next expected crawl (06:25 UTC, the day after the fix at 00:00).
    expect(Date.parse(verdict?.verifiedAt ?? '')).toBeGreaterThan(SIMULATED_START + 30 * HOUR);
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message?.topicArn).toBe(SIMULATED_NOTIFY_TOPIC_ARN);
    expect(message?.subject).toBe(`crawlguard: ${id} fixed, verified resolved`);
    expect(message?.message).toContain('prune fuse.s3fs in /etc/updatedb.conf; restart s3fs on /srv/media');
    expect(message?.message).toContain('patch: succeeded (patched)');
    expect(message?.message).toMatch(/resolved after \d look\(s\) at the metrics since the fix/);
    expect(message?.message).toMatch(/before: 3\d\.\d MB\/day sent, ~6\d,\d{3} S3 requests\/day/);
    expect(message?.message).toContain('data path gateway-endpoint');
    expect(message?.message).not.toContain('Needs a person');
    expect(s.fleet.count('GetMetricData')).toBeGreaterThan(0);
  });

  it('prices the data through a NAT gateway when DataPath says so', async () => {
    const { verdicts } = await fix('cron-media-1', { parameters: { DATA_PATH: 'nat-gateway' } });
    expect(verdicts[0]?.savings?.dataPath).toBe('nat-gateway');
    expect(verdicts[0]?.savings?.before.dataUsdPerMonth).toBeGreaterThan(0);
  });

  it('a crawl still there (another cron.daily job at the same time): not-resolved, escalated, never retried', async () => {
    const { record, verdicts, messages, s, id } = await fix('still-crawled', {
      hosts: variant('cron-media-1', 'i-0feed000000000001', 'still-crawled', () => ({
        seed: 901,
        jobs: [
          {
            name: 'rsync',
            minuteOfDay: 6 * 60 + 25,
            jitterMinutes: 0,
            durationMinutes: 30,
            bytesPerMinute: 2e6,
          },
        ],
      })),
    });
    expect(verdicts[0], JSON.stringify(record)).toMatchObject({
      verdict: 'not-resolved',
      network: { verdict: 'not-resolved' },
    });
    expect(record?.lastClosed).toMatchObject({
      outcome: 'escalated',
      reason: expect.stringContaining('the crawl is still there'),
    });
    // Escalated: no second patch was sent, and the message says what needs a person.
    expect(s.sent(id).filter((c) => c.Parameters?.Mode?.[0] === 'apply')).toHaveLength(2);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.subject).toBe(`crawlguard: ${id} escalated`);
    expect(messages[0]?.message).toContain('Needs a person');
    expect(messages[0]?.message).toContain('crawlguard does not retry on its own');
  });

  it('memory still growing after the restart (an application leak too): not-resolved', async () => {
    const { record, verdicts, messages } = await fix('leaking-too', {
      kind: 'memory-growth',
      hosts: variant('cron-media-1', 'i-0feed000000000002', 'leaking-too', (spec) => ({
        seed: 902,
        memory: { ...spec.memory, leakPercentPerDay: 3 },
        agent: { memory: 'instance', procstat: null },
      })),
    });
    expect(verdicts[0]).toMatchObject({ verdict: 'not-resolved', memory: { verdict: 'not-resolved' } });
    expect(verdicts[0]?.rounds).toBeGreaterThanOrEqual(3);
    expect(record?.lastClosed?.outcome).toBe('escalated');
    expect(messages[0]?.message).toMatch(/memory not-resolved: memory (grows again|did not come down)/);
  });

  it('a crawl that moved to another time after the fix: not-resolved, naming the new time', async () => {
    const { verdicts, record } = await fix('moved-crawl', {
      hosts: variant('cron-media-1', 'i-0feed000000000003', 'moved-crawl', () => ({
        seed: 903,
        jobs: [
          {
            name: 'locate-elsewhere',
            minuteOfDay: 14 * 60,
            jitterMinutes: 0,
            durationMinutes: 30,
            bytesPerMinute: 1.2e6,
            fromMs: SIMULATED_START + HOUR,
          },
        ],
      })),
    });
    expect(verdicts[0]).toMatchObject({ verdict: 'not-resolved', network: { movedTo: '14:00' } });
    expect(record?.lastClosed?.reason).toContain('the burst moved');
  });

  it('an instance stopped after the fix: inconclusive, looked at again within the bound, then says so', async () => {
    const { verdicts, record, messages } = await fix('stopped-after-fix', {
      hosts: variant('cron-media-1', 'i-0feed000000000004', 'stopped-after-fix', () => ({
        seed: 904,
        quirks: { stopsAtMs: SIMULATED_START + 2 * HOUR },
      })),
    });
    expect(verdicts[0]).toMatchObject({ verdict: 'inconclusive', rounds: MAX_VERIFY_ROUNDS });
    expect(verdicts[0]?.reason).toMatch(/^still inconclusive after 7 look\(s\)/);
    expect(record?.lastClosed).toMatchObject({
      outcome: 'remediated',
      reason: expect.stringContaining('verified inconclusive'),
    });
    expect(messages[0]?.message).toContain('verification stayed inconclusive');
  });

  it('dry-run: nothing to verify; the message gives the check-mode diff', async () => {
    const { verdicts, verdictEvents, messages, s } = await fix('cron-media-1', { mode: 'dry-run' });
    expect(verdicts).toEqual([]);
    expect(verdictEvents).toEqual([]);
    expect(s.fleet.count('GetMetricData')).toBe(0);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.subject).toMatch(/dry run: would fix$/);
    expect(messages[0]?.message).toContain('Would be done (check mode, nothing changed)');
    expect(messages[0]?.message).toContain('checked: dry run: would change updatedb.conf: PRUNEFS');
    expect(messages[0]?.message).toContain('none: a dry run changes nothing, so there is nothing to verify');
  });
});

describe('malformed verify payloads', () => {
  const instanceId = 'i-0aaaaaaaaaaaaaaa1';
  const valid = () => ({
    schemaVersion: 1,
    action: 'verify',
    mode: 'apply',
    execution: `${instanceId}-1`,
    state: {
      schemaVersion: 1,
      instanceId,
      episode: 1,
      kinds: ['updatedb-crawl'],
      trigger: { type: 'request', requestId: 'req-1', requestedBy: 'test', reason: 'test' },
      autoScalingGroup: null,
      decision: {
        value: {
          next: 'verify',
          outcome: 'remediated',
          reason: 'patched',
          restart: false,
          plan: null,
          parameters: null,
          round: 0,
        },
      },
      verification: {
        value: {
          next: 'wait',
          waitUntil: '2026-11-03T07:25:00.000Z',
          round: 0,
          fixedAt: '2026-11-03T00:00:00.000Z',
          restartedAt: null,
          verdict: null,
          reason: 'waiting',
          savings: null,
        },
      },
    },
  });
  type Payload = ReturnType<typeof valid>;
  const bad: Record<string, (p: Payload) => unknown> = {
    'no verification in the state': (p) => ({ ...p, state: { ...p.state, verification: undefined } }),
    'a fixedAt that is no instant': (p) => {
      (p.state.verification.value as Record<string, unknown>).fixedAt = 'yesterday';
      return p;
    },
    'a negative round': (p) => {
      p.state.verification.value.round = -1;
      return p;
    },
    'a verdict crawlguard does not know': (p) => {
      (p.state.verification.value as Record<string, unknown>).verdict = 'maybe';
      return p;
    },
    'a future payload version': (p) => ({ ...p, schemaVersion: 2 }),
    'a mode from the input': (p) => ({ ...p, mode: 'yolo' }),
    'an execution name with a shell command': (p) => ({ ...p, execution: '$(reboot)' }),
    'a waitUntil with a newline': (p) => {
      (p.state.verification.value as Record<string, unknown>).waitUntil = '2026-11-03T07:25:00Z\nrm -rf /';
      return p;
    },
  };

  it.each(Object.keys(bad))('refuses %s in one line, reading and writing nothing', async (name) => {
    stack = await remediationStack('apply');
    const invocation = await stack.invoke('workflow-step', (bad[name] as (p: Payload) => unknown)(valid()));
    expect(invocation.outcome).toBe('threw');
    const error = invocation as { errorType?: string; errorMessage?: string };
    expect(error.errorType).toMatch(/^(InvalidEventError|MissingStateError)$/);
    expect(error.errorMessage).not.toContain('\n');
    expect(stack.fleet.count('GetMetricData')).toBe(0);
    expect(stack.fleet.count('ListMetrics')).toBe(0);
    expect(stack.fleet.published).toEqual([]);
    expect(stack.fleet.notified).toEqual([]);
    expect(await stack.ledger.events(instanceId, signal())).toEqual([]);
  });

  it('the same payload, well formed, is read (the refusals above are the payloads’ own)', async () => {
    stack = await remediationStack('apply');
    const invocation = await stack.invoke('workflow-step', valid());
    expect(invocation.outcome).toBe('returned');
    expect(stack.fleet.count('ListMetrics')).toBeGreaterThan(0);
  });
});
