/**
 * Runs functions of shared/ssm/lib/*.sh over many inputs in one bash process, with a chosen awk first
 * on PATH (mawk is Debian/Ubuntu's awk, gawk is RHEL/Amazon Linux's). Inputs travel as files, so any
 * byte except NUL (which no shell string can hold) reaches the function unchanged.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from './requirements.ts';
import { SSM_DIR } from './script-sandbox.ts';

export interface LibRun {
  dir: string;
  /** Output files of case `i`, by suffix. */
  read(i: number, suffix: string): Buffer;
}

/**
 * Writes `inputs[i]` to `<dir>/<i>.in` (and `extraFiles` by name), then runs `body` (bash, with `$i`
 * the case number, `$f` its input file, `$DIR` the directory and the libs sourced) once per input. Returns a reader for the files the body wrote; removes nothing until `dispose`.
 */
export function runLibBatch(
  awk: string,
  libs: readonly string[],
  inputs: readonly (string | Buffer)[],
  body: string,
  extraFiles: Record<string, string> = {},
): LibRun & { dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'crawlguard-lib-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const real = which(awk);
  if (real === undefined) throw new Error(`${awk} is not installed`);
  symlinkSync(real, join(bin, 'awk'));
  inputs.forEach((input, i) => {
    writeFileSync(join(dir, `${i}.in`), input);
  });
  for (const [name, content] of Object.entries(extraFiles)) writeFileSync(join(dir, name), content);
  const sources = libs.map((lib) => `. ${JSON.stringify(join(SSM_DIR, 'lib', lib))}`).join('\n');
  const script = `set -euo pipefail\nexport LC_ALL=C\n${sources}\nfor ((i = 0; i < ${inputs.length}; i++)); do\n f="$DIR/$i.in"\n${body}\ndone\n`;
  const result = spawnSync('bash', ['-c', script], {
    encoding: 'utf8',
    env: { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, DIR: dir },
    timeout: 120_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`lib batch failed (${result.status}): ${result.stderr}`);
  return {
    dir,
    read: (i, suffix) => readFileSync(join(dir, `${i}.${suffix}`)),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
