import { analyzeMemory } from '#core/memory.ts';
import { analyzeNetworkOut, type NetworkOutAnalysis } from '#core/network-out/index.ts';
import { formatDay, MS_PER_DAY, zoneClock } from '#core/time-zone.ts';
import { MEMORY_FAMILIES, memoryScenario } from '#shared/sim/memory-scenarios.ts';
import {
  NETWORK_FAMILIES,
  type NetworkExpectation,
  type NetworkScenario,
  networkScenario,
} from '#shared/sim/network-scenarios.ts';
import { seededRandom } from '#shared/sim/random.ts';
import { asNetworkBytes, loadNab } from './nab.ts';
import {
  NAB_MEMORY_DEFAULT,
  NAB_MEMORY_LABELS,
  NAB_NETWORK_DEFAULT,
  NAB_NETWORK_LABELS,
} from './nab-labels.ts';

export type Detector = 'network-out' | 'memory';

/** One judged case: what was expected, what came out, and whether that counts as right. */
export interface Outcome {
  readonly detector: Detector;
  readonly source: 'suite' | 'nab';
  readonly family: string;
  readonly seed: number;
  readonly expected: string;
  readonly got: string;
  readonly correct: boolean;
  /** Why a case is wrong (or the detector's reason). */
  readonly detail: string;
}

const POSITIVE: Record<Detector, readonly string[]> = {
  'network-out': ['recurring-window', 'daily-burst'],
  memory: ['growth'],
};
// A reported window must start within this many minutes of the scenario's nominal start.
const WINDOW_TOLERANCE_MINUTES = 30;
// A reported growth slope must be within this share of the true one.
const SLOPE_TOLERANCE = 0.5;

export const DEFAULT_SEEDS = 8;

export function runSuite(seeds = DEFAULT_SEEDS): Outcome[] {
  const outcomes: Outcome[] = [];
  for (const [familyIndex, family] of NETWORK_FAMILIES.entries()) {
    for (let seed = 1; seed <= seeds; seed += 1) {
      const rng = seededRandom(familyIndex * 1000 + seed);
      const scenario = networkScenario(family, seed, rng);
      const analysis = analyzeNetworkOut(scenario.series, { timeZone: scenario.expected.timeZone });
      outcomes.push(judgeNetwork('suite', family.name, seed, scenario.expected, analysis, scenario));
    }
  }
  for (const [familyIndex, family] of MEMORY_FAMILIES.entries()) {
    for (let seed = 1; seed <= seeds; seed += 1) {
      const rng = seededRandom(500_000 + familyIndex * 1000 + seed);
      const scenario = memoryScenario(family, seed, rng);
      const analysis = analyzeMemory(scenario.series);
      let correct = analysis.verdict === scenario.expected.verdict;
      let detail = analysis.reason;
      const trueSlope = scenario.expected.slopePerDay;
      if (correct && analysis.verdict === 'growth' && trueSlope !== undefined) {
        const error = Math.abs((analysis.slopePerDay ?? 0) - trueSlope) / trueSlope;
        if (error > SLOPE_TOLERANCE) {
          correct = false;
          detail = `slope ${analysis.slopePerDay} vs true ${trueSlope.toPrecision(3)}: ${analysis.reason}`;
        }
      }
      outcomes.push({
        detector: 'memory',
        source: 'suite',
        family: family.name,
        seed,
        expected: scenario.expected.verdict,
        got: analysis.verdict,
        correct,
        detail,
      });
    }
  }
  return outcomes;
}

export function runNab(): Outcome[] {
  const outcomes: Outcome[] = [];
  for (const nab of loadNab()) {
    const networkLabel = NAB_NETWORK_LABELS[nab.name] ?? NAB_NETWORK_DEFAULT;
    const network = analyzeNetworkOut(asNetworkBytes(nab));
    const starts = networkLabel.windowStart === undefined ? [] : [networkLabel.windowStart];
    const expected = { verdict: networkLabel.verdict, timeZone: 'UTC', windowStarts: starts };
    outcomes.push(judgeNetwork('nab', nab.name, 0, expected as NetworkExpectation, network, null));
    const memoryLabel = NAB_MEMORY_LABELS[nab.name] ?? NAB_MEMORY_DEFAULT;
    const memory = analyzeMemory(nab.series, { unit: nab.unit === 'percent' ? 'percent' : 'bytes' });
    outcomes.push({
      detector: 'memory',
      source: 'nab',
      family: nab.name,
      seed: 0,
      expected: memoryLabel.verdict,
      got: memory.verdict,
      correct: memory.verdict === memoryLabel.verdict,
      detail: memory.reason,
    });
  }
  return outcomes;
}

/**
 * A NetworkOut case is right when the verdict is, and: every active window starts within 30 minutes of a
 * true one; a crawl that stopped is reported as a past pattern at its time of day, last seen on the local
 * day of its last burst; a moved schedule reports the old window as past and the change.
 */
function judgeNetwork(
  source: 'suite' | 'nab',
  family: string,
  seed: number,
  expected: NetworkExpectation,
  analysis: NetworkOutAnalysis,
  scenario: NetworkScenario | null,
): Outcome {
  const problems: string[] = [];
  if (analysis.verdict === expected.verdict && expected.verdict === 'recurring-window') {
    const reported = analysis.windows.map((window) => clockMinutes(window.start));
    const unmatched = expected.windowStarts.filter(
      (start) => !reported.some((minute) => circularDistance(minute, start) <= WINDOW_TOLERANCE_MINUTES),
    );
    if (unmatched.length > 0 || reported.length !== expected.windowStarts.length) {
      problems.push(
        `windows ${analysis.windows.map((w) => w.start).join(', ')} vs expected ${expected.windowStarts
          .map(formatMinutes)
          .join(', ')}`,
      );
    }
  }
  if (analysis.verdict === expected.verdict && expected.stopped !== undefined && scenario !== null) {
    const lastSeen = localDay(scenario.crawlStarts, expected.timeZone, () => true);
    const past = analysis.pastPatterns.find((pattern) =>
      expected.stopped === 'daily-burst'
        ? pattern.kind === 'daily-burst'
        : pattern.kind === 'recurring-window' &&
          circularDistance(clockMinutes(pattern.start), expected.stopped as number) <=
            WINDOW_TOLERANCE_MINUTES,
    );
    if (past === undefined || past.lastSeenDay !== lastSeen || analysis.active) {
      problems.push(
        `stopped crawl (last on ${lastSeen}) reported as ${JSON.stringify(
          analysis.pastPatterns.map((p) => `${p.kind} ${p.start} last ${p.lastSeenDay}`),
        )}, active ${analysis.active}`,
      );
    }
  }
  if (analysis.verdict === expected.verdict && expected.movedFrom !== undefined && scenario !== null) {
    const from = expected.movedFrom;
    const lastBefore = localDay(
      scenario.crawlStarts,
      expected.timeZone,
      (minute) => circularDistance(minute, from) <= 60,
    );
    const change = analysis.scheduleChange;
    if (
      change === null ||
      circularDistance(clockMinutes(change.from), from) > WINDOW_TOLERANCE_MINUTES ||
      change.lastDayBefore !== lastBefore
    ) {
      problems.push(
        `schedule moved from ${formatMinutes(from)} (last there ${lastBefore}): got ${JSON.stringify(change)}`,
      );
    }
  }
  const correct = analysis.verdict === expected.verdict && problems.length === 0;
  return {
    detector: 'network-out',
    source,
    family,
    seed,
    expected: expected.verdict,
    got: analysis.verdict,
    correct,
    detail: problems.length > 0 ? problems.join('; ') : analysis.reason,
  };
}

/** The local day ('YYYY-MM-DD' in `timeZone`) of the last crawl start whose local minute passes `keep`. */
function localDay(starts: readonly number[], timeZone: string, keep: (minute: number) => boolean): string {
  if (starts.length === 0) return 'none';
  const clock = zoneClock(timeZone, starts[0] as number, starts[starts.length - 1] as number);
  let last = 'none';
  for (const start of starts) {
    const local = start + clock.offsetMs(start);
    const day = Math.floor(local / MS_PER_DAY);
    if (keep((local - day * MS_PER_DAY) / 60_000)) last = formatDay(day);
  }
  return last;
}

export interface Score {
  readonly cases: number;
  readonly correct: number;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly falseNegatives: number;
  readonly precision: number;
  readonly recall: number;
}

/**
 * Precision and recall of "found the fault": a true positive must also be the right kind of verdict with
 * the right window or slope; a positive verdict that is wrong in any way is a false positive.
 */
export function score(outcomes: readonly Outcome[], detector: Detector): Score {
  const mine = outcomes.filter((outcome) => outcome.detector === detector);
  const positive = POSITIVE[detector];
  let truePositives = 0;
  let falsePositives = 0;
  let falseNegatives = 0;
  for (const outcome of mine) {
    const expectedPositive = positive.includes(outcome.expected);
    const gotPositive = positive.includes(outcome.got);
    if (expectedPositive && outcome.correct) truePositives += 1;
    else {
      if (gotPositive) falsePositives += 1;
      if (expectedPositive) falseNegatives += 1;
    }
  }
  return {
    cases: mine.length,
    correct: mine.filter((outcome) => outcome.correct).length,
    truePositives,
    falsePositives,
    falseNegatives,
    precision: truePositives + falsePositives === 0 ? 1 : truePositives / (truePositives + falsePositives),
    recall: truePositives + falseNegatives === 0 ? 1 : truePositives / (truePositives + falseNegatives),
  };
}

function clockMinutes(hhmm: string): number {
  const [hh, mm] = hhmm.split(':').map(Number);
  return (hh ?? 0) * 60 + (mm ?? 0);
}

function circularDistance(a: number, b: number): number {
  const d = Math.abs(a - b) % 1440;
  return Math.min(d, 1440 - d);
}

function formatMinutes(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
