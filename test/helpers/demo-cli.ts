// `faultline demo` as a user runs it, for the demo's end-to-end tests: the real CLI in a child
// process, and what it left running, found in /proc by the test's directory (everything the
// demo starts carries it in its environment) and by its private redis-server's port.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { watchOutput, type Output } from './wait-for.js';
import { entryArgs } from './entry.js';

/** Processes whose environment or command line mentions `dir` (what the demo started there). */
export async function processesUsing(dir: string): Promise<string[]> {
  // (`dir` may also be any other marker, such as `redis-server 127.0.0.1:PORT`.)
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const environ = await readFile(`/proc/${pid}/environ`, 'latin1');
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'latin1');
      if (environ.includes(dir) || cmdline.includes(dir))
        found.push(`${pid}: ${cmdline.replace(/\0/g, ' ')}`);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

export const hasRedisServer =
  spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

export interface DemoChild {
  child: ReturnType<typeof spawn>;
  dir: string;
  output: () => string;
  waitFor: Output['waitFor'];
  exited: Promise<number | null>;
}

/** Starts `faultline demo` in `cwd` (its work directory `cwd`/demo unless ARGS say otherwise). */
export function startDemo(cwd: string, args: string[] = []): DemoChild {
  // FAULTLINE_DEMO_MARK puts the test's directory into the environment of everything the demo
  // starts, so leftovers can be found by it.
  const child = spawn(
    process.execPath,
    entryArgs('cli/main', 'demo', '--dir', join(cwd, 'demo'), ...args),
    {
      cwd,
      // A demo killed mid-run keeps its registration: in the test's directory, never the
      // machine's registry (XDG_STATE_HOME, so the default layout is what is exercised).
      env: {
        ...process.env,
        DATABASE_URL: '',
        REDIS_URL: '',
        FAULTLINE_DEMO_MARK: cwd,
        XDG_STATE_HOME: join(cwd, 'state'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output = watchOutput(child.stdout, child.stderr);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))),
  );
  return { child, dir: cwd, output: output.text, waitFor: output.waitFor, exited };
}

/**
 * What the demo started and is still running: processes marked with the test's directory, and
 * its private redis-server, which rewrites its command line and environment to
 * `redis-server HOST:PORT` and is found by the port the demo printed (marked `redis-server …`).
 */
export async function leftovers(demo: DemoChild): Promise<string[]> {
  const redisPort = /session cache: a private redis-server on 127\.0\.0\.1:(\d+)/.exec(
    demo.output(),
  )?.[1];
  if (hasRedisServer) assert.ok(redisPort, `a private redis-server was started: ${demo.output()}`);
  const redis = redisPort
    ? (await processesUsing(`redis-server 127.0.0.1:${redisPort}`)).map((p) => `redis-server ${p}`)
    : [];
  return [...(await processesUsing(demo.dir)), ...redis];
}

/** Resolves once the demo printed its first fault applied ('⚡'); rejects if it exits first. */
export async function waitForFault(demo: DemoChild): Promise<void> {
  await demo.waitFor('⚡', 'the demo to apply its first fault', {
    child: demo.child,
    timeoutMs: 90_000,
  });
}
