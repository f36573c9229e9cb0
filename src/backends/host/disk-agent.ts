/**
 * The `resources/disk` agent: fills the file system under `dir` with one file until `remaining`
 * bytes of free space are left, holds it, and deletes it at removal or the lease.
 *
 * The floor is never crossed: free space is read again before every chunk (another writer may
 * be filling the disk too), and while the fault is held the agent gives space back by
 * shortening its file whenever free space falls below the floor — and takes it again when
 * someone else frees some, so the pressure stays what the experiment asked for.
 *
 * Params: `{ dir: string, file: string, remaining: number }`.
 */
import { randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import type { AgentContext } from '../local/agent.js';
import { space } from './disk.js';

const CHUNK = 8 * 1024 * 1024;
const RECHECK_MS = 250;

export async function run(params: unknown, context: AgentContext): Promise<void> {
  const { dir, file, remaining } = (params ?? {}) as {
    dir: string;
    file: string;
    remaining: number;
  };
  if (!dir || !file || !(remaining > 0))
    throw new Error('disk agent: dir, file and remaining are required');
  // Incompressible bytes: a compressing file system (btrfs, zfs) would store zeros for nothing.
  const data = randomBytes(CHUNK);
  const handle = await open(file, 'wx', 0o600);
  let size = 0;
  /** Grows or shrinks the file so that free space is `remaining`, never below it. */
  const settle = async (): Promise<void> => {
    for (;;) {
      if (context.signal.aborted) return;
      const { available, blockSize } = await space(dir);
      const excess = available - remaining;
      if (excess < 0) {
        size = Math.max(0, size - Math.ceil(-excess / blockSize) * blockSize);
        await handle.truncate(size);
        continue;
      }
      const step = Math.floor(Math.min(CHUNK, excess) / blockSize) * blockSize;
      if (step <= 0) return;
      try {
        await handle.write(data, 0, step, size);
        size += step;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        // A reserve we could not see (quota, metadata): give the partial write back and stop.
        await handle.truncate(size);
        return;
      }
    }
  };
  try {
    await settle();
    await handle.sync();
    const after = await space(dir);
    context.ready({ pid: process.pid, file, bytes: size, available: after.available });
    while (!context.signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RECHECK_MS);
        context.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
      await settle();
    }
  } finally {
    await handle.close().catch(() => undefined);
    await rm(file, { force: true });
  }
}
