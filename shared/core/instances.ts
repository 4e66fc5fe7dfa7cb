import { escapeControl } from './text.ts';

/** What an EC2 instance id looks like: `i-` and 8 (old) or 17 (current) lower-case hex digits. */
export const INSTANCE_ID_PATTERN = /^i-[0-9a-f]{8,17}$/;

/** The tag that opts an instance in. Key and value are compared exactly, case and spaces included. */
export interface OptInTag {
  readonly key: string;
  readonly value: string;
}

/** True when `value` is a well-formed EC2 instance id. */
export function isInstanceId(value: unknown): value is string {
  return typeof value === 'string' && INSTANCE_ID_PATTERN.test(value);
}

/**
 * True when the tags carry the opt-in tag with exactly the expected value. The service-side filter
 * already asked for it; this check is the one that counts (a filter value may hold wildcards, a tag
 * value may differ in case or trailing spaces).
 */
export function isOptedIn(
  tags: readonly { readonly key: string; readonly value: string }[],
  optIn: OptInTag,
): boolean {
  return tags.some((tag) => tag.key === optIn.key && tag.value === optIn.value);
}

/** A short, escaped rendering of an untrusted value for error messages (control characters escaped). */
export function quote(value: unknown, max = 60): string {
  let text: string;
  try {
    // JSON.stringify escapes C0 controls only: C1, bidi controls and U+2028/9 would reach the terminal raw.
    text = escapeControl(JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** True when `text` holds a C0 control character or DEL (line breaks, NUL, escape sequences...). */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
