/**
 * `npm run eval [-- --seeds N] [--json]`: the labelled scenario suite and the NAB series through both
 * detectors; precision and recall per detector, a line per family, and every miss.
 * Exits 1 when a target is missed (precision or recall < 0.95 on the suite, any miss on NAB).
 */
import { parseArgs } from 'node:util';
import { DEFAULT_SEEDS, type Detector, type Outcome, runNab, runSuite, score } from './suite.ts';

const TARGET = 0.95;
const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: String(DEFAULT_SEEDS) },
    json: { type: 'boolean', default: false },
  },
});
const seeds = Number(values.seeds);
if (!Number.isInteger(seeds) || seeds < 1 || seeds > 1000) {
  console.error(`eval: --seeds must be a whole number from 1 to 1000, got '${values.seeds}'`);
  process.exit(2);
}

const suite = runSuite(seeds);
const nab = runNab();
const detectors: Detector[] = ['network-out', 'memory'];
const rows = detectors.flatMap((detector) => [
  { set: 'suite', detector, ...score(suite, detector) },
  { set: 'nab', detector, ...score(nab, detector) },
]);
const misses = [...suite, ...nab].filter((outcome) => !outcome.correct);
const targetsMet =
  rows.every((row) => row.set !== 'suite' || (row.precision >= TARGET && row.recall >= TARGET)) &&
  nab.every((outcome) => outcome.correct);

if (values.json) {
  console.log(JSON.stringify({ seeds, targetsMet, scores: rows, misses }));
} else {
  const families = new Set(suite.map((outcome) => `${outcome.detector}/${outcome.family}`)).size;
  console.log(
    `crawlguard eval: ${families} scenario families × ${seeds} seeds, and ${nab.length / 2} NAB series\n`,
  );
  console.log(
    table(
      ['set', 'detector', 'cases', 'correct', 'precision', 'recall', 'TP', 'FP', 'FN'],
      rows.map((row) => [
        row.set,
        row.detector,
        row.cases,
        row.correct,
        row.precision.toFixed(3),
        row.recall.toFixed(3),
        row.truePositives,
        row.falsePositives,
        row.falseNegatives,
      ]),
    ),
  );
  console.log('\nper family (suite):');
  console.log(table(['detector', 'family', 'expected', 'right', 'verdicts'], familyRows(suite)));
  console.log('\nNAB:');
  console.log(
    table(
      ['detector', 'series', 'expected', 'got', 'reason'],
      nab.map((o) => [o.detector, o.family, o.expected, o.got, o.detail]),
    ),
  );
  console.log(misses.length === 0 ? '\nno misses' : `\n${misses.length} miss(es):`);
  for (const miss of misses) {
    console.log(
      `  ${miss.detector} ${miss.source} ${miss.family}#${miss.seed}: expected ${miss.expected}, got ${miss.got} — ${miss.detail}`,
    );
  }
  console.log(
    `\ntargets (precision and recall ≥ ${TARGET} on the suite, every NAB series as labelled): ${targetsMet ? 'met' : 'MISSED'}`,
  );
}
process.exit(targetsMet ? 0 : 1);

function familyRows(outcomes: readonly Outcome[]): (string | number)[][] {
  const groups = new Map<string, Outcome[]>();
  for (const outcome of outcomes) {
    const key = `${outcome.detector}\u0000${outcome.family}`;
    groups.set(key, [...(groups.get(key) ?? []), outcome]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0] as Outcome;
    const verdicts = new Map<string, number>();
    for (const outcome of group) verdicts.set(outcome.got, (verdicts.get(outcome.got) ?? 0) + 1);
    return [
      first.detector,
      first.family,
      first.expected,
      `${group.filter((o) => o.correct).length}/${group.length}`,
      [...verdicts].map(([verdict, count]) => `${verdict}×${count}`).join(' '),
    ];
  });
}

function table(header: string[], body: (string | number)[][]): string {
  const cells = [header, ...body].map((row) => row.map(String));
  const widths = header.map((_, column) =>
    Math.min(70, Math.max(...cells.map((row) => (row[column] ?? '').length))),
  );
  return cells
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  '),
    )
    .join('\n');
}
