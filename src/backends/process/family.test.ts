import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { ProcessLocation } from '../location.js';
import { processFamily } from './family.js';
import { isSameProcess, readLaunch, readStat } from './proc.js';

describe('process family: recover from the journaled handle alone', () => {
  it('finishes a restart a dead runner left half-done: the stopped process is started again, once', async () => {
    const child = spawn('/bin/sleep', ['60'], { argv0: 'fl-unit-half-restart', stdio: 'ignore' });
    for (
      let i = 0;
      i < 100 && !readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').startsWith('fl-unit');
      i++
    )
      await new Promise((r) => setTimeout(r, 10));
    const ref = { pid: child.pid!, start: (await readStat(child.pid!))!.start };
    const launch = { pid: ref.pid, ...(await readLaunch(ref.pid)) };
    child.kill('SIGKILL'); // the runner stopped it, then died before starting it again
    await once(child, 'exit');
    const location: ProcessLocation = {
      backend: 'process',
      target: 'w',
      fault: 'restart-process',
      tag: 'fl-unit-restart',
      handle: { processes: [ref], launches: [launch], restarted: [] },
    };
    await processFamily.recover(location, undefined);
    const restarted = location.handle!['restarted'] as { pid: number; start: number }[];
    assert.equal(restarted.length, 1);
    try {
      assert.equal(await isSameProcess(restarted[0]!), true);
      assert.equal(
        readFileSync(`/proc/${restarted[0]!.pid}/cmdline`, 'utf8'),
        'fl-unit-half-restart\x0060\x00',
      );
      // A second recover finds it running and starts nothing.
      await processFamily.recover(location, undefined);
      assert.equal((location.handle!['restarted'] as unknown[]).length, 1);
    } finally {
      process.kill(restarted[0]!.pid, 'SIGKILL');
      rmSync((restarted[0] as { log?: string }).log ?? '', { force: true });
    }
  });

  it('resumes journaled processes even when the pause agent is gone', async () => {
    const child = spawn('/bin/sleep', ['60'], { stdio: 'ignore' });
    const ref = { pid: child.pid!, start: (await readStat(child.pid!))!.start };
    try {
      process.kill(ref.pid, 'SIGSTOP');
      for (let i = 0; i < 100 && (await readStat(ref.pid))?.state !== 'T'; i++)
        await new Promise((r) => setTimeout(r, 10));
      assert.equal((await readStat(ref.pid))?.state, 'T');
      await processFamily.recover(
        {
          backend: 'process',
          target: 'w',
          fault: 'pause-process',
          tag: 'fl-unit-no-agent',
          handle: { processes: [ref] },
        },
        undefined,
      );
      assert.notEqual((await readStat(ref.pid))?.state, 'T');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
