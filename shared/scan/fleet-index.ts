import {
  classifyMetric,
  type Dimension,
  type InstanceMetrics,
  METRIC_KINDS,
  METRIC_SPECS,
  type MetricIdentity,
  metricKey,
} from '#core/metrics.ts';
import type { ScanTarget } from './scan.ts';

const KINDS = METRIC_KINDS.length;
const NONE = -1;
// A dimension set with its InstanceId value left out: shared by every instance the agent configures alike.
const INSTANCE = '\u0000';

/**
 * The eligible fleet of a run and the metrics chosen for each instance, in a few bytes per instance: the
 * instance id (a flat copy), a map slot, and per metric kind a reference to an interned dimension set
 * with the InstanceId value left out. Nothing of an EC2 or ListMetrics page is held once it is indexed,
 * so a fleet scan grows by this index alone. Instances keep the order they were added in.
 */
export class FleetIndex {
  readonly #rows = new Map<string, number>();
  #ids: string[] = [];
  #owners = new Int32Array(1024);
  // Per row and kind: the chosen dimension set (a template index) and how many sets were listed.
  #templates = new Int32Array(1024 * KINDS).fill(NONE);
  #candidates = new Uint8Array(1024 * KINDS);
  readonly #templateIndex = new Map<string, number>();
  readonly #templateList: (readonly (readonly [string, string])[])[] = [];
  readonly #ownerIndex = new Map<string | null, number>();
  readonly #ownerList: (string | null)[] = [];

  /** Instances indexed. */
  get size(): number {
    return this.#ids.length;
  }

  has(instanceId: string): boolean {
    return this.#rows.has(instanceId);
  }

  /** Adds an eligible instance (once: a repeat is ignored and answers false). */
  addInstance(instanceId: string, ownerId: string | null): boolean {
    if (this.#rows.has(instanceId)) return false;
    const row = this.#ids.length;
    if (row === this.#owners.length) this.#grow();
    // A copy: an id parsed out of a response may be a slice that keeps the whole response alive.
    const id = flatCopy(instanceId);
    this.#rows.set(id, row);
    this.#ids.push(id);
    this.#owners[row] = this.#intern(this.#ownerIndex, this.#ownerList, ownerId, ownerId);
    return true;
  }

  /**
   * Considers a listed metric for the instance it names, if that instance is indexed: the dimension set
   * with the fewest dimensions is kept per kind (ties: the smallest {@link metricKey}), as
   * `selectMetrics` chooses. Anything else is ignored.
   */
  addMetric(metric: MetricIdentity): void {
    const match = classifyMetric(metric);
    if (match === null) return;
    const row = this.#rows.get(match.instanceId);
    if (row === undefined) return;
    const slot = row * KINDS + METRIC_KINDS.indexOf(match.kind);
    this.#candidates[slot] = Math.min(255, (this.#candidates[slot] as number) + 1);
    const current = this.#templates[slot] as number;
    if (current !== NONE) {
      const chosen = this.#identity(match.kind, current, match.instanceId);
      const simpler =
        metric.dimensions.length !== chosen.dimensions.length
          ? metric.dimensions.length < chosen.dimensions.length
          : metricKey(metric) < metricKey(chosen);
      if (!simpler) return;
    }
    const template = metric.dimensions.map(
      (d) => [d.name, d.name === 'InstanceId' ? INSTANCE : d.value] as const,
    );
    const key = JSON.stringify(template);
    this.#templates[slot] = this.#intern(this.#templateIndex, this.#templateList, key, template);
  }

  /** Instance × kind pairs that had more than one candidate dimension set. */
  get ambiguous(): number {
    let count = 0;
    for (let slot = 0; slot < this.#ids.length * KINDS; slot += 1)
      if ((this.#candidates[slot] as number) > 1) count += 1;
    return count;
  }

  /** Metrics chosen for the instance of `row` (0 to 3). */
  metricCount(row: number): number {
    let count = 0;
    for (let kind = 0; kind < KINDS; kind += 1) if (this.#templates[row * KINDS + kind] !== NONE) count += 1;
    return count;
  }

  /** Metrics chosen over the whole fleet. */
  get metrics(): number {
    let count = 0;
    for (let row = 0; row < this.#ids.length; row += 1) count += this.metricCount(row);
    return count;
  }

  /** The instance of `row` and its metrics, built afresh (nothing is kept). */
  target(row: number): ScanTarget {
    const instanceId = this.#ids[row] as string;
    const metrics: InstanceMetrics = {};
    METRIC_KINDS.forEach((kind, k) => {
      const template = this.#templates[row * KINDS + k] as number;
      if (template !== NONE) metrics[kind] = this.#identity(kind, template, instanceId);
    });
    return { instanceId, ownerId: this.#ownerList[this.#owners[row] as number] ?? null, metrics };
  }

  /** Every instance with its metrics, in the order added. */
  *targets(): Generator<ScanTarget> {
    for (let row = 0; row < this.#ids.length; row += 1) yield this.target(row);
  }

  /** Bytes of the index's own arrays (strings and map slots aside), for the memory figures. */
  get arrayBytes(): number {
    return this.#owners.byteLength + this.#templates.byteLength + this.#candidates.byteLength;
  }

  #identity(kind: (typeof METRIC_KINDS)[number], template: number, instanceId: string): MetricIdentity {
    const { namespace, metricName } = METRIC_SPECS[kind];
    const dimensions: Dimension[] = (this.#templateList[template] ?? []).map(([name, value]) => ({
      name,
      value: value === INSTANCE ? instanceId : value,
    }));
    return { namespace, metricName, dimensions };
  }

  #intern<K, V>(index: Map<K, number>, list: V[], key: K, value: V): number {
    const found = index.get(key);
    if (found !== undefined) return found;
    list.push(value);
    index.set(key, list.length - 1);
    return list.length - 1;
  }

  #grow(): void {
    const capacity = this.#owners.length * 2;
    const owners = new Int32Array(capacity);
    owners.set(this.#owners);
    const templates = new Int32Array(capacity * KINDS).fill(NONE);
    templates.set(this.#templates);
    const candidates = new Uint8Array(capacity * KINDS);
    candidates.set(this.#candidates);
    this.#owners = owners;
    this.#templates = templates;
    this.#candidates = candidates;
  }
}

/** A flat copy of a short ASCII string (a substring of a large response would keep that response alive). */
export function flatCopy(text: string): string {
  return Buffer.from(text, 'latin1').toString('latin1');
}
