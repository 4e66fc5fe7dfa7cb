import * as z from 'zod';

/**
 * The subset of the SSM Command document language (schemaVersion 2.2) that crawlguard's documents use.
 * No complete public JSON schema of Command document content exists (see test/fixtures/ssm-document/),
 * so this one is strict on purpose: an unknown key is a typo until proven otherwise.
 */
export const stringParameterSchema = z.strictObject({
  type: z.literal('String'),
  description: z.string().min(1),
  default: z.string().optional(),
  allowedPattern: z.string().min(1),
  interpolationType: z.literal('ENV_VAR'),
});

export const runShellScriptStepSchema = z.strictObject({
  action: z.literal('aws:runShellScript'),
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/),
  precondition: z.strictObject({ StringEquals: z.tuple([z.literal('platformType'), z.literal('Linux')]) }),
  inputs: z.strictObject({
    timeoutSeconds: z.number().int().min(1).max(172_800),
    runCommand: z.array(z.string()).min(1),
  }),
});

export const commandDocumentSchema = z.strictObject({
  schemaVersion: z.literal('2.2'),
  description: z.string().min(1),
  parameters: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/), stringParameterSchema),
  mainSteps: z.array(runShellScriptStepSchema).min(1),
});

export type CommandDocument = z.infer<typeof commandDocumentSchema>;
