import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  SQSClient,
  SQSServiceException,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { type ClientMock, md5, opaqueId, type SimulatedAws, serviceError } from './core.ts';

/** A message SendMessageBatch accepted. */
export interface QueuedMessage {
  readonly queueUrl: string;
  readonly messageId: string;
  readonly body: string;
  readonly at: number;
}

const sqsError = (name: string, message: string) => serviceError(SQSServiceException, name, message);

/** SQS SendMessageBatch with its limits; keeps what it accepted, and delivers it as Lambda's event source does. */
export function simulateSqs(
  aws: SimulatedAws,
  options: { readonly queueArn: string; readonly region: string },
): {
  readonly client: SQSClient;
  readonly mock: ClientMock;
  readonly queued: QueuedMessage[];
  readonly sqsEvent: (messages: readonly QueuedMessage[]) => SQSEvent;
} {
  const client = new SQSClient({ region: options.region });
  const mock = aws.mock('sqs', client);
  const queued: QueuedMessage[] = [];
  mock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) =>
    aws.serve('sqs', 'SendMessageBatch', input, () => {
      const entries = input.Entries ?? [];
      if (entries.length < 1)
        throw sqsError(
          'EmptyBatchRequest',
          'There should be at least one SendMessageBatchRequestEntry in the request.',
        );
      if (entries.length > 10)
        throw sqsError(
          'TooManyEntriesInBatchRequest',
          `Maximum number of entries per request are 10. You have sent ${entries.length}.`,
        );
      if (new Set(entries.map((e) => e.Id)).size !== entries.length)
        throw sqsError(
          'BatchEntryIdsNotDistinct',
          'Two or more batch entries in the request have the same Id.',
        );
      const size = entries.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody ?? ''), 0);
      if (size > 256 * 1024)
        throw sqsError(
          'BatchRequestTooLong',
          `Batch requests cannot be longer than 262144 bytes. You have sent ${size} bytes.`,
        );
      return {
        Successful: entries.map((entry) => {
          const messageId = opaqueId(entry.MessageBody ?? '', queued.length);
          queued.push({
            queueUrl: input.QueueUrl ?? '',
            messageId,
            body: entry.MessageBody ?? '',
            at: aws.clock.now(),
          });
          return { Id: entry.Id, MessageId: messageId, MD5OfMessageBody: md5(entry.MessageBody ?? '') };
        }),
        Failed: [],
        $metadata: {},
      };
    }),
  );
  const sqsEvent = (messages: readonly QueuedMessage[]): SQSEvent => ({
    Records: messages.map((message) => ({
      messageId: message.messageId,
      receiptHandle: `AQEB${message.messageId}`,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Math.round(message.at)),
        SenderId: 'AROAEXAMPLEID:crawlguard-fleet-scan',
        ApproximateFirstReceiveTimestamp: String(Math.round(aws.clock.now())),
      },
      messageAttributes: {},
      md5OfBody: md5(message.body),
      eventSource: 'aws:sqs',
      eventSourceARN: options.queueArn,
      awsRegion: options.region,
    })),
  });
  return { client, mock, queued, sqsEvent };
}
