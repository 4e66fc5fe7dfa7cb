/**
 * `npm run --silent faults [-- --hosts N] [--seed N] [--per-class N] [--days N] [--json]`: the remediation pipeline in
 * apply mode under injected faults (test/faults/faults.ts). Prints what each fault class did, then one
 * line, the last: `faults: findings= eligible= injected= remediated= duplicates= lost= ledger=`.
 * Exits 1 when a target is missed: a duplicate, a lost finding, an incomplete ledger, a fault class that
 * never reached a caller, or fewer than 80 % of the eligible findings remediated.
 */
import { parseArgs } from 'node:util';
import { faultsLine, runFaults } from './faults.ts';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '240' },
    seed: { type: 'string', default: '7' },
    'per-class': { type: 'string', default: '10' },
    days: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const whole = (name: string, text: string, min: number, max: number): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`faults: --${name} must be a whole number from ${min} to ${max}, got '${text}'`);
    process.exit(2);
  }
  return n;
};
const hosts = whole('hosts', values.hosts, 10, 5000);
const seed = whole('seed', values.seed, 0, 2 ** 31 - 1);
const perClass = whole('per-class', values['per-class'], 1, 100);
const days = whole('days', values.days, 1, 14);

const run = await runFaults({
  hosts,
  seed,
  perClass,
  days,
  onProgress: values.json ? undefined : (line) => console.log(line),
});
const missed = [
  ...(run.duplicates > 0 ? [`${run.duplicates} duplicate command(s)`] : []),
  ...(run.lost > 0 ? [`${run.lost} finding(s) lost`] : []),
  ...(run.ledgerComplete ? [] : ['the ledger is incomplete']),
  ...Object.entries(run.byClass)
    .filter(([, n]) => n === 0)
    .map(([name]) => `fault class ${name} never reached a caller`),
  ...(run.remediated < 0.8 * run.eligible ? [`remediated ${run.remediated} < 80 % of ${run.eligible}`] : []),
];
if (values.json) {
  console.log(JSON.stringify({ ...run, missed }));
} else {
  console.log(`\nfaults reaching a caller, by class (${perClass} injected per class where injectable):`);
  for (const [name, n] of Object.entries(run.byClass)) console.log(`  ${name.padEnd(24)} ${n}`);
  console.log('episode outcomes:');
  for (const [name, n] of Object.entries(run.outcomes)) console.log(`  ${name.padEnd(24)} ${n}`);
  console.log('the gate, on the first delivery in order:');
  for (const [name, n] of Object.entries(run.gateAnswers)) console.log(`  ${name.padEnd(24)} ${n}`);
  console.log('why episodes did not end remediated:');
  for (const [why, n] of Object.entries(run.reasons).sort((a, b) => b[1] - a[1]))
    console.log(`  ${String(n).padStart(5)}  ${why}`);
  console.log(
    `apply-mode commands: ${run.applySends}, of which ${run.reruns} never ran or changed nothing (re-sent by design); largest execution history: ${run.maxHistoryEvents} events; ` +
      `${run.simulatedHours} simulated hours in ${run.realSeconds} s`,
  );
  for (const miss of missed) console.log(`MISSED: ${miss}`);
}
console.log(faultsLine(run));
process.exitCode = missed.length > 0 ? 1 : 0;
