import * as z from 'zod';
import {
  classifyMetric,
  METRIC_KINDS,
  METRIC_SPECS,
  type MetricIdentity,
  type MetricKind,
} from '#core/metrics.ts';
import { Dimension, InstanceId, Instant, instantMs, RunId } from './fields.ts';

/** Message type and version of a shard on the scan queue. */
export const SHARD_KIND = 'crawlguard.scan-shard';

const DimensionSet = z
  .array(Dimension)
  .min(1)
  .max(30)
  .refine((dimensions) => new Set(dimensions.map((d) => d.name)).size === dimensions.length, {
    message: 'names a dimension twice',
  });

const ShardInstanceSchema = z
  .object({
    instanceId: InstanceId,
    metrics: z
      .object(
        Object.fromEntries(METRIC_KINDS.map((kind) => [kind, DimensionSet.optional()])) as Record<
          MetricKind,
          z.ZodOptional<typeof DimensionSet>
        >,
      )
      .strict(),
  })
  .strict()
  .superRefine((instance, context) => {
    // Each dimension set must be the one the fleet scan discovered for this very instance and kind.
    for (const [kind, dimensions] of Object.entries(instance.metrics) as [
      MetricKind,
      DimensionValue[] | undefined,
    ][]) {
      if (dimensions === undefined) continue;
      const match = classifyMetric(identity(kind, dimensions));
      if (match?.kind !== kind || match.instanceId !== instance.instanceId) {
        context.addIssue({
          code: 'custom',
          path: ['metrics', kind],
          message: `is not a ${METRIC_SPECS[kind].metricName} dimension set of ${instance.instanceId}`,
        });
      }
    }
  });

type DimensionValue = z.output<typeof Dimension>;

/** The CloudWatch metric of `kind` with `dimensions`. */
export function identity(kind: MetricKind, dimensions: readonly DimensionValue[]): MetricIdentity {
  return { namespace: METRIC_SPECS[kind].namespace, metricName: METRIC_SPECS[kind].metricName, dimensions };
}

/**
 * One shard of a scheduled run: instances and the exact metrics discovered for them, and the run's
 * window. A worker treats it as a hint: it checks the tag, state and SSM status of every instance again.
 */
export const ShardMessageSchema = z
  .object({
    kind: z.literal(SHARD_KIND),
    schemaVersion: z.literal(1),
    runId: RunId,
    scheduledAt: Instant,
    /** Opted-in instances of the whole run (carried into each finding's trigger). */
    optedIn: z.number().int().min(0).optional(),
    shard: z.object({ index: z.number().int().min(0), count: z.number().int().min(1).max(10_000) }).strict(),
    window: z
      .object({ start: Instant, end: Instant, periodSeconds: z.union([z.literal(300), z.literal(3600)]) })
      .strict()
      .refine((w) => instantMs(w.end) > instantMs(w.start), { message: 'ends before it starts' }),
    instances: z.array(ShardInstanceSchema).min(1).max(2000),
  })
  .strict()
  .refine((message) => message.shard.index < message.shard.count, {
    message: 'shard index must be below the shard count',
    path: ['shard', 'index'],
  })
  .refine(
    (message) => new Set(message.instances.map((i) => i.instanceId)).size === message.instances.length,
    {
      message: 'lists an instance twice',
      path: ['instances'],
    },
  );

export type ShardMessage = z.output<typeof ShardMessageSchema>;

export const SHARD_MESSAGE = `a ${SHARD_KIND} message (version 1)`;
