/**
 * The base of local families' drivers: the journaled location (backend, fault type, tag, a
 * handle the family fills in), removal through the family's own `recover` (so a live run and
 * `faultline recover` remove a fault the same way), and "gone" meaning no agent of the fault's
 * tag is left and no repetition of it (`every`, see ./repeats.ts) goes on. A family overrides
 * what it knows better.
 */
import type { Fault } from '../../experiment/schema.js';
import { UsageError } from '../../errors.js';
import type { Touched } from '../../journal/touched.js';
import type { DriverContext } from '../backend.js';
import type { ApplyRecord, FaultDriver } from '../driver.js';
import type { LocalBackendType, LocalLocation } from '../location.js';
import type { PlannedFault } from '../planned-fault.js';
import { findAgents } from './agent.js';
import { faultTag, type LocalFamily } from './family.js';
import { Repeats } from './repeats.js';

/** What a family's `applyFault` gets. */
export interface LocalApply<L> {
  fault: Fault;
  name: string;
  tag: string;
  leaseSeconds: number;
  signal: AbortSignal;
  /** The journaled location: put what removal needs in `location.handle`, then `save()`. */
  location: L;
  save: () => void;
}

export abstract class LocalFaultDriver<
  B extends LocalBackendType,
  H extends object,
> implements FaultDriver<LocalLocation<B, H>> {
  abstract readonly description: string;
  /** Faults repeated at an `every` interval in this process: stopped by `remove` and `dispose`. */
  protected readonly repeats = new Repeats();

  constructor(
    readonly target: string,
    protected readonly family: LocalFamily<LocalLocation<B, H>>,
    protected readonly context: DriverContext,
    /** The target type, recorded as the location's backend. */
    private readonly backend: B,
  ) {}

  /** Applies the fault; throws a located, plain-language error when it cannot. */
  protected abstract applyFault(apply: LocalApply<LocalLocation<B, H>>): Promise<void>;

  /** A handle with nothing in it yet: the family fills it in as it applies the fault. */
  protected abstract newHandle(): H;

  async prepare(_signal: AbortSignal): Promise<void> {}

  locate(fault: PlannedFault): LocalLocation<B, H> {
    if (fault.effect.type !== 'local')
      throw new UsageError(`a ${this.backend} target cannot take ${fault.effect.type}`);
    return {
      target: this.target,
      backend: this.backend,
      fault: fault.effect.fault.fault,
      tag: faultTag(this.context.runId, fault.name),
      handle: this.newHandle(),
    };
  }

  async apply(
    fault: PlannedFault,
    leaseSeconds: number,
    signal: AbortSignal,
    record?: ApplyRecord<LocalLocation<B, H>>,
  ): Promise<void> {
    if (fault.effect.type !== 'local')
      throw new UsageError(`a ${this.backend} target cannot take ${fault.effect.type}`);
    const location = record?.location ?? this.locate(fault);
    await this.applyFault({
      fault: fault.effect.fault,
      name: fault.name,
      tag: location.tag,
      leaseSeconds,
      signal,
      location,
      save: () => record?.save(),
    });
  }

  async touched(
    _location: LocalLocation<B, H>,
    _signal: AbortSignal,
  ): Promise<Touched | undefined> {
    return undefined;
  }

  async remove(location: LocalLocation<B, H>, signal: AbortSignal): Promise<void> {
    await this.repeats.stop(location.tag);
    await this.family.recover(location, signal);
  }

  async isGone(location: LocalLocation<B, H>, _signal: AbortSignal): Promise<boolean> {
    return !this.repeats.has(location.tag) && (await findAgents(location.tag)).length === 0;
  }

  async dispose(): Promise<void> {
    this.repeats.stopAll();
  }
}
