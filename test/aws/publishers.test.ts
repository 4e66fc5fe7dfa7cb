import 'aws-sdk-client-mock-vitest/extend';
import {
  EventBridgeClient,
  EventBridgeServiceException,
  PutEventsCommand,
} from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeFindings, entrySize, PublishError } from '#aws/eventbridge.ts';
import { QueueError, SqsShardQueue } from '#aws/sqs.ts';
import { type FindingDetail, FindingDetailSchema } from '#shared/events/finding.ts';
import type { ShardMessage } from '#shared/events/shard.ts';
import { VirtualClock } from '#shared/sim/virtual-clock.ts';
import { readEvent } from '#test/support/handlers.ts';

const eventbridge = mockClient(EventBridgeClient);
const sqs = mockClient(SQSClient);
const signal = () => new AbortController().signal;
const sample = () =>
  FindingDetailSchema.parse(
    (readEvent('events/findings/updatedb-crawl-cron.json') as { detail: unknown }).detail,
  );
const findings = (n: number, summaryBytes = 10): FindingDetail[] =>
  Array.from({ length: n }, (_, i) => ({
    ...sample(),
    findingId: i.toString(16).padStart(32, '0'),
    summary: 'x'.repeat(summaryBytes),
  }));
let clock: VirtualClock;
beforeEach(() => {
  eventbridge.reset();
  sqs.reset();
  clock = new VirtualClock(0, 5);
});

describe('EventBridgeFindings', () => {
  const publisher = () =>
    new EventBridgeFindings(new EventBridgeClient({}), { busName: 'crawlguard-findings', clock });

  it('sends findings 10 at a time as crawlguard.finding events with the instance ARN', async () => {
    eventbridge.on(PutEventsCommand).callsFake(async (input) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_: unknown, i: number) => ({ EventId: `e${i}` })),
    }));
    await publisher().publish(findings(23), signal());
    expect(eventbridge).toHaveReceivedCommandTimes(PutEventsCommand, 3);
    const sizes = eventbridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.length);
    expect(sizes).toEqual([10, 10, 3]);
    const entry = eventbridge.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry).toEqual({
      EventBusName: 'crawlguard-findings',
      Source: 'crawlguard',
      DetailType: 'crawlguard.finding',
      Detail: JSON.stringify(findings(1)[0]),
      Resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-12345678901234567'],
    });
  });

  it('keeps each call under 256 KB', async () => {
    eventbridge.on(PutEventsCommand).callsFake(async (input) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map(() => ({ EventId: 'e' })),
    }));
    await publisher().publish(findings(6, 100_000), signal());
    for (const call of eventbridge.commandCalls(PutEventsCommand)) {
      const total = (call.args[0].input.Entries ?? []).reduce((sum, e) => sum + entrySize(e), 0);
      expect(total).toBeLessThanOrEqual(256 * 1024);
    }
    expect(eventbridge).toHaveReceivedCommandTimes(PutEventsCommand, 3);
  });

  it('resends only the entries EventBridge failed', async () => {
    eventbridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ EventId: 'a' }, { ErrorCode: 'InternalFailure', ErrorMessage: 'x' }, { EventId: 'c' }],
      })
      .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: 'b' }] });
    const sent = findings(3);
    const adapter = publisher();
    await adapter.publish(sent, signal());
    expect(eventbridge).toHaveReceivedNthCommandWith(PutEventsCommand, 2, {
      Entries: [expect.objectContaining({ Detail: JSON.stringify(sent[1]) })],
    });
    expect(eventbridge).toHaveReceivedCommandTimes(PutEventsCommand, 2);
  });

  it('gives up with the error codes when entries keep failing', async () => {
    eventbridge
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] });
    await expect(publisher().publish(findings(1), signal())).rejects.toThrow(
      new PublishError('1 finding(s) not accepted by EventBridge after 4 attempts (InternalFailure)'),
    );
    expect(eventbridge).toHaveReceivedCommandTimes(PutEventsCommand, 4);
  });

  it('retries a throttled call', async () => {
    eventbridge
      .on(PutEventsCommand)
      .rejectsOnce(
        new EventBridgeServiceException({
          name: 'ThrottlingException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        }),
      )
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'a' }] });
    await publisher().publish(findings(1), signal());
    expect(eventbridge).toHaveReceivedCommandTimes(PutEventsCommand, 2);
  });

  it('sizes entries as EventBridge does', () => {
    expect(entrySize({ Source: 'ab', DetailType: 'cd', Detail: '{"é":1}', Resources: ['r1', 'r2'] })).toBe(
      2 + 2 + 8 + 4,
    );
    expect(entrySize({ Source: 'a', Time: new Date(0) })).toBe(15);
  });
});

describe('SqsShardQueue', () => {
  const shard = (n: number): ShardMessage =>
    ({
      kind: 'crawlguard.scan-shard',
      schemaVersion: 1,
      runId: 'r',
      shard: { index: n, count: 12 },
    }) as unknown as ShardMessage;
  const queue = () =>
    new SqsShardQueue(new SQSClient({}), {
      queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/q',
      clock,
    });

  it('sends shards 10 at a time to the queue', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    await queue().send(
      Array.from({ length: 12 }, (_, n) => shard(n)),
      signal(),
    );
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 2);
    expect(sqs).toHaveReceivedNthCommandWith(SendMessageBatchCommand, 2, {
      QueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/q',
      Entries: [
        { Id: 'shard10', MessageBody: JSON.stringify(shard(10)) },
        { Id: 'shard11', MessageBody: JSON.stringify(shard(11)) },
      ],
    });
  });

  it('resends failed entries, and stops at a sender fault', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Failed: [{ Id: 'shard1', Code: 'InternalError', SenderFault: false }] })
      .resolvesOnce({
        Failed: [{ Id: 'shard1', Code: 'InvalidMessageContents', SenderFault: true, Message: 'bad' }],
      });
    await expect(queue().send([shard(0), shard(1)], signal())).rejects.toThrow(
      new QueueError('SQS refused shard shard1: InvalidMessageContents bad'),
    );
    expect(sqs).toHaveReceivedNthCommandWith(SendMessageBatchCommand, 2, {
      Entries: [{ Id: 'shard1', MessageBody: JSON.stringify(shard(1)) }],
    });
  });
});
