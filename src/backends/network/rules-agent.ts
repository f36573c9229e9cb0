/**
 * The `network/rules` agent: adds a fault's nftables table or tc qdiscs, holds them until
 * removal or the lease, then takes them away — from a detached process of its own, so a
 * SIGKILLed runner cannot leave a partition or a shaped interface past the deadline.
 *
 * Params: `{ netns?: string, apply: Command[], undo: Command[] }` (./rules.ts). If applying
 * fails halfway, what was added is undone before the error is reported.
 */
import type { AgentContext } from '../local/agent.js';
import type { Command } from './rules.js';
import { mustRun, runCommand } from './system.js';

export async function run(params: unknown, context: AgentContext): Promise<void> {
  const {
    netns,
    apply = [],
    undo = [],
  } = (params ?? {}) as { netns?: string; apply?: Command[]; undo?: Command[] };
  try {
    for (const command of apply) await mustRun(netns, command);
    context.ready({ pid: process.pid });
    await new Promise<void>((resolve) => {
      if (context.signal.aborted) resolve();
      context.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    // Each undo command is exact (a table by name, a qdisc by handle) and harmless when gone.
    for (const command of undo) await runCommand(netns, command).catch(() => undefined);
  }
}
