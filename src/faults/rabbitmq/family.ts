/**
 * The rabbitmq fault family (src/faults/local/family.ts): rabbitmq-close-connections and
 * rabbitmq-memory-alarm on `rabbitmq` targets (./driver.ts).
 *
 * `recover` removes a fault from its journaled handle alone, so a live run's removal and
 * `faultline recover` after a SIGKILLed runner take the same path:
 * - rabbitmq-memory-alarm: the agent is stopped (it restores the watermark), then the journaled
 *   original is set again, in case the agent itself was killed;
 * - rabbitmq-close-connections: nothing — closed connections are not undone, and the repeated
 *   closes died with the runner that ran them.
 */
import { FaultError } from '../../errors.js';
import type { FaultLocation } from '../../targets/fault-driver.js';
import { stopAgents } from '../local/agent.js';
import type { LocalFamily } from '../local/family.js';
import { RabbitmqFaultDriver, type RabbitmqHandle } from './driver.js';
import { restoreWatermark } from './watermark.js';

export const rabbitmqFamily: LocalFamily = {
  name: 'rabbitmq',
  targetTypes: ['rabbitmq'],
  createDriver(name, spec, context) {
    if (spec.type !== 'rabbitmq') throw new FaultError(`the rabbitmq family does not drive ${spec.type} targets`);
    return new RabbitmqFaultDriver(name, spec, rabbitmqFamily, context);
  },
  async recover(location: FaultLocation, signal: AbortSignal | undefined) {
    const handle = (location.handle ?? {}) as RabbitmqHandle;
    if (location.tag) await stopAgents(location.tag, { graceMs: 15_000, signal });
    if (location.fault === 'rabbitmq-memory-alarm' && handle.original) await restoreWatermark(handle.original, 15_000, { node: handle.node, signal });
  },
};
