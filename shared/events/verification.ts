/**
 * The verification verdict crawlguard publishes on its bus after a fix: `source: crawlguard`,
 * `detail-type: crawlguard.verification`, `schemaVersion` 1. Consumers deduplicate on `verificationId`
 * (the execution that fixed the instance: one verdict each).
 */
import * as z from 'zod';
import { FINDING_KINDS } from '#core/assessment.ts';
import { DATA_PATHS } from '#core/remediation/savings.ts';
import { VERDICTS } from '#core/remediation/verify.ts';
import { InstanceId, Instant, text } from './fields.ts';
import { FINDING_SOURCE } from './finding.ts';

export const VERIFICATION_DETAIL_TYPE = 'crawlguard.verification';
export const VERIFICATION_SOURCE = FINDING_SOURCE;
export const VERIFICATION_SCHEMA_VERSION = 1;

const bytes = z.number().finite().min(0);
const CostSchema = z.object({
  bytesPerDay: bytes,
  requestsPerDay: bytes,
  requestUsdPerMonth: bytes,
  dataUsdPerMonth: bytes,
});

export const VerificationDetailSchema = z
  .object({
    schemaVersion: z.literal(VERIFICATION_SCHEMA_VERSION),
    verificationId: text(80).min(1),
    instanceId: InstanceId,
    episode: z.number().int().min(1),
    kinds: z.array(z.enum(FINDING_KINDS)).min(1).max(FINDING_KINDS.length),
    verdict: z.enum(VERDICTS),
    reason: text(2000),
    /** How many times the metrics were read (an inconclusive look waits a day and looks again). */
    rounds: z.number().int().min(1),
    fixedAt: Instant,
    restartedAt: Instant.nullable(),
    verifiedAt: Instant,
    network: z
      .object({
        verdict: z.enum(VERDICTS),
        beforeBytesPerDay: bytes.nullable(),
        afterBytesPerDay: bytes.nullable(),
        movedTo: z
          .string()
          .regex(/^\d{2}:\d{2}$/)
          .nullable(),
      })
      .nullable(),
    memory: z
      .object({
        verdict: z.enum(VERDICTS),
        before: z.number().finite().nullable(),
        after: z.number().finite().nullable(),
      })
      .nullable(),
    savings: z
      .object({
        dataPath: z.enum(DATA_PATHS),
        before: CostSchema,
        after: CostSchema,
        savedUsdPerMonth: z.number().finite(),
      })
      .nullable(),
  })
  .strict();
export type VerificationDetail = z.output<typeof VerificationDetailSchema>;
