import {
  DescribeDocumentCommand,
  DescribeInstanceInformationCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { CrawlguardError } from '#core/errors.ts';
import type { Clock } from '#shared/clock.ts';
import type { DocumentCatalog, ManagedInstances } from '#shared/ports.ts';
import { pages } from './paging.ts';
import { type RetryPolicy, retryPolicy, withRetry } from './retry.ts';

// 50 is both the largest page and a safe number of values for the InstanceIds filter.
const IDS_PER_CALL = 50;

/** SSM adapter: which instances the agent manages, and whether they are online. */
export class SsmInstances implements ManagedInstances {
  readonly #client: SSMClient;
  readonly #retry: RetryPolicy;

  constructor(client: SSMClient, options: { readonly clock: Clock; readonly retry?: Partial<RetryPolicy> }) {
    this.#client = client;
    this.#retry = retryPolicy(options.clock, options.retry);
  }

  async pingStatuses(
    instanceIds: readonly string[],
    signal: AbortSignal,
  ): Promise<ReadonlyMap<string, string>> {
    const statuses = new Map<string, string>();
    for (let i = 0; i < instanceIds.length; i += IDS_PER_CALL) {
      const chunk = instanceIds.slice(i, i + IDS_PER_CALL);
      const describePage = (token: string | undefined) =>
        withRetry(
          'DescribeInstanceInformation',
          () =>
            this.#client.send(
              new DescribeInstanceInformationCommand({
                Filters: [{ Key: 'InstanceIds', Values: chunk }],
                MaxResults: IDS_PER_CALL,
                NextToken: token,
              }),
              { abortSignal: signal },
            ),
          this.#retry,
          signal,
        );
      for await (const page of pages(describePage)) {
        for (const info of page.InstanceInformationList ?? []) {
          if (info.InstanceId !== undefined) statuses.set(info.InstanceId, info.PingStatus ?? 'Unknown');
        }
      }
    }
    return statuses;
  }
}

/** A document of the stack is missing or has no default version. */
export class DocumentError extends CrawlguardError {
  override readonly name = 'DocumentError';
}

/**
 * SSM adapter: the stack's documents, pinned by their default version. A version is kept for `cacheMs`
 * (default 5 minutes) and concurrent lookups share one call: hundreds of executions starting together
 * would otherwise throttle DescribeDocument. A deploy's new version is seen at most `cacheMs` later.
 */
export class SsmDocuments implements DocumentCatalog {
  readonly #client: SSMClient;
  readonly #retry: RetryPolicy;
  readonly #clock: Clock;
  readonly #cacheMs: number;
  readonly #versions = new Map<string, { readonly version: Promise<string>; readonly until: number }>();

  constructor(
    client: SSMClient,
    options: { readonly clock: Clock; readonly retry?: Partial<RetryPolicy>; readonly cacheMs?: number },
  ) {
    this.#client = client;
    this.#clock = options.clock;
    this.#retry = retryPolicy(options.clock, options.retry);
    this.#cacheMs = options.cacheMs ?? 5 * 60_000;
  }

  defaultVersion(name: string, signal: AbortSignal): Promise<string> {
    const now = this.#clock.now();
    const cached = this.#versions.get(name);
    if (cached !== undefined && cached.until > now) return cached.version;
    const version = this.#describe(name, signal);
    this.#versions.set(name, { version, until: now + this.#cacheMs });
    // A failure is not remembered: the next lookup asks again.
    version.catch(() => {
      if (this.#versions.get(name)?.version === version) this.#versions.delete(name);
    });
    return version;
  }

  async #describe(name: string, signal: AbortSignal): Promise<string> {
    const described = await withRetry(
      'DescribeDocument',
      () => this.#client.send(new DescribeDocumentCommand({ Name: name }), { abortSignal: signal }),
      this.#retry,
      signal,
    );
    const version = described.Document?.DefaultVersion;
    if (version === undefined || version === '')
      throw new DocumentError(`SSM document ${name} has no default version`);
    return version;
  }
}
