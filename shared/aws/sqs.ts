import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { CrawlguardError } from '#core/errors.ts';
import type { Clock } from '#shared/clock.ts';
import type { ShardMessage } from '#shared/events/shard.ts';
import type { ShardQueue } from '#shared/ports.ts';
import { batchBySize, utf8Bytes } from './batching.ts';
import { type RetryPolicy, resendFailedEntries, retryPolicy, withRetry } from './retry.ts';

// SendMessageBatch: at most 10 messages and 256 KiB in all.
const MAX_ENTRIES = 10;
const MAX_BYTES = 256 * 1024;
const FAILED_ENTRY_ATTEMPTS = 4;

/** Some shards could not be queued after every retry. */
export class QueueError extends CrawlguardError {
  override readonly name = 'QueueError';
}

/** SQS adapter: queues the shards of a scheduled run for the scan workers. */
export class SqsShardQueue implements ShardQueue {
  readonly #client: SQSClient;
  readonly #queueUrl: string;
  readonly #retry: RetryPolicy;

  constructor(
    client: SQSClient,
    options: { readonly queueUrl: string; readonly clock: Clock; readonly retry?: Partial<RetryPolicy> },
  ) {
    this.#client = client;
    this.#queueUrl = options.queueUrl;
    this.#retry = retryPolicy(options.clock, options.retry);
  }

  async send(shards: readonly ShardMessage[], signal: AbortSignal): Promise<void> {
    const entries = shards.map((shard, i) => ({ Id: `shard${i}`, MessageBody: JSON.stringify(shard) }));
    for (const batch of batchBySize(entries, MAX_ENTRIES, MAX_BYTES, (e) => utf8Bytes(e.MessageBody))) {
      await this.#send(batch, signal);
    }
  }

  async #send(batch: readonly SendMessageBatchRequestEntry[], signal: AbortSignal): Promise<void> {
    const left = await resendFailedEntries(
      batch,
      async (pending) => {
        const output = await withRetry(
          'SendMessageBatch',
          () =>
            this.#client.send(
              new SendMessageBatchCommand({ QueueUrl: this.#queueUrl, Entries: [...pending] }),
              {
                abortSignal: signal,
              },
            ),
          this.#retry,
          signal,
        );
        const failures = output.Failed ?? [];
        // A sender fault (a message SQS will never take) is not worth another attempt.
        const senderFault = failures.find((f) => f.SenderFault === true);
        if (senderFault !== undefined) {
          throw new QueueError(
            `SQS refused shard ${senderFault.Id}: ${senderFault.Code} ${senderFault.Message ?? ''}`.trim(),
          );
        }
        const failedIds = new Set(failures.map((f) => f.Id));
        return {
          failed: pending.filter((entry) => failedIds.has(entry.Id)),
          errorCodes: failures.map((f) => f.Code ?? 'unknown'),
        };
      },
      { attempts: FAILED_ENTRY_ATTEMPTS, policy: this.#retry, signal },
    );
    if (left.failed.length > 0) {
      throw new QueueError(
        `${left.failed.length} shard(s) not queued after ${FAILED_ENTRY_ATTEMPTS} attempts (${[...new Set(left.errorCodes)].join(', ')})`,
      );
    }
  }
}
