/**
 * The rabbitmq fault family (src/backends/local/family.ts): rabbitmq-close-connections and
 * rabbitmq-memory-alarm on `rabbitmq` targets (./driver.ts).
 *
 * `recover` removes a fault from its journaled handle alone, so a live run's removal and
 * `faultline recover` after a SIGKILLed runner take the same path:
 * - rabbitmq-memory-alarm: the agent is stopped (it restores the watermark), then the journaled
 *   original is set again, in case the agent itself was killed;
 * - rabbitmq-close-connections: nothing — closed connections are not undone, and the repeated
 *   closes died with the runner that ran them.
 */
import type { RabbitmqLocation } from '../location.js';
import { stopAgents } from '../local/agent.js';
import type { LocalFamily } from '../local/family.js';
import { restoreWatermark } from './watermark.js';

export const rabbitmqFamily: LocalFamily<RabbitmqLocation> = {
  async recover(location: RabbitmqLocation, signal: AbortSignal | undefined) {
    const handle = location.handle;
    if (location.tag) await stopAgents(location.tag, { graceMs: 15_000, signal });
    if (location.fault === 'rabbitmq-memory-alarm' && handle.original)
      await restoreWatermark(handle.original, 15_000, { node: handle.node, signal });
  },
};
