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
 * The eligible fleet of a run and the metrics chosen for each instance, in about 40 bytes per instance,
 * all in typed arrays (outside the JavaScript heap, whose collector would otherwise let garbage grow to
 * a multiple of the index): the instance id packed into two numbers, a hash slot, and per metric kind a
 * reference to an interned dimension set with the InstanceId value left out. Nothing of an EC2 or
 * ListMetrics page is held once it is indexed, so a fleet scan grows by this index alone. Instances keep
 * the order they were added in.
 */
export class FleetIndex {
  readonly #ids = new PackedIds();
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
    return this.#ids.size;
  }

  has(instanceId: string): boolean {
    return this.#ids.row(instanceId) !== undefined;
  }

  /** Adds an eligible instance (once: a repeat is ignored and answers false). */
  addInstance(instanceId: string, ownerId: string | null): boolean {
    if (this.#ids.row(instanceId) !== undefined) return false;
    const row = this.#ids.add(instanceId);
    if (row === this.#owners.length) this.#grow();
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
    const row = this.#ids.row(match.instanceId);
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
    for (let slot = 0; slot < this.#ids.size * KINDS; slot += 1)
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
    for (let row = 0; row < this.#ids.size; row += 1) count += this.metricCount(row);
    return count;
  }

  /** The instance of `row` and its metrics, built afresh (nothing is kept). */
  target(row: number): ScanTarget {
    const instanceId = this.#ids.id(row);
    const metrics: InstanceMetrics = {};
    METRIC_KINDS.forEach((kind, k) => {
      const template = this.#templates[row * KINDS + k] as number;
      if (template !== NONE) metrics[kind] = this.#identity(kind, template, instanceId);
    });
    return { instanceId, ownerId: this.#ownerList[this.#owners[row] as number] ?? null, metrics };
  }

  /** Every instance with its metrics, in the order added. */
  *targets(): Generator<ScanTarget> {
    for (let row = 0; row < this.#ids.size; row += 1) yield this.target(row);
  }

  /** Bytes of the index's typed arrays, for the memory figures. */
  get arrayBytes(): number {
    return (
      this.#ids.arrayBytes +
      this.#owners.byteLength +
      this.#templates.byteLength +
      this.#candidates.byteLength
    );
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
    const capacity = Math.max(this.#owners.length * 2, 1024);
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

// An EC2 instance id: `i-` and 8 (older) or 17 lowercase hex digits.
const INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const LOW_DIGITS = 8;
// The high number of a packed id: its digit count times 2^36, plus the digits above the low eight.
const LENGTH_UNIT = 2 ** 36;

/**
 * Instance ids as rows 0, 1, 2, ... in the order added, in typed arrays: an id of the EC2 form is
 * packed into two numbers (the low eight hex digits, the rest with the digit count), found through an
 * open-addressing hash table of rows. Any other id (not seen from EC2, but accepted) is kept in a map.
 */
export class PackedIds {
  #high = new Float64Array(1024);
  #low = new Uint32Array(1024);
  // Row + 1 per slot, 0 when empty; at most half full.
  #slots = new Int32Array(2048);
  #size = 0;
  readonly #otherRows = new Map<string, number>();
  readonly #otherIds = new Map<number, string>();

  get size(): number {
    return this.#size;
  }

  get arrayBytes(): number {
    return this.#high.byteLength + this.#low.byteLength + this.#slots.byteLength;
  }

  /** The row of `instanceId`, or undefined. */
  row(instanceId: string): number | undefined {
    if (!INSTANCE_ID.test(instanceId)) return this.#otherRows.get(instanceId);
    const [high, low] = pack(instanceId);
    for (let slot = this.#home(high, low); ; slot = (slot + 1) & (this.#slots.length - 1)) {
      const entry = this.#slots[slot] as number;
      if (entry === 0) return undefined;
      if (this.#high[entry - 1] === high && this.#low[entry - 1] === low) return entry - 1;
    }
  }

  /** Adds an id not added before; returns its row. */
  add(instanceId: string): number {
    const row = this.#size;
    if (row === this.#high.length) this.#growRows();
    this.#size += 1;
    if (!INSTANCE_ID.test(instanceId)) {
      // A copy: an id parsed out of a response may be a slice that keeps the whole response alive.
      const id = flatCopy(instanceId);
      this.#otherRows.set(id, row);
      this.#otherIds.set(row, id);
      this.#high[row] = Number.NaN;
      return row;
    }
    const [high, low] = pack(instanceId);
    this.#high[row] = high;
    this.#low[row] = low;
    if (2 * this.#size > this.#slots.length) this.#rehash(this.#slots.length * 2);
    else this.#place(row);
    return row;
  }

  /** The id of `row`. */
  id(row: number): string {
    const high = this.#high[row] as number;
    if (Number.isNaN(high)) return this.#otherIds.get(row) as string;
    const digits = Math.floor(high / LENGTH_UNIT);
    const low = (this.#low[row] as number).toString(16).padStart(LOW_DIGITS, '0');
    if (digits === LOW_DIGITS) return `i-${low}`;
    return `i-${(high % LENGTH_UNIT).toString(16).padStart(digits - LOW_DIGITS, '0')}${low}`;
  }

  #home(high: number, low: number): number {
    let hash = Math.imul(low ^ (high >>> 0), 0x9e3779b1);
    hash ^= Math.imul(Math.floor(high / 2 ** 32), 0x85ebca6b);
    hash ^= hash >>> 15;
    return hash & (this.#slots.length - 1);
  }

  #place(row: number): void {
    let slot = this.#home(this.#high[row] as number, this.#low[row] as number);
    while (this.#slots[slot] !== 0) slot = (slot + 1) & (this.#slots.length - 1);
    this.#slots[slot] = row + 1;
  }

  #rehash(capacity: number): void {
    this.#slots = new Int32Array(capacity);
    for (let row = 0; row < this.#size; row += 1) if (!Number.isNaN(this.#high[row])) this.#place(row);
  }

  #growRows(): void {
    const high = new Float64Array(this.#high.length * 2);
    high.set(this.#high);
    const low = new Uint32Array(this.#low.length * 2);
    low.set(this.#low);
    this.#high = high;
    this.#low = low;
  }
}

/** An id of the EC2 form as [digit count × 2^36 + the digits above the low eight, the low eight]. */
function pack(instanceId: string): [number, number] {
  const digits = instanceId.length - 2;
  const split = instanceId.length - LOW_DIGITS;
  const above = split > 2 ? Number.parseInt(instanceId.slice(2, split), 16) : 0;
  return [digits * LENGTH_UNIT + above, Number.parseInt(instanceId.slice(split), 16)];
}
