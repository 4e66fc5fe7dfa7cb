import * as fs from 'node:fs';
import { CrawlguardError } from '#core/errors.ts';

/** Why an input file was refused: an errno code (`ENOENT`, `EACCES`, ...) or one of ours. */
export type InputFileProblem = 'not-a-regular-file' | 'too-large' | 'replaced' | (string & {});

/** An input file that cannot be read: missing, not a regular file, larger than the limit, unreadable. */
export class InputFileError extends CrawlguardError {
  override readonly name = 'InputFileError';
  readonly problem: InputFileProblem;

  constructor(message: string, problem: InputFileProblem, options?: ErrorOptions) {
    super(message, options);
    this.problem = problem;
  }
}

/**
 * The largest input read by default: 2 GiB. A year of 1-minute data for one instance, as
 * `aws cloudwatch get-metric-data` prints it, is ~25 MB; a fleet export of ~100 MB is common.
 */
export const DEFAULT_MAX_INPUT_BYTES = 2 * 1024 ** 3;

/** Bytes pulled on demand: `read` copies up to `length` bytes to `into[offset..]` and returns how many, 0 at the end. */
export interface ByteSource {
  read(into: Uint8Array, offset: number, length: number): number;
  close(): void;
}

/** The file-system calls used, injectable so that a test can swap the file between stat and open. */
export type FileSystem = Pick<typeof fs, 'statSync' | 'openSync' | 'fstatSync' | 'readSync' | 'closeSync'>;

/**
 * Opens `path` for reading as a regular file, and nothing else: a FIFO, a device (`/dev/zero`), a
 * directory or a socket is refused before anything is read. The path is checked with stat, opened
 * without blocking (a FIFO cannot hang the open) and the descriptor checked again with fstat, so a path
 * swapped in between is refused too. Reads stop with an error past `maxBytes`, whatever the file's size
 * says (files in /proc say 0, a file may grow while it is read).
 * @throws InputFileError naming the path and the problem.
 */
export function openInputFile(
  path: string,
  maxBytes: number = DEFAULT_MAX_INPUT_BYTES,
  fileSystem: FileSystem = fs,
): ByteSource {
  const checked = attempt(path, () => fileSystem.statSync(path));
  refuseUnlessRegular(path, checked, maxBytes);
  const fd = attempt(path, () =>
    fileSystem.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY),
  );
  try {
    const opened = attempt(path, () => fileSystem.fstatSync(fd));
    refuseUnlessRegular(path, opened, maxBytes);
    if (opened.dev !== checked.dev || opened.ino !== checked.ino) {
      throw new InputFileError(`cannot read ${path}: it was replaced while being opened`, 'replaced');
    }
  } catch (error) {
    fileSystem.closeSync(fd);
    throw error;
  }
  let total = 0;
  let closed = false;
  return {
    read(into, offset, length) {
      // One byte more than the limit tells "exactly maxBytes" from "larger".
      const wanted = Math.min(length, maxBytes + 1 - total);
      const count =
        wanted <= 0 ? 0 : attempt(path, () => fileSystem.readSync(fd, into, offset, wanted, null));
      total += count;
      if (total > maxBytes) throw tooLarge(path, maxBytes);
      return count;
    },
    close() {
      if (closed) return;
      closed = true;
      fileSystem.closeSync(fd);
    },
  };
}

/**
 * The whole content of the regular file at `path`, at most `maxBytes` bytes (see {@link openInputFile}).
 * @throws InputFileError naming the path and the problem.
 */
export function readInputFile(path: string, maxBytes: number = DEFAULT_MAX_INPUT_BYTES): Buffer {
  const source = openInputFile(path, maxBytes);
  try {
    return readAll(source);
  } finally {
    source.close();
  }
}

/** Everything a source holds, read to its end. */
export function readAll(source: ByteSource): Buffer {
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(1 << 20);
    const count = source.read(chunk, 0, chunk.length);
    if (count === 0) return Buffer.concat(chunks, size);
    chunks.push(count === chunk.length ? chunk : chunk.subarray(0, count));
    size += count;
  }
}

/** A source over bytes already in memory (tests, standard input read elsewhere), `chunkBytes` at a time. */
export function bytesSource(bytes: Uint8Array, chunkBytes = Number.POSITIVE_INFINITY): ByteSource {
  let position = 0;
  return {
    read(into, offset, length) {
      const count = Math.min(length, chunkBytes, bytes.length - position);
      into.set(bytes.subarray(position, position + count), offset);
      position += count;
      return count;
    },
    close() {},
  };
}

function refuseUnlessRegular(path: string, stats: fs.Stats, maxBytes: number): void {
  if (!stats.isFile()) {
    throw new InputFileError(
      `cannot read ${path}: ${kindOf(stats)}, not a regular file`,
      'not-a-regular-file',
    );
  }
  if (stats.size > maxBytes) throw tooLarge(path, maxBytes);
}

function kindOf(stats: fs.Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'a special file';
}

function tooLarge(path: string, maxBytes: number): InputFileError {
  return new InputFileError(
    `cannot read ${path}: larger than the limit of ${maxBytes} bytes (${formatSize(maxBytes)})`,
    'too-large',
  );
}

function formatSize(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

/** Runs a file-system call; an errno becomes an InputFileError `cannot read PATH (ENOENT)`. */
function attempt<T>(path: string, call: () => T): T {
  try {
    return call();
  } catch (error) {
    if (error instanceof InputFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new InputFileError(`cannot read ${path} (${code})`, code, { cause: error });
  }
}
