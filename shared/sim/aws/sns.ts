import {
  PublishCommand,
  type PublishCommandInput,
  SNSClient,
  SNSServiceException,
} from '@aws-sdk/client-sns';
import { type ClientMock, opaqueId, type SimulatedAws, serviceError } from './core.ts';

/** A message the topic accepted. */
export interface NotifiedMessage {
  readonly topicArn: string;
  readonly subject: string | undefined;
  readonly message: string;
  readonly at: number;
}

/** SNS Publish's limits (the SNS API reference). */
export const SNS_LIMITS = {
  /** The message and its attributes, UTF-8. */
  maxMessageBytes: 262_144,
  maxSubjectChars: 100,
} as const;

const snsError = (name: string, message: string, status = 400) =>
  serviceError(SNSServiceException, name, message, status);

/**
 * SNS Publish to the stack's topics: an unknown topic, an empty or over-long message, a subject SNS
 * refuses (over 100 characters, not printable ASCII, a line break, not starting with a letter, digit
 * or punctuation) fail as SNS fails them; Publish is throttled per second. Keeps what it accepted.
 */
export function simulateSns(
  aws: SimulatedAws,
  options: {
    readonly topicArns: readonly string[];
    readonly publishPerSecond: number;
    readonly region: string;
  },
): { readonly client: SNSClient; readonly mock: ClientMock; readonly notified: NotifiedMessage[] } {
  const client = new SNSClient({ region: options.region });
  const mock = aws.mock('sns', client);
  const notified: NotifiedMessage[] = [];
  const topics = new Set(options.topicArns);
  aws.limit('Publish', options.publishPerSecond);
  mock.on(PublishCommand).callsFake((input: PublishCommandInput) =>
    aws.serve(
      'sns',
      'Publish',
      input,
      () => {
        if (input.TopicArn === undefined || input.TargetArn !== undefined || input.PhoneNumber !== undefined)
          throw snsError('InvalidParameterException', 'Invalid parameter: TopicArn');
        if (!topics.has(input.TopicArn)) throw snsError('NotFoundException', 'Topic does not exist', 404);
        const message = input.Message;
        if (message === undefined || message === '')
          throw snsError('InvalidParameterException', 'Invalid parameter: Empty message');
        if (Buffer.byteLength(message, 'utf8') > SNS_LIMITS.maxMessageBytes)
          throw snsError('InvalidParameterException', 'Invalid parameter: Message too long');
        const subject = input.Subject;
        if (subject !== undefined) {
          if (
            subject.length === 0 ||
            subject.length > SNS_LIMITS.maxSubjectChars ||
            !/^[\x21-\x7e][\x20-\x7e]*$/.test(subject)
          )
            throw snsError('InvalidParameterException', 'Invalid parameter: Subject');
        }
        notified.push({ topicArn: input.TopicArn, subject, message, at: aws.clock.now() });
        return { MessageId: opaqueId(message, notified.length), $metadata: {} };
      },
      { throttle: () => snsError('ThrottledException', 'Rate exceeded') },
    ),
  );
  return { client, mock, notified };
}
