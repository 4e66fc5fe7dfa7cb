import { createHash } from 'node:crypto';

/**
 * The id a person is given to approve or deny (never the task token): short, unguessable without the
 * execution name, the same when Step Functions retries the step.
 */
export function approvalIdFor(executionName: string, round: number): string {
  return `apv-${createHash('sha256').update(`${executionName}\n${round}`).digest('hex').slice(0, 16)}`;
}

/** A bounded piece of text for the ledger and messages: cut with a marker. */
export function clipText(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
