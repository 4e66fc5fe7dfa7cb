import {
  CancelCommandCommand,
  DescribeDocumentCommand,
  DuplicateInstanceId,
  GetCommandInvocationCommand,
  InvalidCommandId,
  InvalidDocument,
  InvalidDocumentVersion,
  InvalidFilterKey,
  InvalidInstanceId,
  InvalidParameters,
  InvalidPluginName,
  InvocationDoesNotExist,
  ListCommandsCommand,
  SendCommandCommand,
  type SendCommandCommandInput,
  ThrottlingException,
} from '@aws-sdk/client-ssm';
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulatedFleet, SIMULATED_START, type SimulatedFleet, WELL_KNOWN } from '#shared/sim/fleet.ts';
import { demoHosts } from '#shared/sim/host-rosters.ts';
import { DAY, HOUR, hostSpec } from './host-support.ts';
import { documentName, follow, hostFleet, idOf, run, send } from './run-command-support.ts';

let fleet: SimulatedFleet | undefined;
afterEach(() => {
  fleet?.restore();
  fleet = undefined;
});
const install = (make: () => SimulatedFleet = () => hostFleet()) => {
  fleet = make();
  return fleet;
};

const base = (instanceId: string): SendCommandCommandInput => ({
  DocumentName: documentName('patch-updatedb-conf'),
  DocumentVersion: '1',
  InstanceIds: [instanceId],
  Parameters: { Mode: ['check'] },
  TimeoutSeconds: 600,
  Comment: 'ep-1',
});

describe('SendCommand enforces the real API', () => {
  const refusals: [string, (id: string) => Partial<SendCommandCommandInput>, string, RegExp][] = [
    [
      'more than 50 instances',
      (id) => ({
        InstanceIds: [id, ...Array.from({ length: 50 }, (_, i) => `i-0${String(i).padStart(16, '0')}`)],
      }),
      'ValidationException',
      /less than or equal to 50/,
    ],
    [
      'a Comment over 100 characters',
      () => ({ Comment: 'x'.repeat(101) }),
      'ValidationException',
      /at 'comment'.*less than or equal to 100/,
    ],
    [
      'TimeoutSeconds under 30',
      () => ({ TimeoutSeconds: 29 }),
      'ValidationException',
      /greater than or equal to 30/,
    ],
    [
      'TimeoutSeconds over 30 days',
      () => ({ TimeoutSeconds: 2_592_001 }),
      'ValidationException',
      /less than or equal to 2592000/,
    ],
    [
      'a document version that does not exist',
      () => ({ DocumentVersion: '7' }),
      'InvalidDocumentVersion',
      /version 7/,
    ],
    [
      'a malformed document version',
      () => ({ DocumentVersion: 'v1' }),
      'ValidationException',
      /documentVersion/,
    ],
    [
      'a document the account does not have',
      () => ({ DocumentName: 'crawlguard-fix' }),
      'InvalidDocument',
      /crawlguard-fix/,
    ],
    [
      'a parameter the document does not declare',
      () => ({ Parameters: { Mode: ['check'], Force: ['yes'] } }),
      'InvalidParameters',
      /"Force"/,
    ],
    [
      'a value its allowedPattern refuses',
      () => ({ Parameters: { Mode: ['APPLY'] } }),
      'InvalidParameters',
      /\^\(check\|apply\)\$/,
    ],
    [
      'a path with a trailing slash',
      () => ({ Parameters: { PrunePaths: ['/srv/media/'] } }),
      'InvalidParameters',
      /PrunePaths/,
    ],
    [
      'a hostile value',
      () => ({ Parameters: { PruneFsTypes: ['fuse.s3fs;reboot'] } }),
      'InvalidParameters',
      /PruneFsTypes/,
    ],
    [
      'two values for a String',
      () => ({ Parameters: { Mode: ['check', 'apply'] } }),
      'InvalidParameters',
      /exactly one value/,
    ],
    ['a malformed instance id', () => ({ InstanceIds: ['i-123'] }), 'ValidationException', /instanceIds/],
    ['the same instance twice', (id) => ({ InstanceIds: [id, id] }), 'DuplicateInstanceId', /Duplicate/],
    [
      'an unknown instance',
      () => ({ InstanceIds: ['i-0ffffffffffffffff'] }),
      'InvalidInstanceId',
      /not in a valid state for account 123456789012/,
    ],
    ['a bad MaxConcurrency', () => ({ MaxConcurrency: '0' }), 'ValidationException', /maxConcurrency/],
  ];

  it.each(refusals)('refuses %s with %s, and starts nothing', async (_, change, name, message) => {
    const f = install();
    const id = idOf(f, 'cron-media-1');
    const host = f.hosts.get(id);
    await expect(
      f.clients.ssm.send(new SendCommandCommand({ ...base(id), ...change(id) })),
    ).rejects.toMatchObject({
      name,
      message: expect.stringMatching(message),
    });
    expect(f.requests.at(-1)).toMatchObject({ command: 'SendCommand', outcome: name });
    expect(f.runCommand.commands).toEqual([]);
    expect(host?.version).toBe(0);
  });

  it('raises the SDK’s own exception classes', async () => {
    const f = install();
    const id = idOf(f, 'cron-media-1');
    const send = (input: Partial<SendCommandCommandInput>) =>
      f.clients.ssm.send(new SendCommandCommand({ ...base(id), ...input }));
    await expect(send({ DocumentVersion: '9' })).rejects.toBeInstanceOf(InvalidDocumentVersion);
    await expect(send({ DocumentName: 'crawlguard-nope' })).rejects.toBeInstanceOf(InvalidDocument);
    await expect(send({ Parameters: { Nope: ['x'] } })).rejects.toBeInstanceOf(InvalidParameters);
    await expect(send({ InstanceIds: [id, id] })).rejects.toBeInstanceOf(DuplicateInstanceId);
    await expect(send({ InstanceIds: [idOf(f, 'unmanaged')] })).rejects.toBeInstanceOf(InvalidInstanceId);
  });

  it('accepts the limits themselves: 100 characters, 30 s, $LATEST, no parameters (defaults)', async () => {
    const f = install();
    const id = idOf(f, 'cron-media-1');
    const sent = await f.clients.ssm.send(
      new SendCommandCommand({
        ...base(id),
        Comment: 'c'.repeat(100),
        TimeoutSeconds: 30,
        DocumentVersion: '$LATEST',
        Parameters: {},
      }),
    );
    expect(sent.Command).toMatchObject({
      Status: 'Pending',
      Comment: 'c'.repeat(100),
      DocumentVersion: '$LATEST',
      InstanceIds: [id],
      TimeoutSeconds: 30,
      MaxConcurrency: '50',
      MaxErrors: '0',
      TargetCount: 1,
    });
    expect(f.runCommand.commands[0]?.resolved).toEqual({
      Mode: 'check',
      PruneFsTypes: 'fuse.s3fs',
      PrunePaths: '',
    });
  });

  it('refuses instances SSM cannot reach (unmanaged, agent offline, terminated); accepts a stopped one', async () => {
    const f = install();
    for (const name of ['unmanaged', 'agent-connection-lost']) {
      await expect(f.clients.ssm.send(new SendCommandCommand(base(idOf(f, name))))).rejects.toMatchObject({
        name: 'InvalidInstanceId',
      });
    }
    const terminated = idOf(f, 'terminated-mid-run');
    f.clock.advance(3 * HOUR);
    await expect(f.clients.ssm.send(new SendCommandCommand(base(terminated)))).rejects.toMatchObject({
      name: 'InvalidInstanceId',
    });
    // SendCommand's documentation lists stopped as a valid state: the command waits for delivery.
    const stopped = idOf(f, 'stops-mid-run');
    expect(f.stateOf(stopped)).toBe('stopped');
    await expect(f.clients.ssm.send(new SendCommandCommand(base(stopped)))).resolves.toMatchObject({
      Command: { Status: 'Pending' },
    });
  });

  it('says plainly that scenario-family instances have no host to run on', async () => {
    const f = install(() => createSimulatedFleet({ instances: 0 }));
    await expect(f.clients.ssm.send(new SendCommandCommand(base(WELL_KNOWN.crawled)))).rejects.toMatchObject({
      name: 'NotSimulated',
      message: expect.stringContaining('no host model'),
    });
  });

  it('throttles above its quota in a second of simulated time, and under injected faults', async () => {
    const f = install();
    const id = idOf(f, 'cron-media-1');
    const results = await Promise.allSettled(
      Array.from({ length: 14 }, () => f.clients.ssm.send(new SendCommandCommand(base(id)))),
    );
    const throttled = results.filter((r) => r.status === 'rejected');
    expect(throttled.length).toBeGreaterThan(0);
    for (const r of throttled)
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ThrottlingException);
    expect(f.runCommand.commands).toHaveLength(14 - throttled.length);
    f.inject({
      command: 'GetCommandInvocation',
      times: 2,
      error: () =>
        new ThrottlingException({
          $metadata: { httpStatusCode: 400 },
          message: 'Rate exceeded',
          Message: 'Rate exceeded',
        }),
    });
    const commandId = f.runCommand.commands[0]?.commandId ?? '';
    const get = () =>
      f.clients.ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: id }));
    await expect(get()).rejects.toBeInstanceOf(ThrottlingException);
    await expect(get()).rejects.toBeInstanceOf(ThrottlingException);
    await f.clock.sleep(2_000);
    await expect(get()).resolves.toMatchObject({ CommandId: commandId });
    expect(f.requests.filter((r) => r.command === 'GetCommandInvocation').map((r) => r.outcome)).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      'ok',
    ]);
  });
});

describe('an invocation over simulated time', () => {
  it('InvocationDoesNotExist at first, then Pending, InProgress and Success with the exit code and the JSON', async () => {
    const f = install();
    const id = idOf(f, 'cron-media-1');
    const commandId = await send(f, id, 'diagnose');
    const early = f.clients.ssm.send(
      new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: id }),
    );
    await expect(early).rejects.toBeInstanceOf(InvocationDoesNotExist);
    const pending = await (async () => {
      for (;;) {
        await f.clock.sleep(200);
        try {
          return await f.clients.ssm.send(
            new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: id }),
          );
        } catch {}
      }
    })();
    expect(pending).toMatchObject({
      Status: 'Pending',
      ResponseCode: -1,
      ExecutionStartDateTime: '',
      StandardOutputContent: '',
      Comment: 'test-diagnose',
      DocumentName: 'crawlguard-diagnose',
      DocumentVersion: '1',
      PluginName: 'diagnose',
    });
    const { statuses, result } = await follow(f, commandId, id, 200);
    expect(statuses).toEqual(['Pending/Pending', 'InProgress/InProgress', 'Success/Success']);
    expect(result.ResponseCode).toBe(0);
    expect(JSON.parse(result.StandardOutputContent ?? '')).toMatchObject({
      document: 'crawlguard-diagnose',
      status: 'ok',
    });
    expect(Date.parse(result.ExecutionEndDateTime ?? '')).toBeGreaterThan(
      Date.parse(result.ExecutionStartDateTime ?? ''),
    );
    expect(result.ExecutionElapsedTime).toMatch(/^PT\d+\.\d{3}S$/);
    expect(result.StandardErrorContent).toBe('');
  });

  it('a non-zero exit is Failed with the exit code as ResponseCode and the JSON intact (exit 4: refused)', async () => {
    const f = install();
    const { statuses, result, output } = await run(f, idOf(f, 'conf-symlink'), 'patch-updatedb-conf', {
      Mode: 'apply',
    });
    expect(statuses.at(-1)).toBe('Failed/Failed');
    expect(result.ResponseCode).toBe(4);
    expect(output).toMatchObject({
      status: 'refused',
      exitCode: 4,
      reason: '/etc/updatedb.conf is a symbolic link: edit its target by hand',
    });
    expect(result.StandardErrorContent).toBe('failed to run commands: exit status 4');
  });

  it('waits (Delayed) for a stopped instance, then DeliveryTimedOut when the command expires', async () => {
    const f = install();
    f.clock.advance(2 * HOUR);
    const id = idOf(f, 'stops-mid-run');
    const sentAt = f.clock.now();
    const commandId = await send(f, id, 'diagnose', {}, { TimeoutSeconds: 60 });
    const { statuses, result } = await follow(f, commandId, id, 250);
    expect(statuses).toEqual([
      'InvocationDoesNotExist',
      'Pending/Pending',
      'Delayed/Delayed',
      'TimedOut/DeliveryTimedOut',
    ]);
    expect(result.ResponseCode).toBe(-1);
    expect(result.ExecutionStartDateTime).toBe('');
    // Expiry: TimeoutSeconds plus the step's timeoutSeconds (120 s for diagnose).
    const expires = f.runCommand.commands[0]?.expiresAt ?? 0;
    expect(expires - sentAt).toBe((60 + 120) * 1000);
    expect(f.clock.now()).toBeGreaterThanOrEqual(expires);
  });

  it('delivers to an instance that starts again before the command expires', async () => {
    const start = SIMULATED_START;
    const f = install(() =>
      hostFleet([hostSpec({ quirks: { stopsAtMs: start + 60_000, startsAgainAtMs: start + 10 * 60_000 } })]),
    );
    f.clock.advance(5 * 60_000);
    const { statuses } = await run(f, 'i-0aaaabbbbccccdddd', 'diagnose');
    expect(statuses).toEqual([
      'InvocationDoesNotExist',
      'Pending/Pending',
      'Delayed/Delayed',
      'InProgress/InProgress',
      'Success/Success',
    ]);
  });

  it('a script that hangs is ExecutionTimedOut at its step timeout, ResponseCode 137', async () => {
    const f = install(() => hostFleet([hostSpec({ quirks: { hangs: ['diagnose'] } })]));
    const sentAt = f.clock.now();
    const { statuses, result } = await run(f, 'i-0aaaabbbbccccdddd', 'diagnose');
    expect(statuses.slice(-2)).toEqual(['InProgress/InProgress', 'TimedOut/ExecutionTimedOut']);
    expect(result.ResponseCode).toBe(137);
    expect(result.StandardOutputContent).toBe('');
    const elapsed =
      Date.parse(result.ExecutionEndDateTime ?? '') - Date.parse(result.ExecutionStartDateTime ?? '');
    expect(elapsed).toBe(120_000);
    expect(f.clock.now() - sentAt).toBeLessThan(130_000);
  });

  it('CancelCommand: Cancelling, then Cancelled; a pending patch never runs', async () => {
    const f = install();
    const id = idOf(f, 'cron-media-1');
    const commandId = await send(f, id, 'patch-updatedb-conf', { Mode: 'apply' });
    await f.clients.ssm.send(new CancelCommandCommand({ CommandId: commandId }));
    const { statuses, result } = await follow(f, commandId, id, 100);
    expect(statuses).toEqual(['InvocationDoesNotExist', 'Cancelling/Cancelling', 'Cancelled/Cancelled']);
    expect(result.ResponseCode).toBe(-1);
    await f.clock.sleep(60_000);
    expect(f.hosts.get(id)?.configAt(f.clock.now()).kind).toBe('file');
    expect(f.hosts.get(id)?.version).toBe(0);
  });

  it('CancelCommand on a running restart kills it: whatever the script did so far stays, nothing after', async () => {
    const f = install();
    const id = idOf(f, 'cron-media-1');
    const commandId = await send(f, id, 'restart-s3fs', { Mode: 'apply' });
    for (;;) {
      await f.clock.sleep(100);
      f.runCommand.settle();
      if (f.runCommand.invocation(commandId, id)?.startedAt !== null) break;
    }
    await f.clients.ssm.send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: [id] }));
    const { statuses, result } = await follow(f, commandId, id, 100);
    const invocation = f.runCommand.invocation(commandId, id);
    expect(statuses).toContain('Cancelling/Cancelling');
    const host = f.hosts.get(id);
    const mount = host?.mountsAt(f.clock.now())[0];
    if (statuses.at(-1) === 'Cancelled/Cancelled') {
      expect(result.ResponseCode).toBe(137);
      // Killed between its umount and its mount: the mount is missing (an outage), else it is as it was.
      const half =
        invocation?.applied.includes('umount /srv/media') && !invocation.applied.includes('mount /srv/media');
      expect(mount?.mounted).toBe(!half);
    } else {
      // The script finished before the agent killed it.
      expect(statuses.at(-1)).toBe('Success/Success');
      expect(invocation?.applied).toEqual(['umount /srv/media', 'mount /srv/media']);
    }
  });

  it('ListCommands finds an earlier command of an instance with its Comment, document, version, status and time', async () => {
    const f = install();
    const id = idOf(f, 'cron-media-1');
    const other = idOf(f, 'timer-debian-1');
    const first = await run(f, id, 'diagnose', {}, { Comment: 'i-x-1 diagnose' });
    await send(f, other, 'diagnose', {}, { Comment: 'elsewhere' });
    const second = await send(f, id, 'patch-updatedb-conf', { Mode: 'check' }, { Comment: 'i-x-1 patch' });
    const listed = await f.clients.ssm.send(new ListCommandsCommand({ InstanceId: id }));
    expect(
      listed.Commands?.map((c) => [c.CommandId, c.Comment, c.DocumentName, c.DocumentVersion, c.Status]),
    ).toEqual([
      [second, 'i-x-1 patch', 'crawlguard-patch-updatedb-conf', '1', 'Pending'],
      [first.commandId, 'i-x-1 diagnose', 'crawlguard-diagnose', '1', 'Success'],
    ]);
    expect(listed.Commands?.[1]?.RequestedDateTime).toBeInstanceOf(Date);
    const byDocument = await f.clients.ssm.send(
      new ListCommandsCommand({
        InstanceId: id,
        Filters: [
          { key: 'DocumentName', value: 'crawlguard-diagnose' },
          { key: 'InvokedAfter', value: new Date(SIMULATED_START).toISOString() },
        ],
      }),
    );
    expect(byDocument.Commands?.map((c) => c.CommandId)).toEqual([first.commandId]);
    const one = await f.clients.ssm.send(new ListCommandsCommand({ CommandId: first.commandId }));
    expect(one.Commands).toHaveLength(1);
    const page = await f.clients.ssm.send(new ListCommandsCommand({ MaxResults: 1 }));
    expect(page.Commands).toHaveLength(1);
    const rest = await f.clients.ssm.send(
      new ListCommandsCommand({ MaxResults: 50, NextToken: page.NextToken }),
    );
    expect(rest.Commands).toHaveLength(2);
  });

  it('GetCommandInvocation, ListCommands and CancelCommand refuse what the API refuses', async () => {
    const f = install();
    const id = idOf(f, 'cron-media-1');
    const { commandId } = await run(f, id, 'diagnose');
    const ssm = f.clients.ssm;
    await expect(
      ssm.send(new GetCommandInvocationCommand({ CommandId: 'short', InstanceId: id })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(
      ssm.send(
        new GetCommandInvocationCommand({
          CommandId: '00000000-0000-4000-8000-000000000000',
          InstanceId: id,
        }),
      ),
    ).rejects.toBeInstanceOf(InvocationDoesNotExist);
    await expect(
      ssm.send(
        new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: idOf(f, 'timer-debian-1') }),
      ),
    ).rejects.toBeInstanceOf(InvocationDoesNotExist);
    await expect(
      ssm.send(
        new GetCommandInvocationCommand({
          CommandId: commandId,
          InstanceId: id,
          PluginName: 'aws:runShellScript',
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidPluginName);
    await expect(ssm.send(new ListCommandsCommand({ MaxResults: 51 }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    await expect(
      ssm.send(new ListCommandsCommand({ Filters: [{ key: 'Comment' as never, value: 'x' }] })),
    ).rejects.toBeInstanceOf(InvalidFilterKey);
    await expect(
      ssm.send(new ListCommandsCommand({ CommandId: '00000000-0000-4000-8000-000000000000' })),
    ).rejects.toBeInstanceOf(InvalidCommandId);
    await expect(
      ssm.send(new CancelCommandCommand({ CommandId: '00000000-0000-4000-8000-000000000000' })),
    ).rejects.toBeInstanceOf(InvalidCommandId);
    // A finished command keeps its status when cancelled.
    await ssm.send(new CancelCommandCommand({ CommandId: commandId }));
    await f.clock.sleep(5_000);
    await expect(
      ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: id })),
    ).resolves.toMatchObject({ Status: 'Success' });
  });

  it('sends the full output to CloudWatch Logs and cuts GetCommandInvocation at 24,000 characters', async () => {
    const banner = `${'motd '.repeat(6_000)}\n`;
    const f = install(() => hostFleet([hostSpec({ quirks: { noisyShell: banner } })]));
    const { result, commandId } = await run(
      f,
      'i-0aaaabbbbccccdddd',
      'diagnose',
      {},
      {
        CloudWatchOutputConfig: {
          CloudWatchOutputEnabled: true,
          CloudWatchLogGroupName: '/crawlguard/run-command',
        },
      },
    );
    expect(result.StandardOutputContent).toHaveLength(24_000);
    const log = f.runCommand.cloudWatchLogs.find(
      (l) => l.logStream === `${commandId}/i-0aaaabbbbccccdddd/diagnose/stdout`,
    );
    expect(log?.logGroup).toBe('/crawlguard/run-command');
    expect(log?.text.length).toBeGreaterThan(30_000);
    expect(log?.text.startsWith(banner)).toBe(true);
  });
});

describe('DescribeDocument and versions', () => {
  it('reports the version, default, latest, hash and parameters; a new version becomes the default', async () => {
    const f = install();
    const describe = (version?: string) =>
      f.clients.ssm.send(
        new DescribeDocumentCommand({ Name: 'crawlguard-restart-s3fs', DocumentVersion: version }),
      );
    const first = (await describe()).Document;
    expect(first).toMatchObject({
      Name: 'crawlguard-restart-s3fs',
      DocumentVersion: '1',
      DefaultVersion: '1',
      LatestVersion: '1',
      Status: 'Active',
      DocumentType: 'Command',
      SchemaVersion: '2.2',
      HashType: 'Sha256',
      PlatformTypes: ['Linux'],
    });
    expect(first?.Hash).toMatch(/^[0-9a-f]{64}$/);
    expect(first?.Parameters?.map((p) => [p.Name, p.DefaultValue])).toEqual([
      ['Mounts', ''],
      ['Mode', 'check'],
    ]);
    expect(f.runCommand.publishVersion('restart-s3fs')).toBe('2');
    const second = (await describe()).Document;
    expect(second).toMatchObject({ DocumentVersion: '2', DefaultVersion: '2', LatestVersion: '2' });
    expect(second?.Hash).not.toBe(first?.Hash);
    expect((await describe('1')).Document?.Hash).toBe(first?.Hash);
    await expect(describe('3')).rejects.toBeInstanceOf(InvalidDocumentVersion);
    await expect(
      f.clients.ssm.send(new DescribeDocumentCommand({ Name: 'AWS-RunShellScript' })),
    ).rejects.toBeInstanceOf(InvalidDocument);
    // A command pinned to version 1 still runs it.
    const { result } = await run(f, idOf(f, 'cron-media-1'), 'restart-s3fs', { Mode: 'check' });
    expect(result).toMatchObject({ DocumentVersion: '1', Status: 'Success' });
  });
});

describe('faults injected on Run Command', () => {
  const cases: [string, string, string, number][] = [
    ['Undeliverable', 'diagnose', 'Failed/Undeliverable', -1],
    ['DeliveryTimedOut', 'diagnose', 'TimedOut/DeliveryTimedOut', -1],
    ['ExecutionTimedOut', 'patch-updatedb-conf', 'TimedOut/ExecutionTimedOut', 137],
    ['FailedGarbage', 'patch-updatedb-conf', 'Failed/Failed', 139],
    ['Cancelled', 'restart-s3fs', 'Cancelled/Cancelled', -1],
    ['Terminated', 'restart-s3fs', 'Failed/Terminated', -1],
  ];

  it.each(cases)(
    '%s on %s ends as %s (ResponseCode %d), changes nothing, and is logged when seen',
    async (outcome, short, final, code) => {
      const f = install();
      const id = idOf(f, 'cron-media-1');
      f.runCommand.failNext({ outcome: outcome as never, instanceId: id, document: short, times: 1 });
      const parameters: Record<string, string> = short === 'diagnose' ? {} : { Mode: 'apply' };
      const { statuses, result, commandId } = await run(f, id, short, parameters, { TimeoutSeconds: 60 });
      expect(statuses.at(-1)).toBe(final);
      expect(result.ResponseCode).toBe(code);
      if (outcome === 'FailedGarbage') {
        expect(() => JSON.parse(result.StandardOutputContent ?? '')).toThrow();
        expect(result.StandardOutputContent).toMatch(/^\{"document":"crawlguard-patch-updatedb-conf"/);
        expect(result.StandardErrorContent).toMatch(/Segmentation fault/);
      }
      if (outcome === 'Cancelled') expect(statuses).toContain('Cancelling/Cancelling');
      expect(f.hosts.get(id)?.version).toBe(0);
      expect(f.runCommand.faultLog).toEqual([
        expect.objectContaining({ outcome, commandId, instanceId: id, observedAt: expect.any(Number) }),
      ]);
      // The next command is not affected.
      const again = await run(f, id, 'diagnose');
      expect(again.statuses.at(-1)).toBe('Success/Success');
    },
  );

  it('SlowToAppear: InvocationDoesNotExist for 45 s instead of a moment, then the usual run', async () => {
    const f = install();
    const id = idOf(f, 'cron-media-1');
    f.runCommand.failNext({ outcome: 'SlowToAppear', times: 1 });
    const sentAt = f.clock.now();
    const commandId = await send(f, id, 'diagnose');
    const { statuses } = await follow(f, commandId, id, 1_000);
    expect(statuses[0]).toBe('InvocationDoesNotExist');
    expect(statuses.at(-1)).toBe('Success/Success');
    const missing = f.requests.filter(
      (r) => r.command === 'GetCommandInvocation' && r.outcome === 'InvocationDoesNotExist',
    );
    expect(missing.length).toBeGreaterThanOrEqual(40);
    expect(f.runCommand.invocation(commandId, id)?.visibleAt).toBe(sentAt + 45_000);
    expect(f.runCommand.faultLog[0]?.observedAt).toBeLessThan(sentAt + 45_000);
  });

  it('matches faults by instance and document, and counts them down', async () => {
    const f = install();
    const a = idOf(f, 'cron-media-1');
    const b = idOf(f, 'timer-debian-1');
    f.runCommand.failNext({
      outcome: 'Undeliverable',
      instanceId: a,
      document: 'crawlguard-restart-s3fs',
      times: 2,
    });
    expect((await run(f, a, 'diagnose')).statuses.at(-1)).toBe('Success/Success');
    expect((await run(f, b, 'restart-s3fs')).statuses.at(-1)).toBe('Success/Success');
    expect((await run(f, a, 'restart-s3fs')).statuses.at(-1)).toBe('Failed/Undeliverable');
    expect((await run(f, a, 'restart-s3fs')).statuses.at(-1)).toBe('Failed/Undeliverable');
    expect((await run(f, a, 'restart-s3fs')).statuses.at(-1)).toBe('Success/Success');
    expect(f.runCommand.faultLog).toHaveLength(2);
  });

  it('a patch that hangs holds the lock: a second patch on the host meanwhile is busy (exit 3)', async () => {
    const f = install();
    const id = idOf(f, 'cron-media-1');
    f.runCommand.failNext({ outcome: 'ExecutionTimedOut', document: 'patch-updatedb-conf', times: 1 });
    const hung = await send(f, id, 'patch-updatedb-conf', { Mode: 'apply' });
    await f.clock.sleep(10_000);
    const second = await run(f, id, 'patch-updatedb-conf', { Mode: 'apply' });
    expect(second.result.ResponseCode).toBe(3);
    expect(second.output).toMatchObject({
      status: 'busy',
      reason: 'another crawlguard patch run holds the lock',
    });
    expect((await follow(f, hung, id, 5_000)).statuses.at(-1)).toBe('TimedOut/ExecutionTimedOut');
    // Once the lock is free, the patch goes through.
    expect((await run(f, id, 'patch-updatedb-conf', { Mode: 'apply' })).output).toMatchObject({
      status: 'patched',
    });
  });

  it('a restart that hangs after its umount leaves the mount missing: an outage the next diagnose shows', async () => {
    const f = install(() => hostFleet([hostSpec({ quirks: { hangs: ['restart-s3fs'] } })]));
    const id = 'i-0aaaabbbbccccdddd';
    const { statuses } = await run(f, id, 'restart-s3fs', { Mode: 'apply' });
    expect(statuses.at(-1)).toBe('TimedOut/ExecutionTimedOut');
    const diagnosis = await run(f, id, 'diagnose');
    expect(diagnosis.output).toMatchObject({ summary: { s3fsMounts: 0 }, mounts: [], s3fsProcesses: [] });
  });

  it('an injected hang leaves a restart at its start, or (leavesUnmounted) after its umount', async () => {
    const f = install();
    const id = idOf(f, 'cron-media-1');
    f.runCommand.failNext({ outcome: 'ExecutionTimedOut', document: 'restart-s3fs', times: 1 });
    expect((await run(f, id, 'restart-s3fs', { Mode: 'apply' })).statuses.at(-1)).toBe(
      'TimedOut/ExecutionTimedOut',
    );
    expect(f.hosts.get(id)?.mountsAt(f.clock.now())[0]?.mounted).toBe(true);
    f.runCommand.failNext({
      outcome: 'ExecutionTimedOut',
      document: 'restart-s3fs',
      times: 1,
      leavesUnmounted: true,
    });
    expect((await run(f, id, 'restart-s3fs', { Mode: 'apply' })).statuses.at(-1)).toBe(
      'TimedOut/ExecutionTimedOut',
    );
    const check = await run(f, id, 'restart-s3fs', { Mode: 'check', Mounts: '/srv/media' });
    expect(check.result.ResponseCode).toBe(1);
    expect(check.output).toMatchObject({
      status: 'failed',
      mounts: [
        {
          mountPoint: '/srv/media',
          status: 'notMounted',
          reason: '/srv/media is not mounted: if it should be, this is an outage',
        },
      ],
    });
  });
});

describe('the fleet without hosts', () => {
  it('keeps its scenario instances and metrics as they were', () => {
    const a = createSimulatedFleet({ instances: 30, seed: 3 });
    const b = createSimulatedFleet({ instances: 30, seed: 3, hosts: demoHosts(3, SIMULATED_START) });
    try {
      expect(b.instances.slice(0, a.instances.length)).toEqual(a.instances);
      expect(b.instances.length - a.instances.length).toBe(demoHosts(3, SIMULATED_START).length);
      expect(a.hosts.size).toBe(0);
      expect(() =>
        createSimulatedFleet({
          hosts: [demoHosts(3, SIMULATED_START)[0], demoHosts(3, SIMULATED_START)[0]] as never,
        }),
      ).toThrow(/already has an instance/);
    } finally {
      a.restore();
      b.restore();
    }
    expect(DAY).toBe(86_400_000);
  });
});
