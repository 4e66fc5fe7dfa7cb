/**
 * Dry run for `npm run invoke`: requests that would change an instance (SSM Run Command) — and, against
 * real AWS, anything that would start such a change downstream (findings on the bus, shards on the
 * queue) — are answered locally and printed as the exact request, never sent. Reads pass through.
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, type SendMessageBatchCommandInput, SQSClient } from '@aws-sdk/client-sqs';
import { SendCommandCommand, type SendCommandCommandInput, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import type { ClientMock } from './fleet.ts';

/** A request the dry run answered instead of sending. */
export interface WithheldRequest {
  readonly service: 'ssm' | 'eventbridge' | 'sqs';
  readonly command: 'SendCommand' | 'PutEvents' | 'SendMessageBatch';
  readonly input: unknown;
}

export interface DryRun {
  readonly withheld: readonly WithheldRequest[];
  restore(): void;
}

/** Answers SSM SendCommand on the given mock (the simulated fleet's, or a pass-through one) without sending. */
export function withholdInstanceChanges(
  ssm: ClientMock,
  withheld: WithheldRequest[],
  print: (line: string) => void,
): void {
  ssm.on(SendCommandCommand).callsFake((input: SendCommandCommandInput) => {
    withheld.push({ service: 'ssm', command: 'SendCommand', input });
    print(`dry run, not sent: ssm SendCommand ${JSON.stringify(input)}`);
    return {
      Command: {
        CommandId: `dry-run-${withheld.length}`,
        DocumentName: input.DocumentName,
        InstanceIds: input.InstanceIds,
        Status: 'Pending',
      },
    };
  });
}

/**
 * Against real AWS: every other request goes out with the default credential chain; SendCommand,
 * PutEvents and SendMessageBatch are printed and answered as if accepted.
 */
export function installAwsDryRun(print: (line: string) => void): DryRun {
  const withheld: WithheldRequest[] = [];
  const ssm = mockClient(SSMClient);
  const eventbridge = mockClient(EventBridgeClient);
  const sqs = mockClient(SQSClient);
  for (const mock of [ssm, eventbridge, sqs]) mock.send.callThrough();
  withholdInstanceChanges(ssm, withheld, print);
  eventbridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => {
    withheld.push({ service: 'eventbridge', command: 'PutEvents', input });
    print(`dry run, not sent: eventbridge PutEvents ${JSON.stringify(input)}`);
    return {
      FailedEntryCount: 0,
      Entries: (input.Entries ?? []).map((_, index) => ({ EventId: `dry-run-${withheld.length}-${index}` })),
    };
  });
  sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
    withheld.push({ service: 'sqs', command: 'SendMessageBatch', input });
    print(`dry run, not sent: sqs SendMessageBatch ${JSON.stringify(input)}`);
    return {
      Successful: (input.Entries ?? []).map((entry, index) => ({
        Id: entry.Id,
        MessageId: `dry-run-${withheld.length}-${index}`,
        MD5OfMessageBody: '',
      })),
      Failed: [],
    };
  });
  return {
    withheld,
    restore: () => {
      for (const mock of [ssm, eventbridge, sqs]) mock.restore();
    },
  };
}
