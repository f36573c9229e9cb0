/**
 * The base of local families' drivers: the journaled location (family, fault type, tag, a
 * handle the family fills in), removal through the family's own `recover` (so a live run and
 * `faultline recover` remove a fault the same way), and "gone" meaning no agent of the fault's
 * tag is left and no repetition of it (`every`, see ./repeats.ts) goes on. A family overrides
 * what it knows better.
 */
import type { Fault } from '../../experiment/schema.js';
import { UsageError } from '../../errors.js';
import type { PlannedFault } from '../../runner/plan.js';
import type { ApplyRecord, FaultDriver, FaultLocation, Touched } from '../../targets/fault-driver.js';
import { findAgents } from './agent.js';
import { faultTag, type LocalDriverContext, type LocalFamily } from './family.js';
import { Repeats } from './repeats.js';

/** What a family's `applyFault` gets. */
export interface LocalApply {
  fault: Fault;
  name: string;
  tag: string;
  leaseSeconds: number;
  signal: AbortSignal;
  /** The journaled location: put what removal needs in `location.handle`, then `save()`. */
  location: FaultLocation;
  save(): void;
}

export abstract class LocalFaultDriver implements FaultDriver {
  abstract readonly description: string;
  /** Faults repeated at an `every` interval in this process: stopped by `remove` and `dispose`. */
  protected readonly repeats = new Repeats();

  constructor(
    readonly target: string,
    protected readonly family: LocalFamily,
    protected readonly context: LocalDriverContext,
  ) {}

  /** Applies the fault; throws a located, plain-language error when it cannot. */
  protected abstract applyFault(apply: LocalApply): Promise<void>;

  async prepare(_signal: AbortSignal): Promise<void> {}

  locate(fault: PlannedFault): FaultLocation {
    if (fault.effect.type !== 'local') throw new UsageError(`a ${this.family.name} target cannot take ${fault.effect.type}`);
    return {
      target: this.target,
      where: 'local-fault',
      proxy: '',
      kind: 'local',
      family: this.family.name,
      fault: fault.effect.fault.fault,
      tag: faultTag(this.context.runId, fault.name),
      handle: {},
    };
  }

  async apply(fault: PlannedFault, leaseSeconds: number, signal: AbortSignal, record?: ApplyRecord): Promise<void> {
    if (fault.effect.type !== 'local') throw new UsageError(`a ${this.family.name} target cannot take ${fault.effect.type}`);
    const location = record?.location ?? this.locate(fault);
    location.handle ??= {};
    await this.applyFault({
      fault: fault.effect.fault,
      name: fault.name,
      tag: location.tag ?? faultTag(this.context.runId, fault.name),
      leaseSeconds,
      signal,
      location,
      save: () => record?.save(),
    });
  }

  async touched(_location: FaultLocation, _signal: AbortSignal): Promise<Touched | undefined> {
    return undefined;
  }

  async remove(location: FaultLocation, signal: AbortSignal): Promise<void> {
    if (location.tag) await this.repeats.stop(location.tag);
    await this.family.recover(location, signal);
  }

  async isGone(location: FaultLocation, _signal: AbortSignal): Promise<boolean> {
    return location.tag === undefined || (!this.repeats.has(location.tag) && (await findAgents(location.tag)).length === 0);
  }

  async dispose(): Promise<void> {
    this.repeats.stopAll();
  }
}
