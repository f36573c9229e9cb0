/**
 * The `rabbitmq/alarm` agent: lowers the node's memory watermark so the memory alarm blocks
 * publishers, holds it until removal or the lease deadline, then restores the journaled
 * original. A detached process: a SIGKILLed runner cannot leave publishers blocked past the
 * deadline. Params: `{ node, original }` (journaled by the driver before the agent starts).
 */
import type { AgentContext } from '../local/agent.js';
import {
  ALARM_FRACTION,
  memoryAlarm,
  restoreWatermark,
  setWatermark,
  type WatermarkSetting,
} from './watermark.js';

export async function run(params: unknown, context: AgentContext): Promise<void> {
  const { node, original } = params as { node?: string; original: WatermarkSetting };
  let changed = false;
  try {
    changed = true; // the first set may reach the node even if its answer is lost
    await setWatermark({ relative: ALARM_FRACTION }, { node });
    // Seen from outside before reporting it applied: the alarm is listed by the node.
    const until = Date.now() + 15_000;
    while (!(await memoryAlarm({ node }))) {
      if (Date.now() > until)
        throw new Error('the memory alarm did not go off after lowering the watermark');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    context.ready({ alarm: true });
    await new Promise<void>((resolve) => {
      if (context.signal.aborted) resolve();
      context.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    if (changed) await restoreWatermark(original, 30_000, { node });
  }
}
