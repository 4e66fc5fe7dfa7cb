import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';

/** The SDK clients crawlguard talks to AWS with; a handler takes the ones it needs. */
export interface AwsClients {
  readonly ec2: EC2Client;
  readonly ssm: SSMClient;
  readonly cloudwatch: CloudWatchClient;
  readonly eventbridge: EventBridgeClient;
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  readonly sfn: SFNClient;
  readonly sns: SNSClient;
}

// One attempt per SDK call: the adapters pace and retry on the injected clock, and two retry loops would
// multiply each other (6 × 3 attempts). One factory per client, so a bundle carries only the SDKs it uses.
const SINGLE_ATTEMPT = { maxAttempts: 1 };

export const ec2Client = (): EC2Client => new EC2Client(SINGLE_ATTEMPT);
export const ssmClient = (): SSMClient => new SSMClient(SINGLE_ATTEMPT);
export const cloudWatchClient = (): CloudWatchClient => new CloudWatchClient(SINGLE_ATTEMPT);
export const eventBridgeClient = (): EventBridgeClient => new EventBridgeClient(SINGLE_ATTEMPT);
export const sqsClient = (): SQSClient => new SQSClient(SINGLE_ATTEMPT);

/** The clients of the scanning functions. */
export const scanClients = () => ({
  ec2: ec2Client(),
  ssm: ssmClient(),
  cloudwatch: cloudWatchClient(),
  eventbridge: eventBridgeClient(),
});

export const dynamoDbClient = (config: DynamoDBClientConfig = {}): DynamoDBClient =>
  new DynamoDBClient({ ...SINGLE_ATTEMPT, ...config });
export const sfnClient = (): SFNClient => new SFNClient(SINGLE_ATTEMPT);
export const snsClient = (): SNSClient => new SNSClient(SINGLE_ATTEMPT);
