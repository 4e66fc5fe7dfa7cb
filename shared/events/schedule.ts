import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import * as z from 'zod';
import { AccountId, Instant, instantMs, Region, RunId, text } from './fields.ts';

/**
 * What an EventBridge rule with a schedule (SAM `Schedule`) delivers: detail-type "Scheduled Event" from
 * aws.events with an empty detail. The aws.scheduler variant with `detail: "{}"` (a string) is what
 * EventBridge Scheduler is reported to send when a schedule has no input; it is accepted too.
 */
export const ScheduledEventSchema = EventBridgeSchema.extend({
  id: RunId,
  account: AccountId,
  region: Region,
  source: z.enum(['aws.events', 'aws.scheduler']),
  'detail-type': z.literal('Scheduled Event'),
  time: Instant,
  resources: z.array(text(2048)).max(10),
  detail: z.union([z.object({}).strict(), z.literal('{}')]),
});

/**
 * The input crawlguard's EventBridge Scheduler schedule (SAM `ScheduleV2`) sends; Scheduler fills the
 * `<aws.scheduler.*>` placeholders.
 */
export const SchedulerInputSchema = z
  .object({
    crawlguard: z.literal('fleet-scan'),
    schemaVersion: z.literal(1),
    scheduledTime: Instant,
    executionId: RunId,
  })
  .strict();

/** A scheduled run, from either trigger. */
export interface ScheduledRun {
  readonly runId: string;
  readonly scheduledAt: string;
  readonly via: 'eventbridge-rule' | 'eventbridge-scheduler';
}

/** Either schedule shape, normalised to a {@link ScheduledRun}. */
export const ScheduleTriggerSchema = z.union([ScheduledEventSchema, SchedulerInputSchema]).transform(
  (event): ScheduledRun =>
    'crawlguard' in event
      ? {
          runId: event.executionId,
          scheduledAt: normalise(event.scheduledTime),
          via: 'eventbridge-scheduler',
        }
      : { runId: event.id, scheduledAt: normalise(event.time), via: 'eventbridge-rule' },
);

function normalise(instant: string): string {
  return new Date(instantMs(instant)).toISOString();
}

/** What a schedule trigger is, for error messages. */
export const SCHEDULE_TRIGGER = 'a Scheduled Event (EventBridge rule) or crawlguard Scheduler input';
