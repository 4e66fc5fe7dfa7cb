/**
 * The patcher against the real updatedb: every distro default config, plus thousands of fast-check
 * generated valid and malformed configs. Cases run in batches (patch-batch.sh) inside private mount
 * namespaces, one per core, because the real updatedb only ever reads /etc/updatedb.conf.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { DISTRO_FIXTURES, readFixture } from '#test/helpers/distro-fixtures.ts';
import { anyConf, type GeneratedConf } from '#test/helpers/updatedb-conf-arbitrary.ts';
import { onlyPruneLinesChanged } from '#test/helpers/updatedb-conf-diff.ts';
import { parseConf } from '#test/helpers/updatedb-conf-oracle.ts';
import { E2eError, InstanceNamespace } from './namespaces.ts';

const PATCH = fileURLToPath(
  new URL('../../shared/ssm/patch-updatedb-conf/patch-updatedb-conf.sh', import.meta.url),
);
const BATCH = fileURLToPath(new URL('./patch-batch.sh', import.meta.url));
const GENERATED_CASES = Number(process.env.CRAWLGUARD_E2E_CASES ?? '2000');
const PRUNE_PATH = '/mnt/cg-prop';

interface Case {
  name: string;
  text: string | undefined;
  kind: 'valid' | 'malformed';
  note: string;
  params: { fs: string; paths: string };
}

interface Outcome {
  origRc: number;
  rc: [number, number];
  out: [{ status?: string }, { status?: string }];
  after: [Buffer | undefined, Buffer | undefined];
  backups: [number, number];
  finalRc: number;
  finalErr: string;
}

function runBatch(ns: InstanceNamespace, dir: string, params: Case['params']): Promise<void> {
  const [command = 'nsenter', ...args] = ns.enter();
  const child = spawn(
    command,
    [
      ...args,
      'env',
      'SSM_Mode=apply',
      `SSM_PruneFsTypes=${params.fs}`,
      `SSM_PrunePaths=${params.paths}`,
      'bash',
      BATCH,
      dir,
      PATCH,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new E2eError(`patch-batch.sh in ${dir} exited ${code}`)),
    );
  });
}

function readOutcome(path: string): Outcome {
  const text = (suffix: string) => readFileSync(`${path}${suffix}`, 'utf8');
  const maybe = (suffix: string) =>
    existsSync(`${path}${suffix}`) ? readFileSync(`${path}${suffix}`) : undefined;
  const json = (suffix: string) => {
    const lines = text(suffix)
      .split('\n')
      .filter((line) => line !== '');
    if (lines.length !== 1) throw new E2eError(`${path}${suffix}: ${lines.length} stdout lines`);
    return JSON.parse(lines[0] ?? '{}') as { status?: string };
  };
  return {
    origRc: Number(text('.orig.rc')),
    rc: [Number(text('.rc1')), Number(text('.rc2'))],
    out: [json('.out1'), json('.out2')],
    after: [maybe('.after1'), maybe('.after2')],
    backups: [Number(text('.backups1')), Number(text('.backups2'))],
    finalRc: Number(text('.final.rc')),
    finalErr: text('.final.err'),
  };
}

function checkCase(c: Case, o: Outcome): string | null {
  const before = c.text === undefined ? undefined : Buffer.from(c.text);
  if (c.kind === 'malformed') {
    if (o.origRc === 0) return `the generator's "malformed" file is accepted by updatedb (${c.note})`;
    if (o.rc[0] !== 4 || o.out[0].status !== 'refused')
      return `not refused: ${o.rc[0]} ${JSON.stringify(o.out[0])}`;
    if (o.rc[1] !== 4) return `second run not refused: ${o.rc[1]}`;
    if (before === undefined || !o.after[0]?.equals(before) || !o.after[1]?.equals(before))
      return 'file changed';
    if (o.backups[0] !== 0 || o.backups[1] !== 0) return 'a backup was written for a refused file';
    return null;
  }
  if (o.origRc !== 0) return `the generator's "valid" file is rejected by updatedb (${c.note})`;
  const first = o.out[0].status;
  if (o.rc[0] !== 0 || (first !== 'patched' && first !== 'alreadyCompliant')) {
    return `first run: ${o.rc[0]} ${JSON.stringify(o.out[0])}`;
  }
  if (o.finalRc !== 0) return `updatedb rejects the result: ${o.finalErr}`;
  if (o.rc[1] !== 0 || o.out[1].status !== 'alreadyCompliant')
    return `second run: ${JSON.stringify(o.out[1])}`;
  const after = o.after[0];
  if (after === undefined || !o.after[1]?.equals(after)) return 'the second run changed the file';
  const expectedBackups = first === 'patched' && before !== undefined ? 1 : 0;
  if (o.backups[0] !== expectedBackups || o.backups[1] !== expectedBackups) {
    return `backups ${o.backups.join('/')} (expected ${expectedBackups} after each run)`;
  }
  if (first === 'alreadyCompliant' && before !== undefined && !after.equals(before))
    return 'compliant file changed';
  const diff = onlyPruneLinesChanged(c.text ?? '', after.toString());
  if (c.text !== undefined && diff !== null) return diff;
  if (c.name.startsWith('distro-') && c.text !== undefined) {
    const a = c.text.split('\n');
    const b = after.toString().split('\n');
    const changed = b.filter((line, i) => line !== a[i]);
    if (a.length !== b.length || changed.length !== 1 || !/^PRUNEFS\b/.test(changed[0] ?? '')) {
      return `expected exactly the PRUNEFS line to change, got: ${JSON.stringify(changed)}`;
    }
  }
  const parsed = parseConf(after.toString());
  if (!parsed.ok) return `the result does not parse: ${parsed.error}`;
  const fs = parsed.vars.PRUNEFS ?? [];
  const wanted = c.params.fs.split(',').filter((v) => v !== '');
  for (const type of wanted) {
    if (!fs.some((t) => t.toUpperCase() === type.toUpperCase())) return `PRUNEFS lacks ${type}`;
  }
  const paths = parsed.vars.PRUNEPATHS ?? [];
  for (const path of c.params.paths.split(',').filter((v) => v !== '')) {
    if (!paths.includes(path)) return `PRUNEPATHS lacks ${path}`;
  }
  if (before !== undefined) {
    const old = parseConf(before.toString());
    if (!old.ok) return 'the original does not parse';
    for (const name of ['PRUNEFS', 'PRUNEPATHS'] as const) {
      const was = old.vars[name] ?? [];
      const now = parsed.vars[name] ?? [];
      if (was.some((token, i) => now[i] !== token)) return `${name}: existing entries changed`;
    }
  }
  return null;
}

/** Runs every case; returns a one-line summary, throws listing the failures. */
export async function runPatchProperties(work: string): Promise<{ summary: string }> {
  const seed = Number(process.env.CRAWLGUARD_E2E_SEED ?? Date.now() % 2 ** 31);
  const distro: Case[] = [...new Set(DISTRO_FIXTURES.map((f) => f.file))].map((file) => ({
    name: `distro-${file}`,
    text: readFixture(file),
    kind: 'valid',
    note: DISTRO_FIXTURES.filter((f) => f.file === file)
      .map((f) => f.distro)
      .join(', '),
    params: { fs: 'fuse.s3fs', paths: '' },
  }));
  const generated: Case[] = fc
    .sample(anyConf, { numRuns: GENERATED_CASES, seed })
    .map((g: GeneratedConf, i) => ({
      name: `gen-${String(i).padStart(5, '0')}`,
      text: g.text,
      kind: g.kind,
      note: g.defect ?? 'valid',
      params: { fs: 'fuse.s3fs', paths: PRUNE_PATH },
    }));
  generated.push({
    name: 'gen-absent',
    text: undefined,
    kind: 'valid',
    note: 'no file',
    params: { fs: 'fuse.s3fs', paths: PRUNE_PATH },
  });
  const workers = Math.max(2, Math.min(4, cpus().length));
  const batches: { dir: string; cases: Case[]; params: Case['params'] }[] = [
    { dir: join(work, 'cases-distro'), cases: distro, params: { fs: 'fuse.s3fs', paths: '' } },
  ];
  for (let w = 0; w < workers; w++) {
    batches.push({
      dir: join(work, `cases-${w}`),
      cases: generated.filter((_, i) => i % workers === w),
      params: { fs: 'fuse.s3fs', paths: PRUNE_PATH },
    });
  }
  for (const batch of batches) {
    mkdirSync(batch.dir, { recursive: true });
    for (const c of batch.cases) {
      writeFileSync(join(batch.dir, `${c.name}.conf`), c.text ?? '');
      if (c.text === undefined) writeFileSync(join(batch.dir, `${c.name}.conf.absent`), '');
    }
  }
  const namespaces = batches.map(() => new InstanceNamespace());
  try {
    await Promise.all(
      namespaces.map(async (ns, i) => {
        await ns.start();
        ns.isolate(join(work, `ns-prop-${i}`));
      }),
    );
    const started = Date.now();
    await Promise.all(
      batches.map((batch, i) => runBatch(namespaces[i] as InstanceNamespace, batch.dir, batch.params)),
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const failures: string[] = [];
    const tally = { valid: 0, malformed: 0, patched: 0, alreadyCompliant: 0 };
    for (const batch of batches) {
      for (const c of batch.cases) {
        const outcome = readOutcome(join(batch.dir, `${c.name}.conf`));
        tally[c.kind]++;
        const status = outcome.out[0].status;
        if (status === 'patched' || status === 'alreadyCompliant') tally[status]++;
        const problem = checkCase(c, outcome);
        if (problem !== null) failures.push(`${c.name} [${c.note}] ${problem}\n${JSON.stringify(c.text)}`);
      }
    }
    if (failures.length > 0) {
      throw new E2eError(
        `${failures.length} patch case(s) failed (seed ${seed}):\n${failures.slice(0, 10).join('\n')}`,
      );
    }
    return {
      summary:
        `patch properties: ${distro.length} distro files + ${generated.length} generated (seed ${seed}): ` +
        `${tally.valid} valid (${tally.patched} patched, ${tally.alreadyCompliant} already compliant), ` +
        `${tally.malformed} malformed refused, all judged by the real updatedb, in ${seconds} s on ${workers} namespaces`,
    };
  } finally {
    for (const ns of namespaces) await ns.stop();
  }
}
