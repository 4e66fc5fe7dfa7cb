/**
 * HTML that cannot be forged by its data: `html` is a tagged template that escapes every interpolated
 * value unless it is itself `Html` (the result of another `html` template or of `trusted`). Instance ids,
 * tag values, labels and reasons reach the page only as text.
 */
import { escapeControl } from '#core/text.ts';

/** Markup made by this module: safe to place as is. */
export class Html {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Text as HTML text or attribute value: the five markup characters become entities, and control, C1 and
 * bidi characters become visible escapes (`\u202e`), so a value cannot reorder or hide what is shown.
 */
export function escapeHtml(text: string): string {
  return escapeControl(text).replace(/[&<>"']/g, (char) => ENTITIES[char] as string);
}

type Value = Html | string | number | boolean | null | undefined | readonly Value[];

function place(value: Value): string {
  if (value === null || value === undefined || value === false || value === true) return '';
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(place).join('');
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  return escapeHtml(value as string);
}

/** Builds markup; every `${value}` is escaped unless it is `Html`, arrays are joined, null/booleans vanish. */
export function html(strings: TemplateStringsArray, ...values: readonly Value[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i += 1) out += place(values[i]) + (strings[i + 1] ?? '');
  return new Html(out);
}

/** Markup written by this code (a stylesheet, numbers formatted here): never pass it input text. */
export function trusted(markup: string): Html {
  return new Html(markup);
}
