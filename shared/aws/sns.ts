import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Clock } from '#shared/clock.ts';
import type { Notification, Notifier } from '#shared/ports.ts';
import { utf8Bytes } from './batching.ts';
import { type RetryPolicy, retryPolicy, withRetry } from './retry.ts';

/** SNS Publish: the message at most 256 KiB (UTF-8), the subject at most 100 printable ASCII characters. */
export const SNS_MAX_MESSAGE_BYTES = 256 * 1024;
export const SNS_MAX_SUBJECT_CHARS = 100;

/** SNS adapter: publishes a notification on the stack's notify topic. */
export class SnsNotifier implements Notifier {
  readonly #client: SNSClient;
  readonly #topicArn: string;
  readonly #retry: RetryPolicy;

  constructor(
    client: SNSClient,
    options: { readonly topicArn: string; readonly clock: Clock; readonly retry?: Partial<RetryPolicy> },
  ) {
    this.#client = client;
    this.#topicArn = options.topicArn;
    this.#retry = retryPolicy(options.clock, options.retry);
  }

  async notify(notification: Notification, signal: AbortSignal): Promise<void> {
    await withRetry(
      'Publish',
      () =>
        this.#client.send(
          new PublishCommand({
            TopicArn: this.#topicArn,
            Subject: snsSubject(notification.subject),
            Message: snsMessage(notification.body),
          }),
          { abortSignal: signal },
        ),
      this.#retry,
      signal,
    );
  }
}

/** A subject SNS accepts: printable ASCII (line breaks become spaces, other characters `?`), 1–100 characters. */
export function snsSubject(subject: string): string {
  // Line breaks and other control characters become spaces; anything else outside printable ASCII `?`.
  const ascii = [...subject]
    .map((c) => {
      const code = c.codePointAt(0) ?? 0;
      if (code < 0x20 || code === 0x7f) return ' ';
      return code > 0x7e ? '?' : c;
    })
    .join('')
    .replace(/ {2,}/g, ' ')
    .trim();
  const clipped =
    ascii.length > SNS_MAX_SUBJECT_CHARS ? `${ascii.slice(0, SNS_MAX_SUBJECT_CHARS - 3)}...` : ascii;
  return clipped === '' ? 'crawlguard' : clipped;
}

const CLIPPED = '\n[... clipped to the 256 KiB SNS limit]';

/** A message within 256 KiB of UTF-8, clipped on a character boundary with a note when it was longer. */
export function snsMessage(body: string): string {
  if (utf8Bytes(body) <= SNS_MAX_MESSAGE_BYTES) return body === '' ? '(empty)' : body;
  const budget = SNS_MAX_MESSAGE_BYTES - utf8Bytes(CLIPPED);
  const bytes = Buffer.from(body, 'utf8').subarray(0, budget);
  // Drop a multi-byte character cut in half (its replacement character would not fit the budget).
  const text = bytes.toString('utf8').replace(/\uFFFD$/, '');
  return `${text}${CLIPPED}`;
}
