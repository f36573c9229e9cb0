/**
 * The `resources/memory` agent: allocates `bytes` and holds them until removal or the lease —
 * at once, or `growth` bytes per second (the leak scenario). Every page is written, so the
 * agent's resident set really grows (an untouched allocation costs the kernel nothing).
 *
 * Params: `{ bytes: number, growth?: number }`. Ready at once when growing (the leak is the
 * fault), after the whole allocation otherwise.
 */
import type { AgentContext } from '../local/agent.js';

const CHUNK = 16 * 1024 * 1024;

export async function run(params: unknown, context: AgentContext): Promise<void> {
  const { bytes = 0, growth } = (params ?? {}) as { bytes?: number; growth?: number };
  const held: Buffer[] = [];
  let total = 0;
  const allocate = (n: number): void => {
    const buffer = Buffer.allocUnsafe(n);
    buffer.fill(0xa5); // touch every page
    held.push(buffer);
    total += n;
  };
  const aborted = new Promise<void>((resolve) => {
    if (context.signal.aborted) resolve();
    context.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  if (growth === undefined) {
    while (total < bytes && !context.signal.aborted) {
      allocate(Math.min(CHUNK, bytes - total));
      await new Promise((resolve) => setImmediate(resolve)); // let removal in between chunks
    }
    context.ready({ pid: process.pid, bytes: total });
    await aborted;
  } else {
    context.ready({ pid: process.pid, bytes: 0, growth });
    const started = Date.now();
    const timer = setInterval(() => {
      const due = Math.min(bytes, Math.floor(((Date.now() - started) / 1000) * growth));
      while (total < due) allocate(Math.min(CHUNK, due - total));
      if (total >= bytes) clearInterval(timer);
    }, 100);
    await aborted;
    clearInterval(timer);
  }
  held.length = 0;
}
