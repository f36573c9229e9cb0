/**
 * The driver of `rabbitmq` targets: rabbitmq-close-connections (./connections.ts) and
 * rabbitmq-memory-alarm (./watermark.ts), both through rabbitmqctl on the target's `node`.
 *
 * Deadlines: the alarm is held by an agent (./alarm-agent.ts) that restores the journaled
 * watermark at the lease, whatever happens to the runner; repeated closes (`every`) run in the
 * runner's own process and stop with it — a dead runner closes nothing more, and a closed
 * connection is not something to undo.
 */
import { FaultError } from '../../errors.js';
import type { Target } from '../../experiment/schema.js';
import type { Touched } from '../driver.js';
import type { RabbitmqLocation } from '../location.js';
import { findAgents, startAgent } from '../local/agent.js';
import type { LocalFamily } from '../local/family.js';
import type { DriverContext } from '../backend.js';
import { LocalFaultDriver, type LocalApply } from '../local/local-driver.js';
import {
  closeConnection,
  listConnections,
  selectConnections,
  type ConnectionMatch,
} from './connections.js';
import { rabbitmqctl } from './ctl.js';
import { isRestored, memoryAlarm, readWatermark, type WatermarkSetting } from './watermark.js';
import { redact } from '../../shared/redact.js';

type RabbitmqTarget = Extract<Target, { type: 'rabbitmq' }>;

/** What each fault journals in its location's handle (JSON). */
export interface RabbitmqHandle {
  node?: string | undefined;
  /** rabbitmq-close-connections: the connections closed so far (broker name, client name). */
  closed?: string[];
  /** rabbitmq-memory-alarm: the watermark to restore, journaled before anything is changed. */
  original?: WatermarkSetting;
  agent?: number;
  /** rabbitmq-memory-alarm: the most connections seen blocked at once. */
  blocked?: number;
}

const MIN_EVERY_MS = 250;

export class RabbitmqFaultDriver extends LocalFaultDriver<'rabbitmq', RabbitmqHandle> {
  protected newHandle(): RabbitmqHandle {
    return {};
  }

  constructor(
    target: string,
    private readonly spec: RabbitmqTarget,
    family: LocalFamily<RabbitmqLocation>,
    context: DriverContext,
  ) {
    super(target, family, context, 'rabbitmq');
  }

  get description(): string {
    return `RabbitMQ ${redact(this.spec.url)}${this.spec.node ? ` (node ${this.spec.node})` : ''}`;
  }

  private faults(): string[] {
    return this.context.faults.flatMap((s) =>
      s.target === this.target && s.effect.type === 'local' ? [s.effect.fault.fault] : [],
    );
  }

  /** Before the gate: rabbitmqctl reaches the node, and the faults' commands answer. */
  override async prepare(signal: AbortSignal): Promise<void> {
    const faults = this.faults();
    const where = `node ${this.spec.node ?? "(rabbitmqctl's default)"}`;
    try {
      if (faults.includes('rabbitmq-close-connections'))
        await listConnections({ node: this.spec.node, signal });
      if (faults.includes('rabbitmq-memory-alarm'))
        await readWatermark({ node: this.spec.node, signal });
    } catch (err) {
      throw new FaultError(
        `target "${this.target}": rabbitmqctl cannot act on ${where}: ${(err as Error).message}`,
        {
          hint: `set targets.${this.target}.node to the broker's Erlang node (e.g. rabbit@localhost) and run faultline where rabbitmqctl reaches it (same Erlang cookie)`,
        },
      );
    }
  }

  protected async applyFault({
    fault,
    tag,
    leaseSeconds,
    signal,
    location,
    save,
  }: LocalApply<RabbitmqLocation>): Promise<void> {
    const handle = location.handle;
    handle.node = this.spec.node;
    switch (fault.fault) {
      case 'rabbitmq-close-connections': {
        handle.closed = [];
        save();
        const match = fault.match;
        await this.closeOnce(tag, match, handle, signal);
        save();
        this.repeats.start(
          tag,
          { every: fault.every, minMs: MIN_EVERY_MS, until: Date.now() + leaseSeconds * 1000 },
          async () => {
            await this.closeOnce(tag, match, handle);
            save();
          },
        );
        return;
      }
      case 'rabbitmq-memory-alarm': {
        handle.original = await readWatermark({ node: this.spec.node, signal });
        save(); // the original is on disk before the watermark moves
        const agent = await startAgent(
          {
            kind: 'rabbitmq/alarm',
            tag,
            leaseSeconds,
            params: { node: this.spec.node, original: handle.original },
          },
          signal,
        );
        handle.agent = agent.pid;
        save();
        return;
      }
      default:
        throw new FaultError(`${fault.fault} cannot act on rabbitmq target "${this.target}"`);
    }
  }

  private async closeOnce(
    tag: string,
    match: ConnectionMatch | undefined,
    handle: RabbitmqHandle,
    signal?: AbortSignal,
  ): Promise<void> {
    const options = { node: this.spec.node, signal };
    for (const victim of selectConnections(await listConnections(options), match)) {
      await closeConnection(victim.pid, `faultline ${tag}`, options);
      handle.closed!.push(
        victim.clientName ? `${victim.name} (${victim.clientName})` : victim.name,
      );
    }
  }

  /**
   * close: the connections closed; alarm: the connections RabbitMQ holds blocked (they tried to
   * publish under the alarm), counted just before removal.
   */
  override async touched(
    location: RabbitmqLocation,
    signal: AbortSignal,
  ): Promise<Touched | undefined> {
    const handle = location.handle;
    if (location.fault === 'rabbitmq-close-connections')
      return { connections: handle.closed?.length ?? 0, bytes: 0, requests: 0 };
    if (location.fault === 'rabbitmq-memory-alarm') {
      const text = await rabbitmqctl(['list_connections', 'state', '--formatter', 'json'], {
        node: handle.node,
        signal,
        timeoutMs: 10_000,
      });
      const blocked = (JSON.parse(text) as { state?: string }[]).filter(
        (c) => c.state === 'blocked',
      ).length;
      handle.blocked = Math.max(handle.blocked ?? 0, blocked);
      return { connections: handle.blocked, bytes: 0, requests: 0 };
    }
    return undefined;
  }

  /** alarm: no agent, the original watermark back and no memory alarm; close: no repeat left (the base's check). */
  override async isGone(location: RabbitmqLocation, signal: AbortSignal): Promise<boolean> {
    const handle = location.handle;
    // From a journal: one written by another version may carry no tag.
    const tag = (location.tag as string | undefined) ?? '';
    if (location.fault === 'rabbitmq-memory-alarm') {
      if (tag && (await findAgents(tag)).length > 0) return false;
      if (!handle.original) return true;
      const options = { node: handle.node, signal };
      return (await isRestored(handle.original, options)) && !(await memoryAlarm(options));
    }
    return super.isGone(location, signal);
  }
}
