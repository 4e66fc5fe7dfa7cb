import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bytesSource,
  type FileSystem,
  InputFileError,
  openInputFile,
  readAll,
  readInputFile,
} from '#shared/cli/read-input.ts';

const dir = fs.mkdtempSync(join(tmpdir(), 'crawlguard-read-input-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  fs.writeFileSync(path, content);
  return path;
}

function refusal(read: () => unknown): InputFileError {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(InputFileError);
    return error as InputFileError;
  }
  throw new Error('expected the read to be refused');
}

describe('readInputFile', () => {
  it('reads a regular file, and one behind a symbolic link', () => {
    const path = file('good.json', '{"a": 1}');
    fs.symlinkSync(path, join(dir, 'link.json'));

    expect(readInputFile(path).toString()).toBe('{"a": 1}');
    expect(readInputFile(join(dir, 'link.json')).toString()).toBe('{"a": 1}');
  });

  it('reads a file of exactly the limit and refuses one byte more', () => {
    const path = file('ten.bin', '0123456789');

    expect(readInputFile(path, 10).length).toBe(10);
    const error = refusal(() => readInputFile(path, 9));
    expect(error.problem).toBe('too-large');
    expect(error.message).toBe(`cannot read ${path}: larger than the limit of 9 bytes (9 bytes)`);
  });

  it('reads a file larger than one chunk whole', () => {
    const bytes = Uint8Array.from({ length: 3 * (1 << 20) + 5 }, (_, i) => i % 251);
    expect(readInputFile(file('big.bin', bytes)).equals(bytes)).toBe(true);
  });

  it.each<[string, () => string, RegExp]>([
    ['a FIFO, without hanging', () => fifo(), /: a FIFO, not a regular file$/],
    ['a directory', () => dir, /: a directory, not a regular file$/],
    ['/dev/zero', () => '/dev/zero', /^cannot read \/dev\/zero: a character device, not a regular file$/],
    ['/dev/null', () => '/dev/null', /: a character device, not a regular file$/],
  ])('refuses %s before reading anything', (_name, path, message) => {
    const error = refusal(() => readInputFile(path()));
    expect(error.problem).toBe('not-a-regular-file');
    expect(error.message).toMatch(message);
  });

  it('stops at the limit when the size says 0 (/proc) and the content goes on', () => {
    expect(fs.statSync('/proc/self/status').size).toBe(0);
    expect(refusal(() => readInputFile('/proc/self/status', 64)).problem).toBe('too-large');
  });

  it('names the errno of a file it cannot open', () => {
    const error = refusal(() => readInputFile(join(dir, 'gone.json')));
    expect(error.message).toBe(`cannot read ${join(dir, 'gone.json')} (ENOENT)`);
    expect(error.problem).toBe('ENOENT');
  });
});

describe('openInputFile, a path swapped between stat and open', () => {
  const regular = file('regular.json', '{}');
  const other = file('other.json', '{}');

  function swapped(openedPath: string, closed: number[]): FileSystem {
    return {
      ...fs,
      openSync: ((_path: string, flags: number) => fs.openSync(openedPath, flags)) as typeof fs.openSync,
      closeSync: (fd: number) => {
        closed.push(fd);
        fs.closeSync(fd);
      },
    };
  }

  it('refuses a FIFO put in place of a regular file, and closes it', () => {
    const closed: number[] = [];
    const error = refusal(() => openInputFile(regular, 100, swapped(fifo(), closed)));

    expect(error.problem).toBe('not-a-regular-file');
    expect(closed).toHaveLength(1);
  });

  it('refuses another regular file put in its place', () => {
    const closed: number[] = [];
    const error = refusal(() => openInputFile(regular, 100, swapped(other, closed)));

    expect(error.problem).toBe('replaced');
    expect(closed).toHaveLength(1);
  });

  it('opens without blocking: a FIFO with no writer does not hang the open', () => {
    const fd = fs.openSync(fifo(), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    expect(fs.fstatSync(fd).isFIFO()).toBe(true);
    fs.closeSync(fd);
  });
});

describe('bytesSource and readAll', () => {
  it('hand over bytes in chunks of the size asked', () => {
    const bytes = new TextEncoder().encode('abcdefghij');
    const source = bytesSource(bytes, 3);
    const into = new Uint8Array(10);

    expect(source.read(into, 0, 10)).toBe(3);
    expect(source.read(into, 3, 1)).toBe(1);
    expect(readAll(source).toString()).toBe('efghij');
    expect(source.read(into, 0, 10)).toBe(0);
  });
});

let fifos = 0;
function fifo(): string {
  const path = join(dir, `fifo-${fifos++}`);
  execFileSync('mkfifo', [path]);
  return path;
}
