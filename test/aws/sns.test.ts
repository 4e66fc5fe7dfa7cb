/**
 * The notify topic: the SNS fake enforces Publish's limits as SNS does, and the adapter keeps every
 * message within them (subject clipped to 100 printable ASCII characters, message to 256 KiB).
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SNS_MAX_MESSAGE_BYTES, SnsNotifier, snsMessage, snsSubject } from '#aws/sns.ts';
import { createSimulatedFleet, SIMULATED_NOTIFY_TOPIC_ARN, type SimulatedFleet } from '#shared/sim/fleet.ts';

let fleet: SimulatedFleet;
beforeEach(() => {
  fleet = createSimulatedFleet({ instances: 0, wellKnown: false, seed: 1 });
});
afterEach(() => fleet.restore());

const publish = (input: { Message: string; Subject?: string }) =>
  fleet.clients.sns.send(new PublishCommand({ TopicArn: SIMULATED_NOTIFY_TOPIC_ARN, ...input }));

describe('the SNS fake', () => {
  it('accepts a message within the limits and keeps it', async () => {
    const output = await publish({ Subject: 'crawlguard: ok', Message: 'body' });
    expect(output.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fleet.notified).toEqual([
      expect.objectContaining({
        topicArn: SIMULATED_NOTIFY_TOPIC_ARN,
        subject: 'crawlguard: ok',
        message: 'body',
      }),
    ]);
  });

  it.each([
    ['a message over 256 KiB', { Message: 'x'.repeat(262_145) }, 'Message too long'],
    ['an empty message', { Message: '' }, 'Empty message'],
    ['a subject over 100 characters', { Subject: 's'.repeat(101), Message: 'm' }, 'Subject'],
    ['a subject with a line break', { Subject: 'a\nb', Message: 'm' }, 'Subject'],
    ['a subject that is not ASCII', { Subject: 'café', Message: 'm' }, 'Subject'],
    ['a subject starting with a space', { Subject: ' a', Message: 'm' }, 'Subject'],
  ])('refuses %s with InvalidParameterException, keeping nothing', async (_, input, message) => {
    await expect(publish(input)).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining(message),
    });
    expect(fleet.notified).toEqual([]);
  });

  it('accepts exactly 256 KiB (multi-byte characters counted in bytes)', async () => {
    await publish({ Message: 'é'.repeat(131_072) });
    await expect(publish({ Message: `${'é'.repeat(131_072)}x` })).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    expect(fleet.notified).toHaveLength(1);
  });

  it('refuses an unknown topic with NotFoundException', async () => {
    await expect(
      fleet.clients.sns.send(
        new PublishCommand({ TopicArn: 'arn:aws:sns:eu-west-1:123456789012:other', Message: 'm' }),
      ),
    ).rejects.toMatchObject({ name: 'NotFoundException' });
  });

  it('throttles Publish above its rate', async () => {
    const results = await Promise.allSettled(Array.from({ length: 400 }, () => publish({ Message: 'm' })));
    expect(
      results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.name),
    ).toContain('ThrottledException');
  });
});

describe('the SNS adapter', () => {
  it('clips what SNS would refuse and the fake accepts it', async () => {
    const notifier = new SnsNotifier(fleet.clients.sns, {
      topicArn: SIMULATED_NOTIFY_TOPIC_ARN,
      clock: fleet.clock,
    });
    const subject = `crawlguard: i-0123456789abcdef0 fixed — verified résolu ${'x'.repeat(120)}\nsecond line`;
    const body = `${'é'.repeat(140_000)}end`;
    await notifier.notify({ subject, body }, AbortSignal.timeout(5000));
    const [sent] = fleet.notified;
    expect(sent?.subject).toHaveLength(100);
    expect(sent?.subject).toMatch(/^crawlguard: i-0123456789abcdef0 fixed \? verified r\?solu x+\.\.\.$/);
    expect(Buffer.byteLength(sent?.message ?? '', 'utf8')).toBeLessThanOrEqual(SNS_MAX_MESSAGE_BYTES);
    expect(sent?.message).toMatch(/é\n\[\.\.\. clipped to the 256 KiB SNS limit\]$/);
  });

  it('leaves what fits alone', () => {
    expect(snsSubject('crawlguard: 2 remediation(s) await approval')).toBe(
      'crawlguard: 2 remediation(s) await approval',
    );
    expect(snsMessage('short\nbody')).toBe('short\nbody');
    expect(snsSubject('\n')).toBe('crawlguard');
  });

  it('retries a throttled Publish and then sends', async () => {
    fleet.inject({
      command: 'Publish',
      times: 2,
      error: () =>
        Object.assign(new Error('Rate exceeded'), {
          name: 'ThrottledException',
          $metadata: { httpStatusCode: 400 },
        }),
    });
    const notifier = new SnsNotifier(fleet.clients.sns, {
      topicArn: SIMULATED_NOTIFY_TOPIC_ARN,
      clock: fleet.clock,
    });
    await notifier.notify({ subject: 's', body: 'b' }, AbortSignal.timeout(5000));
    expect(fleet.count('Publish')).toBe(3);
    expect(fleet.notified).toHaveLength(1);
  });
});
