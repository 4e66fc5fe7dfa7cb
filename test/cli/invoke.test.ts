import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendCommandCommand } from '@aws-sdk/client-ssm';
import { afterAll, describe, expect, it } from 'vitest';
import { type InvokeReport, PROJECT_ROOT, runInvoke } from '#shared/cli/invoke-command.ts';
import { approvalIdFor } from '#shared/remediation/ids.ts';
import { type WithheldRequest, withholdInstanceChanges } from '#shared/sim/dry-run.ts';
import { createSimulatedFleet, WELL_KNOWN } from '#shared/sim/fleet.ts';
import { type Json, readEvent } from '#test/support/handlers.ts';

const FUNCTIONS = ['alarm-triage', 'fleet-scan', 'remediate', 'scan-worker', 'workflow-step'];

/** Runs invoke in-process, quietly: the handlers' logs are checked in the process tests below. */
async function invoke(...argv: string[]): Promise<InvokeReport & { stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const quiet = argv.length >= 2 && !argv.includes('--log-level') ? [...argv, '--log-level', 'SILENT'] : argv;
  const report = await runInvoke(quiet, {
    readFile: (path) => readFileSync(join(PROJECT_ROOT, path), 'utf8'),
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { ...report, stdout, stderr };
}

/** What each sample event in events/ must produce on the embedded default. */
const SAMPLES: Record<string, { result: Record<string, unknown>; published: number; withheld?: string[] }> = {
  'fleet-scan/scheduled-event.json': { result: { status: 'scanned', eligible: 38 }, published: 11 },
  'fleet-scan/scheduler-default-event.json': { result: { status: 'scanned', eligible: 38 }, published: 11 },
  'fleet-scan/scheduler-input.json': {
    result: { status: 'scanned', runId: '5b4c7f36-3f6e-4a8a-9d7e-0c1e2f3a4b5c', eligible: 38 },
    published: 11,
  },
  'scan-worker/shard.json': { result: { batchItemFailures: [] }, published: 3 },
  'alarm-triage/anomaly-detection.json': crawlConfirmed('EC2 CPU Utilization Anomaly'),
  'alarm-triage/crawled-instance.json': crawlConfirmed('s3fs-egress-i-12345678901234567'),
  'alarm-triage/metric-math.json': crawlConfirmed('TotalNetworkTrafficTooHigh'),
  'alarm-triage/single-metric.json': crawlConfirmed('ServerCpuTooHigh'),
  'alarm-triage/search-expression-tagged.json': {
    // The systemd-timer crawl (a daily burst at a varying time) with growing s3fs RSS: a crawl.
    result: {
      status: 'confirmed',
      instanceId: WELL_KNOWN.crawledSystemd,
      finding: { kind: 'updatedb-crawl' },
    },
    published: 1,
  },
  'alarm-triage/leaking-instance.json': {
    result: { status: 'confirmed', instanceId: WELL_KNOWN.leaking, finding: { kind: 'memory-growth' } },
    published: 1,
  },
  'alarm-triage/back-to-ok.json': { result: { status: 'ignored' }, published: 0 },
  // The gate starts the episode's workflow, which runs locally (its commands withheld by the dry run).
  'remediate/finding-updatedb-crawl.json': {
    result: { status: 'started', instanceId: WELL_KNOWN.crawled, episode: 1, mode: 'dry-run' },
    published: 0,
    withheld: ['crawlguard-diagnose'],
  },
  'remediate/operator-request.json': {
    result: { status: 'started', instanceId: WELL_KNOWN.crawled, episode: 1, mode: 'dry-run' },
    published: 0,
    withheld: ['crawlguard-diagnose'],
  },
  'remediate/finding-memory-growth.json': {
    result: { status: 'started', instanceId: WELL_KNOWN.leaking, episode: 1, mode: 'dry-run' },
    published: 0,
    withheld: ['crawlguard-diagnose'],
  },
  // Recorded from real workflow runs (test/support/workflow-samples.ts). Alone, a step finds no episode in
  // the ledger and no execution around it: it answers from the state the payload carries.
  'workflow-step/prepare.json': {
    // The ledger has no active episode 1 for the instance: the workflow would close without sending anything.
    result: {
      next: 'close',
      outcome: 'aborted',
      reason: "episode 1 is no longer the instance's active episode",
    },
    published: 0,
  },
  'workflow-step/start-command.json': {
    result: { step: 'diagnose', phase: 'send', attempt: 1, polls: 0, command: null },
    published: 0,
  },
  'workflow-step/track-command.json': {
    // The invocation the payload carries has ended: its JSON output is read.
    result: {
      phase: 'done',
      result: {
        step: 'diagnose',
        outcome: 'succeeded',
        scriptStatus: 'ok',
        output: { summary: { crawledMounts: 1 } },
      },
    },
    published: 0,
  },
  'workflow-step/track-command-busy.json': {
    // busy after an apply: run again later, within the bound.
    result: { phase: 'retry', attempt: 2, retries: 1, result: { outcome: 'busy' } },
    published: 0,
  },
  'workflow-step/adopt-command.json': {
    // No earlier command carries the attempt's Comment: send once more, and only once.
    result: { phase: 'send', resent: true, sendError: null, command: null },
    published: 0,
  },
  'workflow-step/plan.json': {
    result: {
      next: 'check-patch',
      restart: true,
      parameters: {
        applyPatch: { Mode: ['apply'], PruneFsTypes: ['fuse.s3fs'] },
        applyRestart: { Mode: ['apply'], Mounts: ['/srv/media'] },
      },
    },
    published: 0,
  },
  'workflow-step/after-checks.json': {
    result: { next: 'apply-patch', reason: expect.stringMatching(/^would change updatedb\.conf: PRUNEFS/) },
    published: 0,
  },
  'workflow-step/request-approval.json': {
    result: { approvalId: approvalIdFor(`${WELL_KNOWN.crawled}-1`, 0) },
    published: 0,
  },
  'workflow-step/approval-digest.json': {
    // The approval is in no digest round of its run (the ledger is empty): look again after the delay.
    result: {
      next: 'wait',
      outcome: 'waiting',
      polls: 1,
      round: null,
      reason: expect.stringMatching(/is not in a digest round of run req-20261104-alice-1 yet$/),
    },
    published: 0,
  },
  'workflow-step/compare-plans.json': {
    result: { next: 'apply-patch', reason: expect.stringMatching(/^approved plan still holds: /) },
    published: 0,
  },
  'workflow-step/after-patch.json': {
    result: { next: 'apply-restart', reason: 'patch patched; restarting s3fs' },
    published: 0,
  },
  'workflow-step/after-restart.json': {
    result: { next: 'verify', outcome: 'remediated', reason: 'patched and s3fs restarted' },
    published: 0,
  },
  'workflow-step/escalate-outage.json': {
    result: {
      next: 'close',
      outcome: 'escalated',
      reason: expect.stringMatching(/^suspected outage after restart timed-out: .*"s3fsMounts":0/),
    },
    published: 0,
  },
  'workflow-step/schedule-verify.json': {
    result: { next: 'wait', round: 0, verdict: null, reason: 'waiting for the next expected crawl' },
    published: 0,
  },
  'workflow-step/verify.json': {
    // The embedded default's clock is where the metrics end, before the recorded fix: look again later.
    result: {
      next: 'wait',
      round: 1,
      verdict: null,
      reason: expect.stringMatching(/^network inconclusive: /),
    },
    published: 0,
  },
  'workflow-step/close.json': {
    // The outcome is decided from the state; the ledger has no such episode to close (closed: false).
    result: { outcome: 'remediated', closed: false, breakerOpened: false },
    published: 0,
  },
  'alarm-triage/composite-with-suppressor.json': { result: { status: 'no-instance' }, published: 0 },
  'alarm-triage/search-expression-untagged.json': { result: { status: 'no-instance' }, published: 0 },
  'alarm-triage/healthy-instance.json': {
    result: { status: 'not-confirmed', instanceId: WELL_KNOWN.healthy },
    published: 0,
  },
  'alarm-triage/not-opted-in-instance.json': {
    result: { status: 'skipped', reason: 'not-opted-in' },
    published: 0,
  },
  'alarm-triage/unmanaged-instance.json': {
    result: { status: 'skipped', reason: 'not-managed' },
    published: 0,
  },
};

function crawlConfirmed(alarmName: string) {
  return {
    result: {
      status: 'confirmed',
      alarmName,
      instanceId: WELL_KNOWN.crawled,
      finding: { kind: 'updatedb-crawl' },
    },
    published: 1,
  };
}

const sampleFiles = FUNCTIONS.flatMap((name) =>
  readdirSync(join(PROJECT_ROOT, 'events', name)).map((file) => `${name}/${file}`),
);
const badEvents = readdirSync(join(PROJECT_ROOT, 'test/fixtures/bad-events')).filter((file) =>
  file.endsWith('.json'),
);

describe('invoke: every sample event on the embedded default', () => {
  it('has an expectation for every sample in events/', () => {
    expect(sampleFiles.sort()).toEqual(Object.keys(SAMPLES).sort());
  });

  it.each(Object.entries(SAMPLES))('%s', async (sample, expected) => {
    const [name] = sample.split('/');
    const run = await invoke(name ?? '', `events/${sample}`);

    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject(expected.result);
    expect(run.simulation?.published).toHaveLength(expected.published);
    expect(run.stderr).toMatch(/simulated fleet of \d+ instances: \d+ requests/);
    // Nothing that would change an instance is sent: the workflow's first command is withheld, and it stops there.
    expect(run.withheld.map((w) => (w.input as { DocumentName: string }).DocumentName)).toEqual(
      expected.withheld ?? [],
    );
  });

  it('sizes and seeds the simulated fleet as asked', async () => {
    const small = await invoke(
      'fleet-scan',
      'events/fleet-scan/scheduled-event.json',
      '--instances',
      '5',
      '--seed',
      '3',
    );
    // 5 generated instances plus the 8 well-known ones, of which the stopped, untagged and unmanaged are not eligible.
    expect(JSON.parse(small.stdout)).toMatchObject({ status: 'scanned', eligible: 6 });
    expect(small.stderr).toMatch(/simulated fleet of 13 instances/);
  });
});

describe('invoke: bad events fail cleanly and send nothing', () => {
  const cases = FUNCTIONS.flatMap((name) => badEvents.map((file) => [name, file] as const));

  it.each(cases)('%s refuses %s', async (name, file) => {
    const run = await invoke(name, `test/fixtures/bad-events/${file}`);

    expect(run.exitCode).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(new RegExp(`^invoke: ${name}: `));
    expect(run.simulation?.requests ?? []).toEqual([]);
    expect(run.withheld).toEqual([]);
  });

  const misdirected = FUNCTIONS.flatMap((name) =>
    sampleFiles.filter((sample) => !sample.startsWith(`${name}/`)).map((sample) => [name, sample] as const),
  );
  it.each(misdirected)('%s refuses the sample meant for another function, %s', async (name, sample) => {
    const run = await invoke(name, `events/${sample}`);

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/^invoke: [a-z-]+: expected .*, got /);
    expect(run.simulation?.requests).toEqual([]);
  });
});

describe('invoke: arguments', () => {
  it.each([
    [
      ['nope', 'events/fleet-scan/scheduled-event.json'],
      /unknown function 'nope'; functions: alarm-triage, fleet-scan, remediate, scan-worker, workflow-step/,
    ],
    [['../../etc', 'x.json'], /unknown function '\.\.\/\.\.\/etc'/],
    [['fleet-scan'], /expected <function> <event-file>/],
    [['fleet-scan', 'a.json', 'b.json'], /expected <function> <event-file>/],
    [['fleet-scan', 'a.json', '--seed', '-1'], /Option '--seed' argument is ambiguous/],
    [['fleet-scan', 'a.json', '--seed', '1.5'], /--seed must be a whole number/],
    [['fleet-scan', 'a.json', '--instances', 'many'], /--instances must be a whole number/],
    [['fleet-scan', 'a.json', '--verbose'], /Unknown option '--verbose'/],
    [
      ['fleet-scan', 'a.json', '--log-level', 'CHATTY'],
      /--log-level must be one of DEBUG, INFO, WARN, ERROR, SILENT/,
    ],
  ])('rejects %o with exit code 2', async (argv, message) => {
    const run = await invoke(...argv);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('says which event file it cannot read, with exit code 1', async () => {
    const run = await invoke('fleet-scan', 'events/fleet-scan/missing.json');
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe(
      'invoke: fleet-scan: cannot read the event file events/fleet-scan/missing.json (ENOENT)\n',
    );
  });
});

describe('invoke --aws (offline: no call is needed or made)', () => {
  it('fails at cold start, naming the variable only a deployed stack can give', async () => {
    const run = await invoke('alarm-triage', 'events/alarm-triage/back-to-ok.json', '--aws');
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/^invoke: alarm-triage: .*FINDINGS_BUS_NAME/);
    expect(process.env.FINDINGS_BUS_NAME).toBeUndefined();
  });

  it('takes the stack variables from a sam-style --env-file and runs the handler', async () => {
    const run = await invoke(
      'alarm-triage',
      'events/alarm-triage/back-to-ok.json',
      '--aws',
      '--env-file',
      'events/sam-local-env.json',
      '--account',
      '123456789012',
    );
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'ignored' });
    expect(process.env.FINDINGS_BUS_NAME).toBeUndefined();
  });
});

describe('dry run', () => {
  it('answers SSM SendCommand locally and prints the exact request', async () => {
    const fleet = createSimulatedFleet({ instances: 1 });
    const withheld: WithheldRequest[] = [];
    const lines: string[] = [];
    try {
      withholdInstanceChanges(fleet.mocks.ssm, withheld, (line) => lines.push(line));
      const input = { DocumentName: 'crawlguard-patch-updatedb-conf', InstanceIds: [WELL_KNOWN.crawled] };
      const output = await fleet.clients.ssm.send(new SendCommandCommand(input));

      expect(output.Command?.Status).toBe('Pending');
      expect(withheld).toEqual([{ service: 'ssm', command: 'SendCommand', input }]);
      expect(lines).toEqual([`dry run, not sent: ssm SendCommand ${JSON.stringify(input)}`]);
      expect(fleet.requests).toEqual([]);
    } finally {
      fleet.restore();
    }
  });
});

describe('invoke as a process', () => {
  const entry = join(PROJECT_ROOT, 'shared/cli/invoke.ts');
  it('prints only the result on stdout, and the logs on stderr', () => {
    const run = spawnSync(
      process.execPath,
      [entry, 'alarm-triage', 'events/alarm-triage/crawled-instance.json'],
      {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
      },
    );
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'confirmed' });
    expect(run.stderr).toMatch(/"level":"INFO","message":"alarm triaged"/);
  });

  it('exits 1 with one line and no stack for a bad event', () => {
    const run = spawnSync(
      process.execPath,
      [entry, 'scan-worker', 'test/fixtures/bad-events/shard-instance-id-injection.json'],
      {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
      },
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('invoke: hostile event files and text (issue 15)', () => {
  const entry = join(PROJECT_ROOT, 'shared/cli/invoke.ts');
  const dir = mkdtempSync(join(tmpdir(), 'crawlguard-invoke-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (file: string) =>
    spawnSync(process.execPath, [entry, 'alarm-triage', file], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });

  it.each([
    ['/dev/zero', 'a device'],
    ['a directory', 'a directory'],
    ['a FIFO nobody writes', 'a FIFO'],
  ])('refuses %s in one line, without hanging or reading it to the end', (what) => {
    let path = what;
    if (what === 'a directory') path = dir;
    if (what === 'a FIFO nobody writes') {
      path = join(dir, 'fifo');
      execFileSync('mkfifo', [path]);
    }
    const result = run(path);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^invoke: alarm-triage: cannot read the event file .*not a regular file/);
  });

  it('refuses an event file larger than any Lambda payload', () => {
    const big = join(dir, 'big.json');
    writeFileSync(big, `{"pad":"${'x'.repeat(7 * 1024 * 1024)}"}`);
    const result = run(big);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/cannot read the event file .*big\.json.*(too large|larger)/);
  });

  it('escapes terminal controls and bidi overrides that come from the event, in its one-line error', () => {
    const event = readEvent('events/alarm-triage/crawled-instance.json') as Record<string, Json>;
    event.detail.alarmName = '\u001b]0;owned\u0007\u001b[2J\u202egnp.exe';
    const hostile = join(dir, 'hostile.json');
    writeFileSync(hostile, JSON.stringify(event));
    const result = run(hostile);
    expect(result.status).toBe(1);
    for (const control of ['\u001b', '\u0007', '\u202e']) expect(result.stderr).not.toContain(control);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
