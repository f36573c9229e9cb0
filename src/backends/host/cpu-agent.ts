/**
 * The `resources/cpu` agent: `workers` threads, each busy for `load`% of every 100 ms period
 * and asleep for the rest (a duty cycle, as stress-ng's --cpu-load does), until removal or the
 * lease. Threads, not processes: the whole burn is one process with the fault's tag, so
 * removal and `faultline recover` find it, and its CPU time is one /proc/<pid>/stat line.
 *
 * Params: `{ workers: number, load: number }` (load 0–100).
 */
import { Worker } from 'node:worker_threads';
import type { AgentContext } from '../local/agent.js';

/** Plain JavaScript evaluated in each thread (no loader needed, under tsx or not). */
const BURN = `
const { workerData } = require('node:worker_threads');
const period = 100;
const busy = (period * workerData.load) / 100;
const sleeper = new Int32Array(new SharedArrayBuffer(4));
let sink = 0;
for (;;) {
  const start = performance.now();
  while (performance.now() - start < busy) sink += Math.sqrt(sink + 1);
  const rest = period - (performance.now() - start);
  if (rest > 0) Atomics.wait(sleeper, 0, 0, rest);
}
`;

export async function run(params: unknown, context: AgentContext): Promise<void> {
  const { workers = 1, load = 100 } = (params ?? {}) as { workers?: number; load?: number };
  const threads: Worker[] = [];
  try {
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(BURN, { eval: true, workerData: { load } });
      worker.on('error', () => undefined);
      threads.push(worker);
    }
    await Promise.all(threads.map((t) => new Promise((resolve) => t.once('online', resolve))));
    context.ready({ pid: process.pid, workers, load });
    await new Promise<void>((resolve) => {
      if (context.signal.aborted) resolve();
      context.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await Promise.all(threads.map((t) => t.terminate()));
  }
}
