import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { itRequires, missingCommands } from '#test/helpers/requirements.ts';
import { runLibBatch } from '#test/helpers/shell-lib.ts';

/** Reads the input without losing trailing newlines, quotes it, writes the JSON literal. */
const BODY = `IFS= read -r -d '' v <"$f" || true
 json_quote "$v"
 printf '%s' "$REPLY" >"$DIR/$i.out"`;

const noNul = (s: string) => !s.includes('\0');
const wellFormed = (s: string) => Buffer.from(s, 'utf8').toString('utf8') === s;

for (const awk of ['mawk', 'gawk']) {
  describe(`json.sh with ${awk}`, () => {
    const itAwk = itRequires(missingCommands([awk]));

    itAwk(
      'quotes any text (control characters, quotes, backslashes, any Unicode) so that JSON.parse gives it back',
      () => {
        const samples = [
          '',
          'plain /mnt/data',
          'a"b\\c',
          '\\"',
          'tab\there\nnew line\r\n',
          '\u0001\u001f\u007f',
          `$(id) \`id\` $\{x}`,
          'é ü 日本 🪣',
          '\u2028\u2029',
          ...fc.sample(
            fc.string({ unit: 'binary', maxLength: 60 }).filter((s) => noNul(s) && wellFormed(s)),
            { numRuns: 400, seed: 7 },
          ),
        ];
        const run = runLibBatch(awk, ['json.sh'], samples, BODY);
        try {
          samples.forEach((sample, i) => {
            const out = run.read(i, 'out').toString('utf8');
            expect(out.startsWith('"') && out.endsWith('"')).toBe(true);
            expect(JSON.parse(out)).toBe(sample);
          });
        } finally {
          run.dispose();
        }
      },
    );

    itAwk('turns invalid UTF-8 into U+FFFD and keeps every valid character', () => {
      const samples = [
        Buffer.from([0xff, 0xfe, 0x41]),
        Buffer.from([0xe2, 0x82, 0x41]),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from([0xc0, 0x80]),
        Buffer.from([0xf4, 0x90, 0x80, 0x80]),
        Buffer.from([0x61, 0xc3]),
        ...fc.sample(
          fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes.filter((b) => b !== 0))),
          { numRuns: 400, seed: 11 },
        ),
      ];
      const run = runLibBatch(awk, ['json.sh'], samples, BODY);
      try {
        samples.forEach((bytes, i) => {
          const parsed = JSON.parse(run.read(i, 'out').toString('utf8')) as string;
          const reference = new TextDecoder('utf-8').decode(bytes);
          expect(parsed.replaceAll('\ufffd', '')).toBe(reference.replaceAll('\ufffd', ''));
          expect(parsed.includes('\ufffd')).toBe(reference.includes('\ufffd'));
        });
      } finally {
        run.dispose();
      }
    });

    itAwk('builds objects and arrays: numbers, booleans, nulls, truncated lists', () => {
      const run = runLibBatch(
        awk,
        ['json.sh'],
        ['x'],
        `o=''
 json_add_str o name 'a "b"'
 json_add_num o count 42
 json_add_num o notANumber '12; rm'
 json_add_bool o yes 1
 json_add_bool o no 0
 json_add_str_or_null o empty ''
 json_str_array 2 a b c
 json_add o list "$REPLY"
 json_add_bool o listTruncated "$JSON_TRUNCATED"
 json_truncate "$(printf 'x%.0s' {1..50})" 10
 json_add_str o cut "$REPLY"
 printf '{%s}' "$o" >"$DIR/$i.out"`,
      );
      try {
        expect(JSON.parse(run.read(0, 'out').toString())).toEqual({
          name: 'a "b"',
          count: 42,
          notANumber: null,
          yes: true,
          no: false,
          empty: null,
          list: ['a', 'b'],
          listTruncated: true,
          cut: 'xxxxxxxxxx',
        });
      } finally {
        run.dispose();
      }
    });
  });
}
