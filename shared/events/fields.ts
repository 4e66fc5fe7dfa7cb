import * as z from 'zod';
import { hasControlCharacter, INSTANCE_ID_PATTERN } from '#core/instances.ts';
import { isoInstantMs, isPlausibleInstant, PLAUSIBLE_YEARS } from '#core/instant.ts';

/** A bounded single-line string: values that end up in logs, findings and API calls. */
export const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !hasControlCharacter(value), {
      message: 'must not contain control characters (line breaks, NUL, ...)',
    });

export const InstanceId = z
  .string()
  .regex(INSTANCE_ID_PATTERN, { message: 'is not an EC2 instance id (expected i- and 8 to 17 hex digits)' });

export const AccountId = z.string().regex(/^\d{12}$/, { message: 'is not a 12-digit account id' });

export const Region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, { message: 'is not an AWS region' });

/** Ids we derive keys from (run ids, execution ids): letters, digits and dashes. */
export const RunId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/, { message: 'must be 1 to 64 letters, digits or dashes' });

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

/** Epoch milliseconds of an existing ISO-8601 instant (2026-02-30 is none), or NaN; any year. */
function existingInstantMs(value: string): number {
  return INSTANT.test(value) ? isoInstantMs(value) : Number.NaN;
}

/**
 * Epoch milliseconds of an ISO-8601 instant, accepting CloudWatch's `+0000` offsets; NaN if it is not
 * one, names a date that does not exist, or lies outside the years 2000–2100.
 */
export function instantMs(value: string): number {
  const ms = existingInstantMs(value);
  return isPlausibleInstant(ms) ? ms : Number.NaN;
}

/**
 * An ISO-8601 instant with a zone, as EventBridge (`Z`) and CloudWatch (`+0000`) write them, of a day
 * that exists, in the years 2000–2100 (an event from year 0 or 9999 is forged or broken).
 */
export const Instant = z
  .string()
  .refine((value) => Number.isFinite(existingInstantMs(value)), {
    message: 'is not an ISO-8601 instant with a zone',
    abort: true,
  })
  .refine((value) => isPlausibleInstant(existingInstantMs(value)), {
    message: `is outside the years ${PLAUSIBLE_YEARS}`,
  });

/** CloudWatch's own bounds on dimension names (1–255) and values (1–1024). */
export const Dimension = z.object({ name: text(255).min(1), value: text(1024).min(1) }).strict();
