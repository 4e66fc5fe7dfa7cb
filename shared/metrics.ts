/**
 * The pipeline's own CloudWatch metrics: their names and dimensions (template.yaml's dashboard and alarms
 * name the same; a test holds them together), what each event of the pipeline counts, and two adapters of
 * the `PipelineMetrics` port — CloudWatch embedded metric format (EMF) lines through Powertools Metrics, and
 * a recorder for tests and local runs.
 *
 * No metric has a per-instance dimension: each distinct set of dimension values is a metric billed by the
 * month, so every dimension here takes a fixed, small set of values.
 */
import type { GenericLogger } from '@aws-lambda-powertools/commons/types';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { FINDING_KINDS, type FindingKind } from '#core/assessment.ts';
import { SKIP_CODES } from '#core/remediation/policy.ts';
import { EPISODE_OUTCOMES } from '#core/remediation/types.ts';
import { VERDICTS, type Verdict } from '#core/remediation/verify.ts';
import type { ClosedEpisode, GateDecision, PipelineMetrics } from './ports.ts';

/** The CloudWatch namespace of every pipeline metric. */
export const METRIC_NAMESPACE = 'crawlguard';
/** Powertools gives every metric a `service` dimension; this is its value. */
export const METRIC_SERVICE = 'crawlguard';
/** The dimension Powertools adds to every metric. */
export const SERVICE_DIMENSION = 'service';

export const GATE_STATUSES = ['started', 'joined', 'skipped', 'escalated'] as const;
/** Why the gate skipped or escalated: the policy's codes, the claim's and the budgets'; any other is `other`. */
export const DECISION_REASONS = [
  ...SKIP_CODES,
  'repeated-failures',
  'active',
  'rate-limited',
  'other',
] as const;

interface MetricSpec {
  readonly name: string;
  /** The metric's one dimension besides `service`; null for none. */
  readonly dimension: string | null;
  /** Every value the dimension takes. */
  readonly values: readonly string[];
  /** What a datapoint means, for the dashboard and the README. */
  readonly description: string;
}

/** Every pipeline metric: its name, its dimension and that dimension's values. */
export const PIPELINE_METRICS = {
  findings: {
    name: 'Findings',
    dimension: 'Kind',
    values: FINDING_KINDS,
    description: 'findings published by a scan, a shard or an alarm triage (0 when it found none)',
  },
  decisions: {
    name: 'Decisions',
    dimension: 'Decision',
    values: GATE_STATUSES,
    description: 'what the remediation gate did with a finding or a request',
  },
  decisionReasons: {
    name: 'DecisionReasons',
    dimension: 'Reason',
    values: DECISION_REASONS,
    description: 'why the gate skipped or escalated',
  },
  outcomes: {
    name: 'EpisodeOutcomes',
    dimension: 'Outcome',
    values: EPISODE_OUTCOMES,
    description: 'how remediation episodes ended',
  },
  verdicts: {
    name: 'Verdicts',
    dimension: 'Verdict',
    values: VERDICTS,
    description: 'verification verdicts on fixed instances',
  },
  breakerOpen: {
    name: 'BreakerOpen',
    dimension: null,
    values: [],
    description:
      'the circuit breaker as last seen: 1 open (a trigger skipped for it, or it opened), 0 closed (a remediation started)',
  },
} as const satisfies Record<string, MetricSpec>;

/** One datapoint: a metric, its dimension value (if it has a dimension) and a count. */
export interface MetricPoint {
  readonly name: string;
  readonly dimension: { readonly name: string; readonly value: string } | null;
  readonly value: number;
}

const point = (spec: MetricSpec, value: number, dimensionValue: string | null = null): MetricPoint => ({
  name: spec.name,
  dimension:
    spec.dimension === null || dimensionValue === null
      ? null
      : { name: spec.dimension, value: dimensionValue },
  value,
});

/** Findings by kind, every kind counted (a zero says the scan ran and found none of that kind). */
export function findingPoints(byKind: Readonly<Partial<Record<FindingKind, number>>>): MetricPoint[] {
  return FINDING_KINDS.map((kind) => point(PIPELINE_METRICS.findings, byKind[kind] ?? 0, kind));
}

/**
 * A gate decision; its reason when skipped or escalated; and the breaker when the decision shows its
 * state: a skip for `breaker-open` (or a trigger that opened it) says open, a started remediation says
 * closed (the policy checks the breaker before anything starts). Other decisions say nothing about it.
 */
export function decisionPoints(decision: GateDecision): MetricPoint[] {
  const points = [point(PIPELINE_METRICS.decisions, 1, decision.status)];
  if (decision.code !== undefined) {
    const known = (DECISION_REASONS as readonly string[]).includes(decision.code);
    points.push(point(PIPELINE_METRICS.decisionReasons, 1, known ? decision.code : 'other'));
  }
  if (decision.code === 'breaker-open' || decision.breakerOpened === true)
    points.push(point(PIPELINE_METRICS.breakerOpen, 1));
  else if (decision.status === 'started') points.push(point(PIPELINE_METRICS.breakerOpen, 0));
  return points;
}

/** An episode's outcome, on its first close only; the breaker if that close opened it. */
export function closedEpisodePoints(episode: ClosedEpisode): MetricPoint[] {
  const points = episode.closed ? [point(PIPELINE_METRICS.outcomes, 1, episode.outcome)] : [];
  if (episode.breakerOpened) points.push(point(PIPELINE_METRICS.breakerOpen, 1));
  return points;
}

export function verdictPoints(verdict: Verdict): MetricPoint[] {
  return [point(PIPELINE_METRICS.verdicts, 1, verdict)];
}

/** The port, turning each event into datapoints; subclasses say where the datapoints go. */
abstract class DatapointMetrics implements PipelineMetrics {
  protected abstract emit(points: readonly MetricPoint[]): void;

  findingsPublished(byKind: Readonly<Partial<Record<FindingKind, number>>>): void {
    this.emit(findingPoints(byKind));
  }

  gateDecided(decision: GateDecision): void {
    this.emit(decisionPoints(decision));
  }

  episodeClosed(episode: ClosedEpisode): void {
    this.emit(closedEpisodePoints(episode));
  }

  verified(verdict: Verdict): void {
    this.emit(verdictPoints(verdict));
  }
}

/**
 * Datapoints as CloudWatch embedded metric format lines, serialised by Powertools Metrics (namespace
 * `crawlguard`, dimensions `service` and the metric's own), one line per datapoint, written as each event
 * happens: nothing is buffered, so nothing is lost when an invocation fails later. Lambda sends its
 * stdout to CloudWatch Logs, which turns the lines into metrics.
 */
export class EmfPipelineMetrics extends DatapointMetrics {
  readonly #metrics: LineMetrics;
  readonly #write: (line: string) => void;

  /**
   * @param write where each line goes (Lambda: stdout; the local commands: their log sink).
   * @param logger where Powertools' own warnings go.
   */
  constructor(write: (line: string) => void, logger?: GenericLogger) {
    super();
    this.#write = write;
    this.#metrics = new LineMetrics({
      namespace: METRIC_NAMESPACE,
      serviceName: METRIC_SERVICE,
      ...(logger === undefined ? {} : { logger }),
    });
  }

  protected emit(points: readonly MetricPoint[]): void {
    for (const { name, dimension, value } of points) {
      if (dimension !== null) this.#metrics.addDimension(dimension.name, dimension.value);
      this.#metrics.addMetric(name, MetricUnit.Count, value);
      const line = this.#metrics.takeLine();
      if (line !== null) this.#write(line);
    }
  }
}

/** Powertools Metrics that hands its EMF document over instead of printing it. */
class LineMetrics extends Metrics {
  /** The stored datapoints as one EMF line (null when metrics are off), then forgets them. */
  takeLine(): string | null {
    try {
      // POWERTOOLS_METRICS_DISABLED (or POWERTOOLS_DEV) turns Powertools metrics off: respected here too.
      return this.isDisabled() ? null : JSON.stringify(this.serializeMetrics());
    } finally {
      this.clearMetrics();
      this.clearDimensions();
    }
  }
}

/** EMF lines on the process's stdout, as Lambda collects them. */
export function lambdaPipelineMetrics(logger?: GenericLogger): PipelineMetrics {
  return new EmfPipelineMetrics((line) => process.stdout.write(`${line}\n`), logger);
}

/** Keeps every datapoint in memory (tests, the local stack). */
export class RecordingPipelineMetrics extends DatapointMetrics {
  readonly points: MetricPoint[] = [];

  protected emit(points: readonly MetricPoint[]): void {
    this.points.push(...points);
  }

  /** The sum of a metric's datapoints, for one dimension value or all. */
  total(name: string, dimensionValue?: string): number {
    return this.points
      .filter(
        (p) => p.name === name && (dimensionValue === undefined || p.dimension?.value === dimensionValue),
      )
      .reduce((sum, p) => sum + p.value, 0);
  }
}
