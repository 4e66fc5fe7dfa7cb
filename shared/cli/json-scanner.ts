import { CrawlguardError } from '#core/errors.ts';
import type { ByteSource } from './read-input.ts';

/** A JSON syntax error, with its line and column; nothing else about the input matters then. */
export class JsonSyntaxError extends CrawlguardError {
  override readonly name = 'JsonSyntaxError';
}

/** A string or number longer than the scanner holds in memory ({@link MAX_VALUE_BYTES}). */
export class JsonValueTooLongError extends CrawlguardError {
  override readonly name = 'JsonValueTooLongError';
}

// Byte values of the JSON grammar.
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
export const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
export const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
export const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
export const ZERO = 0x30;
export const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const NEWLINE = 0x0a;
/** What {@link JsonScanner.skipSpace} returns at the end of the input. */
export const END = -1;

const CHUNK_BYTES = 1 << 20;
/**
 * The longest string or number held whole (keys, values read, any number): 16 MiB, far past any real
 * one. Strings that are skipped are not held at all, so memory stays a few MiB whatever the file holds.
 */
export const MAX_VALUE_BYTES = 16 * 1024 * 1024;
/** Bytes a fast path may read past `pos` once it has asked for them: enough for any timestamp or number. */
export const LOOKAHEAD = 64;
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);
const SIMPLE_ESCAPES = [0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74];
const TYPE_BY_FIRST_BYTE = new Map<number, string>([
  [OPEN_BRACE, 'object'],
  [OPEN_BRACKET, 'array'],
  [QUOTE, 'string'],
  [0x74, 'boolean'],
  [0x66, 'boolean'],
  [0x6e, 'null'],
  [MINUS, 'number'],
  ...Array.from({ length: 10 }, (_, d): [number, string] => [ZERO + d, 'number']),
]);

/** Where a value starts: its line and column (1-based; the column counts bytes). */
export interface Place {
  readonly line: number;
  readonly column: number;
}

/**
 * A JSON scanner over bytes pulled from a source in chunks, for readers that validate as they go: no
 * document is built, the caller walks the grammar (arrays, keys, strings, numbers) and skips what it
 * does not need. Strict JSON (RFC 8259): what `JSON.parse` refuses, it refuses, with a line and column;
 * strings decode and numbers convert exactly as `JSON.parse` of the UTF-8 text would. Fast paths read
 * `buffer` in place between `pos` and `end`.
 */
export class JsonScanner {
  private readonly source: ByteSource;
  /** Input bytes `[0, end)`; `buffer[end]` is always 0, a sentinel that stops every scanning loop. */
  buffer = new Uint8Array(CHUNK_BYTES + 1);
  /** The same bytes as a Buffer, to decode strings. */
  text = Buffer.from(this.buffer.buffer);
  pos = 0;
  end = 0;
  eof = false;
  /** File offset of buffer[0], and of the start of the current line. */
  base = 0;
  line = 1;
  lineStart = 0;

  constructor(source: ByteSource) {
    this.source = source;
  }

  /**
   * After an item of a long array: true at `,` (consumed, with the space after it: at the next item),
   * false at `]` (consumed). {@link nextItem} with the common case read in place.
   */
  afterItem(): boolean {
    const buffer = this.buffer;
    let pos = this.pos;
    let c = buffer[pos] as number;
    while (c === 0x20 || c === NEWLINE || c === 0x0d || c === 0x09) {
      if (c === NEWLINE) {
        this.line += 1;
        this.lineStart = this.base + pos + 1;
      }
      c = buffer[++pos] as number;
    }
    if (c === COMMA) {
      c = buffer[++pos] as number;
      while (c === 0x20 || c === NEWLINE || c === 0x0d || c === 0x09) {
        if (c === NEWLINE) {
          this.line += 1;
          this.lineStart = this.base + pos + 1;
        }
        c = buffer[++pos] as number;
      }
      this.pos = pos;
      if (pos >= this.end) this.skipSpace();
      return true;
    }
    if (c === CLOSE_BRACKET) {
      this.pos = pos + 1;
      return false;
    }
    this.pos = pos;
    return this.nextItem();
  }

  // ---- the JSON layer: input, whitespace, strings, numbers, any value ----

  /**
   * Reads more input, keeping `buffer[keepFrom, end)` (moved to the front, `pos` with it); grows the
   * buffer when what must be kept nearly fills it. False at the end of the input.
   */
  fill(keepFrom: number): boolean {
    if (this.eof) return false;
    if (this.end - keepFrom > MAX_VALUE_BYTES) throw this.tooLong(keepFrom);
    if (keepFrom > 0) {
      this.buffer.copyWithin(0, keepFrom, this.end);
      this.base += keepFrom;
      this.pos -= keepFrom;
      this.end -= keepFrom;
    }
    if (this.end >= this.buffer.length - 1 - LOOKAHEAD) {
      const larger = new Uint8Array(this.buffer.length * 2);
      larger.set(this.buffer.subarray(0, this.end));
      this.buffer = larger;
      this.text = Buffer.from(larger.buffer);
    }
    const count = this.source.read(this.buffer, this.end, this.buffer.length - 1 - this.end);
    if (count === 0) this.eof = true;
    this.end += count;
    this.buffer[this.end] = 0;
    return count > 0;
  }

  /** Skips whitespace; returns the next byte (not consumed), or END. */
  skipSpace(): number {
    for (;;) {
      const buffer = this.buffer;
      let pos = this.pos;
      let c = buffer[pos] as number;
      while (c === 0x20 || c === NEWLINE || c === 0x0d || c === 0x09) {
        if (c === NEWLINE) {
          this.line += 1;
          this.lineStart = this.base + pos + 1;
        }
        c = buffer[++pos] as number;
      }
      this.pos = pos;
      if (pos < this.end) return c;
      if (!this.fill(pos)) return END;
    }
  }

  /** After `[`: true when a first item follows, false at `]` (consumed). */
  firstItem(): boolean {
    if (this.skipSpace() !== CLOSE_BRACKET) return true;
    this.pos += 1;
    return false;
  }

  /** After an item: true at `,` (consumed, and the space after it), false at `]` (consumed). */
  nextItem(): boolean {
    const c = this.skipSpace();
    if (c !== COMMA && c !== CLOSE_BRACKET) {
      throw this.syntax(`${this.describeByte()} where ',' or ']' should be`);
    }
    this.pos += 1;
    if (c === CLOSE_BRACKET) return false;
    this.skipSpace();
    return true;
  }

  /** After `{`: the first key (its `:` consumed), or null at `}` (consumed). */
  firstKey(): string | null {
    if (this.skipSpace() !== CLOSE_BRACE) return this.key();
    this.pos += 1;
    return null;
  }

  /** After a member's value: the next key at `,`, or null at `}` (consumed). */
  nextKey(): string | null {
    const c = this.skipSpace();
    if (c !== COMMA && c !== CLOSE_BRACE)
      throw this.syntax(`${this.describeByte()} where ',' or '}' should be`);
    this.pos += 1;
    return c === COMMA ? this.key() : null;
  }

  key(): string {
    if (this.skipSpace() !== QUOTE)
      throw this.syntax(`${this.describeByte()} where a property name should be`);
    const key = this.string();
    if (this.skipSpace() !== COLON) throw this.syntax(`${this.describeByte()} where ':' should be`);
    this.pos += 1;
    return key;
  }

  /** The string at `"`, decoded as JSON.parse of the file's text would (bad UTF-8 becomes U+FFFD). */
  string(): string {
    const { start, end, escaped } = this.scanString();
    const raw = this.text.toString('utf8', start, end);
    return escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
  }

  /**
   * Scans the string at `"` past its closing quote; returns its bounds in the buffer, where it still is
   * if `keep` (else `start` is -1: a skipped string is let go of as the scan goes).
   */
  scanString(keep = true): { start: number; end: number; escaped: boolean } {
    let start = this.pos + 1;
    let pos = start;
    let escaped = false;
    for (;;) {
      const buffer = this.buffer;
      let c = buffer[pos] as number;
      while (c !== QUOTE && c !== BACKSLASH && c >= 0x20) c = buffer[++pos] as number;
      if (pos >= this.end || (c === BACKSLASH && this.end - pos < 6 && !this.eof)) {
        // Read more, keeping the string from its start (or from here: an escape is validated whole).
        this.pos = pos;
        const kept = this.base + start;
        const more = this.fill(keep ? start : pos);
        start = kept - this.base;
        pos = this.pos;
        if (!more && pos >= this.end) throw this.syntax('the file ends inside a string');
        continue;
      }
      if (c === QUOTE) {
        if (keep && pos - start > MAX_VALUE_BYTES) throw this.tooLong(start);
        this.pos = pos + 1;
        return { start: keep ? start : -1, end: pos, escaped };
      }
      this.pos = pos;
      if (c !== BACKSLASH) throw this.syntax('a control character in a string (it must be escaped)');
      escaped = true;
      const next = buffer[pos + 1] as number;
      if (next === 0x75) {
        for (let k = 2; k < 6; k += 1) {
          if (pos + k >= this.end || !isHexDigit(buffer[pos + k] as number)) {
            throw this.syntax('a \\u escape without four hex digits');
          }
        }
        pos += 6;
      } else if (pos + 1 < this.end && SIMPLE_ESCAPES.includes(next)) {
        pos += 2;
      } else {
        throw this.syntax('an escape that JSON does not have');
      }
    }
  }

  /** The number at `-` or a digit, as JSON.parse reads it. */
  number(): number {
    for (;;) {
      const value = this.tryNumber();
      if (value !== undefined) return value;
      // The number runs to the end of the buffer: read more, keeping it, and start over.
      this.fill(this.pos);
    }
  }

  /** The number at `pos`; undefined when it may go on past the end of the buffer. */
  tryNumber(): number | undefined {
    const buffer = this.buffer;
    const start = this.pos;
    let i = start;
    const negative = buffer[i] === MINUS;
    if (negative) i += 1;
    let mantissa = 0;
    let digits = 0;
    let exact = true;
    let c = buffer[i] as number;
    if (c === ZERO) {
      c = buffer[++i] as number;
    } else if (c > ZERO && c <= NINE) {
      while (c >= ZERO && c <= NINE) {
        if (digits < 15) mantissa = mantissa * 10 + (c - ZERO);
        else exact = false;
        digits += 1;
        c = buffer[++i] as number;
      }
    } else {
      return this.numberCut(i, 'a digit');
    }
    let scale = 0;
    if (c === DOT) {
      c = buffer[++i] as number;
      if (!(c >= ZERO && c <= NINE)) return this.numberCut(i, 'a digit after the decimal point');
      while (c >= ZERO && c <= NINE) {
        if (mantissa !== 0 || c !== ZERO) {
          if (digits < 15) mantissa = mantissa * 10 + (c - ZERO);
          else exact = false;
          digits += 1;
        }
        scale -= 1;
        c = buffer[++i] as number;
      }
    }
    if (c === LOWER_E || c === UPPER_E) {
      c = buffer[++i] as number;
      const exponentSign = c === MINUS ? -1 : 1;
      if (c === PLUS || c === MINUS) c = buffer[++i] as number;
      if (!(c >= ZERO && c <= NINE)) return this.numberCut(i, 'a digit in the exponent');
      let exponent = 0;
      while (c >= ZERO && c <= NINE) {
        if (exponent < 1_000_000) exponent = exponent * 10 + (c - ZERO);
        c = buffer[++i] as number;
      }
      scale += exponentSign * exponent;
    }
    if (i >= this.end && !this.eof) return undefined;
    if (i - start > MAX_VALUE_BYTES) throw this.tooLong(start);
    this.pos = i;
    if (!exact || scale < -22 || scale > 22) return Number(this.text.toString('latin1', start, i));
    // Both operands are exact doubles: one correctly rounded operation gives JSON.parse's value.
    const value =
      scale >= 0 ? mantissa * (POWERS_OF_TEN[scale] as number) : mantissa / (POWERS_OF_TEN[-scale] as number);
    return negative ? -value : value;
  }

  /** A number cut short at `i`: more input may complete it, else it is a syntax error. */
  numberCut(i: number, wanted: string): undefined {
    if (i >= this.end && !this.eof) return undefined;
    this.pos = i;
    throw this.syntax(`${this.describeByte()} where ${wanted} should be`);
  }

  /**
   * Skips one value of any kind and depth, checking its syntax, and returns its type as zod names it.
   * No recursion: deep nesting cannot exhaust the stack.
   */
  skipValue(): string {
    const first = this.skipSpace();
    let type = TYPE_BY_FIRST_BYTE.get(first) ?? 'value';
    const closers: number[] = [];
    for (;;) {
      const c = this.skipSpace();
      if (c === OPEN_BRACKET || c === OPEN_BRACE) {
        this.pos += 1;
        const open = c === OPEN_BRACKET ? this.firstItem() : this.firstKey() !== null;
        if (open) {
          closers.push(c === OPEN_BRACKET ? CLOSE_BRACKET : CLOSE_BRACE);
          continue;
        }
      } else if (c === QUOTE) {
        this.scanString(false);
      } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
        const value = this.number();
        // zod names an infinite number by its value (JSON reaches one with an exponent: 1e999).
        if (closers.length === 0 && !Number.isFinite(value)) type = String(value);
      } else if (c === 0x74 || c === 0x66 || c === 0x6e) {
        this.literal(c === 0x74 ? 'true' : c === 0x66 ? 'false' : 'null');
      } else {
        throw this.syntax(`${this.describeByte()} where a value should be`);
      }
      // A value is done: close every container it completes.
      for (;;) {
        const close = closers.at(-1);
        if (close === undefined) return type;
        if (close === CLOSE_BRACKET ? this.nextItem() : this.nextKey() !== null) break;
        closers.pop();
      }
    }
  }

  literal(word: string): void {
    while (this.end - this.pos < word.length && this.fill(this.pos));
    for (let k = 0; k < word.length; k += 1) {
      if (this.pos >= this.end || this.buffer[this.pos] !== word.charCodeAt(k)) {
        throw this.syntax(`${this.describeByte()} in ${word}`);
      }
      this.pos += 1;
    }
  }

  // ---- where ----

  here(): Place {
    return { line: this.line, column: this.base + this.pos - this.lineStart + 1 };
  }

  /** A value held from `start` (in the buffer) is too long; strings and numbers hold no line break. */
  private tooLong(start: number): JsonValueTooLongError {
    const column = this.base + start - this.lineStart + 1;
    return new JsonValueTooLongError(
      `a string or number longer than ${MAX_VALUE_BYTES / 1024 / 1024} MiB (line ${this.line}, column ${column})`,
    );
  }

  syntax(what: string): JsonSyntaxError {
    const { line, column } = this.here();
    return new JsonSyntaxError(`${what} (line ${line}, column ${column})`);
  }

  describeByte(): string {
    if (this.pos >= this.end) return 'the end of the file';
    const c = this.buffer[this.pos] as number;
    return c > 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
  }
}

function isHexDigit(c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
