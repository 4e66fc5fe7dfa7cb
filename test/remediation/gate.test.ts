/**
 * The remediation gate on the simulated fleet (EC2 and SSM as they are now) with the ledger on dynalite;
 * the workflow port records what it is asked to start (the real engine runs in the workflow tests).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbLedger } from '#aws/dynamodb-ledger.ts';
import { Ec2Instances } from '#aws/ec2.ts';
import { SsmInstances } from '#aws/ssm.ts';
import { DEFAULT_BUDGET, DEFAULT_POLICY } from '#core/remediation/policy.ts';
import { ForeignEventError } from '#shared/events/home.ts';
import { parseEvent } from '#shared/events/parse.ts';
import { GATE_EVENT, GateEventSchema } from '#shared/events/remediation.ts';
import { WorkflowInputSchema } from '#shared/events/workflow.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from '#shared/local/dynamodb.ts';
import type { Workflows } from '#shared/ports.ts';
import { type GateDeps, type GateSettings, runGate } from '#shared/remediation/gate.ts';
import { createSimulatedFleet, type SimulatedFleet, WELL_KNOWN } from '#shared/sim/fleet.ts';
import { type Json, readEvent } from '#test/support/handlers.ts';

const HOUR = 3_600_000;
const signal = () => new AbortController().signal;

/** Records starts; a name already started with the same input is the same execution, as Step Functions does. */
class RecordingWorkflows implements Workflows {
  readonly started: { name: string; input: unknown }[] = [];
  readonly statuses = new Map<string, string>();
  async start(name: string, input: unknown) {
    const existing = this.started.find((s) => s.name === name);
    if (existing !== undefined) {
      if (JSON.stringify(existing.input) !== JSON.stringify(input)) throw new Error('ExecutionAlreadyExists');
      return {
        executionArn: `arn:exec:${name}`,
        startedAt: '2026-11-04T00:00:00.000Z',
        alreadyStarted: true,
      };
    }
    this.started.push({ name, input });
    this.statuses.set(name, 'RUNNING');
    return { executionArn: `arn:exec:${name}`, startedAt: '2026-11-04T00:00:00.000Z', alreadyStarted: false };
  }
  async status(name: string) {
    return this.statuses.get(name) ?? null;
  }
  async sendTaskSuccess() {}
  async sendTaskFailure() {}
}

let fleet: SimulatedFleet;
let db: LocalDynamoDb;
let workflows: RecordingWorkflows;
let deps: GateDeps;
beforeEach(async () => {
  fleet = createSimulatedFleet({ instances: 0, seed: 1 });
  db = await startLocalDynamoDb({ clock: fleet.clock });
  workflows = new RecordingWorkflows();
  deps = {
    instances: new Ec2Instances(fleet.clients.ec2, { clock: fleet.clock }),
    managed: new SsmInstances(fleet.clients.ssm, { clock: fleet.clock }),
    ledger: new DynamoDbLedger(db.client, { tableName: db.tableName, clock: fleet.clock }),
    workflows,
    clock: fleet.clock,
  };
});
afterEach(async () => {
  fleet.restore();
  await db.close();
});

const settings = (overrides: Partial<GateSettings> = {}): GateSettings => ({
  optIn: { key: 'crawlguard:enabled', value: 'true' },
  mode: 'apply',
  policy: DEFAULT_POLICY,
  budget: DEFAULT_BUDGET,
  claimTtlHours: 504,
  ...overrides,
});

/** A finding sample, for another instance, kind or run if asked. */
function finding(
  overrides: {
    instanceId?: string;
    kind?: string;
    runId?: string;
    optedIn?: number;
    detectedAt?: string;
  } = {},
) {
  const event = readEvent('events/findings/updatedb-crawl-cron.json') as Json;
  const detail = event.detail;
  if (overrides.instanceId !== undefined) {
    detail.instanceId = overrides.instanceId;
    event.resources = [`arn:aws:ec2:us-east-1:123456789012:instance/${overrides.instanceId}`];
  }
  if (overrides.kind !== undefined) detail.kind = overrides.kind;
  if (overrides.runId !== undefined) detail.trigger.runId = overrides.runId;
  if (overrides.optedIn !== undefined) detail.trigger.optedIn = overrides.optedIn;
  if (overrides.detectedAt !== undefined) detail.detectedAt = overrides.detectedAt;
  detail.findingId = `${detail.findingId.slice(0, 24)}${(overrides.instanceId ?? '').slice(-4).padStart(4, '0')}${(overrides.kind ?? 'x').length.toString(16).padStart(4, '0')}`;
  return parseEvent(GateEventSchema, event, GATE_EVENT);
}
const gate = (event: ReturnType<typeof finding>, overrides: Partial<GateSettings> = {}) =>
  runGate(event, settings(overrides), deps, signal());

describe('the remediation gate', () => {
  it('claims episode 1 and starts the workflow by its name, with a versioned input; the ledger says why', async () => {
    const result = await gate(finding());
    expect(result).toMatchObject({
      status: 'started',
      instanceId: WELL_KNOWN.crawled,
      episode: 1,
      executionName: `${WELL_KNOWN.crawled}-1`,
      mode: 'apply',
    });
    expect(workflows.started).toHaveLength(1);
    const input = WorkflowInputSchema.parse(workflows.started[0]?.input);
    expect(input).toMatchObject({
      schemaVersion: 1,
      episode: 1,
      kinds: ['updatedb-crawl'],
      trigger: { type: 'finding' },
    });
    expect(input.trigger.type === 'finding' && input.trigger.window).toMatchObject({
      start: '06:25',
      timeZone: 'UTC',
    });
    const record = await deps.ledger.record(WELL_KNOWN.crawled, signal());
    expect(record?.active).toMatchObject({
      episode: 1,
      kinds: ['updatedb-crawl'],
      mode: 'apply',
      executionName: `${WELL_KNOWN.crawled}-1`,
    });
    const events = await deps.ledger.events(WELL_KNOWN.crawled, signal());
    expect(events.map((e) => e.type).sort()).toEqual(['claim', 'decision']);
  });

  it('is a no-op for a repeated or concurrent delivery: one episode, one execution', async () => {
    const event = finding();
    const results = await Promise.all(Array.from({ length: 10 }, () => gate(event)));
    expect(results.filter((r) => r.status === 'started')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'skipped' && r.code === 'duplicate')).toHaveLength(9);
    expect(workflows.started).toHaveLength(1);
    expect(await gate(event)).toMatchObject({ status: 'skipped', code: 'duplicate' });
  });

  it('joins a memory finding to the crawl episode of the same instance, whatever arrives first', async () => {
    await gate(finding({ kind: 'memory-growth' }));
    expect(await gate(finding())).toMatchObject({ status: 'joined', episode: 1 });
    expect((await deps.ledger.record(WELL_KNOWN.crawled, signal()))?.active?.kinds.toSorted()).toEqual([
      'memory-growth',
      'updatedb-crawl',
    ]);
    expect(workflows.started).toHaveLength(1);
  });

  it.each([
    [WELL_KNOWN.untagged, 'not-opted-in'],
    [WELL_KNOWN.hostileTag, 'not-opted-in'],
    [WELL_KNOWN.unmanaged, 'not-managed'],
    [WELL_KNOWN.stopped, 'not-running'],
    ['i-0000000000000dead', 'instance-gone'],
  ])('leaves %s alone (%s): nothing claimed, nothing started', async (instanceId, code) => {
    expect(await gate(finding({ instanceId }))).toMatchObject({ status: 'skipped', code });
    expect(workflows.started).toEqual([]);
    expect((await deps.ledger.record(instanceId, signal()))?.active ?? null).toBeNull();
  });

  it('skips a finding older than 48 h, and an instance in cooldown', async () => {
    const old = new Date(fleet.clock.now() - 49 * HOUR).toISOString();
    expect(await gate(finding({ detectedAt: old }))).toMatchObject({
      status: 'skipped',
      code: 'stale-finding',
    });
    const started = await gate(finding());
    if (started.status !== 'started') throw new Error(started.status);
    await deps.ledger.close(
      {
        instanceId: WELL_KNOWN.crawled,
        episode: 1,
        outcome: 'remediated',
        reason: 'patched',
        at: new Date(fleet.clock.now()).toISOString(),
        cooldownUntil: new Date(fleet.clock.now() + 24 * HOUR).toISOString(),
        suppressedUntil: null,
        failed: false,
        escalated: false,
      },
      signal(),
    );
    expect(await gate(finding({ runId: 'next-run' }))).toMatchObject({ status: 'skipped', code: 'cooldown' });
  });

  it('opens the breaker once when a run claims more than max(K, p %) of its opted-in fleet, then skips', async () => {
    const ids = [WELL_KNOWN.crawled, WELL_KNOWN.crawledSystemd, WELL_KNOWN.leaking, WELL_KNOWN.healthy];
    const budget = { ...DEFAULT_BUDGET, runClaimFloor: 2, runSharePercent: 10 };
    const results = [];
    for (const instanceId of ids)
      results.push(await gate(finding({ instanceId, runId: 'run-big', optedIn: 20 }), { budget }));
    expect(results.map((r) => r.status)).toEqual(['started', 'started', 'skipped', 'skipped']);
    expect(results[2]).toMatchObject({ code: 'breaker-open', breakerOpened: true });
    expect(results[3]).toMatchObject({ code: 'breaker-open' });
    expect((results[3] as { breakerOpened?: boolean }).breakerOpened).not.toBe(true);
    expect((await deps.ledger.breaker(signal())).open).toBe(true);
    // The episode that tripped it was closed, not left to block the instance.
    expect((await deps.ledger.record(WELL_KNOWN.leaking, signal()))?.active ?? null).toBeNull();
    // ...and its audit says how it ended: every episode number has an outcome.
    const events = await deps.ledger.events(WELL_KNOWN.leaking, signal());
    expect(events.filter((e) => e.type === 'outcome')).toEqual([
      expect.objectContaining({
        episode: 1,
        detail: expect.objectContaining({ outcome: 'skipped', code: 'breaker-open' }),
      }),
    ]);
  });

  it('starts at most MaxRemediationsPerHour an hour, fleet-wide', async () => {
    const budget = { ...DEFAULT_BUDGET, maxPerHour: 1 };
    expect(await gate(finding(), { budget })).toMatchObject({ status: 'started' });
    expect(await gate(finding({ instanceId: WELL_KNOWN.leaking }), { budget })).toMatchObject({
      status: 'skipped',
      code: 'rate-limited',
    });
    await fleet.clock.sleep(HOUR);
    expect(await gate(finding({ instanceId: WELL_KNOWN.healthy }), { budget })).toMatchObject({
      status: 'started',
    });
  });

  it('closes a claim whose execution is gone as aborted, and opens the next episode', async () => {
    await gate(finding());
    workflows.statuses.set(`${WELL_KNOWN.crawled}-1`, 'FAILED');
    await fleet.clock.sleep(HOUR);
    expect(await gate(finding({ runId: 'next-run' }))).toMatchObject({ status: 'started', episode: 2 });
    const record = await deps.ledger.record(WELL_KNOWN.crawled, signal());
    expect(record?.lastClosed).toMatchObject({ episode: 1, outcome: 'aborted' });
    const events = await deps.ledger.events(WELL_KNOWN.crawled, signal());
    expect(events.some((e) => e.type === 'outcome' && e.episode === 1 && e.summary.includes('aborted'))).toBe(
      true,
    );
  });

  it('takes an operator request, never stale, still only for an opted-in instance', async () => {
    const request = (instanceId: string) =>
      parseEvent(
        GateEventSchema,
        {
          crawlguard: 'remediation-request',
          schemaVersion: 1,
          requestId: 'req-1',
          instanceId,
          kind: 'updatedb-crawl',
          requestedBy: 'alice',
          reason: 'saw the morning burst',
        },
        GATE_EVENT,
      );
    expect(await gate(request(WELL_KNOWN.crawled))).toMatchObject({ status: 'started', episode: 1 });
    expect(WorkflowInputSchema.parse(workflows.started[0]?.input).trigger).toEqual({
      type: 'request',
      requestId: 'req-1',
      requestedBy: 'alice',
      reason: 'saw the morning burst',
    });
    expect(await gate(request(WELL_KNOWN.untagged))).toMatchObject({
      status: 'skipped',
      code: 'not-opted-in',
    });
  });
});

describe('events the gate refuses', () => {
  it('refuses a finding whose detail names another account than its envelope', () => {
    const event = readEvent('events/findings/updatedb-crawl-cron.json') as Json;
    event.detail.accountId = '210987654321';
    expect(() => parseEvent(GateEventSchema, event, GATE_EVENT)).toThrow(
      /detail\.accountId: names account 210987654321/,
    );
  });

  it('leaves the home check to requireHome: a consistent finding of another account is foreign', async () => {
    const { requireHome } = await import('#shared/events/home.ts');
    const event = readEvent('events/findings/updatedb-crawl-cron.json') as Json;
    event.account = '210987654321';
    event.detail.accountId = '210987654321';
    const parsed = parseEvent(GateEventSchema, event, GATE_EVENT);
    expect(() => requireHome(parsed, { accountId: '123456789012', region: 'us-east-1' })).toThrow(
      ForeignEventError,
    );
  });
});
