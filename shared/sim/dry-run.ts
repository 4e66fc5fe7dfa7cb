/**
 * Dry run for `npm run invoke`: requests that would change an instance (SSM Run Command) — and, against
 * real AWS, anything that would start such a change downstream (findings on the bus, shards on the
 * queue) — are answered locally and printed as the exact request, never sent. Reads pass through.
 */
import { PutEventsCommand, type PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import { PublishCommand, type PublishCommandInput } from '@aws-sdk/client-sns';
import { SendMessageBatchCommand, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { SendCommandCommand, type SendCommandCommandInput } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import {
  type AwsClients,
  cloudWatchClient,
  dynamoDbClient,
  ec2Client,
  eventBridgeClient,
  sfnClient,
  snsClient,
  sqsClient,
  ssmClient,
} from '#aws/clients.ts';
import type { ClientMock } from './aws/core.ts';

/** A request the dry run answered instead of sending. */
export interface WithheldRequest {
  readonly service: 'ssm' | 'eventbridge' | 'sqs' | 'sns';
  readonly command: 'SendCommand' | 'PutEvents' | 'SendMessageBatch' | 'Publish';
  readonly input: unknown;
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

export interface AwsDryRun {
  /** Real clients (default credential chain) whose changing requests are withheld. */
  readonly clients: AwsClients;
  readonly withheld: readonly WithheldRequest[];
  /** The account the credentials belong to (STS GetCallerIdentity): the account a deployed function runs in. */
  accountId(): Promise<string>;
}

/**
 * Against real AWS: every other request goes out with the default credential chain; SendCommand,
 * PutEvents and SendMessageBatch are printed and answered as if accepted.
 */
export function awsDryRun(print: (line: string) => void): AwsDryRun {
  const withheld: WithheldRequest[] = [];
  const clients: AwsClients = {
    ec2: ec2Client(),
    ssm: ssmClient(),
    cloudwatch: cloudWatchClient(),
    eventbridge: eventBridgeClient(),
    sqs: sqsClient(),
    dynamodb: dynamoDbClient(),
    sfn: sfnClient(),
    sns: snsClient(),
  };
  const ssm = mockClient(clients.ssm);
  const sns = mockClient(clients.sns);
  const eventbridge = mockClient(clients.eventbridge);
  const sqs = mockClient(clients.sqs);
  for (const mock of [ssm, eventbridge, sqs, sns]) mock.send.callThrough();
  sns.on(PublishCommand).callsFake((input: PublishCommandInput) => {
    withheld.push({ service: 'sns', command: 'Publish', input });
    print(`dry run, not sent: sns Publish ${JSON.stringify(input)}`);
    return { MessageId: `dry-run-${withheld.length}` };
  });
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
    clients,
    withheld,
    accountId: async () => {
      const identity = await new STSClient({}).send(new GetCallerIdentityCommand({}));
      return identity.Account ?? '000000000000';
    },
  };
}
