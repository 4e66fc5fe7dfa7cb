import { isInstanceId, isOptedIn, type OptInTag } from '#core/instances.ts';
import type { Ec2Instance, FleetDiscoveryPorts } from '#shared/ports.ts';

/** Why an instance is left alone. None of these is ever acted on. */
export type SkipReason = 'unknown-instance' | 'not-running' | 'not-opted-in' | 'not-managed' | 'offline';

export interface SkippedInstance {
  readonly instanceId: string;
  readonly reason: SkipReason;
  readonly detail: string;
}

/** A running, opted-in instance that SSM reports Online. */
export interface EligibleInstance {
  readonly instanceId: string;
  readonly ownerId: string | null;
}

export interface Eligibility {
  readonly eligible: readonly EligibleInstance[];
  readonly skipped: readonly SkippedInstance[];
}

export type EligibilityDeps = FleetDiscoveryPorts;

/**
 * The opted-in fleet page by page, as EC2 lists it: each page of running instances with the opt-in tag,
 * split by SSM status, before the next page is asked for. A caller that lets go of each page holds none.
 */
export async function* eligiblePages(
  deps: EligibilityDeps,
  optIn: OptInTag,
  signal: AbortSignal,
): AsyncGenerator<Eligibility> {
  for await (const page of deps.instances.optedInPages(optIn, signal))
    yield await classify(deps, optIn, page, [], signal);
}

/**
 * Checks instances named by an event (a shard, an alarm) against EC2 and SSM as they are now: the event
 * is a hint, the tag on the instance is what counts.
 */
export async function verifyInstances(
  deps: EligibilityDeps,
  optIn: OptInTag,
  instanceIds: readonly string[],
  signal: AbortSignal,
): Promise<Eligibility> {
  const described = await deps.instances.describe(instanceIds, signal);
  const found = new Set(described.map((instance) => instance.instanceId));
  const unknown = instanceIds
    .filter((id) => !found.has(id))
    .map((instanceId) => ({
      instanceId,
      reason: 'unknown-instance' as const,
      detail: 'EC2 does not know this instance',
    }));
  return classify(deps, optIn, described, unknown, signal);
}

async function classify(
  deps: EligibilityDeps,
  optIn: OptInTag,
  instances: readonly Ec2Instance[],
  alreadySkipped: readonly SkippedInstance[],
  signal: AbortSignal,
): Promise<Eligibility> {
  const skipped: SkippedInstance[] = [...alreadySkipped];
  const candidates: Ec2Instance[] = [];
  const seen = new Set<string>();
  for (const instance of instances) {
    if (seen.has(instance.instanceId) || !isInstanceId(instance.instanceId)) continue;
    seen.add(instance.instanceId);
    if (instance.state !== 'running') {
      skipped.push({
        instanceId: instance.instanceId,
        reason: 'not-running',
        detail: `state is ${instance.state}`,
      });
    } else if (!isOptedIn(instance.tags, optIn)) {
      skipped.push({
        instanceId: instance.instanceId,
        reason: 'not-opted-in',
        detail: `no tag ${optIn.key}=${optIn.value} (exact match)`,
      });
    } else candidates.push(instance);
  }
  const statuses =
    candidates.length === 0
      ? new Map<string, string>()
      : await deps.managed.pingStatuses(
          candidates.map((i) => i.instanceId),
          signal,
        );
  const eligible: EligibleInstance[] = [];
  for (const instance of candidates) {
    const status = statuses.get(instance.instanceId);
    if (status === undefined) {
      skipped.push({
        instanceId: instance.instanceId,
        reason: 'not-managed',
        detail: 'not registered with SSM',
      });
    } else if (status !== 'Online') {
      skipped.push({
        instanceId: instance.instanceId,
        reason: 'offline',
        detail: `SSM PingStatus is ${status}`,
      });
    } else eligible.push({ instanceId: instance.instanceId, ownerId: instance.ownerId });
  }
  return { eligible, skipped };
}
