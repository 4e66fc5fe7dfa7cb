import { CrawlguardError } from '#core/errors.ts';
import { isoInstantMs, isPlausibleInstant, PLAUSIBLE_YEARS, parseIsoInstant } from '#core/instant.ts';
import type { MetricSeries } from '#core/series.ts';
import {
  BACKSLASH,
  END,
  JsonScanner,
  JsonSyntaxError,
  JsonValueTooLongError,
  LOOKAHEAD,
  MINUS,
  NINE,
  OPEN_BRACE,
  OPEN_BRACKET,
  type Place,
  QUOTE,
  ZERO,
} from './json-scanner.ts';
import { type ByteSource, bytesSource } from './read-input.ts';

/** A metrics file the analyze command cannot use; the message names the file, the problem and where. */
export class MetricFileError extends CrawlguardError {
  override readonly name = 'MetricFileError';
}

const STATUS_CODES = ['Complete', 'PartialData', 'InternalError', 'Forbidden'] as const;
type StatusCode = (typeof STATUS_CODES)[number];
const STATUS_RANK: Record<StatusCode, number> = {
  Complete: 0,
  PartialData: 1,
  InternalError: 2,
  Forbidden: 3,
};
const LABEL_MAX_LENGTH = 1024;

/** One instance's series, named by its label, merged across files. */
export interface LabelledSeries {
  readonly label: string;
  readonly ids: readonly string[];
  readonly series: MetricSeries;
  /** The worst status CloudWatch reported for this label. */
  readonly statusCode: StatusCode;
}

/**
 * Reads one `aws cloudwatch get-metric-data` output as it streams in: `{"MetricDataResults": [{"Id",
 * "Label", "Timestamps", "Values", "StatusCode", "Messages"}], "Messages", "NextToken"}`, other keys
 * ignored. It validates while it scans — no whole-file `JSON.parse`, no per-point schema — and keeps only
 * the numbers: about 16 bytes a point. It names the same first problem the schema would (the first bad
 * result; in it Id, Label, Timestamps, Values, StatusCode, Messages; then the lengths; a JSON syntax
 * error anywhere first, a timestamp that is not an existing ISO 8601 time in 2000–2100 last), with its
 * line and column.
 * @throws MetricFileError one line: file, where in the document, the problem, line and column.
 */
export function readMetricDataFile(name: string, source: ByteSource): LabelledSeries[] {
  return new MetricDataReader(name, source).read();
}

/** {@link readMetricDataFile} of text or bytes already in memory. */
export function parseMetricDataFile(name: string, content: string | Uint8Array): LabelledSeries[] {
  return readMetricDataFile(name, bytesSource(typeof content === 'string' ? Buffer.from(content) : content));
}

/** Joins the results of several files (or NextToken pages) that share a label, in the order given. */
export function mergeByLabel(results: readonly LabelledSeries[]): LabelledSeries[] {
  const merged = new Map<string, { ids: string[]; parts: MetricSeries[]; statusCode: StatusCode }>();
  for (const result of results) {
    let entry = merged.get(result.label);
    if (entry === undefined) {
      entry = { ids: [], parts: [], statusCode: 'Complete' };
      merged.set(result.label, entry);
    }
    for (const id of result.ids) if (!entry.ids.includes(id)) entry.ids.push(id);
    entry.parts.push(result.series);
    if (STATUS_RANK[result.statusCode] > STATUS_RANK[entry.statusCode]) entry.statusCode = result.statusCode;
  }
  return [...merged].map(([label, entry]) => ({
    label,
    ids: entry.ids,
    series: entry.parts.length === 1 ? (entry.parts[0] as MetricSeries) : concatenate(entry.parts),
    statusCode: entry.statusCode,
  }));
}

/** One array per field, filled in place: no spreading of a series into a call (a stack overflow past ~128k). */
function concatenate(parts: readonly MetricSeries[]): MetricSeries {
  let length = 0;
  for (const part of parts) length += part.timestamps.length;
  const timestamps = new Float64Array(length);
  const values = new Float64Array(length);
  let at = 0;
  for (const part of parts) {
    for (let i = 0; i < part.timestamps.length; i += 1) {
      timestamps[at + i] = part.timestamps[i] as number;
      values[at + i] = part.values[i] as number;
    }
    at += part.timestamps.length;
  }
  return { timestamps, values };
}

type Path = readonly (string | number)[];

/** A schema problem found while scanning, reported only if no syntax error comes later. */
interface Problem {
  readonly path: Path;
  readonly message: string;
  readonly line: number;
  readonly column: number;
}

interface ResultFields {
  /** Where the result starts: the place of a problem with the result as a whole. */
  readonly place: Place;
  id?: string;
  label?: string;
  timestamps?: Float64Array;
  values?: Float64Array;
  statusCode?: StatusCode;
  /** Per field, the first problem of its last occurrence (a repeated key replaces, as in JSON.parse). */
  problems: Partial<Record<ResultKey, Problem>>;
  /** The first timestamp of the last Timestamps array that is not a time. */
  badTimestamp?: Problem;
}

type ResultKey = 'Id' | 'Label' | 'Timestamps' | 'Values' | 'StatusCode' | 'Messages';
const RESULT_KEYS: readonly ResultKey[] = ['Id', 'Label', 'Timestamps', 'Values', 'StatusCode', 'Messages'];

class MetricDataReader {
  private readonly name: string;
  private readonly json: JsonScanner;
  private scratchTimes: Float64Array = new Float64Array(4096);
  private scratchValues: Float64Array = new Float64Array(4096);

  constructor(name: string, source: ByteSource) {
    this.name = name;
    this.json = new JsonScanner(source);
  }

  read(): LabelledSeries[] {
    try {
      return this.document();
    } catch (error) {
      if (error instanceof JsonSyntaxError) {
        throw new MetricFileError(`${this.name}: not JSON: ${error.message}`, { cause: error });
      }
      if (error instanceof JsonValueTooLongError) {
        throw new MetricFileError(`${this.name}: ${error.message}`, { cause: error });
      }
      throw error;
    }
  }

  private document(): LabelledSeries[] {
    if (this.json.skipSpace() === END) throw this.json.syntax('the file is empty');
    let results: ReturnType<MetricDataReader['results']> | undefined;
    let documentProblem: Problem | undefined;
    let messagesProblem: Problem | undefined;
    let nextTokenProblem: Problem | undefined;
    if (this.json.skipSpace() !== OPEN_BRACE) {
      documentProblem = this.typeProblem([], 'object');
    } else {
      this.json.pos += 1;
      for (let key = this.json.firstKey(); key !== null; key = this.json.nextKey()) {
        if (key === 'MetricDataResults') results = this.results();
        else if (key === 'Messages') messagesProblem = this.expectType(['Messages'], OPEN_BRACKET, 'array');
        else if (key === 'NextToken') nextTokenProblem = this.expectType(['NextToken'], QUOTE, 'string');
        else this.json.skipValue();
      }
    }
    if (this.json.skipSpace() !== END)
      throw this.json.syntax(`${this.json.describeByte()} after the end of the document`);
    const problem =
      documentProblem ??
      (results === undefined ? missing(['MetricDataResults'], 'array') : results.problem) ??
      messagesProblem ??
      nextTokenProblem ??
      results?.badTimestamp;
    if (problem !== undefined) throw this.failure(problem);
    return results?.results ?? [];
  }

  /** The MetricDataResults array: results until the first bad one, then only its syntax is checked. */
  private results(): { results: LabelledSeries[]; problem?: Problem; badTimestamp?: Problem } {
    const results: LabelledSeries[] = [];
    if (this.json.skipSpace() !== OPEN_BRACKET)
      return { results, problem: this.typeProblem(['MetricDataResults'], 'array') };
    this.json.pos += 1;
    let problem: Problem | undefined;
    let badTimestamp: Problem | undefined;
    for (let index = 0, more = this.json.firstItem(); more; index += 1, more = this.json.nextItem()) {
      const path = ['MetricDataResults', index];
      if (problem !== undefined) {
        this.json.skipValue();
      } else if (this.json.skipSpace() !== OPEN_BRACE) {
        problem = this.typeProblem(path, 'object');
      } else {
        const fields = this.result(path);
        problem = firstProblem(fields, path);
        badTimestamp ??= problem === undefined ? fields.badTimestamp : undefined;
        if (problem === undefined) {
          results.push({
            label: fields.label as string,
            ids: [fields.id as string],
            series: { timestamps: fields.timestamps as Float64Array, values: fields.values as Float64Array },
            statusCode: fields.statusCode ?? 'Complete',
          });
        }
      }
    }
    return {
      results,
      ...(problem === undefined ? {} : { problem }),
      ...(badTimestamp === undefined ? {} : { badTimestamp }),
    };
  }

  /** One result object, at its `{`. */
  private result(path: Path): ResultFields {
    const fields: ResultFields = { problems: {}, place: this.json.here() };
    this.json.pos += 1;
    for (let key = this.json.firstKey(); key !== null; key = this.json.nextKey()) {
      const fieldPath = [...path, key];
      switch (key) {
        case 'Id':
          fields.id = this.stringField(fields, 'Id', fieldPath, Number.POSITIVE_INFINITY);
          break;
        case 'Label':
          fields.label = this.stringField(fields, 'Label', fieldPath, LABEL_MAX_LENGTH);
          break;
        case 'Timestamps':
          this.timestampsField(fields, fieldPath);
          break;
        case 'Values':
          this.valuesField(fields, fieldPath);
          break;
        case 'StatusCode':
          this.statusCodeField(fields, fieldPath);
          break;
        case 'Messages':
          this.messagesField(fields, fieldPath);
          break;
        default:
          this.json.skipValue();
      }
    }
    return fields;
  }

  /** A string of 1 to `maxLength` characters, counted in code points as zod's `.min(1).max(n)` does. */
  private stringField(
    fields: ResultFields,
    key: ResultKey,
    path: Path,
    maxLength: number,
  ): string | undefined {
    delete fields.problems[key];
    if (this.json.skipSpace() !== QUOTE) {
      fields.problems[key] = this.typeProblem(path, 'string');
      return undefined;
    }
    const place = this.json.here();
    const value = this.json.string();
    if (value.length === 0) {
      fields.problems[key] = { path, message: 'Too small: expected string to have >=1 characters', ...place };
    } else if (value.length > maxLength && codePoints(value) > maxLength) {
      fields.problems[key] = {
        path,
        message: `Too big: expected string to have <=${maxLength} characters`,
        ...place,
      };
    }
    return value;
  }

  private statusCodeField(fields: ResultFields, path: Path): void {
    delete fields.problems.StatusCode;
    fields.statusCode = undefined;
    const first = this.json.skipSpace();
    const place = this.json.here();
    let code: string | undefined;
    // zod's enum names the options whatever the value was, a string or not.
    if (first === QUOTE) code = this.json.string();
    else this.json.skipValue();
    if (STATUS_CODES.includes(code as StatusCode)) {
      fields.statusCode = code as StatusCode;
    } else {
      const options = STATUS_CODES.map((status) => `"${status}"`).join('|');
      fields.problems.StatusCode = { path, message: `Invalid option: expected one of ${options}`, ...place };
    }
  }

  /** `Messages` of a result: objects whose `Code` and `Value`, when present, are strings. */
  private messagesField(fields: ResultFields, path: Path): void {
    delete fields.problems.Messages;
    if (this.json.skipSpace() !== OPEN_BRACKET) {
      fields.problems.Messages = this.typeProblem(path, 'array');
      return;
    }
    this.json.pos += 1;
    let problem: Problem | undefined;
    for (let index = 0, more = this.json.firstItem(); more; index += 1, more = this.json.nextItem()) {
      if (problem !== undefined) {
        this.json.skipValue();
        continue;
      }
      if (this.json.skipSpace() !== OPEN_BRACE) {
        problem = this.typeProblem([...path, index], 'object');
        continue;
      }
      this.json.pos += 1;
      const found: Partial<Record<'Code' | 'Value', Problem>> = {};
      for (let key = this.json.firstKey(); key !== null; key = this.json.nextKey()) {
        if (key === 'Code' || key === 'Value') {
          delete found[key];
          const keyProblem = this.expectType([...path, index, key], QUOTE, 'string');
          if (keyProblem !== undefined) found[key] = keyProblem;
        } else {
          this.json.skipValue();
        }
      }
      problem = found.Code ?? found.Value;
    }
    if (problem !== undefined) fields.problems.Messages = problem;
  }

  /** Skips a value; a problem unless it starts with `open` (`[` or `"`): the type zod would check. */
  private expectType(path: Path, open: number, type: string): Problem | undefined {
    if (this.json.skipSpace() !== open) return this.typeProblem(path, type);
    this.json.skipValue();
    return undefined;
  }

  /** The Timestamps array: epoch milliseconds, NaN where a string is not a time (reported last). */
  private timestampsField(fields: ResultFields, path: Path): void {
    const json = this.json;
    delete fields.problems.Timestamps;
    fields.timestamps = undefined;
    fields.badTimestamp = undefined;
    if (json.skipSpace() !== OPEN_BRACKET) {
      fields.problems.Timestamps = this.typeProblem(path, 'array');
      return;
    }
    json.pos += 1;
    let times = this.scratchTimes;
    let count = 0;
    // The loop runs once per datapoint: the common case (a whole time without escapes in the buffer, then
    // a separator) is read in place; anything else goes through the general methods. The times of one
    // array have the same length: the closing quote is looked for where the last one was.
    let length = 25;
    for (let more = json.firstItem(); more; more = json.afterItem()) {
      if (json.end - json.pos < LOOKAHEAD) json.fill(json.pos);
      const buffer = json.buffer;
      const start = json.pos;
      let ms = Number.NaN;
      let close = -1;
      if (buffer[start] === QUOTE) {
        close = start + 1 + length;
        // A time there means no byte before the guessed quote is a quote: it is the closing one.
        if (close < json.end && buffer[close] === QUOTE) ms = parseIsoInstant(buffer, start + 1, close);
        if (Number.isNaN(ms)) {
          close = start + 1;
          let c = buffer[close] as number;
          while (c !== QUOTE && c !== BACKSLASH && c >= 0x20) c = buffer[++close] as number;
          if (c === QUOTE && close < json.end) {
            length = close - start - 1;
            ms = parseIsoInstant(buffer, start + 1, close);
          } else {
            close = -1;
          }
        }
      }
      if (close >= 0) {
        if (!isPlausibleInstant(ms) && fields.badTimestamp === undefined) {
          const stamp = json.text.toString('utf8', start + 1, close);
          fields.badTimestamp = badTimestamp([...path, count], stamp, ms, json.here());
        }
        json.pos = close + 1;
      } else {
        ms = this.otherTimestamp(fields, [...path, count]);
      }
      if (count === times.length) {
        times = grow(times);
        this.scratchTimes = times;
      }
      times[count] = ms;
      count += 1;
    }
    fields.timestamps = times.slice(0, count);
  }

  /** A Timestamps item off the fast path: a string with escapes or across the buffer's end, or no string. */
  private otherTimestamp(fields: ResultFields, path: Path): number {
    const json = this.json;
    if (json.buffer[json.pos] !== QUOTE) {
      const problem = this.typeProblem(path, 'string');
      fields.problems.Timestamps ??= problem;
      return Number.NaN;
    }
    const place = json.here();
    const stamp = json.string();
    const ms = isoInstantMs(stamp);
    if (!isPlausibleInstant(ms)) fields.badTimestamp ??= badTimestamp(path, stamp, ms, place);
    return ms;
  }

  /** The Values array: numbers, finite (JSON's 1e999 is not one). */
  private valuesField(fields: ResultFields, path: Path): void {
    const json = this.json;
    delete fields.problems.Values;
    fields.values = undefined;
    if (json.skipSpace() !== OPEN_BRACKET) {
      fields.problems.Values = this.typeProblem(path, 'array');
      return;
    }
    json.pos += 1;
    let values = this.scratchValues;
    let count = 0;
    for (let more = json.firstItem(); more; more = json.afterItem()) {
      if (json.end - json.pos < LOOKAHEAD) json.fill(json.pos);
      const c = json.buffer[json.pos] as number;
      let value = Number.NaN;
      if ((c >= ZERO && c <= NINE) || c === MINUS) {
        const at = json.base + json.pos;
        value = json.number();
        if (!Number.isFinite(value) && fields.problems.Values === undefined) {
          // A number holds no line break: its line is the current one.
          const place = { line: json.line, column: at - json.lineStart + 1 };
          fields.problems.Values = { path: [...path, count], message: 'not a number', ...place };
        }
      } else {
        const problem = { path: [...path, count], message: 'not a number', ...json.here() };
        json.skipValue();
        fields.problems.Values ??= problem;
      }
      if (count === values.length) {
        values = grow(values);
        this.scratchValues = values;
      }
      values[count] = value;
      count += 1;
    }
    fields.values = values.slice(0, count);
  }

  // ---- problems and where they are ----

  /** Skips the value at hand, naming its type: `expected array, received string`. */
  private typeProblem(path: Path, expected: string): Problem {
    this.json.skipSpace();
    const place = this.json.here();
    return { path, message: `expected ${expected}, received ${this.json.skipValue()}`, ...place };
  }

  private failure(problem: Problem): MetricFileError {
    const at = problem.line > 0 ? ` (line ${problem.line}, column ${problem.column})` : '';
    return new MetricFileError(`${this.name}: ${formatPath(problem.path)}: ${problem.message}${at}`);
  }
}

/** The first problem of a finished result in the schema's order, then the lengths. */
function firstProblem(fields: ResultFields, path: Path): Problem | undefined {
  const present: Record<ResultKey, boolean> = {
    Id: fields.id !== undefined,
    Label: fields.label !== undefined,
    Timestamps: fields.timestamps !== undefined,
    Values: fields.values !== undefined,
    StatusCode: true,
    Messages: true,
  };
  for (const key of RESULT_KEYS) {
    const problem = fields.problems[key];
    if (problem !== undefined) return problem;
    if (!present[key]) return missing([...path, key], key === 'Id' || key === 'Label' ? 'string' : 'array');
  }
  const times = (fields.timestamps as Float64Array).length;
  const values = (fields.values as Float64Array).length;
  if (times === values) return undefined;
  return { path, message: `${times} Timestamps but ${values} Values`, ...fields.place };
}

function missing(path: Path, type: string): Problem {
  return { path, message: `expected ${type}, received undefined`, line: 0, column: 0 };
}

function badTimestamp(path: Path, stamp: string, ms: number, place: Place): Problem {
  const shown = `'${stamp.slice(0, 40)}'`;
  const message = !Number.isNaN(ms)
    ? `${shown} is outside the years ${PLAUSIBLE_YEARS}`
    : ISO_8601.test(stamp)
      ? `${shown} is not a date and time that exists`
      : `${shown} is not an ISO 8601 time`;
  return { path, message, ...place };
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

function grow(array: Float64Array): Float64Array {
  const larger = new Float64Array(array.length * 2);
  larger.set(array);
  return larger;
}

/** `MetricDataResults[0].Values[3]`; `document` for the whole. */
function formatPath(path: Path): string {
  if (path.length === 0) return 'document';
  return path
    .map((part) => (typeof part === 'number' ? `[${part}]` : `.${part}`))
    .join('')
    .replace(/^\./, '');
}
