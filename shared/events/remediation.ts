/**
 * What the remediation gate takes: a `crawlguard.finding` event from the findings bus (EventBridge
 * envelope), or an operator's request invoked directly (`npm run invoke -- remediate`, `aws lambda invoke`).
 */
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import * as z from 'zod';
import { FINDING_KINDS } from '#core/assessment.ts';
import { AccountId, InstanceId, Instant, Region, RunId, text } from './fields.ts';
import { FINDING_DETAIL_TYPE, FINDING_SOURCE, FindingDetailSchema } from './finding.ts';

/** A finding as the bus delivers it to the gate's rule. */
export const FindingEventSchema = EventBridgeSchema.extend({
  id: text(64),
  account: AccountId,
  region: Region,
  source: z.literal(FINDING_SOURCE),
  'detail-type': z.literal(FINDING_DETAIL_TYPE),
  time: Instant,
  resources: z.array(text(2048)).max(5),
  detail: FindingDetailSchema,
}).superRefine((event, context) => {
  // The finding's own account and region must be the envelope's: a mismatch is a forged or mangled event.
  if (event.detail.accountId !== null && event.detail.accountId !== event.account) {
    context.addIssue({
      code: 'custom',
      path: ['detail', 'accountId'],
      message: `names account ${event.detail.accountId}, the event ${event.account}`,
    });
  }
  if (event.detail.region !== null && event.detail.region !== event.region) {
    context.addIssue({
      code: 'custom',
      path: ['detail', 'region'],
      message: `names region ${event.detail.region}, the event ${event.region}`,
    });
  }
});
export type FindingEvent = z.output<typeof FindingEventSchema>;

/** An operator asks for a remediation of one instance (the policy still applies, except staleness). */
export const RemediationRequestSchema = z
  .object({
    crawlguard: z.literal('remediation-request'),
    schemaVersion: z.literal(1),
    requestId: RunId,
    instanceId: InstanceId,
    kind: z.enum(FINDING_KINDS),
    requestedBy: text(128).min(1),
    reason: text(500),
  })
  .strict();
export type RemediationRequest = z.output<typeof RemediationRequestSchema>;

/** Either trigger of the gate. */
export const GateEventSchema = z.union([FindingEventSchema, RemediationRequestSchema]);
export type GateEvent = z.output<typeof GateEventSchema>;

export const GATE_EVENT =
  'a crawlguard.finding event (EventBridge) or a crawlguard remediation-request (version 1)';
