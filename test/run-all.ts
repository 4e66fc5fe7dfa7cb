/**
 * `npm test`: lint, type-check, `npm run validate`, the vitest suite, `npm run faults` (the remediation
 * pipeline under injected faults, its targets checked by its exit code), then the end-to-end proof. Every
 * stage runs even when an earlier one failed, so that one run shows every problem; the last line counts
 * the tests:
 * `crawlguard: N passed, N failed, N skipped` (lint, type-check and `npm run validate` count as one test
 * each, the faults run and the e2e as one each).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const REPORT = join(ROOT, '.tmp', 'vitest-report.json');
const BIN = join(ROOT, 'node_modules', '.bin');

/** Runs a command with the terminal, echoing its stdout and keeping a copy. */
function run(command: string, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['inherit', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      process.stdout.write(chunk);
    });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal === null ? 1 : 128), stdout }));
  });
}

const tally = { passed: 0, failed: 0, skipped: 0 };
const failures: string[] = [];
const stage = (name: string, ok: boolean): void => {
  tally[ok ? 'passed' : 'failed'] += 1;
  if (!ok) failures.push(name);
};

stage('lint', (await run(join(BIN, 'biome'), ['check', '.'])).code === 0);
stage('typecheck', (await run(join(BIN, 'tsc'), ['--noEmit'])).code === 0);
stage('validate', (await run(process.execPath, [join(ROOT, 'shared/tooling/validate.ts')])).code === 0);

mkdirSync(join(ROOT, '.tmp'), { recursive: true });
rmSync(REPORT, { force: true });
const unit = await run(join(BIN, 'vitest'), [
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${REPORT}`,
]);
try {
  const report = JSON.parse(readFileSync(REPORT, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
  };
  tally.passed += report.numPassedTests;
  tally.failed += report.numFailedTests;
  tally.skipped += report.numPendingTests + report.numTodoTests;
  if (report.numFailedTests > 0 || unit.code !== 0) failures.push('vitest');
  if (report.numFailedTests === 0 && unit.code !== 0) tally.failed += 1;
} catch {
  stage('vitest (no report)', false);
}

stage('faults', (await run(process.execPath, [join(ROOT, 'test/faults/run.ts')])).code === 0);

const e2e = await run(process.execPath, [join(ROOT, 'test/e2e/run.ts')]);
if (e2e.code === 0 && /^e2e: SKIPPED:/m.test(e2e.stdout)) tally.skipped += 1;
else stage('e2e', e2e.code === 0);

if (failures.length > 0) console.log(`\nfailed: ${failures.join(', ')}`);
console.log(`\ncrawlguard: ${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped`);
process.exitCode = failures.length > 0 ? 1 : 0;
