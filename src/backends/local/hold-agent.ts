/**
 * The `local/hold` agent: holds nothing but itself until removal or its deadline. Families use
 * it as a lease watchdog (run a command at the end), and tests use it to check the agent
 * mechanism on its own. Params: `{ onEnd?: string[] }`, a command run (no shell) when it ends.
 */
import { spawnSync } from 'node:child_process';
import type { AgentContext } from './agent.js';

export async function run(params: unknown, context: AgentContext): Promise<void> {
  const onEnd = (params as { onEnd?: string[] } | null)?.onEnd;
  context.ready({ pid: process.pid });
  await new Promise<void>((resolve) => {
    if (context.signal.aborted) resolve();
    context.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  if (onEnd && onEnd.length > 0) spawnSync(onEnd[0]!, onEnd.slice(1), { stdio: 'ignore' });
}
