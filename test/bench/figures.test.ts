import { readdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTemplate } from '#shared/tooling/cfn-yaml.ts';
import {
  benchColdStarts,
  buildBundles,
  type ColdStart,
  coveredMs,
  lambdaHeapOptions,
  median,
} from './cold-start.ts';
import {
  CLOUDWATCH_USD_PER_ALARM_METRIC_MONTH,
  CLOUDWATCH_USD_PER_DASHBOARD_MONTH,
  CLOUDWATCH_USD_PER_METRIC_REQUESTED,
  fixedBill,
  monthlyBill,
  NO_USAGE,
  SQS_USD_PER_REQUEST,
  STEP_FUNCTIONS_USD_PER_TRANSITION,
  total,
} from './cost.ts';
import { benchFleetScan, bytesPerInstance } from './fleet-scale.ts';
import { assemble } from './functions.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const FUNCTIONS = readdirSync(resolve(ROOT, 'functions')).sort();

const coldStart = (name: string, peakRssMiB = 90): ColdStart => ({
  name,
  bundleBytes: 600_000,
  sourceMapBytes: 1_000_000,
  runs: [],
  loadMs: 100,
  initMs: 140,
  initWallMs: 160,
  waitMs: 20,
  warmMs: 10,
  peakRssMiB,
});
const fleetRun = (instances: number, peakRssMiB: number) => ({
  instances,
  peakRssMiB,
  shards: 1,
  calls: {},
  seconds: 1,
});
const daily = {
  usage: NO_USAGE,
  scanWorkerPeakRssMiB: 150,
  invocations: { 'fleet-scan': 1, 'scan-worker': 1 },
};
const episode = {
  episodes: 1,
  stateTransitions: 70,
  lambdaTasks: 20,
  remediateInvocations: 2,
  tableWriteUnits: 20,
  events: 0,
  logBytes: 1000,
};

describe('the functions figures of bench -- --json', () => {
  it('has bundleBytes, initMs and peakRssMiB for every folder of functions/, the fleet and cost figures, all numbers', () => {
    const { flat, lines } = assemble(
      FUNCTIONS.map((name) => coldStart(name)),
      [fleetRun(10_000, 100), fleetRun(100_000, 115)],
      daily,
      episode,
      monthlyBill(NO_USAGE),
      fixedBill({}),
    );
    for (const name of FUNCTIONS)
      for (const key of ['bundleBytes', 'initMs', 'peakRssMiB', 'memorySizeMb'])
        expect(flat[`${key}.${name}`], `${key}.${name}`).toEqual(expect.any(Number));
    for (const key of [
      'fleetScanPeakRssMiB.10000',
      'fleetScanPeakRssMiB.100000',
      'fleetScanBytesPerInstance',
      'costPer1000InstancesMonthUsd',
      'costFixedMonthUsd',
    ])
      expect(flat[key], key).toEqual(expect.any(Number));
    for (const value of Object.values(flat)) expect(Number.isFinite(value)).toBe(true);
    // fleet-scan's peak is the one at the largest fleet, scan-worker's the one of its largest batch.
    expect(flat['peakRssMiB.fleet-scan']).toBe(115);
    expect(flat['peakRssMiB.scan-worker']).toBe(150);
    expect(flat.fleetScanBytesPerInstance).toBe(Math.round((15 * 1024 ** 2) / 90_000));
    // Every item of the bill is printed.
    for (const item of [...monthlyBill(NO_USAGE), ...fixedBill({})])
      expect(lines.some((line) => line.includes(item.item))).toBe(true);
  });

  it('fails when a function peaks within a quarter of its MemorySize', () => {
    expect(() =>
      assemble(
        FUNCTIONS.map((name) => coldStart(name, name === 'remediate' ? 230 : 90)),
        [fleetRun(10_000, 100), fleetRun(100_000, 115)],
        daily,
        episode,
        monthlyBill(NO_USAGE),
        fixedBill({}),
      ),
    ).toThrow(/^remediate: peak RSS 230 MiB leaves less than a quarter of its MemorySize 256 MB free$/);
  });
});

describe('the cost model', () => {
  it('prices each measured quantity at its list price', () => {
    const bill = monthlyBill({ ...NO_USAGE, metricsRequested: 50_000, stateTransitions: 2000 });
    expect(bill.find((i) => i.item === 'GetMetricData metrics')?.usd).toBeCloseTo(
      50_000 * CLOUDWATCH_USD_PER_METRIC_REQUESTED,
      10,
    );
    expect(bill.find((i) => i.item === 'Step Functions transitions')?.usd).toBeCloseTo(
      2000 * STEP_FUNCTIONS_USD_PER_TRANSITION,
      10,
    );
    expect(total(bill)).toBeCloseTo(0.5 + 0.05, 4);
    expect(total(monthlyBill(NO_USAGE))).toBe(0);
  });

  it('counts dashboards, alarm metrics and SQS event sources of a template as the fixed cost', () => {
    const bill = fixedBill({
      Board: { Type: 'AWS::CloudWatch::Dashboard' },
      Plain: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'Errors' } },
      MathAlarm: {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: { Metrics: [{ MetricStat: {} }, { MetricStat: {} }, { Expression: 'a+b' }] },
      },
      Worker: {
        Type: 'AWS::Serverless::Function',
        Properties: { Events: { Q: { Type: 'SQS' }, S: { Type: 'Schedule' } } },
      },
    });
    const polls = (5 * 30 * 86_400) / 20;
    expect(total(bill)).toBeCloseTo(
      CLOUDWATCH_USD_PER_DASHBOARD_MONTH +
        3 * CLOUDWATCH_USD_PER_ALARM_METRIC_MONTH +
        polls * SQS_USD_PER_REQUEST,
      4,
    );
  });

  it("reads template.yaml's resources (its SQS event source at least)", () => {
    const { Resources } = readTemplate(resolve(ROOT, 'template.yaml')) as {
      Resources: Record<string, never>;
    };
    expect(total(fixedBill(Resources))).toBeGreaterThan(0);
  });
});

describe('cold-start measurements', () => {
  it('coveredMs counts overlapping intervals once, inside the window only', () => {
    expect(coveredMs([], [0, 100])).toBe(0);
    expect(
      coveredMs(
        [
          [10, 20],
          [15, 30],
          [50, 60],
          [90, 200],
          [-5, 2],
        ],
        [0, 100],
      ),
    ).toBe(2 + 20 + 10 + 10);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });

  it("gives a bundle Lambda's heap limits for its memory", () => {
    expect(lambdaHeapOptions(1024)).toBe('--max-semi-space-size=17 --max-old-space-size=973');
    expect(lambdaHeapOptions(256)).toBe('--max-semi-space-size=4 --max-old-space-size=244');
  });

  let built: Awaited<ReturnType<typeof buildBundles>> | undefined;
  const bundle = async (name: string) => {
    built ??= await buildBundles();
    return built.bundles.get(name) as string;
  };
  afterAll(() => {
    if (built !== undefined) rmSync(built.dir, { recursive: true, force: true });
  });

  it('runs a real bundle in a fresh process to its first invocation, against the local endpoint', async () => {
    const [result] = await benchColdStarts(1, new Map([['workflow-step', await bundle('workflow-step')]]));
    expect(result?.runs[0]?.outcome).toBe('returned');
    expect(result?.bundleBytes).toBeLessThanOrEqual(1_000_000);
    expect(result?.peakRssMiB).toBeGreaterThan(0);
    expect(result?.initMs).toBeLessThanOrEqual(result?.initWallMs ?? 0);
  }, 120_000);

  it('runs fleet-scan alone on a fleet large enough to be sharded and reports its memory', async () => {
    const run = await benchFleetScan(await bundle('fleet-scan'), 1500);
    expect(run.shards).toBeGreaterThan(1);
    expect(run.calls.SendMessageBatch).toBeGreaterThan(0);
    expect(run.peakRssMiB).toBeGreaterThan(0);
    expect(bytesPerInstance(fleetRun(1000, 100), fleetRun(2000, 101))).toBe(1049);
  }, 120_000);
});
