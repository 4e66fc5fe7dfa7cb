import { describe, expect, it } from 'vitest';
import {
  adoptEarlier,
  type CommandStep,
  commandComment,
  DEFAULT_COMMAND_LIMITS,
  interpretInvocation,
  nextPoll,
  nextRetry,
} from '#core/remediation/command.ts';

const out = (fields: Record<string, unknown>) =>
  JSON.stringify({ document: 'x', outputVersion: 1, ...fields });
const ran = (step: CommandStep, status: string, exitCode: number, extra: Record<string, unknown> = {}) =>
  interpretInvocation(step, {
    Status: exitCode === 0 ? 'Success' : 'Failed',
    ResponseCode: exitCode,
    StandardOutputContent: out({ status, exitCode, ...extra }),
  });

describe('interpretInvocation', () => {
  it.each(['Pending', 'InProgress', 'Delayed', 'Cancelling'])('%s is still pending', (Status) => {
    expect(interpretInvocation('patch', { Status })).toMatchObject({ outcome: 'pending' });
  });

  it.each<[CommandStep, string, number, string]>([
    ['diagnose', 'ok', 0, 'succeeded'],
    ['diagnose', 'failed', 1, 'failed'],
    ['patch', 'patched', 0, 'succeeded'],
    ['patch', 'alreadyCompliant', 0, 'succeeded'],
    ['patch', 'nonCompliant', 0, 'succeeded'],
    ['patch', 'notInstalled', 0, 'succeeded'],
    ['patch', 'failed', 1, 'failed'],
    ['patch', 'badParameters', 2, 'bad-parameters'],
    ['patch', 'busy', 3, 'busy'],
    ['patch', 'refused', 4, 'refused'],
    ['restart', 'restarted', 0, 'succeeded'],
    ['restart', 'checked', 0, 'succeeded'],
    ['restart', 'nothingToDo', 0, 'succeeded'],
    ['restart', 'failed', 1, 'failed'],
    ['restart', 'badParameters', 2, 'bad-parameters'],
    ['restart', 'deferred', 3, 'deferred'],
    ['restart', 'refused', 4, 'refused'],
  ])('%s status %s (exit %i) is %s, from the JSON and the exit code', (step, status, code, outcome) => {
    const result = ran(step, status, code, { reason: 'why' });
    expect(result).toMatchObject({ outcome, scriptStatus: status, exitCode: code });
    expect(result.output).toMatchObject({ status });
  });

  it('reads exit codes 3 and 4 from a Failed command as the script meant them, not as failures', () => {
    expect(ran('restart', 'deferred', 3).outcome).toBe('deferred');
    expect(ran('patch', 'refused', 4).outcome).toBe('refused');
  });

  it.each([
    ['not JSON', 'Traceback (most recent call last):'],
    ['two objects', '{"status":"patched","exitCode":0}{"status":"failed"}'],
    ['an array', '[{"status":"patched","exitCode":0}]'],
    ['nothing', ''],
    [
      'cut at 24,000 characters',
      `{"status":"patched","exitCode":0,"reason":"${'x'.repeat(30_000)}`.slice(0, 24_000),
    ],
  ])('output that is %s is inconclusive, whatever SSM says', (_, text) => {
    for (const Status of ['Success', 'Failed'])
      expect(
        interpretInvocation('patch', { Status, ResponseCode: 0, StandardOutputContent: text }),
      ).toMatchObject({
        outcome: 'inconclusive',
        output: null,
      });
  });

  it('is inconclusive when SSM and the script disagree on the exit code, or the status is unknown', () => {
    expect(
      interpretInvocation('patch', {
        Status: 'Success',
        ResponseCode: 0,
        StandardOutputContent: out({ status: 'patched', exitCode: 1 }),
      }),
    ).toMatchObject({ outcome: 'inconclusive' });
    expect(
      interpretInvocation('patch', {
        Status: 'Failed',
        ResponseCode: 0,
        StandardOutputContent: out({ status: 'patched', exitCode: 0 }),
      }),
    ).toMatchObject({ outcome: 'inconclusive' });
    expect(ran('patch', 'restarted', 0)).toMatchObject({ outcome: 'inconclusive' });
    expect(interpretInvocation('patch', { Status: 'Exploded' })).toMatchObject({ outcome: 'inconclusive' });
  });

  it.each([
    [{ Status: 'Failed', StatusDetails: 'Undeliverable', ResponseCode: -1 }, 'undeliverable'],
    [{ Status: 'Failed', StatusDetails: 'Terminated', ResponseCode: -1 }, 'undeliverable'],
    [{ Status: 'TimedOut', StatusDetails: 'DeliveryTimedOut', ResponseCode: -1 }, 'delivery-timed-out'],
    [{ Status: 'TimedOut', StatusDetails: 'Delivery Timed Out', ResponseCode: -1 }, 'delivery-timed-out'],
    [{ Status: 'TimedOut', StatusDetails: 'ExecutionTimedOut', ResponseCode: -1 }, 'timed-out'],
    [{ Status: 'Cancelled', StatusDetails: 'Cancelled', ResponseCode: -1 }, 'cancelled'],
  ])('%j is %s', (invocation, outcome) => {
    expect(interpretInvocation('restart', invocation)).toMatchObject({ outcome, output: null });
  });

  it('keeps hostile text out of its reason beyond a bound', () => {
    const result = ran('patch', 'refused', 4, { reason: `\u001b]0;pwned\u0007${'x'.repeat(10_000)}` });
    expect(result.reason.length).toBeLessThan(400);
  });
});

describe('polling and retries', () => {
  const NOW = Date.parse('2026-11-04T13:00:00.000Z');
  const at = (s: number) => new Date(NOW + s * 1000).toISOString();

  it('polls after 3, 5, 10, 15 then every 30 s, and gives up at the bound', () => {
    expect([0, 1, 2, 3, 4, 10].map((n) => nextPoll(n, NOW, DEFAULT_COMMAND_LIMITS))).toEqual([
      at(3),
      at(5),
      at(10),
      at(15),
      at(30),
      at(30),
    ]);
    expect(nextPoll(DEFAULT_COMMAND_LIMITS.maxPolls, NOW, DEFAULT_COMMAND_LIMITS)).toBeNull();
  });

  it('keeps a whole command (40 polls) well under SSM’s 600-s execution timeout plus a margin', () => {
    let total = 0;
    for (let n = 0; n < DEFAULT_COMMAND_LIMITS.maxPolls; n += 1)
      total = (Date.parse(nextPoll(n, NOW + total * 1000, DEFAULT_COMMAND_LIMITS) ?? '') - NOW) / 1000;
    expect(total).toBeGreaterThan(600);
    expect(total).toBeLessThan(1300);
  });

  it('retries busy after minutes and deferred after up to an hour, a bounded number of times', () => {
    expect(nextRetry('busy', 0, NOW, DEFAULT_COMMAND_LIMITS)).toBe(at(60));
    expect(nextRetry('deferred', 2, NOW, DEFAULT_COMMAND_LIMITS)).toBe(at(3600));
    expect(nextRetry('deferred', 3, NOW, DEFAULT_COMMAND_LIMITS)).toBeNull();
  });
});

describe('commands by their Comment', () => {
  it('names a command by execution, step and attempt, within SSM’s 100 characters', () => {
    expect(commandComment('i-0123456789abcdef0-3', 'patch', 1)).toBe(
      'crawlguard i-0123456789abcdef0-3 patch 1',
    );
    expect(commandComment('x'.repeat(200), 'patch', 1)).toHaveLength(100);
  });

  it('adopts the newest earlier command with exactly that Comment, or none', () => {
    const comment = commandComment('i-0123456789abcdef0-3', 'patch', 1);
    const commands = [
      { CommandId: 'a', Comment: comment, RequestedDateTime: new Date('2026-11-04T13:00:00Z') },
      { CommandId: 'b', Comment: `${comment}0`, RequestedDateTime: new Date('2026-11-04T13:05:00Z') },
      { CommandId: 'c', Comment: comment, RequestedDateTime: '2026-11-04T13:01:00Z' },
      { CommandId: 'd', Comment: 'crawlguard i-0123456789abcdef0-3 patch 2' },
    ];
    expect(adoptEarlier(commands, comment)).toBe('c');
    expect(adoptEarlier(commands, commandComment('i-0123456789abcdef0-3', 'restart', 1))).toBeNull();
    expect(adoptEarlier([], comment)).toBeNull();
  });
});
