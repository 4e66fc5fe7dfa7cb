import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeMemory } from '#core/memory.ts';
import { analyzeNetworkOut } from '#core/network-out/index.ts';
import {
  type LabelledSeries,
  MetricFileError,
  parseMetricDataFile,
  readMetricDataFile,
} from '#shared/cli/metric-data-file.ts';
import { bytesSource } from '#shared/cli/read-input.ts';
import { loadNab } from '#test/eval/nab.ts';
import { ROOT } from '#test/support/handlers.ts';
import { parseMetricDataFile as referenceParse } from './analyze-reference-reader.ts';

/** What a reader made of a file: its results with plain arrays, or its one-line error without the place. */
type Outcome = { results: unknown[] } | { error: string };

function outcome(read: () => readonly LabelledSeries[]): Outcome {
  try {
    return {
      results: read().map((result) => ({
        ...result,
        series: {
          timestamps: Array.from(result.series.timestamps),
          values: Array.from(result.series.values),
        },
      })),
    };
  } catch (error) {
    if (!(error instanceof Error) || error.name === 'Error') throw error;
    return { error: error.message.replace(/ \(line \d+, column \d+\)$/, '') };
  }
}

/** The streaming reader, fed `chunk` bytes at a time, against the zod reader it replaced. */
function compare(text: string, chunk: number): { reference: Outcome; streaming: Outcome } {
  // The zod reader read the file as UTF-8 text: give it the same bytes, decoded.
  const reference = outcome(() => referenceParse('f.json', Buffer.from(text).toString('utf8')));
  const streaming = outcome(() => readMetricDataFile('f.json', bytesSource(Buffer.from(text), chunk)));
  // Both say "not JSON" for a syntax error, in their own words (V8's JSON.parse message, ours with a place).
  const normalise = (o: Outcome): Outcome =>
    'error' in o && o.error.startsWith('f.json: not JSON') ? { error: 'f.json: not JSON' } : o;
  return { reference: normalise(reference), streaming: normalise(streaming) };
}

/** A get-metric-data document as aws-cli prints it (newest first, `+00:00`), with `indent` spaces. */
function document(
  entries: { label: string; timestamps: ArrayLike<number>; values: ArrayLike<number> }[],
  indent?: number,
) {
  return JSON.stringify(
    {
      MetricDataResults: entries.map((entry, index) => ({
        Id: `m${index}`,
        Label: entry.label,
        Timestamps: Array.from(entry.timestamps, (t) =>
          new Date(t).toISOString().replace('.000Z', '+00:00'),
        ).reverse(),
        Values: Array.from(entry.values).reverse(),
        StatusCode: 'Complete',
      })),
      Messages: [],
    },
    null,
    indent,
  );
}

describe('the streaming reader reads what the zod reader read', () => {
  const recorded = ['network-out.json', 'memory.json'].map((file) => ({
    name: `events/metrics/${file}`,
    text: readFileSync(`${ROOT}/events/metrics/${file}`, 'utf8'),
  }));
  const nab = loadNab().map((entry) => ({
    name: `test/fixtures/nab/${entry.name}.csv as aws-cli output`,
    text: document([{ label: entry.name, ...entry.series }], 4),
  }));

  it.each([...recorded, ...nab])('$name', ({ text }) => {
    const { reference, streaming } = compare(text, 1 << 20);
    expect('results' in reference).toBe(true);
    expect(streaming).toEqual(reference);
  });

  it.each(recorded)('$name: the same verdicts, windows and evidence', ({ name, text }) => {
    const analyse = (series: LabelledSeries['series']) =>
      name.includes('memory')
        ? analyzeMemory(series)
        : analyzeNetworkOut(series, { timeZone: 'Europe/Paris' });
    const expected = referenceParse(name, text).map((result) => JSON.stringify(analyse(result.series)));
    const actual = parseMetricDataFile(name, text).map((result) => JSON.stringify(analyse(result.series)));

    expect(actual).toEqual(expected);
  });

  it('reads a file that arrives a byte at a time', () => {
    const text = recorded[1]?.text.slice(0, 5000).replace(/,\s*$/, '') ?? '';
    const shortened = `${text.slice(0, text.lastIndexOf('"Values"'))}"Values": []}]}`.replace(
      /"Timestamps": \[[^\]]*\]/,
      '"Timestamps": []',
    );
    const { reference, streaming } = compare(shortened, 1);
    expect(streaming).toEqual(reference);
  });
});

// ---- generated documents, good and bad, compared with the zod reader ----

type Node = { raw: string } | { object: [string, Node][] } | { array: Node[] };

const raw = (text: string): Node => ({ raw: text });
/** Mostly `usual`, now and then one of `unusual`: most documents get far enough to meet a deeper problem. */
const mostly = <T>(usual: readonly T[], unusual: readonly T[], weight = 20) =>
  fc.oneof(
    { weight, arbitrary: fc.constantFrom(...usual) },
    { weight: 1, arbitrary: fc.constantFrom(...unusual) },
  );
/** `arbitrary` once in `freq` draws, null otherwise. */
const rarely = <T>(arbitrary: fc.Arbitrary<T>, { freq }: { freq: number }) =>
  fc.oneof({ weight: freq - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });
const space = fc.constantFrom('', '', ' ', '\n', '\n    ', '\t', '\r\n  ');

/** JSON text of a string, sometimes with its first character written as a \u escape (as JSON allows). */
const stringText = (value: string) =>
  fc.boolean().map((escaped) => {
    if (!escaped || value.length === 0) return JSON.stringify(value);
    const first = `\\u${value.charCodeAt(0).toString(16).padStart(4, '0')}`;
    return `"${first}${JSON.stringify(value.slice(1)).slice(1, -1)}"`;
  });

/** JSON text of a tree, with the given spaces put in turn wherever JSON allows them. */
function serialise(node: Node, spaces: readonly string[]): string {
  let turn = 0;
  const pad = () => spaces[turn++ % spaces.length] ?? '';
  const write = (item: Node): string => {
    if ('raw' in item) return item.raw;
    if ('array' in item) return `[${pad()}${item.array.map(write).join(`,${pad()}`)}${pad()}]`;
    const members = item.object.map(([key, value]) => `${key}${pad()}:${pad()}${write(value)}`);
    return `{${pad()}${members.join(`,${pad()}`)}${pad()}}`;
  };
  return write(node);
}

const timestampText = fc
  .record({
    ms: fc.integer({ min: Date.UTC(2001, 0, 1), max: Date.UTC(2099, 0, 1) }),
    style: fc.constantFrom(
      '+00:00',
      'Z',
      '+0000',
      '.000Z',
      '.5Z',
      '.123456789Z',
      'minutes',
      '+05:30',
      '-0800',
    ),
  })
  .map(({ ms, style }) => {
    const iso = new Date(ms).toISOString();
    if (style === '.000Z' || style === '.5Z' || style === '.123456789Z') return `${iso.slice(0, 19)}${style}`;
    if (style === 'minutes') return `${iso.slice(0, 16)}Z`;
    return `${iso.slice(0, 19)}${style}`;
  });

const junk: fc.Arbitrary<Node> = fc.letrec<{ value: Node }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(
      raw('null'),
      raw('true'),
      raw('false'),
      raw('0'),
      raw('-1.5e3'),
      raw('"x"'),
      raw('1e999'),
    ),
    fc.array(tie('value'), { maxLength: 3 }).map((array) => ({ array })),
    fc
      .array(fc.tuple(fc.constantFrom('"a"', '"Id"', '"b\\n"', '""'), tie('value')), { maxLength: 3 })
      .map((object) => ({ object })),
  ),
})).value;

const numberText = fc.oneof(
  { weight: 30, arbitrary: fc.integer({ min: -1_000_000, max: 1e12 }).map(String) },
  {
    weight: 30,
    arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => JSON.stringify(v)),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '-0',
      '0.000001',
      '1E+2',
      '1e-7',
      '12345678901234567890',
      '0.1',
      '1.7976931348623157e308',
      '5e-324',
      '123.456e-7',
      '1e999',
      '-1e999',
      '100.000000000000000001',
      '9007199254740993',
      '0.30000000000000004',
    ),
  },
);

const badValue = fc.constantFrom(raw('"12"'), raw('null'), raw('true'), raw('[]'), raw('{}'), raw('1e999'));
const badTimestamp = fc.constantFrom(
  raw('12'),
  raw('null'),
  raw('"yesterday"'),
  raw('"1700000000"'),
  raw('"2026-01-01T00:00:00"'),
  raw('[]'),
);

const result = fc
  .record({
    length: fc.integer({ min: 0, max: 6 }),
    lengthSkew: fc.constantFrom(0, 0, 0, 0, 1, -1),
    id: fc.oneof(
      { weight: 30, arbitrary: fc.constantFrom('"m0"', '"q_1"') },
      { weight: 1, arbitrary: fc.constantFrom('""', '5', 'null', undefined) },
    ),
    label: fc.oneof(
      {
        weight: 30,
        arbitrary: fc.constantFrom('i-0123456789abcdef0', 'host été', 'x', '"\\', 'a'.repeat(1024)),
      },
      { weight: 1, arbitrary: fc.constantFrom('', 'a'.repeat(1025), 'a'.repeat(1024), '🚀'.repeat(513)) },
    ),
    labelText: rarely(fc.constantFrom('5', 'null'), { freq: 30 }),
    statusCode: mostly([undefined, '"Complete"', '"PartialData"', '"Forbidden"'], ['"Nope"', 'null', '3']),
    messages: mostly(
      [undefined, '[]', '[{"Code":"x","Value":"y"}]', '[{"Code":"a"},{"Other":[]}]'],
      ['[5]', '[{"Code":5}]', '[{"Value":null}]', '{}', '[{"Code":"a"},{"Value":[]}]'],
    ),
    timestampTexts: fc.array(timestampText, { minLength: 7, maxLength: 7 }),
    valueTexts: fc.array(numberText, { minLength: 7, maxLength: 7 }),
    badTimestampAt: rarely(fc.tuple(fc.nat(6), badTimestamp), { freq: 12 }),
    badValueAt: rarely(fc.tuple(fc.nat(6), badValue), { freq: 12 }),
    extra: rarely(fc.tuple(fc.constantFrom('"Extra"', '"Label2"', '"__proto__"'), junk), { freq: 4 }),
    duplicate: rarely(fc.constantFrom('Id', 'Timestamps', 'Values', 'Label'), { freq: 8 }),
    shuffle: fc.boolean(),
    escapes: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
  })
  .chain((spec) =>
    fc
      .tuple(
        stringText('Id'),
        stringText('Label'),
        stringText('Timestamps'),
        stringText('Values'),
        stringText(spec.label),
        fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
      )
      .map(([idKey, labelKey, timesKey, valuesKey, labelValue, escapeTimes]): Node => {
        const n = spec.length;
        const times: Node[] = spec.timestampTexts
          .slice(0, n)
          .map((t, k) => raw(escapeTimes[k] ? `"\\u0032${t.slice(1)}"` : `"${t}"`));
        const values: Node[] = spec.valueTexts.slice(0, Math.max(0, n + spec.lengthSkew)).map(raw);
        if (spec.badTimestampAt !== null && times.length > 0)
          times[spec.badTimestampAt[0] % times.length] = spec.badTimestampAt[1];
        if (spec.badValueAt !== null && values.length > 0)
          values[spec.badValueAt[0] % values.length] = spec.badValueAt[1];
        const members: [string, Node][] = [];
        if (spec.id !== undefined) members.push([idKey, raw(spec.id)]);
        members.push([labelKey, raw(spec.labelText ?? labelValue)]);
        members.push([timesKey, { array: times }]);
        members.push([valuesKey, { array: values }]);
        if (spec.statusCode !== undefined) members.push(['"StatusCode"', raw(spec.statusCode)]);
        if (spec.messages !== undefined) members.push(['"Messages"', raw(spec.messages)]);
        if (spec.extra !== null) members.push(spec.extra);
        if (spec.duplicate !== null) {
          const replacement: Record<string, Node> = {
            Id: raw('"dup"'),
            Label: raw('"dup-label"'),
            Timestamps: { array: [] },
            Values: { array: [raw('"bad"')] },
          };
          members.unshift([`"${spec.duplicate}"`, replacement[spec.duplicate] as Node]);
        }
        if (spec.shuffle) members.reverse();
        return { object: members };
      }),
  );

const documentText = fc
  .record({
    results: fc.array(result, { maxLength: 4 }),
    resultsShape: mostly(['array', 'twice'], ['missing', 'string', 'object']),
    topMessages: mostly([undefined, '[]', '[1,{"a":[null]}]'], ['5', 'null']),
    nextToken: mostly([undefined, '"abc"'], ['7', 'null']),
    top: mostly(['object'], ['array', 'number'], 40),
    extra: rarely(junk, { freq: 3 }),
    spaces: fc.array(space, { minLength: 1, maxLength: 20 }),
    corruption: rarely(
      fc.tuple(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom('truncate', '}', ',', '"', 'x', '\u0001', '\\'),
      ),
      { freq: 4 },
    ),
  })
  .map((spec) => {
    const members: [string, Node][] = [];
    const array: Node = { array: spec.results };
    if (spec.resultsShape === 'array') members.push(['"MetricDataResults"', array]);
    if (spec.resultsShape === 'string') members.push(['"MetricDataResults"', raw('"nope"')]);
    if (spec.resultsShape === 'object') members.push(['"MetricDataResults"', { object: [] }]);
    if (spec.resultsShape === 'twice')
      members.push(['"MetricDataResults"', raw('[7]')], ['"MetricDataResults"', array]);
    if (spec.topMessages !== undefined) members.unshift(['"Messages"', raw(spec.topMessages)]);
    if (spec.nextToken !== undefined) members.push(['"NextToken"', raw(spec.nextToken)]);
    if (spec.extra !== null) members.push(['"Other"', spec.extra]);
    const node: Node =
      spec.top === 'object' ? { object: members } : spec.top === 'array' ? { array: [] } : raw('42');
    let text = serialise(node, spec.spaces);
    if (spec.corruption !== null) {
      const [where, what] = spec.corruption;
      const at = Math.floor(where * text.length);
      text = what === 'truncate' ? text.slice(0, at) : `${text.slice(0, at)}${what}${text.slice(at)}`;
    }
    return text;
  });

describe('generated documents', () => {
  it('get the same results, or the same first problem, from both readers, whatever the chunking', () => {
    fc.assert(
      fc.property(documentText, fc.integer({ min: 1, max: 70 }), (text, chunk) => {
        const { reference, streaming } = compare(text, chunk);
        expect(streaming).toEqual(reference);
      }),
      { numRuns: 2000 },
    );
  }, 120_000);
});

describe('problems the zod reader missed or named poorly', () => {
  const one = (timestamps: string, values = '[1]') =>
    `{"MetricDataResults":[{"Id":"a","Label":"i-1","Timestamps":${timestamps},"Values":${values}}]}`;

  it.each<[string, string, string]>([
    [
      'a day that does not exist',
      one('["2026-02-30T00:00:00Z"]'),
      "'2026-02-30T00:00:00Z' is not a date and time that exists",
    ],
    ['hour 24', one('["2026-01-01T24:00:00Z"]'), "'2026-01-01T24:00:00Z' is not a date and time that exists"],
    ['year 0', one('["0000-01-01T00:00:00Z"]'), "'0000-01-01T00:00:00Z' is outside the years 2000–2100"],
    [
      'year 9999',
      one('["9999-12-31T00:00:00+00:00"]'),
      "'9999-12-31T00:00:00+00:00' is outside the years 2000–2100",
    ],
  ])('refuses %s', (_name, text, problem) => {
    expect(() => parseMetricDataFile('f.json', text)).toThrow(
      `f.json: MetricDataResults[0].Timestamps[0]: ${problem} (line 1, column 61)`,
    );
  });

  it.each<[string, string, string]>([
    [
      'a syntax error, with its place',
      '{\n  "MetricDataResults": [\n    {"Id": "a",, }\n',
      "not JSON: ',' where a property name should be (line 3, column 16)",
    ],
    [
      'a truncated file',
      '{"MetricDataResults": [{"Id": "a", "Label": "i-',
      'not JSON: the file ends inside a string (line 1, column 48)',
    ],
    ['an empty file', '', 'not JSON: the file is empty (line 1, column 1)'],
    [
      'a raw control character in a string',
      '{"MetricDataResults": [{"Id": "a\u001b[2J"}]}',
      'not JSON: a control character in a string (it must be escaped) (line 1, column 33)',
    ],
    [
      'text after the document',
      '{"MetricDataResults": []} {}',
      "not JSON: '{' after the end of the document (line 1, column 27)",
    ],
    [
      'a value on line 3',
      '{\n "MetricDataResults": [\n  {"Id": "a", "Label": "i-1", "Timestamps": [], "Values": ["1"]}]}',
      'MetricDataResults[0].Values[0]: not a number (line 3, column 60)',
    ],
    [
      'a status that is not one, after spaces',
      '{"MetricDataResults":[{"Id":"a","Label":"b","Timestamps":[],"Values":[],"StatusCode":  5}]}',
      'MetricDataResults[0].StatusCode: Invalid option: expected one of "Complete"|"PartialData"|"InternalError"|"Forbidden" (line 1, column 88)',
    ],
  ])('says where: %s', (_name, text, message) => {
    expect(() => parseMetricDataFile('f.json', text)).toThrow(`f.json: ${message}`);
  });

  it('reads nesting deeper than the stack in keys it ignores', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    expect(parseMetricDataFile('f.json', `{"Other": ${deep}, "MetricDataResults": []}`)).toEqual([]);
  });

  it('throws MetricFileError only', () => {
    expect(() => parseMetricDataFile('f.json', '[')).toThrow(MetricFileError);
  });
});
