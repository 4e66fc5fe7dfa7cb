/**
 * The pipeline's metrics as the functions emit them: every function run on the simulated fleet (and the
 * remediation workflows on the local stack) with the EMF adapter writing into a list, then each line read
 * as CloudWatch would read it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '#shared/local/stack.ts';
import {
  EmfPipelineMetrics,
  METRIC_NAMESPACE,
  PIPELINE_METRICS,
  SERVICE_DIMENSION,
} from '#shared/metrics.ts';
import { createSimulatedFleet, SIMULATED_START, type SimulatedFleet } from '#shared/sim/fleet.ts';
import { demoHosts } from '#shared/sim/host-rosters.ts';
import { readEvent, simulatedFunction } from '#test/support/handlers.ts';

interface Emf {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  [key: string]: unknown;
}

/** A metric datapoint read back from an EMF line. */
interface Datapoint {
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value: number;
}

/** EMF lines as CloudWatch reads them: every metric of every directive, with its dimension values. */
function read(lines: readonly string[]): Datapoint[] {
  return lines.flatMap((line) => {
    const doc = JSON.parse(line) as Emf;
    return doc._aws.CloudWatchMetrics.flatMap((directive) => {
      expect(directive.Namespace).toBe(METRIC_NAMESPACE);
      return directive.Dimensions.flatMap((set) =>
        directive.Metrics.map((metric) => ({
          name: metric.Name,
          dimensions: Object.fromEntries(set.map((name) => [name, String(doc[name])])),
          value: doc[metric.Name] as number,
        })),
      );
    });
  });
}

const total = (points: readonly Datapoint[], name: string, dimension?: [string, string]) =>
  points
    .filter(
      (p) => p.name === name && (dimension === undefined || p.dimensions[dimension[0]] === dimension[1]),
    )
    .reduce((sum, p) => sum + p.value, 0);

/** Every datapoint is a catalogued metric with exactly its dimensions, each value from its list. */
function expectCatalogued(points: readonly Datapoint[]): void {
  expect(points.length).toBeGreaterThan(0);
  for (const point of points) {
    expect(Object.keys(point.dimensions)).not.toContain('InstanceId');
    for (const value of Object.values(point.dimensions)) expect(value).not.toMatch(/^(mi|i)-[0-9a-f]{8,17}$/);
    const spec = Object.values(PIPELINE_METRICS).find((s) => s.name === point.name);
    expect(spec, point.name).toBeDefined();
    expect(Object.keys(point.dimensions).sort()).toEqual(
      [SERVICE_DIMENSION, ...(spec?.dimension ? [spec.dimension] : [])].sort(),
    );
    if (spec?.dimension) expect(spec.values).toContain(point.dimensions[spec.dimension]);
  }
}

let fleet: SimulatedFleet | undefined;
let stack: LocalStack | undefined;
afterEach(async () => {
  fleet?.restore();
  fleet = undefined;
  await stack?.close();
  stack = undefined;
});

describe('the scan functions count what they published', () => {
  it('scan-worker: the findings of its shard by kind, and nothing per instance', async () => {
    fleet = createSimulatedFleet();
    const lines: string[] = [];
    const worker = simulatedFunction('scan-worker', fleet, {
      pipelineMetrics: new EmfPipelineMetrics((line) => lines.push(line)),
    });
    await worker(readEvent('events/scan-worker/shard.json'));
    const points = read(lines);
    expectCatalogued(points);
    const published = fleet.published.filter((e) => e.detailType === 'crawlguard.finding');
    expect(published.length).toBeGreaterThan(0);
    expect(total(points, 'Findings')).toBe(published.length);
    for (const kind of PIPELINE_METRICS.findings.values)
      expect(total(points, 'Findings', ['Kind', kind]), kind).toBe(
        published.filter((e) => (e.detail as { kind: string }).kind === kind).length,
      );
  });

  it('alarm-triage: one finding when it confirms an alarm, nothing when it does not', async () => {
    fleet = createSimulatedFleet();
    const lines: string[] = [];
    const triage = simulatedFunction('alarm-triage', fleet, {
      pipelineMetrics: new EmfPipelineMetrics((line) => lines.push(line)),
    });
    await triage(readEvent('events/alarm-triage/crawled-instance.json'));
    expectCatalogued(read(lines));
    expect(total(read(lines), 'Findings')).toBe(1);
    lines.length = 0;
    await triage(readEvent('events/alarm-triage/healthy-instance.json'));
    expect(lines).toEqual([]);
  });
});

describe('a scheduled run through remediation, on the local stack', () => {
  async function run(parameters: Record<string, string>) {
    const lines: string[] = [];
    stack = await startLocalStack({
      instances: 0,
      wellKnown: false,
      seed: 1,
      hosts: demoHosts(1, SIMULATED_START),
      mode: 'dry-run',
      parameters: { MAX_REMEDIATIONS_PER_HOUR: '1000', ...parameters },
      pipelineMetrics: new EmfPipelineMetrics((line) => lines.push(line)),
    });
    const scan = await stack.invoke('fleet-scan', readEvent('events/fleet-scan/scheduler-input.json'));
    expect(scan.outcome).toBe('returned');
    const gate = (await stack.deliverFindings()).map((invocation) => {
      if (invocation.outcome !== 'returned') throw new Error(`remediate ${invocation.outcome}`);
      return invocation.result as { status: string; code?: string };
    });
    await stack.workflows.idle();
    return { lines, points: read(lines), gate, published: stack.fleet.published.length };
  }

  it('counts findings, gate decisions and episode outcomes, and says the breaker is closed', async () => {
    const { points, gate, published } = await run({ RUN_CLAIM_FLOOR: '1000' });
    expectCatalogued(points);
    expect(published).toBeGreaterThan(1);
    expect(total(points, 'Findings')).toBe(published);
    const started = gate.filter((g) => g.status === 'started').length;
    expect(started).toBeGreaterThan(1);
    expect(total(points, 'Decisions')).toBe(gate.length);
    expect(total(points, 'Decisions', ['Decision', 'started'])).toBe(started);
    // Every started episode closed once, in dry-run with the check-mode diff.
    expect(total(points, 'EpisodeOutcomes')).toBe(started);
    expect(total(points, 'EpisodeOutcomes', ['Outcome', 'checked'])).toBeGreaterThan(0);
    const breaker = points.filter((p) => p.name === 'BreakerOpen').map((p) => p.value);
    expect(breaker.length).toBe(started);
    expect(new Set(breaker)).toEqual(new Set([0]));
  }, 120_000);

  it('says the breaker is open when a run asks for more than its budget', async () => {
    const { points, gate } = await run({ RUN_CLAIM_FLOOR: '1', RUN_CLAIM_PERCENT: '1' });
    expectCatalogued(points);
    const refused = gate.filter((g) => g.code === 'breaker-open').length;
    expect(refused).toBeGreaterThan(0);
    expect(total(points, 'DecisionReasons', ['Reason', 'breaker-open'])).toBe(refused);
    const breaker = points.filter((p) => p.name === 'BreakerOpen').map((p) => p.value);
    expect(breaker.at(-1)).toBe(1);
    expect(breaker.filter((v) => v === 1)).toHaveLength(refused);
  }, 120_000);
});
