import type { SimInstance } from './fleet-model.ts';
import type { Ec2State } from './host.ts';
import type { VirtualClock } from './virtual-clock.ts';

/** The simulated instances as they are at the clock's current time: what EC2 and SSM report. */
export class SimulatedInstances {
  readonly all: readonly SimInstance[];
  readonly #byId: ReadonlyMap<string, SimInstance>;
  readonly #position: ReadonlyMap<SimInstance, number>;
  readonly #clock: VirtualClock;

  constructor(instances: readonly SimInstance[], clock: VirtualClock) {
    this.all = instances;
    this.#byId = new Map(instances.map((instance) => [instance.instanceId, instance]));
    this.#position = new Map(instances.map((instance, index) => [instance, index]));
    this.#clock = clock;
  }

  get(instanceId: string): SimInstance | undefined {
    return this.#byId.get(instanceId);
  }

  /** The instances with these ids, in fleet order; unknown ids are left out. */
  named(instanceIds: Iterable<string>): SimInstance[] {
    const found = new Set<SimInstance>();
    for (const id of instanceIds) {
      const instance = this.#byId.get(id);
      if (instance !== undefined) found.add(instance);
    }
    return [...found].sort((a, b) => (this.#position.get(a) ?? 0) - (this.#position.get(b) ?? 0));
  }

  /**
   * EC2 state now: a modelled host's own (stopped, started again, terminated); otherwise an instance
   * that was stopped, or whose stop time has passed, is stopped.
   */
  stateOf(instance: SimInstance): Ec2State {
    if (instance.host !== undefined) return instance.host.stateAt(this.#clock.now());
    return instance.initialState === 'stopped' ||
      (instance.stopsAt !== null && this.#clock.now() >= instance.stopsAt)
      ? 'stopped'
      : 'running';
  }
}
