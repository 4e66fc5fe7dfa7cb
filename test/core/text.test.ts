import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quote } from '#core/instances.ts';
import { escapeControl } from '#core/text.ts';

/** Every code point escapeControl must never pass through. */
const UNSAFE_CODE_POINTS = [
  ...range(0x00, 0x1f),
  0x7f,
  ...range(0x80, 0x9f),
  0x061c,
  0x200e,
  0x200f,
  0x2028,
  0x2029,
  ...range(0x202a, 0x202e),
  ...range(0x2066, 0x2069),
];

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function containsUnsafe(text: string): boolean {
  return [...text].some((character) => UNSAFE_CODE_POINTS.includes(character.codePointAt(0) as number));
}

describe('escapeControl', () => {
  it.each<[string, string, string]>([
    ['plain text', 'i-0123456789abcdef0', 'i-0123456789abcdef0'],
    ['an empty string', '', ''],
    ['a clear-screen sequence', 'host\u001b[2J\u001b[H', 'host\\u001b[2J\\u001b[H'],
    ['a terminal retitle (OSC ... BEL)', '\u001b]0;pwned\u0007', '\\u001b]0;pwned\\u0007'],
    ['a forged report line', 'i-1\n  verdict NONE', 'i-1\\n  verdict NONE'],
    ['a carriage return that overwrites the line', 'bad\rgood', 'bad\\rgood'],
    ['a tab', 'a\tb', 'a\\tb'],
    [
      'NUL and the other C0 controls',
      '\u0000\u0001\u0008\u000b\u000c\u001f',
      '\\u0000\\u0001\\u0008\\u000b\\u000c\\u001f',
    ],
    ['DEL', 'a\u007fb', 'a\\u007fb'],
    ['the 8-bit CSI and the other C1 controls', '\u0080\u0085\u009b\u009f', '\\u0080\\u0085\\u009b\\u009f'],
    ['a right-to-left override (Trojan Source)', 'i-1\u202egnp.exe', 'i-1\\u202egnp.exe'],
    [
      'the bidi embeddings and overrides',
      '\u202a\u202b\u202c\u202d\u202e',
      '\\u202a\\u202b\\u202c\\u202d\\u202e',
    ],
    ['the bidi isolates', '\u2066\u2067\u2068\u2069', '\\u2066\\u2067\\u2068\\u2069'],
    ['the bidi marks', '\u061c\u200e\u200f', '\\u061c\\u200e\\u200f'],
    ['line and paragraph separators', 'a\u2028b\u2029c', 'a\\u2028b\\u2029c'],
    [
      'the neighbours of every escaped range',
      ' ~\u00a0\u061b\u200d\u2027\u202f\u2065\u206a',
      ' ~\u00a0\u061b\u200d\u2027\u202f\u2065\u206a',
    ],
    ['letters of other scripts and emoji', 'serveur-été-東京-🚀', 'serveur-été-東京-🚀'],
    ['backslashes, left as they are', 'C:\\tmp\\n', 'C:\\tmp\\n'],
  ])('%s', (_name, input, expected) => {
    expect(escapeControl(input)).toBe(expected);
  });

  it('escapes every code point of the set, each to a visible escape', () => {
    for (const codePoint of UNSAFE_CODE_POINTS) {
      const escaped = escapeControl(`<${String.fromCodePoint(codePoint)}>`);
      expect(escaped).toMatch(/^<\\(n|r|t|u[0-9a-f]{4})>$/);
      expect(containsUnsafe(escaped)).toBe(false);
    }
  });

  it('never lets an unsafe character through, and is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const escaped = escapeControl(text);
        expect(containsUnsafe(escaped)).toBe(false);
        expect(escapeControl(escaped)).toBe(escaped);
      }),
    );
  });

  it('keeps JSON valid and its value unchanged', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), (value, text) => {
        const json = JSON.stringify(value);
        expect(JSON.parse(escapeControl(json))).toEqual(JSON.parse(json));
        expect(JSON.parse(escapeControl(JSON.stringify(text)))).toBe(text);
      }),
    );
  });

  it('leaves text without unsafe characters untouched', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        if (!containsUnsafe(text)) expect(escapeControl(text)).toBe(text);
      }),
    );
  });
});

describe('quote escapes the same set', () => {
  it.each<[unknown, string]>([
    ['a\u009bb', '"a\\u009bb"'],
    ['i-1\u202eexe', '"i-1\\u202eexe"'],
    ['\u2066x\u2069', '"\\u2066x\\u2069"'],
    ['line\u2028break', '"line\\u2028break"'],
    ['a\u0000b', '"a\\u0000b"'],
    [{ key: '\u001b[2J' }, '{"key":"\\u001b[2J"}'],
  ])('quote(%j) is %s', (value, expected) => {
    expect(quote(value)).toBe(expected);
  });

  it('never returns an unsafe character', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(containsUnsafe(quote(text, 1000))).toBe(false);
      }),
    );
  });
});
