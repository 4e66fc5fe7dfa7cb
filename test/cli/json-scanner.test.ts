import { describe, expect, it } from 'vitest';
import {
  JsonScanner,
  JsonSyntaxError,
  JsonValueTooLongError,
  MAX_VALUE_BYTES,
} from '#shared/cli/json-scanner.ts';
import { bytesSource } from '#shared/cli/read-input.ts';

function scanner(text: string | Uint8Array, chunk = 1 << 20): JsonScanner {
  return new JsonScanner(bytesSource(typeof text === 'string' ? Buffer.from(text) : text, chunk));
}

/** Skips one value and checks that nothing but space follows: the value's type as zod names it. */
function skipWhole(text: string, chunk?: number): string {
  const json = scanner(text, chunk);
  const type = json.skipValue();
  if (json.skipSpace() !== -1) throw new Error('trailing input');
  return type;
}

describe('JsonScanner', () => {
  it.each([
    '0',
    '-0',
    '7',
    '0.1',
    '0.30000000000000004',
    '123456789012345678',
    '9007199254740993',
    '1.5e-7',
    '1E+2',
    '-12.5e3',
    '2.2250738585072014e-308',
    '5e-324',
    '1.7976931348623157e308',
    '1e999',
    '-1e999',
    `0.${'0'.repeat(400)}1`,
    `${'9'.repeat(400)}`,
  ])('reads %s as JSON.parse does', (text) => {
    for (const chunk of [1, 3, 1 << 20]) {
      const json = scanner(`${text} `, chunk);
      json.skipSpace();
      expect(Object.is(json.number(), JSON.parse(text))).toBe(true);
    }
  });

  it.each<[string, string]>([
    ['{"a": [1, {"b": null}]}', 'object'],
    ['[]', 'array'],
    ['"x\\u00e9\\n"', 'string'],
    ['12', 'number'],
    ['1e999', 'Infinity'],
    ['-1e999', '-Infinity'],
    ['true', 'boolean'],
    ['false', 'boolean'],
    ['null', 'null'],
  ])('skips %s, a value of type %s', (text, type) => {
    expect(skipWhole(text)).toBe(type);
    expect(skipWhole(text, 1)).toBe(type);
  });

  it.each<[string, string]>([
    ['[01]', "'1' where ',' or ']' should be"],
    ['[1,]', "']' where a value should be"],
    ['{"a" 1}', "'1' where ':' should be"],
    ['{"a": 1,}', "'}' where a property name should be"],
    ['tru', 'in true'],
    ['"\\x"', 'an escape that JSON does not have'],
    ['"\\u12"', 'a \\u escape without four hex digits'],
    ['"a\u0001"', 'a control character in a string'],
    ['"abc', 'the file ends inside a string'],
    ['-', 'where a digit should be'],
    ['1.', 'where a digit after the decimal point should be'],
    ['1e+', 'where a digit in the exponent should be'],
    ['[1 2]', "'2' where ',' or ']' should be"],
  ])('refuses %j: %s', (text, problem) => {
    for (const chunk of [1, 1 << 20]) {
      expect(() => skipWhole(text, chunk)).toThrow(JsonSyntaxError);
      expect(() => skipWhole(text, chunk)).toThrow(problem);
    }
  });

  it('skips a huge string it does not keep without holding it', () => {
    const huge = `{"Other": "${'x'.repeat(40 * 1024 * 1024)}", "b": [1]}`;
    const json = scanner(huge);

    expect(json.skipValue()).toBe('object');
    expect(json.buffer.length).toBeLessThanOrEqual((1 << 20) + 1);
  });

  it('refuses to hold a string or a number longer than 16 MiB, saying where it starts', () => {
    for (const chunk of [1 << 20, 7 << 20]) {
      const key = scanner(`{\n  "${'k'.repeat(MAX_VALUE_BYTES + 10)}": 1}`, chunk);
      key.skipSpace();
      key.pos += 1;
      expect(() => key.firstKey()).toThrow(JsonValueTooLongError);
    }

    const number = scanner(`[\n ${'1'.repeat(MAX_VALUE_BYTES + 10)}]`);
    expect(() => number.skipValue()).toThrow('a string or number longer than 16 MiB (line 2, column 2)');
  });

  it('counts lines and columns across chunks', () => {
    const json = scanner('{\n  "a": [\n    1,\n    x]}', 2);
    expect(() => json.skipValue()).toThrow("'x' where a value should be (line 4, column 5)");
  });
});
