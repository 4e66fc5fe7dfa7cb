import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { CrawlguardError } from '#core/errors.ts';
import type { Clock } from '#shared/clock.ts';
import { FINDING_DETAIL_TYPE, FINDING_SOURCE, type FindingDetail } from '#shared/events/finding.ts';
import {
  VERIFICATION_DETAIL_TYPE,
  VERIFICATION_SOURCE,
  type VerificationDetail,
} from '#shared/events/verification.ts';
import type { FindingPublisher, VerificationPublisher } from '#shared/ports.ts';
import { batchBySize, utf8Bytes } from './batching.ts';
import { type RetryPolicy, resendFailedEntries, retryPolicy, withRetry } from './retry.ts';

// PutEvents: at most 10 entries and 256 KB per call, entry size as EventBridge computes it.
const MAX_ENTRIES = 10;
const MAX_BYTES = 256 * 1024;
const FAILED_ENTRY_ATTEMPTS = 4;

/** Some findings could not be published after every retry. */
export class PublishError extends CrawlguardError {
  override readonly name = 'PublishError';
}

/** EventBridge adapter: publishes findings and verification verdicts on the crawlguard bus. */
export class EventBridgeFindings implements FindingPublisher, VerificationPublisher {
  readonly #client: EventBridgeClient;
  readonly #busName: string;
  readonly #retry: RetryPolicy;

  constructor(
    client: EventBridgeClient,
    options: { readonly busName: string; readonly clock: Clock; readonly retry?: Partial<RetryPolicy> },
  ) {
    this.#client = client;
    this.#busName = options.busName;
    this.#retry = retryPolicy(options.clock, options.retry);
  }

  async publish(findings: readonly FindingDetail[], signal: AbortSignal): Promise<void> {
    const entries = findings.map((finding) => this.#entry(finding));
    for (const batch of batchBySize(entries, MAX_ENTRIES, MAX_BYTES, entrySize)) {
      await this.#put(batch, signal);
    }
  }

  async publishVerification(detail: VerificationDetail, signal: AbortSignal): Promise<void> {
    await this.#put(
      [
        {
          EventBusName: this.#busName,
          Source: VERIFICATION_SOURCE,
          DetailType: VERIFICATION_DETAIL_TYPE,
          Detail: JSON.stringify(detail),
          Resources: [],
        },
      ],
      signal,
    );
  }

  async #put(batch: readonly PutEventsRequestEntry[], signal: AbortSignal): Promise<void> {
    const left = await resendFailedEntries(
      batch,
      async (pending) => {
        const output = await withRetry(
          'PutEvents',
          () => this.#client.send(new PutEventsCommand({ Entries: [...pending] }), { abortSignal: signal }),
          this.#retry,
          signal,
        );
        const results = output.Entries ?? [];
        // Results pair up with entries by position; an entry without an EventId did not go through.
        const failed = pending.filter(
          (_, i) => results[i]?.ErrorCode !== undefined || results[i]?.EventId === undefined,
        );
        return {
          failed,
          errorCodes: results.flatMap((r) => (r.ErrorCode === undefined ? [] : [r.ErrorCode])),
        };
      },
      { attempts: FAILED_ENTRY_ATTEMPTS, policy: this.#retry, signal },
    );
    if (left.failed.length > 0) {
      throw new PublishError(
        `${left.failed.length} finding(s) not accepted by EventBridge after ${FAILED_ENTRY_ATTEMPTS} attempts ` +
          `(${[...new Set(left.errorCodes)].join(', ') || 'no error code'})`,
      );
    }
  }

  #entry(finding: FindingDetail): PutEventsRequestEntry {
    const arn =
      finding.accountId !== null && finding.region !== null
        ? [`arn:aws:ec2:${finding.region}:${finding.accountId}:instance/${finding.instanceId}`]
        : [];
    return {
      EventBusName: this.#busName,
      Source: FINDING_SOURCE,
      DetailType: FINDING_DETAIL_TYPE,
      Detail: JSON.stringify(finding),
      Resources: arn,
    };
  }
}

/** Entry size as the EventBridge user guide defines it (the bus name does not count). */
export function entrySize(entry: PutEventsRequestEntry): number {
  return (
    (entry.Time === undefined ? 0 : 14) +
    utf8Bytes(entry.Source ?? '') +
    utf8Bytes(entry.DetailType ?? '') +
    utf8Bytes(entry.Detail ?? '') +
    (entry.Resources ?? []).reduce((sum, resource) => sum + utf8Bytes(resource), 0)
  );
}
