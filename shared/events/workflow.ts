/**
 * What the remediation workflow carries: the execution input the gate starts it with (versioned: a
 * deploy reaches executions still waiting) and the payloads its Task states send to the workflow-step
 * function. Everything the function reads is validated here; the rest of the state passes through.
 */
import * as z from 'zod';
import { FINDING_KINDS } from '#core/assessment.ts';
import { COMMAND_OUTCOMES, COMMAND_STEPS } from '#core/remediation/command.ts';
import { EPISODE_OUTCOMES, REMEDIATION_MODES } from '#core/remediation/types.ts';
import { VERDICTS } from '#core/remediation/verify.ts';
import { InstanceId, Instant, RunId, text } from './fields.ts';

export const WORKFLOW_SCHEMA_VERSION = 1;

/** A Step Functions execution name: `<instanceId>-<episode>` (80 characters at most). */
export const ExecutionName = z.string().regex(/^i-[0-9a-f]{8,17}-\d{1,9}$/, {
  message: 'is not a crawlguard execution name (<instance id>-<episode>)',
});

/** The NetworkOut window a finding reported, for verification. */
const FindingWindowSchema = z
  .object({
    start: z.string().regex(/^\d{2}:\d{2}$/),
    end: z.string().regex(/^\d{2}:\d{2}$/),
    latestStart: z.string().regex(/^\d{2}:\d{2}$/),
    timeZone: text(64),
  })
  .nullable();

/** The execution input: what the gate decided and on what. */
export const WorkflowInputSchema = z.object({
  schemaVersion: z.literal(WORKFLOW_SCHEMA_VERSION),
  instanceId: InstanceId,
  episode: z.number().int().min(1),
  kinds: z.array(z.enum(FINDING_KINDS)).min(1).max(FINDING_KINDS.length),
  trigger: z.discriminatedUnion('type', [
    z.object({
      type: z.literal('finding'),
      findingId: z.string().regex(/^[0-9a-f]{32}$/),
      runId: RunId,
      detectedAt: Instant,
      summary: text(2000),
      window: FindingWindowSchema,
    }),
    z.object({ type: z.literal('request'), requestId: RunId, requestedBy: text(128), reason: text(500) }),
  ]),
  autoScalingGroup: text(255).nullable(),
});
export type WorkflowInput = z.output<typeof WorkflowInputSchema>;

const DocumentRef = z.object({ name: text(128).min(1), version: text(16).min(1) });
const Parameters = z.record(text(64), z.array(text(2048)).max(20));

/** A command's result as the run-command workflow ends it. */
export const CommandResultSchema = z.object({
  step: z.enum(COMMAND_STEPS),
  outcome: z.enum(COMMAND_OUTCOMES),
  scriptStatus: z.string().max(64).nullable(),
  exitCode: z.number().int().nullable(),
  output: z.record(z.string(), z.unknown()).nullable(),
  reason: z.string().max(2000),
  commandId: z.string().max(64).nullable(),
  attempts: z.number().int().min(1),
});

const Wrapped = <S extends z.ZodType>(schema: S) => z.object({ value: schema });

/** What `prepare` returns. */
export const PreparedSchema = z.object({
  next: z.enum(['diagnose', 'wait', 'close']),
  outcome: z.enum(EPISODE_OUTCOMES).nullable(),
  reason: z.string(),
  documents: z.object({ diagnose: DocumentRef, patch: DocumentRef, restart: DocumentRef }).nullable(),
  waitUntil: Instant.nullable(),
  /** When the instance was first seen not ready (stopped, offline) in this execution. */
  notReadySince: Instant.nullable(),
  approvalTimeoutSeconds: z.number().int().positive(),
  autoScalingGroup: z.string().max(255).nullable(),
});
export type Prepared = z.output<typeof PreparedSchema>;

/** What the deciding steps return: where to go next, and with what. */
export const DecisionSchema = z.object({
  next: z.enum([
    'check-patch',
    'apply-patch',
    'apply-restart',
    'request-approval',
    'diagnose-outage',
    'verify',
    'close',
  ]),
  outcome: z.enum(EPISODE_OUTCOMES).nullable(),
  reason: z.string(),
  // A Pass state may set only where to go and why; the rest defaults.
  restart: z.boolean().default(false),
  /** The plan (made from the diagnosis) and the command parameters it gives. */
  plan: z.record(z.string(), z.unknown()).nullable().default(null),
  parameters: z
    .object({
      checkPatch: Parameters,
      applyPatch: Parameters,
      checkRestart: Parameters,
      applyRestart: Parameters,
    })
    .nullable()
    .default(null),
  /** Approval rounds asked so far. */
  round: z.number().int().min(0).default(0),
});
export type WorkflowDecision = z.output<typeof DecisionSchema>;

/**
 * What schedule-verify and verify return: when to look (again), and, once done, the verdict. The fix's
 * instants are kept from the first look on (a deploy may reach an execution still waiting: the version
 * of the payload says what it holds).
 */
export const VerificationSchema = z.object({
  next: z.enum(['wait', 'close']),
  waitUntil: Instant.nullable(),
  /** Looks done so far. */
  round: z.number().int().min(0).max(100),
  fixedAt: Instant,
  restartedAt: Instant.nullable(),
  verdict: z.enum(VERDICTS).nullable(),
  reason: z.string().max(4000),
  savings: z.record(z.string(), z.unknown()).nullable(),
});
export type Verification = z.output<typeof VerificationSchema>;

/**
 * What the approval-digest step returns (the approval's second branch): wait for the run's digest round
 * to be due, then send it once, or learn that another execution of the round did.
 */
export const DigestStepSchema = z.object({
  next: z.enum(['wait', 'done']),
  waitUntil: Instant.nullable(),
  /** Calls so far (bounded). */
  polls: z.number().int().min(0).max(100),
  /** The digest round the approval is in (null: not registered). */
  round: z.number().int().min(1).nullable(),
  outcome: z.enum(['waiting', 'sent', 'sent-by-other', 'nothing-to-send', 'not-in-a-digest']),
  reason: z.string().max(1000),
});
export type DigestStep = z.output<typeof DigestStepSchema>;

/** The workflow's state as the Task states pass it: the input and what the steps added. */
export const WorkflowStateSchema = WorkflowInputSchema.extend({
  prepared: Wrapped(PreparedSchema).optional(),
  commands: z.record(z.string(), Wrapped(CommandResultSchema)).optional(),
  decision: Wrapped(DecisionSchema).optional(),
  approval: z.unknown().optional(),
  approvalError: z.unknown().optional(),
  digest: Wrapped(DigestStepSchema).optional(),
  verification: Wrapped(VerificationSchema).optional(),
  verificationError: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});
export type WorkflowState = z.output<typeof WorkflowStateSchema>;

/** What closing an episode needs of the state: which episode, and the decision if there is one. */
const ClosingStateSchema = z
  .object({
    instanceId: InstanceId,
    episode: z.number().int().min(1),
    autoScalingGroup: text(255).nullable().optional(),
    prepared: z
      .object({ value: z.object({ autoScalingGroup: z.string().max(255).nullable().optional() }).loose() })
      .loose()
      .optional(),
    decision: z
      .object({
        value: z
          .object({
            next: z.string().max(64),
            outcome: z.enum(EPISODE_OUTCOMES).nullable().optional(),
            reason: z.string().max(4000).optional(),
          })
          .loose(),
      })
      .loose()
      .optional(),
    verification: z
      .object({
        value: z
          .object({
            verdict: z.enum(VERDICTS).nullable().optional(),
            reason: z.string().max(4000).optional(),
            round: z.number().int().min(0).optional(),
            savings: z.record(z.string(), z.unknown()).nullable().optional(),
          })
          .loose(),
      })
      .loose()
      .optional(),
    verificationError: z
      .object({ Error: z.string().optional(), Cause: z.string().optional() })
      .loose()
      .optional(),
  })
  .loose();
export type ClosingState = z.output<typeof ClosingStateSchema>;

const CommandRunInputSchema = z.object({
  instanceId: InstanceId,
  step: z.enum(COMMAND_STEPS),
  document: DocumentRef,
  parameters: Parameters,
  executionName: ExecutionName,
});

const CommandRunSchema = CommandRunInputSchema.extend({
  attempt: z.number().int().min(1),
  retries: z.number().int().min(0),
  polls: z.number().int().min(0),
  resent: z.boolean(),
  cancelled: z.boolean(),
  command: z.object({ commandId: z.string().max(64).nullable() }).nullable(),
  invocation: z
    .object({
      Status: z.string().optional(),
      StatusDetails: z.string().optional(),
      ResponseCode: z.number().optional(),
      StandardOutputContent: z.string().optional(),
    })
    .loose()
    .nullable()
    .optional(),
  sendError: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).nullable().optional(),
  invocationError: z
    .object({ Error: z.string().optional(), Cause: z.string().optional() })
    .nullable()
    .optional(),
  earlier: z
    .object({
      commands: z
        .array(
          z
            .object({
              CommandId: z.string().optional(),
              Comment: z.string().optional(),
              RequestedDateTime: z.union([z.string(), z.number()]).optional(),
            })
            .loose(),
        )
        .max(1000),
    })
    .nullable()
    .optional(),
  phase: z.enum(['send', 'poll', 'retry', 'cancel', 'done']),
  waitUntil: z.string().nullable(),
  result: CommandResultSchema.nullable(),
});

const base = { schemaVersion: z.literal(WORKFLOW_SCHEMA_VERSION) };
const inWorkflow = {
  ...base,
  mode: z.enum(REMEDIATION_MODES),
  execution: ExecutionName,
  state: WorkflowStateSchema,
};

/** Every payload the workflows send to the workflow-step function. */
export const StepPayloadSchema = z.discriminatedUnion('action', [
  z.object({ ...base, action: z.literal('start-command'), input: CommandRunInputSchema }),
  z.object({ ...base, action: z.literal('track-command'), run: CommandRunSchema }),
  z.object({ ...base, action: z.literal('adopt-command'), run: CommandRunSchema }),
  z.object({ ...inWorkflow, action: z.literal('prepare') }),
  z.object({ ...inWorkflow, action: z.literal('plan') }),
  z.object({ ...inWorkflow, action: z.literal('after-checks') }),
  z.object({ ...inWorkflow, action: z.literal('request-approval'), taskToken: z.string().min(1).max(1024) }),
  z.object({ ...inWorkflow, action: z.literal('approval-digest') }),
  z.object({ ...inWorkflow, action: z.literal('compare-plans') }),
  z.object({ ...inWorkflow, action: z.literal('after-patch') }),
  z.object({ ...inWorkflow, action: z.literal('after-restart') }),
  z.object({ ...inWorkflow, action: z.literal('escalate-outage') }),
  z.object({ ...inWorkflow, action: z.literal('schedule-verify') }),
  z.object({ ...inWorkflow, action: z.literal('verify') }),
  z.object({
    ...base,
    mode: z.enum(REMEDIATION_MODES),
    execution: ExecutionName,
    // Closing must work from any state the workflow can be in, even one a step could not read.
    state: ClosingStateSchema,
    action: z.literal('close'),
    failure: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
  }),
]);
export type StepPayload = z.output<typeof StepPayloadSchema>;

export const STEP_PAYLOAD = `a crawlguard workflow step payload (version ${WORKFLOW_SCHEMA_VERSION})`;
