import {
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import type { OptInTag } from '#core/instances.ts';
import type { Clock } from '#shared/clock.ts';
import type { Ec2Instance, InstanceDirectory } from '#shared/ports.ts';
import { pages } from './paging.ts';
import { type RetryPolicy, retryPolicy, withRetry } from './retry.ts';

// EC2 accepts at most 200 values per filter; 1000 is DescribeInstances' largest page.
const IDS_PER_FILTER = 200;
const PAGE_SIZE = 1000;

/** EC2 adapter: the opted-in fleet, and the current state and tags of given instances. */
export class Ec2Instances implements InstanceDirectory {
  readonly #client: EC2Client;
  readonly #retry: RetryPolicy;

  constructor(client: EC2Client, options: { readonly clock: Clock; readonly retry?: Partial<RetryPolicy> }) {
    this.#client = client;
    this.#retry = retryPolicy(options.clock, options.retry);
  }

  optedInPages(optIn: OptInTag, signal: AbortSignal): AsyncIterable<readonly Ec2Instance[]> {
    return this.#pages(
      {
        Filters: [
          { Name: `tag:${optIn.key}`, Values: [optIn.value] },
          { Name: 'instance-state-name', Values: ['running'] },
        ],
      },
      signal,
    );
  }

  async describe(instanceIds: readonly string[], signal: AbortSignal): Promise<Ec2Instance[]> {
    const found: Ec2Instance[] = [];
    // A filter, not InstanceIds: one unknown id would fail the whole call with InvalidInstanceID.NotFound.
    for (let i = 0; i < instanceIds.length; i += IDS_PER_FILTER) {
      const chunk = instanceIds.slice(i, i + IDS_PER_FILTER);
      for await (const page of this.#pages({ Filters: [{ Name: 'instance-id', Values: chunk }] }, signal))
        found.push(...page);
    }
    return found;
  }

  async *#pages(input: DescribeInstancesCommandInput, signal: AbortSignal): AsyncGenerator<Ec2Instance[]> {
    const describePage = (token: string | undefined) =>
      withRetry(
        'DescribeInstances',
        () =>
          this.#client.send(
            new DescribeInstancesCommand({ ...input, MaxResults: PAGE_SIZE, NextToken: token }),
            { abortSignal: signal },
          ),
        this.#retry,
        signal,
      );
    for await (const page of pages(describePage)) {
      const instances: Ec2Instance[] = [];
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          if (instance.InstanceId === undefined) continue;
          instances.push({
            instanceId: instance.InstanceId,
            state: instance.State?.Name ?? 'unknown',
            tags: (instance.Tags ?? []).flatMap((t) =>
              t.Key === undefined || t.Value === undefined ? [] : [{ key: t.Key, value: t.Value }],
            ),
            ownerId: reservation.OwnerId ?? null,
          });
        }
      }
      yield instances;
    }
  }
}
