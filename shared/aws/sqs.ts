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
import { type RetryPolicy, retryPolicy, withRetry } from './retry.ts';

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
  readonly stats = { sendMessageBatchCalls: 0, sent: 0 };
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

  async #send(batch: SendMessageBatchRequestEntry[], signal: AbortSignal): Promise<void> {
    let pending = batch;
    let lastErrors: string[] = [];
    for (let attempt = 1; attempt <= FAILED_ENTRY_ATTEMPTS; attempt += 1) {
      const output = await withRetry(
        'SendMessageBatch',
        () => {
          this.stats.sendMessageBatchCalls += 1;
          return this.#client.send(
            new SendMessageBatchCommand({ QueueUrl: this.#queueUrl, Entries: pending }),
            {
              abortSignal: signal,
            },
          );
        },
        this.#retry,
        signal,
      );
      const failures = output.Failed ?? [];
      const failedIds = new Set(failures.map((f) => f.Id));
      this.stats.sent += pending.length - failedIds.size;
      if (failedIds.size === 0) return;
      const senderFault = failures.find((f) => f.SenderFault === true);
      if (senderFault !== undefined) {
        throw new QueueError(
          `SQS refused shard ${senderFault.Id}: ${senderFault.Code} ${senderFault.Message ?? ''}`.trim(),
        );
      }
      lastErrors = failures.map((f) => f.Code ?? 'unknown');
      pending = pending.filter((entry) => failedIds.has(entry.Id));
      const ceiling = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** attempt);
      await this.#retry.clock.sleep(
        (this.#retry.random ?? (() => this.#retry.clock.random()))() * ceiling,
        signal,
      );
    }
    throw new QueueError(
      `${pending.length} shard(s) not queued after ${FAILED_ENTRY_ATTEMPTS} attempts (${[...new Set(lastErrors)].join(', ')})`,
    );
  }
}
