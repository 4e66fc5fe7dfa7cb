/**
 * What the use cases need from the outside world: one interface per capability (ports), then, per use
 * case, the ports it uses. The use cases depend on these interfaces only; `shared/aws/` implements them
 * with the AWS SDK, and the simulated fleet (`shared/sim/`) stands behind the SDK clients in tests.
 */

import type { OptInTag } from '#core/instances.ts';
import type { MetricIdentity, MetricWindow, QueryBatch } from '#core/metrics.ts';
import type { FindingDetail } from './events/finding.ts';
import type { ShardMessage } from './events/shard.ts';

export interface Tag {
  readonly key: string;
  readonly value: string;
}

/** An EC2 instance as DescribeInstances reports it. */
export interface Ec2Instance {
  readonly instanceId: string;
  /** running, stopped, stopping, pending, shutting-down, terminated. */
  readonly state: string;
  readonly tags: readonly Tag[];
  /** The account that owns the reservation, for ARNs in findings. */
  readonly ownerId: string | null;
}

export interface InstanceDirectory {
  /** Running instances the service-side filter says carry the opt-in tag (all pages). */
  listOptedIn(optIn: OptInTag, signal: AbortSignal): Promise<Ec2Instance[]>;
  /** The instances among `instanceIds` that exist, in any state. Unknown ids are left out. */
  describe(instanceIds: readonly string[], signal: AbortSignal): Promise<Ec2Instance[]>;
}

export interface ManagedInstances {
  /** SSM PingStatus (Online, ConnectionLost, Inactive) of the managed instances among `instanceIds`. */
  pingStatuses(instanceIds: readonly string[], signal: AbortSignal): Promise<ReadonlyMap<string, string>>;
}

export interface MetricCatalog {
  /**
   * Every metric with this namespace and name that has an InstanceId dimension (or, with `instanceId`,
   * that instance's), as ListMetrics names them.
   */
  list(
    query: { readonly namespace: string; readonly metricName: string; readonly instanceId?: string },
    signal: AbortSignal,
  ): Promise<MetricIdentity[]>;
}

/** The series of one query, oldest first or in any order. */
export interface FetchedSeries {
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

export interface BatchResult {
  /** By query id. Complete series, or what PartialData left when no NextToken followed. */
  readonly series: ReadonlyMap<string, FetchedSeries>;
  /** Query ids CloudWatch answered with InternalError or Forbidden, with that status. */
  readonly failed: ReadonlyMap<string, string>;
}

export interface MetricData {
  /** Runs one GetMetricData request (and its NextToken pages) for `batch` over `window`. */
  fetch(batch: QueryBatch, window: MetricWindow, signal: AbortSignal): Promise<BatchResult>;
}

export interface FindingPublisher {
  /** Publishes every finding or throws: a caller never has to guess which ones went out. */
  publish(findings: readonly FindingDetail[], signal: AbortSignal): Promise<void>;
}

export interface ShardQueue {
  /** Sends every shard or throws. */
  send(shards: readonly ShardMessage[], signal: AbortSignal): Promise<void>;
}

export interface AlarmTags {
  /** The tags of a CloudWatch alarm. */
  tagsOf(alarmArn: string, signal: AbortSignal): Promise<ReadonlyMap<string, string>>;
}

/** Time left in the invocation. */
export interface Deadline {
  remainingMs(): number;
}

// --- What each use case needs -------------------------------------------------------------------

/** Fleet discovery and re-checks of named instances (`shared/scan/eligibility.ts`). */
export interface FleetDiscoveryPorts {
  readonly instances: InstanceDirectory;
  readonly managed: ManagedInstances;
}

/** Fetching, judging and publishing instances (`shared/scan/scan.ts`). */
export interface InstanceScanPorts {
  readonly metrics: MetricData;
  readonly publisher: FindingPublisher;
}

/** The scheduled fleet scan (`shared/scan/fleet-scan.ts`): discovery, metric discovery, inline scan or shards. */
export interface FleetScanPorts extends FleetDiscoveryPorts, InstanceScanPorts {
  readonly catalog: MetricCatalog;
  readonly queue: ShardQueue;
}

/** One shard of a scheduled run (`shared/scan/shard-worker.ts`). */
export interface ShardScanPorts extends FleetDiscoveryPorts, InstanceScanPorts {}

/** The alarm path (`shared/scan/triage.ts`): the alarm's instance, its metrics, the scan. */
export interface AlarmTriagePorts extends FleetDiscoveryPorts, InstanceScanPorts {
  readonly catalog: MetricCatalog;
  readonly alarmTags: AlarmTags;
}
