/**
 * The diagnose document's output (shared/ssm/README.md) as far as a plan reads it. It comes from an
 * instance: validated before it is believed, with bounds on everything.
 */
import * as z from 'zod';

const shortText = z.string().max(4096);

export const DiagnosisSchema = z
  .object({
    document: z.literal('crawlguard-diagnose').optional(),
    status: z.literal('ok'),
    locate: z.object({ implementation: shortText.nullable() }).loose(),
    schedule: z
      .object({
        effective: shortText.nullable(),
        crontabDailyTime: shortText.nullable().optional(),
        systemdTimer: z
          .object({
            onCalendar: shortText.nullable().optional(),
            randomizedDelaySec: shortText.nullable().optional(),
          })
          .loose()
          .nullable()
          .optional(),
        anacron: z
          .object({ randomDelay: z.union([shortText, z.number()]).nullable().optional() })
          .loose()
          .nullable()
          .optional(),
      })
      .loose(),
    config: z.object({ exists: z.boolean(), error: shortText.nullable().optional() }).loose(),
    mounts: z
      .array(
        z
          .object({
            mountPoint: z.string().min(1).max(4096),
            type: z.string().min(1).max(255),
            source: shortText.nullable().optional(),
            // null: the config could not be parsed (not a regular file, or too big)
            crawled: z.boolean().nullable(),
            crawlReason: shortText.nullable().optional(),
          })
          .loose(),
      )
      .max(40),
  })
  .loose();
