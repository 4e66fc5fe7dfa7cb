import { randomBytes } from 'node:crypto';
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CrawlguardError } from '#core/errors.ts';

/** A file that could not be written; `path` is the file asked for, not its temporary name. */
export class WriteFilesError extends CrawlguardError {
  override readonly name = 'WriteFilesError';
  readonly path: string;
  readonly code: string | undefined;

  constructor(path: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException)?.code;
    super(`cannot write ${path}${code === undefined ? '' : ` (${code})`}`, { cause });
    this.path = path;
    this.code = code;
  }
}

/**
 * Writes every file or none: each goes to a new temporary file beside its target (created exclusively, so
 * nothing planted at that name is followed), and only when all are written are they renamed into place. On
 * a failure the temporary files are removed and the targets are as they were.
 * @throws WriteFilesError naming the file that could not be written.
 */
export function writeFilesAtomically(
  files: readonly { readonly path: string; readonly content: string }[],
): void {
  const written: { temporary: string; path: string }[] = [];
  try {
    for (const file of files) {
      const temporary = join(
        dirname(file.path),
        `.${basename(file.path)}.${randomBytes(6).toString('hex')}.tmp`,
      );
      try {
        writeFileSync(temporary, file.content, { flag: 'wx', mode: 0o644 });
      } catch (error) {
        throw new WriteFilesError(file.path, error);
      }
      written.push({ temporary, path: file.path });
    }
    for (const file of written) {
      try {
        renameSync(file.temporary, file.path);
      } catch (error) {
        throw new WriteFilesError(file.path, error);
      }
    }
  } catch (error) {
    for (const file of written) {
      try {
        unlinkSync(file.temporary);
      } catch {
        // already renamed into place, or never there
      }
    }
    throw error;
  }
}
