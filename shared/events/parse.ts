import type * as z from 'zod';
import { CrawlguardError } from '#core/errors.ts';
import { quote } from '#core/instances.ts';

/** An event that does not have the shape its function expects; nothing was done with it. */
export class InvalidEventError extends CrawlguardError {
  override readonly name: string = 'InvalidEventError';
}

/**
 * Validates `event` against `schema`.
 * @param expected what the function takes, e.g. 'a CloudWatch Alarm State Change event'.
 * @throws InvalidEventError with one line naming the first problem and, when recognisable, what the
 * event is instead (an event meant for another function).
 */
export function parseEvent<S extends z.ZodType>(schema: S, event: unknown, expected: string): z.output<S> {
  const result = schema.safeParse(event);
  if (result.success) return result.data;
  const issue = firstIssue(result.error.issues);
  const where = formatPath(issue?.path ?? []);
  const problem = issue === undefined ? 'invalid' : describeIssue(issue, event);
  const kind = describeEvent(event);
  throw new InvalidEventError(`expected ${expected}, got ${kind}: ${where}: ${problem}`, {
    cause: result.error,
  });
}

type Issue = z.core.$ZodIssue;

/**
 * The issue that names the problem. For a union, "no union member matched" says nothing: the branch
 * with the fewest issues is the one the event was meant to be, and its first issue (the deepest one on
 * a tie) is what is wrong with it.
 */
function firstIssue(issues: readonly Issue[]): Issue | undefined {
  const issue = issues[0];
  if (issue?.code === 'invalid_union' && issue.errors.length > 0) {
    let best: { issue: Issue; count: number } | undefined;
    for (const branch of issue.errors) {
      const candidate = firstIssue(branch);
      if (candidate === undefined) continue;
      if (
        best === undefined ||
        branch.length < best.count ||
        (branch.length === best.count && candidate.path.length > best.issue.path.length)
      ) {
        best = { issue: candidate, count: branch.length };
      }
    }
    return best === undefined ? issue : { ...best.issue, path: [...issue.path, ...best.issue.path] };
  }
  return issue;
}

/** zod's message; for a wrong literal or enum value (`schemaVersion: "1"`), also the value found. */
function describeIssue(issue: Issue, event: unknown): string {
  if (issue.code !== 'invalid_value') return issue.message;
  let value: unknown = event;
  for (const key of issue.path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return issue.message;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return `${issue.message}, got ${quote(value)}`;
}

/** `event.detail.metrics[0]["detail-type"]`: where in the event the problem is. */
function formatPath(path: readonly PropertyKey[]): string {
  let text = 'event';
  for (const key of path) {
    const name = String(key);
    if (typeof key === 'number') text += `[${key}]`;
    else text += /^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `[${quote(name)}]`;
  }
  return text;
}

/** A short description of what an event is, so that one meant for another function says so. */
export function describeEvent(event: unknown): string {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    return `not a JSON object (${event === null ? 'null' : Array.isArray(event) ? 'an array' : typeof event})`;
  }
  const record = event as Record<string, unknown>;
  if (Array.isArray(record.Records)) {
    const first = record.Records[0] as Record<string, unknown> | undefined;
    const source = first?.eventSource ?? first?.EventSource;
    return source === 'aws:sqs'
      ? 'an SQS event'
      : `a Records event from ${quote(source ?? 'an unknown source')}`;
  }
  if (typeof record['detail-type'] === 'string') {
    return `an EventBridge ${quote(record['detail-type'])} event from ${quote(record.source)}`;
  }
  if ('alarmData' in record) return 'a CloudWatch alarm-action payload (not the EventBridge format)';
  if (record.crawlguard !== undefined) return `crawlguard input ${quote(record.crawlguard)}`;
  const keys = Object.keys(record);
  return keys.length === 0 ? 'an empty object' : `an object with keys ${quote(keys.slice(0, 5).join(', '))}`;
}
