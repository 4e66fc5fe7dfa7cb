/**
 * True for characters that act on a terminal or reorder what it shows instead of being shown: C0
 * controls, DEL, C1 controls (U+0080–U+009F, which some terminals take as 8-bit escape sequences), the
 * Unicode bidi controls (ALM U+061C, LRM/RLM U+200E/F, the embeddings and overrides U+202A–U+202E, the
 * isolates U+2066–U+2069) and the line and paragraph separators U+2028/U+2029.
 */
function isUnsafe(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x061c ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x2028 && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

const SHORT_ESCAPES: Readonly<Record<number, string>> = { 10: '\\n', 13: '\\r', 9: '\\t' };

/**
 * Makes text from outside (labels, file names, event fields, log lines) safe to show on a terminal:
 * every control character, DEL, C1 control, bidi control and line/paragraph separator becomes a
 * visible escape (`\n`, `\r`, `\t`, else `\u` and four lower-case hex digits: `\u001b`, `\u009b`,
 * `\u202e`); everything else, backslashes included, is left as it is. The escapes are JSON's and
 * JavaScript's, so escaping JSON text keeps it valid JSON with the same value:
 * `JSON.parse(escapeControl(JSON.stringify(v)))` equals `v`. The result is one line and holds none of
 * the characters it escapes.
 */
export function escapeControl(text: string): string {
  let first = 0;
  while (first < text.length && !isUnsafe(text.charCodeAt(first))) first += 1;
  if (first === text.length) return text;
  let escaped = text.slice(0, first);
  let copied = first;
  for (let i = first; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (!isUnsafe(code)) continue;
    escaped += text.slice(copied, i) + (SHORT_ESCAPES[code] ?? `\\u${code.toString(16).padStart(4, '0')}`);
    copied = i + 1;
  }
  return escaped + text.slice(copied);
}
