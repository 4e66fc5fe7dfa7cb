import type { MetricSeries } from '#core/series.ts';
import { MS_PER_DAY } from '#core/time-zone.ts';
import type { HostMetric, SimHost } from './host.ts';
import { MEMORY_FAMILIES, memoryScenario } from './memory-scenarios.ts';
import { NETWORK_FAMILIES, networkScenario } from './network-scenarios.ts';
import { type Random, seededRandom } from './random.ts';

/** The account every simulated instance belongs to (as in the AWS documentation's samples). */
export const SIMULATED_ACCOUNT = '123456789012';
export const SIMULATED_REGION = 'us-east-1';
export const OPT_IN_KEY = 'crawlguard:enabled';
export const OPT_IN_VALUE = 'true';

/** What a simulated instance really does; the scan should find this. */
export type Behaviour = 'updatedb-crawl' | 'daily-network-burst' | 'memory-growth' | 'healthy';

export interface SimDimension {
  readonly name: string;
  readonly value: string;
}

/** A series CloudWatch holds: its exact name and dimensions, and how to generate its datapoints. */
export interface SimMetric {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly SimDimension[];
  readonly source: ScenarioSource | HostSource;
}

/** Datapoints from a seeded scenario family, moved to end at the simulated now. */
export interface ScenarioSource {
  readonly generator: 'network' | 'memory';
  readonly family: string;
  readonly seed: number;
}

/** Datapoints from a modelled host's state over simulated time (shared/sim/host.ts). */
export interface HostSource {
  readonly generator: 'host';
  readonly host: SimHost;
  readonly kind: HostMetric['kind'];
}

export interface SimInstance {
  readonly instanceId: string;
  readonly behaviour: Behaviour;
  readonly tags: readonly { readonly Key: string; readonly Value: string }[];
  /** State when the simulation starts. */
  readonly initialState: 'running' | 'stopped';
  /** Simulated instant at which a running instance stops (mid-scan), if it does. */
  readonly stopsAt: number | null;
  /** SSM PingStatus, or null for an instance SSM does not manage. */
  readonly ssm: 'Online' | 'ConnectionLost' | 'Inactive' | null;
  readonly metrics: readonly SimMetric[];
  /** The modelled host (state over time, Run Command), for instances built from a HostSpec. */
  readonly host?: SimHost;
}

/** Instances with fixed ids that the sample events in `events/` refer to. */
export const WELL_KNOWN = {
  /** The instance id of the AWS documentation's alarm samples: crawled by cron.daily at 06:25, s3fs RSS growing. */
  crawled: 'i-12345678901234567',
  /** Crawled by plocate's systemd timer (random delay), named by an alarm's crawlguard:instance-id tag. */
  crawledSystemd: 'i-0c0ffee0000000007',
  healthy: 'i-0c0ffee0000000001',
  leaking: 'i-0c0ffee0000000002',
  /** Opted in and crawled, but SSM does not manage it: reported, never acted on. */
  unmanaged: 'i-0c0ffee0000000003',
  /** Crawled, but not opted in. */
  untagged: 'i-0c0ffee0000000004',
  /** Crawled, with the opt-in tag set to a hostile value. */
  hostileTag: 'i-0c0ffee0000000005',
  /** Opted in, stopped. */
  stopped: 'i-0c0ffee0000000006',
} as const;

/** Alarms the simulated CloudWatch knows, with their tags (for ListTagsForResource). */
export const SIMULATED_ALARMS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  [`arn:aws:cloudwatch:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:alarm:crawlguard-s3fs-egress`]: {
    'crawlguard:instance-id': WELL_KNOWN.crawledSystemd,
  },
  [`arn:aws:cloudwatch:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:alarm:fleet-egress-search`]: {},
};

interface Profile {
  readonly behaviour: Behaviour;
  readonly share: number;
  readonly network: readonly string[];
  readonly memory: readonly string[];
  /** s3fs RSS families; empty when s3fs is not mounted. */
  readonly rss: readonly string[];
  /** Share of instances of this profile that run the CloudWatch agent. */
  readonly agent: number;
}

// Mostly healthy; a few crawled (cron or systemd timer), leaking, or with another daily job.
const PROFILES: readonly Profile[] = [
  {
    behaviour: 'updatedb-crawl',
    share: 0.05,
    network: ['cron-0625', 'anacron-jitter', 'long-crawl'],
    memory: ['linear-leak-percent', 'slow-leak'],
    rss: ['s3fs-rss-staircase'],
    agent: 1,
  },
  {
    behaviour: 'updatedb-crawl',
    share: 0.03,
    network: ['systemd-12h-random', 'systemd-1h-delay'],
    memory: ['flat-noise'],
    rss: ['s3fs-rss-staircase'],
    agent: 1,
  },
  {
    behaviour: 'memory-growth',
    share: 0.04,
    network: ['flat-noise', 'smooth-day-night'],
    memory: ['linear-leak-percent', 'leak-with-day-cycle', 'late-onset-leak'],
    rss: [],
    agent: 1,
  },
  {
    behaviour: 'daily-network-burst',
    share: 0.02,
    network: ['cron-0625', 'short-daily-spike'],
    memory: ['flat-noise'],
    rss: [],
    agent: 1,
  },
  {
    behaviour: 'healthy',
    share: 0.12,
    network: ['flat-noise', 'smooth-day-night', 'irregular-office-bursts'],
    memory: ['flat-noise', 'warm-up-plateau'],
    rss: ['rss-cache-cap'],
    agent: 1,
  },
  {
    behaviour: 'healthy',
    share: 0.74,
    network: [
      'flat-noise',
      'smooth-day-night',
      'business-hours-plateau',
      'heavy-tailed-noise',
      'one-off-spikes',
      'weekly-job',
    ],
    memory: ['flat-noise', 'daily-sawtooth-gradual', 'warm-up-plateau'],
    rss: [],
    agent: 0.85,
  },
];

// Tag values that must never count as opted in.
const NOT_OPTED_IN = [
  'false',
  'True',
  'TRUE',
  'true ',
  ' true',
  'true\n',
  'yes',
  '*',
  'true; rm -rf /',
  '$(reboot)',
  '`id`',
  'tru\u0065\u0301',
];

export interface FleetModelOptions {
  readonly instances: number;
  readonly seed: number;
  readonly startMs: number;
  readonly wellKnown: boolean;
  /** Share of running, online instances that stop during the first two minutes of the simulation. */
  readonly stopDuringScan: number;
}

/** Builds the simulated fleet: deterministic for a seed, whatever order it is read in. */
export function buildFleet(options: FleetModelOptions): SimInstance[] {
  const fleet: SimInstance[] = options.wellKnown ? wellKnownInstances(options.seed) : [];
  const used = new Set(fleet.map((instance) => instance.instanceId));
  for (let index = 0; index < options.instances; index += 1) {
    const rng = seededRandom(mix(options.seed, index));
    let instanceId = randomInstanceId(rng);
    while (used.has(instanceId)) instanceId = randomInstanceId(rng);
    used.add(instanceId);
    fleet.push(randomInstance(instanceId, rng, options));
  }
  return fleet;
}

function randomInstance(instanceId: string, rng: Random, options: FleetModelOptions): SimInstance {
  const profile = pickProfile(rng.next());
  const optedIn = rng.chance(0.9);
  const stopped = rng.chance(0.03);
  const roll = rng.next();
  const ssm = roll < 0.93 ? 'Online' : roll < 0.96 ? 'ConnectionLost' : roll < 0.97 ? 'Inactive' : null;
  const stopsAt =
    !stopped && ssm === 'Online' && rng.chance(options.stopDuringScan)
      ? options.startMs + rng.uniform(5_000, 120_000)
      : null;
  const tags = [
    { Key: 'Name', Value: `web-${instanceId.slice(-5)}` },
    ...(optedIn
      ? [{ Key: OPT_IN_KEY, Value: OPT_IN_VALUE }]
      : rng.chance(0.5)
        ? []
        : [{ Key: OPT_IN_KEY, Value: rng.pick(NOT_OPTED_IN) }]),
  ];
  return {
    instanceId,
    behaviour: profile.behaviour,
    tags,
    initialState: stopped ? 'stopped' : 'running',
    stopsAt,
    ssm,
    metrics: metricsFor(instanceId, profile, rng),
  };
}

function pickProfile(u: number): Profile {
  let cumulative = 0;
  for (const profile of PROFILES) {
    cumulative += profile.share;
    if (u < cumulative) return profile;
  }
  return PROFILES[PROFILES.length - 1] as Profile;
}

function metricsFor(
  instanceId: string,
  profile: Profile,
  rng: Random,
  fixed?: { network: string; memory: string; rss?: string; seed: number },
): SimMetric[] {
  const seed = fixed?.seed ?? rng.int(1, 2 ** 30);
  const id = { name: 'InstanceId', value: instanceId };
  const metrics: SimMetric[] = [
    {
      namespace: 'AWS/EC2',
      metricName: 'NetworkOut',
      dimensions: [id],
      source: { generator: 'network', family: fixed?.network ?? rng.pick(profile.network), seed },
    },
  ];
  if (fixed === undefined && !rng.chance(profile.agent)) return metrics;
  // The agent's dimension sets vary with its configuration: plain, appended, or both (aggregated).
  const memory = {
    generator: 'memory' as const,
    family: fixed?.memory ?? rng.pick(profile.memory),
    seed: seed + 1,
  };
  const appended = [
    id,
    { name: 'ImageId', value: 'ami-0abcdef1234567890' },
    { name: 'InstanceType', value: 'm5.large' },
  ];
  const layout = fixed === undefined ? rng.next() : 0;
  if (layout < 0.85)
    metrics.push({ namespace: 'CWAgent', metricName: 'mem_used_percent', dimensions: [id], source: memory });
  if (layout >= 0.6)
    metrics.push({
      namespace: 'CWAgent',
      metricName: 'mem_used_percent',
      dimensions: appended,
      source: memory,
    });
  const rssFamily =
    fixed === undefined ? (profile.rss.length > 0 ? rng.pick(profile.rss) : null) : (fixed.rss ?? null);
  if (rssFamily !== null) {
    const selector =
      fixed !== undefined || rng.chance(0.5)
        ? { name: 'exe', value: 's3fs' }
        : { name: 'pattern', value: '/usr/bin/s3fs' };
    metrics.push({
      namespace: 'CWAgent',
      metricName: 'procstat_memory_rss',
      dimensions: [id, selector, { name: 'pid_finder', value: 'native' }],
      source: { generator: 'memory', family: rssFamily, seed: seed + 2 },
    });
  }
  // Another process's procstat series: same metric name, not s3fs.
  if (fixed === undefined && rng.chance(0.3)) {
    metrics.push({
      namespace: 'CWAgent',
      metricName: 'procstat_memory_rss',
      dimensions: [id, { name: 'exe', value: 'nginx' }, { name: 'pid_finder', value: 'native' }],
      source: { generator: 'memory', family: 'rss-cache-cap', seed: seed + 3 },
    });
  }
  return metrics;
}

function wellKnownInstances(seed: number): SimInstance[] {
  const profile = PROFILES[0] as Profile;
  const make = (
    instanceId: string,
    behaviour: Behaviour,
    families: { network: string; memory: string; rss?: string },
    overrides: Partial<SimInstance> = {},
  ): SimInstance => ({
    instanceId,
    behaviour,
    tags: [
      { Key: 'Name', Value: `known-${instanceId.slice(-4)}` },
      { Key: OPT_IN_KEY, Value: OPT_IN_VALUE },
    ],
    initialState: 'running',
    stopsAt: null,
    ssm: 'Online',
    metrics: metricsFor(instanceId, profile, seededRandom(seed), {
      ...families,
      seed: mix(seed, parseInt(instanceId.slice(-6), 16)) % 2 ** 30,
    }),
    ...overrides,
  });
  const crawl = { network: 'cron-0625', memory: 'linear-leak-percent', rss: 's3fs-rss-staircase' };
  return [
    make(WELL_KNOWN.crawled, 'updatedb-crawl', crawl),
    make(WELL_KNOWN.crawledSystemd, 'updatedb-crawl', {
      network: 'systemd-12h-random',
      memory: 'flat-noise',
      rss: 's3fs-rss-staircase',
    }),
    make(WELL_KNOWN.healthy, 'healthy', { network: 'flat-noise', memory: 'flat-noise' }),
    make(WELL_KNOWN.leaking, 'memory-growth', { network: 'smooth-day-night', memory: 'linear-leak-percent' }),
    make(WELL_KNOWN.unmanaged, 'updatedb-crawl', crawl, { ssm: null }),
    make(WELL_KNOWN.untagged, 'updatedb-crawl', crawl, { tags: [{ Key: 'Name', Value: 'not-opted-in' }] }),
    make(WELL_KNOWN.hostileTag, 'updatedb-crawl', crawl, {
      tags: [{ Key: OPT_IN_KEY, Value: 'true; rm -rf / #' }],
    }),
    make(
      WELL_KNOWN.stopped,
      'healthy',
      { network: 'flat-noise', memory: 'flat-noise' },
      { initialState: 'stopped' },
    ),
  ];
}

/** The opt-in tag, the Name tag and, for members of an Auto Scaling group, the group's tag. */
export function hostInstance(host: SimHost): SimInstance {
  const { spec } = host;
  const asg = spec.quirks?.autoScalingGroup;
  return {
    instanceId: spec.instanceId,
    behaviour: spec.behaviour,
    tags: [
      { Key: 'Name', Value: spec.name },
      ...(spec.optIn === null ? [] : [{ Key: OPT_IN_KEY, Value: spec.optIn }]),
      ...(asg === undefined ? [] : [{ Key: 'aws:autoscaling:groupName', Value: asg }]),
    ],
    initialState: 'running',
    stopsAt: spec.quirks?.stopsAtMs ?? null,
    ssm: host.ssmPing,
    metrics: host.metrics().map((metric) => ({
      namespace: metric.namespace,
      metricName: metric.metricName,
      dimensions: metric.dimensions,
      source: { generator: 'host', host, kind: metric.kind },
    })),
    host,
  };
}

const HOST_SERIES_DAYS = 15;

/**
 * The datapoints of a metric at its native resolution (5 minutes). A scenario is moved by whole days so
 * that it ends just before `nowMs` (time-of-day patterns such as cron's 06:25 stay where they were); a
 * host's series is its state's, over [startMs, endMs) (default: the 15 days before `nowMs`).
 */
export function seriesOf(
  metric: SimMetric,
  nowMs: number,
  startMs: number = nowMs - HOST_SERIES_DAYS * MS_PER_DAY,
  endMs: number = nowMs,
): MetricSeries {
  if (metric.source.generator === 'host') {
    return metric.source.host.series(metric.source.kind, startMs, endMs, nowMs);
  }
  const { generator, family, seed } = metric.source;
  const rng = seededRandom(seed);
  const series =
    generator === 'network'
      ? networkScenario(findFamily(NETWORK_FAMILIES, family), seed, rng).series
      : memoryScenario(findFamily(MEMORY_FAMILIES, family), seed, rng).series;
  let last = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < series.timestamps.length; i += 1) last = Math.max(last, series.timestamps[i] as number);
  const shift = Number.isFinite(last) ? Math.floor((nowMs - last) / MS_PER_DAY) * MS_PER_DAY : 0;
  const timestamps = new Float64Array(series.timestamps.length);
  for (let i = 0; i < timestamps.length; i += 1) timestamps[i] = (series.timestamps[i] as number) + shift;
  return { timestamps, values: Float64Array.from(series.values as ArrayLike<number>) };
}

function findFamily<F extends { readonly name: string }>(families: readonly F[], name: string): F {
  const family = families.find((candidate) => candidate.name === name);
  if (family === undefined) throw new RangeError(`no scenario family '${name}'`);
  return family;
}

function randomInstanceId(rng: Random): string {
  const hex = (n: number) =>
    Math.floor(rng.next() * 2 ** 32)
      .toString(16)
      .padStart(8, '0')
      .slice(0, n);
  return `i-0${hex(8)}${hex(8)}`;
}

/** A 32-bit mix of two integers (splitmix-like), for per-instance seeds. */
export function mix(a: number, b: number): number {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
