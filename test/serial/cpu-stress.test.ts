// cpu-stress on this machine, observed from OUTSIDE the agent: its CPU time (/proc/<pid>/stat)
// against wall time while it burns, through the runner from an experiment, then removed and
// proven gone. Serial (test/serial/): other test files busy on the CPU would take the agent's
// share. The rest of the resources family is test/integration/resources-faults.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findAgents } from '../../src/backends/local/agent.js';
import { agentOf, suiteRunner } from '../helpers/run-experiment.js';
import { localAt } from '../helpers/locations.js';

const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime + stime (fields 14, 15)
}

describe('cpu-stress (host target, through the runner)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-cpu-stress-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const run = suiteRunner(() => dir, 'cpu');

  it(
    'cpu-stress: the agent burns about load% of a CPU per worker, and is gone after',
    { timeout: 60_000 },
    async (t) => {
      let ratio = 0;
      let agent = 0;
      const journal = await run(
        {
          targets: { box: { type: 'host' } },
          method: [
            {
              fault: 'cpu-stress',
              target: 'box',
              duration: '4s',
              workers: 2,
              load: 30,
              name: 'burn',
            },
          ],
        },
        async (event) => {
          const pid = await agentOf(event);
          agent = pid;
          const cpu0 = await cpuSeconds(pid);
          const t0 = performance.now();
          await new Promise((r) => setTimeout(r, 2_000));
          ratio = ((await cpuSeconds(pid)) - cpu0) / ((performance.now() - t0) / 1000);
        },
      );
      // 2 workers × 30% = 0.6 CPU-seconds per second; the machine is shared, so roughly.
      t.diagnostic(`the agent's CPU/wall over 2 s: ${ratio.toFixed(2)} (2 workers at 30 %)`);
      assert.ok(ratio > 0.35 && ratio < 0.9, `CPU/wall ${ratio.toFixed(2)} should be about 0.6`);
      const fault = journal.faultline.faults[0]!;
      assert.equal(fault.state, 'removed', journal.faultline.reason);
      assert.deepEqual(
        fault.touched?.items,
        [`agent pid ${agent}: CPU`],
        'the journal says what held the pressure',
      );
      assert.deepEqual(await findAgents(localAt(fault.location).tag!), []);
      assert.deepEqual(journal.faultline.verification, [{ fault: 'burn', gone: true }]);
    },
  );
});
