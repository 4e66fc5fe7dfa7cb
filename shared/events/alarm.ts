import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import * as z from 'zod';
import { AccountId, InstanceId, Instant, Region, RunId, text } from './fields.ts';

const ALARM_ARN = /^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.{1,255}$/;

const AlarmStateSchema = z.object({
  value: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
  reason: text(4096).optional(),
  reasonData: z.string().max(8192).optional(),
  timestamp: Instant,
});

// A dimension map as CloudWatch puts it in the event; an InstanceId must be one, whatever else is there.
const DimensionsSchema = z
  .record(text(255).min(1), text(1024).min(1))
  .refine((dimensions) => Object.keys(dimensions).length <= 30, { message: 'has more than 30 dimensions' })
  .pipe(z.object({ InstanceId: InstanceId.optional() }).catchall(z.string()));

const AlarmMetricSchema = z.object({
  id: text(255).min(1),
  label: text(1024).optional(),
  returnData: z.boolean().optional(),
  expression: text(2048).optional(),
  metricStat: z
    .object({
      metric: z.object({
        namespace: text(255).min(1),
        name: text(255).min(1),
        dimensions: DimensionsSchema.optional(),
      }),
      period: z.number().int().positive(),
      stat: text(255),
    })
    .optional(),
});

/**
 * EventBridge "CloudWatch Alarm State Change" (source aws.cloudwatch), as the CloudWatch user guide
 * publishes it: the alarm is in `detail`, its ARN in `resources[0]`. (The Lambda alarm-action payload,
 * with `alarmData`, is a different shape and is refused.)
 */
export const AlarmStateChangeSchema = EventBridgeSchema.extend({
  id: RunId,
  account: AccountId,
  region: Region,
  source: z.literal('aws.cloudwatch'),
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  time: Instant,
  resources: z.tuple([text(2048).regex(ALARM_ARN, { message: 'is not a CloudWatch alarm ARN' })]),
  detail: z.object({
    alarmName: text(255).min(1),
    state: AlarmStateSchema,
    previousState: AlarmStateSchema.optional(),
    configuration: z
      .object({
        description: text(1024).optional(),
        metrics: z.array(AlarmMetricSchema).max(20).optional(),
        alarmRule: text(10240).optional(),
      })
      .optional(),
  }),
}).superRefine((event, context) => {
  // resources[0] and the event's own fields must name the same alarm: a mismatch is a forged or mangled event.
  const [, , , region, account, , ...name] = (event.resources[0] ?? '').split(':');
  const mismatch = (field: string, value: string | undefined, expected: string): void =>
    context.addIssue({
      code: 'custom',
      path: ['resources', 0],
      message: `names ${field} '${(value ?? '').slice(0, 64)}' but the event says '${expected.slice(0, 64)}'`,
    });
  if (region !== event.region) mismatch('region', region, event.region);
  if (account !== event.account) mismatch('account', account, event.account);
  if (name.join(':') !== event.detail.alarmName) mismatch('alarm', name.join(':'), event.detail.alarmName);
});

export type AlarmStateChange = z.output<typeof AlarmStateChangeSchema>;

export const ALARM_STATE_CHANGE =
  'a CloudWatch Alarm State Change event (EventBridge, source aws.cloudwatch)';

/** Where the alarm names its instance, if it does. */
export type AlarmInstance =
  | { readonly found: 'dimension'; readonly instanceId: string }
  | { readonly found: 'none'; readonly reason: string }
  | { readonly found: 'ambiguous'; readonly instanceIds: readonly string[] };

/**
 * The instance an alarm watches, from the `InstanceId` dimension of its metrics (a metric-math alarm
 * names it in the metrics its expression uses; a composite alarm or a SEARCH expression names none).
 */
export function alarmInstance(event: AlarmStateChange): AlarmInstance {
  const ids = new Set<string>();
  for (const metric of event.detail.configuration?.metrics ?? []) {
    const id = metric.metricStat?.metric.dimensions?.InstanceId;
    if (id !== undefined) ids.add(id);
  }
  if (ids.size === 1) return { found: 'dimension', instanceId: [...ids][0] as string };
  if (ids.size > 1) return { found: 'ambiguous', instanceIds: [...ids].sort() };
  const composite = event.detail.configuration?.alarmRule !== undefined;
  return {
    found: 'none',
    reason: composite
      ? 'a composite alarm has no metric dimensions'
      : 'none of the alarm metrics has an InstanceId dimension',
  };
}
