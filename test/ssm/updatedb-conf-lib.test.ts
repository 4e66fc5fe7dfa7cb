/**
 * The awk reader/editor of updatedb.conf against an independent TypeScript port of mlocate's parser,
 * on thousands of generated files (valid, malformed, and random token soup), under mawk and gawk.
 * The oracle itself is held to the real updatedb by test/e2e, which judges every generated file there.
 */
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { DISTRO_FIXTURES, readFixture } from '#test/helpers/distro-fixtures.ts';
import { itRequires, missingCommands } from '#test/helpers/requirements.ts';
import { runLibBatch } from '#test/helpers/shell-lib.ts';
import { anyConf } from '#test/helpers/updatedb-conf-arbitrary.ts';
import { onlyPruneLinesChanged } from '#test/helpers/updatedb-conf-diff.ts';
import { parseConf } from '#test/helpers/updatedb-conf-oracle.ts';

const TOKENS = [
  'PRUNEFS',
  'PRUNEPATHS',
  'PRUNE_BIND_MOUNTS',
  'PRUNENAMES',
  'prunefs',
  'yes',
  'fuse.s3fs',
  '/mnt',
];
const soup = fc
  .array(
    fc.oneof(
      fc.constantFrom(...TOKENS),
      fc.constantFrom('=', '"', ' ', '\t', '\r', '\n', '#', '+', 'x', ';'),
    ),
    {
      maxLength: 30,
    },
  )
  .map((parts) => parts.join(''));

const ADD_FS = 'fuse.s3fs FUSE.GOOFYS';
const ADD_PATHS = '/mnt/cg-prop /srv/s3';

// The file's final-newline flag comes from the test (`read` is a builtin: no fork per case).
const BODY = `updatedb_conf_awk parse "$f" >"$DIR/$i.parse"
 read -r nl <"$DIR/$i.nl"
 UC_ADD_FS="${ADD_FS}" UC_ADD_PATHS="${ADD_PATHS}" UC_FINAL_NL=$nl UC_REPORT="$DIR/$i.report" \\
   updatedb_conf_awk patch "$f" >"$DIR/$i.patched"`;

function finalNewlines(texts: readonly string[]): Record<string, string> {
  return Object.fromEntries(texts.map((t, i) => [`${i}.nl`, t === '' || t.endsWith('\n') ? '1\n' : '0\n']));
}

function parsedFromAwk(text: string) {
  const lines = text.split('\n').filter(Boolean);
  const error = lines.find((l) => l.startsWith('error\t'));
  if (error !== undefined) return { ok: false as const, error: error.slice(6) };
  const pick = (kind: string) =>
    lines.filter((l) => l.startsWith(`${kind}\t`)).map((l) => l.slice(kind.length + 1));
  const lineOf = (name: string) => lines.some((l) => l.startsWith(`line\t${name}\t`));
  return {
    ok: true as const,
    vars: {
      ...(lineOf('PRUNEFS') ? { PRUNEFS: pick('fs') } : {}),
      ...(lineOf('PRUNEPATHS') ? { PRUNEPATHS: pick('path') } : {}),
      ...(lineOf('PRUNENAMES') ? { PRUNENAMES: pick('name') } : {}),
    },
    bind: pick('bind')[0],
  };
}

/** A valid file of `lines` comment lines after a PRUNEFS line (~27 bytes a line). */
function longConf(lines: number): string {
  return `PRUNEFS="nfs"\n${Array.from({ length: lines }, (_, i) => `# comment line number ${i}\n`).join('')}`;
}

for (const awk of ['mawk', 'gawk']) {
  describe(`updatedb-conf.sh with ${awk}`, () => {
    const itAwk = itRequires(missingCommands([awk]));

    itAwk(
      'edits in linear time: 10 times the lines cost about 10 times the CPU, not 100 times',
      () => {
        // CPU time (user + system, from bash's `time`) of the same edit on 30,000 and 300,000 lines,
        // the least of three runs each; far beyond the 64 KiB the patch script accepts, on purpose.
        const small = longConf(30_000);
        const big = longConf(300_000);
        const texts = [small, small, small, big, big, big];
        const body = `TIMEFORMAT='%3U %3S'
 { time UC_ADD_FS=fuse.s3fs UC_ADD_PATHS= UC_FINAL_NL=1 UC_REPORT="$DIR/$i.report" \\
   updatedb_conf_awk patch "$f" >"$DIR/$i.patched"; } 2>"$DIR/$i.time"`;
        const run = runLibBatch(awk, ['updatedb-conf.sh'], texts, body);
        try {
          const cpu = texts.map((_, i) =>
            run
              .read(i, 'time')
              .toString()
              .trim()
              .split(' ')
              .reduce((sum, seconds) => sum + Number(seconds), 0),
          );
          expect(run.read(3, 'patched').toString()).toBe(
            big.replace('PRUNEFS="nfs"', 'PRUNEFS="nfs fuse.s3fs"'),
          );
          const ratio = Math.min(...cpu.slice(3)) / Math.max(Math.min(...cpu.slice(0, 3)), 0.001);
          expect(ratio, `CPU seconds ${cpu.join(', ')}`).toBeLessThan(30);
        } finally {
          run.dispose();
        }
      },
      300_000,
    );

    itAwk(
      'agrees with the oracle on every file and edits valid ones safely and idempotently',
      () => {
        const texts = [
          ...new Set(DISTRO_FIXTURES.map((f) => readFixture(f.file))),
          '',
          '\n',
          ...fc.sample(anyConf, { numRuns: 700, seed: 3 }).map((c) => c.text),
          ...fc.sample(soup, { numRuns: 700, seed: 5 }),
        ];
        const run = runLibBatch(awk, ['updatedb-conf.sh'], texts, BODY, finalNewlines(texts));
        try {
          let valid = 0;
          texts.forEach((text, i) => {
            const oracle = parseConf(text);
            const awkParse = parsedFromAwk(run.read(i, 'parse').toString());
            const where = JSON.stringify(text);
            expect(awkParse.ok, `${where}: ${JSON.stringify(awkParse)} vs ${JSON.stringify(oracle)}`).toBe(
              oracle.ok,
            );
            const report = run.read(i, 'report').toString();
            const patched = run.read(i, 'patched').toString();
            if (!oracle.ok || !awkParse.ok) {
              expect(report).toMatch(/^error\t/);
              expect(patched).toBe('');
              return;
            }
            valid++;
            expect(awkParse.vars, where).toEqual(oracle.vars);
            expect(awkParse.bind, where).toBe(oracle.bindMounts);

            expect(onlyPruneLinesChanged(text, patched), where).toBeNull();
            const after = parseConf(patched);
            expect(after.ok, `${where} -> ${JSON.stringify(patched)}`).toBe(true);
            if (!after.ok) return;
            const fs = after.vars.PRUNEFS ?? [];
            for (const type of ADD_FS.split(' ')) {
              expect(
                fs.filter((t) => t.toUpperCase() === type.toUpperCase()).length,
                where,
              ).toBeGreaterThanOrEqual(1);
            }
            for (const path of ADD_PATHS.split(' '))
              expect(after.vars.PRUNEPATHS ?? [], where).toContain(path);
            for (const name of ['PRUNEFS', 'PRUNEPATHS'] as const) {
              const before = oracle.vars[name] ?? [];
              expect((after.vars[name] ?? []).slice(0, before.length), where).toEqual(before);
            }
            const missing = report.split('\n').find((l) => l.startsWith('missingfs\t'));
            const expectMissing = ADD_FS.split(' ').filter(
              (t) => !(oracle.vars.PRUNEFS ?? []).some((have) => have.toUpperCase() === t.toUpperCase()),
            );
            expect(missing, where).toBe(`missingfs\t${expectMissing.join(' ')}`);
          });
          expect(valid).toBeGreaterThan(400);

          // The edited files, edited again: nothing left to add, byte-identical output.
          const edited = texts.map((_, i) => run.read(i, 'patched').toString()).filter((t) => t !== '');
          const again = runLibBatch(awk, ['updatedb-conf.sh'], edited, BODY, finalNewlines(edited));
          try {
            edited.forEach((text, i) => {
              expect(again.read(i, 'patched').toString(), JSON.stringify(text)).toBe(text);
              expect(again.read(i, 'report').toString()).not.toMatch(/^change\t/m);
            });
          } finally {
            again.dispose();
          }
        } finally {
          run.dispose();
        }
      },
      120_000,
    );
  });
}
