import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { ProcessTarget } from '../../experiment/schema.js';
import { isSameProcess, readLaunch, readStat, selectProcesses } from './proc.js';
import { waitFor } from '../../../test/helpers/wait-for.js';

describe('selecting processes (/proc)', () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) c.kill('SIGKILL');
  });
  const sleeper = (name: string): ChildProcess => {
    const c = spawn('/bin/sleep', ['60'], {
      argv0: name,
      stdio: 'ignore',
      env: { ...process.env, FL_UNIT: 'yes' },
    });
    children.push(c);
    return c;
  };
  const target = (spec: Record<string, unknown>) =>
    ProcessTarget.parse({ type: 'process', ...spec });
  const settle = async (c: ChildProcess) => {
    for (
      let i = 0;
      i < 100 && !readFileSync(`/proc/${c.pid}/cmdline`, 'utf8').startsWith('fl-unit');
      i++
    )
      await new Promise((r) => setTimeout(r, 10));
  };

  it('selects by pid, with the start time that guards against a recycled pid', async () => {
    const c = sleeper('fl-unit-one');
    await settle(c);
    const [ref] = await selectProcesses(target({ pid: c.pid }), 't');
    assert.equal(ref?.pid, c.pid);
    assert.equal(await isSameProcess(ref!), true);
    assert.equal(await isSameProcess({ pid: c.pid!, start: ref!.start + 1 }), false);
  });

  it('refuses none and more than maxProcesses, with a hint', async () => {
    await assert.rejects(
      selectProcesses(target({ match: '^fl-unit-nothing-' }), 't'),
      /no process matches/,
    );
    const a = sleeper('fl-unit-pair');
    const b = sleeper('fl-unit-pair');
    await settle(a);
    await settle(b);
    await assert.rejects(
      selectProcesses(target({ match: '^fl-unit-pair' }), 't'),
      (err: Error & { hint?: string }) => {
        assert.match(err.message, /2 processes match .* maxProcesses is 1/);
        assert.match(err.hint ?? '', /more specific/);
        return true;
      },
    );
    assert.equal(
      (await selectProcesses(target({ match: '^fl-unit-pair', maxProcesses: 2 }), 't')).length,
      2,
    );
  });

  it('never selects faultline itself or its ancestors', async () => {
    await assert.rejects(
      selectProcesses(
        target({ match: String(process.argv[1] ?? 'node').replace(/[.*+?^${}()|[\]\\]/g, '\\$&') }),
        't',
      ),
      /no process matches/,
    );
  });

  it('reads how a process was started', async () => {
    const c = sleeper('fl-unit-launch');
    await settle(c);
    const launch = await readLaunch(c.pid!);
    assert.deepEqual(launch.argv, ['fl-unit-launch', '60']);
    assert.equal(launch.exe, '/usr/bin/sleep');
    assert.equal(launch.env['FL_UNIT'], 'yes');
    assert.equal(launch.cwd, process.cwd());
    // Sleeping once it has settled (on a loaded machine it may still be running for a moment).
    await waitFor('the sleeper to sleep', async () => (await readStat(c.pid!))?.state === 'S', {
      timeoutMs: 10_000,
    });
  });
});
