/**
 * A loopback port for an address that must be known before the thing listening on it starts (a
 * proxy's fixed listen address the service is configured with, a private redis-server, a
 * service that is killed and started again on the same port).
 *
 * Two races make "a port that was free a moment ago" (listen on port 0, close) unsafe on a busy
 * machine, and both were seen as flaky runs:
 * - port 0 hands out a port of the **ephemeral range**, the same range every outgoing connection
 *   takes its local port from; between the check and the listen (or while a killed service is
 *   down) any connection on the machine can take that number, and the listen fails with
 *   EADDRINUSE (Linux refuses a listener on a port a connected socket holds);
 * - two processes asking at the same time can be handed the same number.
 * So the port is taken **outside** the ephemeral range (read from
 * /proc/sys/net/ipv4/ip_local_port_range; the IANA range 49152–65535 elsewhere), where the kernel
 * never hands out a port by itself, and it is **reserved** for the life of this process by a file
 * created exclusively in a directory every faultline process on the machine shares. A reservation
 * whose process is gone is taken over; this process's own are removed when it exits.
 */
import { once } from 'node:events';
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How many ports below the ephemeral range are handed out (Linux: 20768–32767). */
const SPAN = 12_000;
const LOWEST = 1_024;

/** The directory of reservations, one per user (another user's files could not be removed). */
export function reservationDir(): string {
  return join(tmpdir(), `faultline-ports-${process.getuid?.() ?? 'user'}`);
}

/** The kernel's ephemeral range: the ports it gives outgoing connections and `listen(0)`. */
export function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low!, high!];
  } catch {
    // Not Linux: the IANA dynamic range, which macOS and Windows use.
  }
  return [49_152, 65_535];
}

/** The ports handed out: the span just below the ephemeral range, or else the one above it. */
export function portRange(): [number, number] | undefined {
  const [low, high] = ephemeralRange();
  if (low - LOWEST >= 1_000) return [Math.max(LOWEST, low - SPAN), low - 1];
  if (65_535 - high >= 1_000) return [high + 1, 65_535];
  return undefined;
}

const held = new Set<string>();
let cleanupRegistered = false;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reserves `port` for this process: false when a live process holds it. */
export function reservePort(port: number, dir = reservationDir()): boolean {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      held.add(file);
      if (!cleanupRegistered) {
        cleanupRegistered = true;
        process.once('exit', releaseAll);
      }
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = NaN;
      try {
        owner = Number(readFileSync(file, 'utf8'));
      } catch {
        // Removed in between, or half-written by its owner this instant: try again once.
      }
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) return false;
      if (Number.isInteger(owner) && owner > 0) {
        try {
          unlinkSync(file); // its process is gone: the reservation is stale
        } catch {
          // another process took it over first; the next attempt sees who
        }
      }
    }
  }
  return false;
}

function release(file: string): void {
  held.delete(file);
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

function releaseAll(): void {
  for (const file of [...held]) release(file);
}

async function bindable(port: number): Promise<boolean> {
  const server = createServer();
  const listening = once(server, 'listening').then(
    () => true,
    () => false,
  );
  server.once('error', () => undefined);
  server.listen(port, '127.0.0.1');
  const ok = await listening;
  if (ok) await new Promise<void>((resolve) => server.close(() => resolve()));
  return ok;
}

/** A port the kernel asked for port 0 gives: the fallback when no range is left outside it. */
async function kernelPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A loopback port outside the ephemeral range, free now and reserved for this process. */
export async function freePort(): Promise<number> {
  const range = portRange();
  if (!range) return kernelPort();
  const dir = reservationDir();
  const [low, high] = range;
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (!reservePort(port, dir)) continue;
    if (await bindable(port)) return port;
    release(join(dir, String(port))); // something outside faultline listens there
  }
  return kernelPort();
}
