/**
 * The remediation workflow end to end on the local stack: the real ASL definitions run by the local
 * Step Functions runner, the workflow-step function through the Lambda emulator, the ledger on dynalite,
 * and the simulated SSM Run Command applying each document to the demo hosts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runOperator } from '#shared/cli/operator-command.ts';
import { approvalIdFor } from '#shared/remediation/ids.ts';
import { SIMULATED_START } from '#shared/sim/fleet.ts';
import { type RemediationStack, remediationStack } from '#test/support/remediation-stack.ts';

const HOUR = 3_600_000;
const signal = () => AbortSignal.timeout(30_000);
let stack: RemediationStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function remediate(
  mode: 'dry-run' | 'approve' | 'apply',
  name: string,
  kind?: 'updatedb-crawl' | 'memory-growth' | 'daily-network-burst',
) {
  stack = await remediationStack(mode);
  const started = await stack.request(name, kind);
  expect(started).toMatchObject({ status: 'started', episode: 1 });
  await stack.workflows.idle();
  const id = stack.host(name).instanceId;
  return {
    stack,
    id,
    record: await stack.ledger.record(id, signal()),
    events: await stack.ledger.events(id, signal()),
    sent: stack.sent(id),
  };
}
const documents = (sent: RemediationStack['sent'] extends (id: string) => infer R ? R : never) =>
  sent.map(
    (s) =>
      `${s.DocumentName.replace('crawlguard-', '')}${s.Parameters?.Mode === undefined ? '' : `:${s.Parameters.Mode[0]}`}`,
  );

describe('dry-run (the default)', () => {
  it('diagnoses and runs both documents in check mode only, and closes with the diff', async () => {
    const { record, events, sent, stack: s, id } = await remediate('dry-run', 'cron-media-1');
    expect(documents(sent)).toEqual(['diagnose', 'patch-updatedb-conf:check', 'restart-s3fs:check']);
    expect(record?.lastClosed).toMatchObject({
      episode: 1,
      outcome: 'checked',
      reason: expect.stringMatching(/^dry run: would change updatedb\.conf: PRUNEFS/),
    });
    expect(record?.active).toBeNull();
    // Nothing changed on the instance: updatedb still crawls its mount.
    const host = s.fleet.hosts.get(id);
    const mount = host?.mountTable(s.fleet.clock.now()).find((m) => m.type === 'fuse.s3fs');
    expect(mount === undefined ? null : host?.crawlVerdictAt(mount, s.fleet.clock.now()).crawled).toBe(true);
    expect(events.map((e) => e.type).sort()).toEqual([
      'claim',
      'command',
      'command',
      'command',
      'decision',
      'outcome',
    ]);
  });
});

describe('apply', () => {
  it('patches and restarts with pinned documents, bounded timeouts and the execution named in each Comment', async () => {
    const { record, sent, stack: s, id } = await remediate('apply', 'cron-media-1');
    expect(record?.lastClosed).toMatchObject({
      outcome: 'remediated',
      reason: expect.stringMatching(/^patched and s3fs restarted; verified resolved: network resolved: /),
    });
    expect(documents(sent)).toEqual([
      'diagnose',
      'patch-updatedb-conf:check',
      'restart-s3fs:check',
      'patch-updatedb-conf:apply',
      'restart-s3fs:apply',
    ]);
    const patch = sent.find(
      (c) => c.DocumentName.endsWith('patch-updatedb-conf') && c.Parameters?.Mode?.[0] === 'apply',
    );
    expect(patch?.Parameters).toEqual({ Mode: ['apply'], PruneFsTypes: ['fuse.s3fs'], PrunePaths: [''] });
    const restart = sent.find(
      (c) => c.DocumentName.endsWith('restart-s3fs') && c.Parameters?.Mode?.[0] === 'apply',
    );
    expect(restart?.Parameters?.Mounts).toEqual([s.host('cron-media-1').mounts[0]?.mountPoint]);
    for (const command of sent) {
      expect(command.DocumentVersion).toMatch(/^\d+$/);
      expect(command.TimeoutSeconds).toBeLessThanOrEqual(600);
      expect(command.Comment).toMatch(new RegExp(`^crawlguard ${id}-1 (diagnose|patch|restart) \\d+$`));
      expect(command.CloudWatchOutputConfig?.CloudWatchOutputEnabled).toBe(true);
    }
    // The instance is fixed: updatedb no longer crawls the mount; the cooldown holds the next finding off.
    const host = s.fleet.hosts.get(id);
    const mount = host?.mountTable(s.fleet.clock.now()).find((m) => m.type === 'fuse.s3fs');
    expect(mount === undefined ? null : host?.crawlVerdictAt(mount, s.fleet.clock.now()).crawled).toBe(false);
    expect(Date.parse(record?.cooldownUntil ?? '')).toBeGreaterThan(s.fleet.clock.now() + 6 * 24 * HOUR);
  });

  it('closes a daily burst that is a backup job, not updatedb, as not-updatedb after diagnose alone', async () => {
    const { record, sent } = await remediate('apply', 'backup-0200', 'daily-network-burst');
    expect(record?.lastClosed).toMatchObject({
      outcome: 'not-updatedb',
      reason: expect.stringContaining("the traffic is not updatedb's"),
    });
    expect(documents(sent)).toEqual(['diagnose']);
  });

  it('patches, then escalates naming the writer when the restart stays deferred within its bound', async () => {
    const { record, sent } = await remediate('apply', 'writer-holds-mount');
    expect(record?.lastClosed).toMatchObject({
      outcome: 'escalated',
      reason: expect.stringContaining('held by python3 (pid 4242) on /mnt/ingest'),
    });
    // A check is never re-run; the apply restart is, three times at most, and the patch once.
    expect(documents(sent)).toEqual([
      'diagnose',
      'patch-updatedb-conf:check',
      'restart-s3fs:check',
      'patch-updatedb-conf:apply',
      'restart-s3fs:apply',
      'restart-s3fs:apply',
      'restart-s3fs:apply',
      'restart-s3fs:apply',
    ]);
  });

  it('escalates a config it must not edit (a symlink), changing nothing', async () => {
    const { record, sent } = await remediate('apply', 'conf-symlink');
    expect(record?.lastClosed).toMatchObject({
      outcome: 'escalated',
      reason: expect.stringContaining('symbolic link'),
    });
    expect(documents(sent).filter((d) => d.endsWith(':apply'))).toEqual([]);
  });

  it('calls output that is not the script’s JSON inconclusive, and acts on nothing', async () => {
    const { record, sent } = await remediate('apply', 'noisy-shell');
    expect(record?.lastClosed).toMatchObject({
      outcome: 'inconclusive',
      reason: expect.stringContaining('not one JSON object'),
    });
    expect(documents(sent)).toEqual(['diagnose']);
  });

  it('fixes an Auto Scaling group member and says to fix its launch template', async () => {
    const { record } = await remediate('apply', 'asg-member');
    expect(record?.lastClosed).toMatchObject({
      outcome: 'remediated',
      reason: expect.stringContaining('Auto Scaling group web-asg-blue: fix its launch template'),
    });
  });

  it('keeps every execution far below 25,000 history events', async () => {
    const { stack: s } = await remediate('apply', 'writer-holds-mount');
    for (const execution of s.workflows.executions)
      expect(execution.events, execution.name).toBeLessThan(2_000);
  });
});

describe('approve', () => {
  const operator = async (s: RemediationStack, ...argv: string[]) => {
    let out = '';
    let err = '';
    const code = await runOperator(
      argv[0] as 'approve' | 'deny' | 'breaker',
      [...argv.slice(1), '--table', s.tableName, '--by', 'alice'],
      { stdout: (t) => (out += t), stderr: (t) => (err += t) },
      () => ({ ledger: s.ledger, workflows: s.sfn, clock: s.fleet.clock }),
    );
    return { code, out, err };
  };
  /** Lets simulated time pass until the approval is pending (the workflow asked). */
  async function pendingApproval(s: RemediationStack, id: string) {
    const approvalId = approvalIdFor(`${id}-1`, 0);
    for (let i = 0; i < 200; i += 1) {
      if ((await s.ledger.approval(approvalId, signal()))?.status === 'pending') return approvalId;
      await s.fleet.clock.sleep(5_000);
    }
    throw new Error('no approval requested');
  }

  it('pauses before any change, applies once approved, and refuses a second decision', async () => {
    stack = await remediationStack('approve');
    const s = stack;
    const id = s.host('cron-media-1').instanceId;
    await s.request('cron-media-1');
    const approvalId = await pendingApproval(s, id);
    expect(documents(s.sent(id)).filter((d) => d.endsWith(':apply'))).toEqual([]);
    const approval = await s.ledger.approval(approvalId, signal());
    expect(approval?.plan).toMatchObject({ summary: expect.stringContaining('PRUNEFS') });
    expect(await operator(s, 'approve', approvalId)).toMatchObject({ code: 0 });
    await s.workflows.idle();
    expect((await s.ledger.record(id, signal()))?.lastClosed).toMatchObject({ outcome: 'remediated' });
    // Re-checked after the approval: a second diagnose, then the approved plan applied.
    expect(documents(s.sent(id))).toEqual([
      'diagnose',
      'patch-updatedb-conf:check',
      'restart-s3fs:check',
      'diagnose',
      'patch-updatedb-conf:apply',
      'restart-s3fs:apply',
    ]);
    const again = await operator(s, 'deny', approvalId, '--reason', 'too late');
    expect(again).toMatchObject({
      code: 1,
      err: expect.stringMatching(/^deny: approval apv-[0-9a-f]{16} is approved \(by alice/),
    });
  });

  it('closes as denied and leaves the instance alone for the configured days', async () => {
    stack = await remediationStack('approve');
    const s = stack;
    const id = s.host('cron-media-1').instanceId;
    await s.request('cron-media-1');
    const approvalId = await pendingApproval(s, id);
    expect(await operator(s, 'deny', approvalId, '--reason', 'maintenance window on Friday')).toMatchObject({
      code: 0,
    });
    await s.workflows.idle();
    const record = await s.ledger.record(id, signal());
    expect(record?.lastClosed).toMatchObject({ outcome: 'denied' });
    expect(Date.parse(record?.suppressedUntil ?? '')).toBeGreaterThan(s.fleet.clock.now() + 29 * 24 * HOUR);
    expect(documents(s.sent(id)).filter((d) => d.endsWith(':apply'))).toEqual([]);
    expect(await s.request('cron-media-1')).toMatchObject({ status: 'skipped', code: 'suppressed' });
  });

  it('ends as skipped when no one answers in time', async () => {
    stack = await remediationStack('approve', { APPROVAL_TIMEOUT_HOURS: '2' });
    const s = stack;
    const id = s.host('cron-media-1').instanceId;
    await s.request('cron-media-1');
    await s.workflows.idle();
    expect((await s.ledger.record(id, signal()))?.lastClosed).toMatchObject({
      outcome: 'skipped',
      reason: 'no one approved the remediation in time',
    });
    expect(documents(s.sent(id)).filter((d) => d.endsWith(':apply'))).toEqual([]);
  });

  it('waits for an instance stopped during the approval, then re-checks and applies', async () => {
    stack = await remediationStack('approve', {}, (demo) => {
      const base = demo.find((h) => h.name === 'cron-media-1');
      if (base === undefined) throw new Error('no cron-media-1');
      return [
        {
          ...base,
          instanceId: 'i-0000000000000aaa1',
          name: 'stopped-while-waiting',
          quirks: { stopsAtMs: SIMULATED_START + HOUR, startsAgainAtMs: SIMULATED_START + 5 * HOUR },
        },
        {
          ...base,
          instanceId: 'i-0000000000000aaa2',
          name: 'terminated-while-waiting',
          quirks: { terminatesAtMs: SIMULATED_START + HOUR },
        },
      ];
    });
    const s = stack;
    for (const name of ['stopped-while-waiting', 'terminated-while-waiting']) await s.request(name);
    const approvals = [];
    for (const name of ['stopped-while-waiting', 'terminated-while-waiting'])
      approvals.push(await pendingApproval(s, s.host(name).instanceId));
    await s.fleet.clock.sleep(2 * HOUR);
    for (const approvalId of approvals)
      expect(await operator(s, 'approve', approvalId)).toMatchObject({ code: 0 });
    await s.workflows.idle();
    const stopped = await s.ledger.record(s.host('stopped-while-waiting').instanceId, signal());
    expect(stopped?.lastClosed, JSON.stringify(stopped?.lastClosed)).toMatchObject({ outcome: 'remediated' });
    expect(Date.parse(stopped?.lastClosed?.closedAt ?? '')).toBeGreaterThan(SIMULATED_START + 5 * HOUR);
    expect(
      (await s.ledger.record(s.host('terminated-while-waiting').instanceId, signal()))?.lastClosed,
    ).toMatchObject({
      outcome: 'instance-gone',
    });
  });
});
