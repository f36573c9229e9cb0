// The process family against real processes: each fault applied through the runner from an
// experiment, observed from OUTSIDE (/proc state T, a process really gone, a new pid serving,
// a service's clock really moved), removed and proven gone; a SIGKILLed runner mid-pause is
// resumed by its agent at the deadline and by `faultline recover` at once; a service does not
// outlive a SIGKILLed runner.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Journal } from '../../src/journal/journal.js';
import { findAgents } from '../../src/backends/local/agent.js';
import { isStopped, readStat } from '../../src/backends/process/proc.js';
import { freePort } from '../helpers/services.js';
import { runUntilApplied, killRunner, runFaultline } from '../helpers/runner-child.js';
import { runExperimentDoc, type FaultApplied } from '../helpers/run-experiment.js';
import { localAt } from '../helpers/locations.js';
import { needTool, TOOLS } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait-for.js';

/** A tiny HTTP service: its pid, its wall clock, and how long a 100 ms timer really took. */
const SERVER = `
const http = require('node:http');
http.createServer((req, res) => {
  const wall = Date.now(), mono = performance.now();
  setTimeout(() => res.end(JSON.stringify({ pid: process.pid, now: wall, timerMs: performance.now() - mono })), 100);
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

interface Answer {
  pid: number;
  now: number;
  timerMs: number;
}

async function ask(port: number): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5_000) });
  return (await res.json()) as Answer;
}

async function refused(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2_000) });
    return false;
  } catch {
    return true;
  }
}

const alive = async (pid: number): Promise<boolean> => {
  const stat = await readStat(pid);
  return stat !== undefined && stat.state !== 'Z';
};

describe('process faults (real processes, through the runner)', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-process-'));
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  /** A process the test owns, with a unique marker on its command line. */
  function sleeper(
    marker: string,
    extra: { env?: Record<string, string>; cwd?: string } = {},
  ): ChildProcess {
    const child = spawn('/bin/sleep', ['300'], {
      stdio: 'ignore',
      env: { ...process.env, ...extra.env },
      cwd: extra.cwd ?? dir,
      argv0: `sleep-${marker}`,
    });
    children.push(child);
    return child;
  }

  let runs = 0;
  /** Runs an experiment in-process; `during` is called (and awaited by the method's wait) once the fault is applied. */
  async function run(
    doc: Record<string, unknown>,
    during?: (event: FaultApplied) => Promise<void>,
  ): Promise<Journal> {
    const file = `process-${++runs}.yaml`;
    return runExperimentDoc(
      { safety: { maxDuration: '1m' }, ...doc },
      { file, journalPath: join(dir, `${runs}.json`), during },
    );
  }

  it(
    'pause-process on a process matched by its command line: state T during, running after, no agent left',
    { timeout: 60_000 },
    async () => {
      const child = sleeper('pause-me');
      const pid = child.pid!;
      await waitFor('the sleeper', () => alive(pid), { timeoutMs: 5_000 });
      const journal = await run(
        {
          title: 'a frozen worker',
          targets: { worker: { type: 'process', match: '^sleep-pause-me' } },
          method: [{ fault: 'pause-process', target: 'worker', duration: '2s', name: 'freeze' }],
        },
        async (event) => {
          assert.equal(
            await isStopped(pid),
            true,
            'the process is stopped (T) while the fault holds',
          );
          assert.equal(
            (await findAgents(localAt(event.fault.location).tag!)).length,
            1,
            'an agent holds the lease',
          );
        },
      );
      const fault = journal.faultline.faults[0]!;
      assert.equal(fault.state, 'removed', journal.faultline.reason);
      assert.equal(fault.location.backend, 'process');
      assert.deepEqual(
        (localAt(fault.location).handle?.['processes'] as { pid: number }[]).map((p) => p.pid),
        [pid],
      );
      assert.deepEqual(fault.touched?.items, [`pid ${pid}`], 'the journal says what it froze');
      assert.equal(await isStopped(pid), false, 'resumed after the run');
      assert.deepEqual(await findAgents(localAt(fault.location).tag!), []);
      assert.deepEqual(journal.faultline.verification, [{ fault: 'freeze', gone: true }]);
    },
  );

  it(
    'refuses a match wider than maxProcesses before anything is applied',
    { timeout: 30_000 },
    async () => {
      const a = sleeper('twins');
      const b = sleeper('twins');
      await waitFor('the sleepers', async () => (await alive(a.pid!)) && (await alive(b.pid!)), {
        timeoutMs: 5_000,
      });
      const journal = await run({
        title: 'too wide',
        targets: { worker: { type: 'process', match: '^sleep-twins' } },
        method: [{ fault: 'kill-process', target: 'worker', duration: '1s' }],
      });
      assert.equal(journal.faultline.faults.length, 0, 'nothing applied');
      assert.match(
        journal.faultline.reason ?? '',
        /2 processes match \/\^sleep-twins\/ .* but maxProcesses is 1/,
      );
      assert.equal(await alive(a.pid!), true);
      assert.equal(await alive(b.pid!), true);
    },
  );

  it(
    'kill-process (SIGTERM) kills every process maxProcesses allows and does not restart them',
    { timeout: 30_000 },
    async () => {
      const a = sleeper('victims');
      const b = sleeper('victims');
      await waitFor('the sleepers', async () => (await alive(a.pid!)) && (await alive(b.pid!)), {
        timeoutMs: 5_000,
      });
      const journal = await run(
        {
          title: 'killed workers',
          targets: { worker: { type: 'process', match: '^sleep-victims', maxProcesses: 2 } },
          method: [
            {
              fault: 'kill-process',
              target: 'worker',
              signal: 'SIGTERM',
              gracePeriod: '2s',
              duration: '1s',
            },
          ],
        },
        async () => {
          assert.equal(await alive(a.pid!), false, 'really killed');
          assert.equal(await alive(b.pid!), false, 'really killed');
        },
      );
      assert.equal(journal.faultline.faults[0]?.state, 'removed', journal.faultline.reason);
      for (const child of [a, b]) {
        if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
        assert.equal(child.signalCode, 'SIGTERM', 'ended by the requested signal');
      }
      assert.equal(await alive(a.pid!), false, 'not started again');
    },
  );

  it(
    'restart-process on a plain process: a new pid with the same command line, directory and environment',
    { timeout: 30_000 },
    async () => {
      const cwd = await mkdtemp(join(dir, 'cwd-'));
      const child = sleeper('restart-me', { env: { FAULTLINE_TEST_MARK: 'kept' }, cwd });
      const pid = child.pid!;
      await waitFor('the sleeper', () => alive(pid), { timeoutMs: 5_000 });
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
      const journal = await run({
        title: 'restarted worker',
        targets: { worker: { type: 'process', pid } },
        method: [{ fault: 'restart-process', target: 'worker', duration: '1s' }],
      });
      const fault = journal.faultline.faults[0]!;
      assert.equal(fault.state, 'removed', journal.faultline.reason);
      const restarted = localAt(fault.location).handle?.['restarted'] as { pid: number }[];
      assert.equal(restarted.length, 1);
      const fresh = restarted[0]!.pid;
      assert.notEqual(fresh, pid);
      assert.equal(await alive(pid), false, 'the old process is gone');
      assert.equal(await alive(fresh), true, 'the new one runs');
      assert.equal(
        await readFile(`/proc/${fresh}/cmdline`, 'utf8'),
        cmdline,
        'same command line (argv0 included)',
      );
      assert.equal(await readlink(`/proc/${fresh}/cwd`), cwd);
      assert.ok(
        (await readFile(`/proc/${fresh}/environ`, 'utf8'))
          .split('\0')
          .includes('FAULTLINE_TEST_MARK=kept'),
      );
      assert.deepEqual(journal.faultline.verification, [
        { fault: 'restart-process-1', gone: true },
      ]);
      process.kill(fresh, 'SIGKILL');
      await rm((restarted[0] as { log?: string }).log ?? '', { force: true });
    },
  );

  /** A service target running SERVER on a fresh port. */
  async function serviceTarget(
    extra: Record<string, unknown> = {},
  ): Promise<{ port: number; target: Record<string, unknown> }> {
    const port = await freePort();
    return {
      port,
      target: {
        type: 'service',
        command: [process.execPath, '-e', SERVER],
        env: { PORT: String(port) },
        ready: { port, timeout: '20s' },
        ...extra,
      },
    };
  }

  it(
    'kill-process on a service: down for the duration, started again (new pid, serving) at removal, stopped at the end',
    { timeout: 60_000 },
    async () => {
      const { port, target } = await serviceTarget();
      let before: Answer | undefined;
      let after: Answer | undefined;
      const journal = await run(
        {
          title: 'a crashed service comes back',
          targets: { api: target },
          method: [
            { fault: 'kill-process', target: 'api', duration: '2s', name: 'crash' },
            { wait: '3s' },
          ],
        },
        async (event) => {
          const killed = (
            localAt(event.fault.location).handle?.['processes'] as { pid: number }[]
          )[0]!.pid;
          assert.equal(await alive(killed), false, 'the service process is really gone');
          assert.equal(
            await refused(port),
            true,
            'nothing answers on its port while the fault holds',
          );
          await waitFor(
            'the service to come back after removal',
            async () => !(await refused(port)),
            { timeoutMs: 20_000 },
          );
          after = await ask(port);
          before = { pid: killed, now: 0, timerMs: 0 };
        },
      );
      const fault = journal.faultline.faults[0]!;
      assert.equal(fault.state, 'removed', journal.faultline.reason);
      assert.ok(before && after);
      assert.notEqual(after.pid, before.pid, 'served by a new process');
      assert.deepEqual(journal.faultline.verification, [{ fault: 'crash', gone: true }]);
      assert.equal(await refused(port), true, 'the run stopped its service at the end');
      assert.equal(await alive(after.pid), false);
    },
  );

  it(
    'pause-process on a service freezes its whole process group, then it serves again',
    { timeout: 60_000 },
    async () => {
      const { port, target } = await serviceTarget({
        command: `exec ${process.execPath} -e "$SERVER"`,
        env: undefined,
      });
      (target as { env: Record<string, string> }).env = { PORT: String(port), SERVER };
      let pid = 0;
      const journal = await run(
        {
          title: 'a frozen service',
          targets: { api: target },
          method: [{ fault: 'pause-process', target: 'api', duration: '2s' }, { wait: '4s' }],
        },
        async (event) => {
          pid = (localAt(event.fault.location).handle?.['processes'] as { pid: number }[])[0]!.pid;
          assert.equal(await isStopped(pid), true, 'state T');
          await assert.rejects(
            fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(500) }),
            'a frozen service does not answer',
          );
          await waitFor('the service to be resumed', async () => !(await isStopped(pid)), {
            timeoutMs: 20_000,
          });
          assert.equal((await ask(port)).pid, pid, 'the same process answers again');
        },
      );
      assert.equal(journal.faultline.faults[0]?.state, 'removed', journal.faultline.reason);
      assert.equal(await alive(pid), false, 'stopped at the end of the run');
    },
  );

  it(
    'clock-skew on a service: its wall clock moves by the offset and comes back; its timers keep their pace',
    { timeout: 60_000, skip: needTool(TOOLS.faketime) },
    async () => {
      const { port, target } = await serviceTarget();
      let skewed: Answer | undefined;
      let restored: Answer | undefined;
      const journal = await run(
        {
          title: 'a service an hour behind',
          targets: { api: target },
          method: [
            { fault: 'clock-skew', target: 'api', offset: '-1h', duration: '2s', name: 'behind' },
            { wait: '2500ms' },
          ],
        },
        async () => {
          const t = Date.now();
          skewed = await ask(port);
          skewed.now -= t; // the service's clock minus ours
          await waitFor(
            'the clock to come back',
            async () => {
              const t2 = Date.now();
              restored = await ask(port);
              restored.now -= t2;
              return Math.abs(restored.now) < 2_000;
            },
            { timeoutMs: 20_000 },
          );
        },
      );
      assert.equal(journal.faultline.faults[0]?.state, 'removed', journal.faultline.reason);
      assert.ok(skewed && restored);
      assert.ok(
        Math.abs(skewed.now + 3_600_000) < 2_000,
        `the service's clock was an hour behind (${skewed.now} ms)`,
      );
      assert.ok(Math.abs(restored.now) < 2_000, `and came back (${restored.now} ms)`);
      assert.ok(
        skewed.timerMs >= 95 && skewed.timerMs < 2_000,
        `a 100 ms timer took ${skewed.timerMs} ms under skew`,
      );
      assert.deepEqual(journal.faultline.verification, [{ fault: 'behind', gone: true }]);
    },
  );

  it(
    'clock-skew without libfaketime: a plain error before anything is applied',
    { timeout: 30_000 },
    async () => {
      const { target } = await serviceTarget();
      const saved = process.env['FAULTLINE_LIBFAKETIME'];
      process.env['FAULTLINE_LIBFAKETIME'] = join(dir, 'no-such-libfaketime.so.1');
      try {
        const journal = await run({
          title: 'no faketime',
          targets: { api: target },
          method: [{ fault: 'clock-skew', target: 'api', offset: '1h', duration: '1s' }],
        });
        assert.equal(journal.faultline.faults.length, 0);
        assert.match(
          journal.faultline.reason ?? '',
          /clock-skew needs libfaketime, which is not installed/,
        );
      } finally {
        if (saved === undefined) delete process.env['FAULTLINE_LIBFAKETIME'];
        else process.env['FAULTLINE_LIBFAKETIME'] = saved;
      }
    },
  );

  describe('a SIGKILLed runner (faultline run as a child process)', () => {
    let stateDir: string;
    before(async () => {
      stateDir = await mkdtemp(join(dir, 'state-'));
    });

    async function startRun(name: string, doc: Record<string, unknown>): Promise<ChildProcess> {
      // A 2 s lease grace (FAULTLINE_LEASE_GRACE_SECONDS) instead of 5: the lease tests wait less.
      const child = await runUntilApplied(name, doc, { stateDir, cwd: dir, leaseGraceSeconds: 2 });
      children.push(child);
      return child;
    }

    it(
      'mid-pause: the agent resumes the process at the lease deadline by itself',
      { timeout: 60_000 },
      async () => {
        const worker = sleeper('lease');
        await waitFor('the sleeper', () => alive(worker.pid!), { timeoutMs: 5_000 });
        const runner = await startRun('lease.yaml', {
          title: 'lease',
          targets: { w: { type: 'process', pid: worker.pid } },
          method: [{ fault: 'pause-process', target: 'w', duration: '1s' }, { wait: '60s' }],
        });
        assert.equal(await isStopped(worker.pid!), true);
        const killedAt = Date.now();
        await killRunner(runner);
        assert.equal(
          await isStopped(worker.pid!),
          true,
          'still frozen right after the runner died',
        );
        await waitFor(
          'the agent to resume the process',
          async () => !(await isStopped(worker.pid!)),
          { timeoutMs: 30_000 },
        );
        // lease = 1 s + 2 s of grace, counted from the apply (just before the kill)
        assert.ok(
          Date.now() - killedAt < 8_000,
          `resumed ${Date.now() - killedAt} ms after the kill`,
        );
        assert.equal(await alive(worker.pid!), true);
      },
    );

    it('mid-pause: faultline recover resumes it at once', { timeout: 60_000 }, async () => {
      const worker = sleeper('recover');
      await waitFor('the sleeper', () => alive(worker.pid!), { timeoutMs: 5_000 });
      const runner = await startRun('recover.yaml', {
        title: 'recover',
        targets: { w: { type: 'process', pid: worker.pid } },
        method: [{ fault: 'pause-process', target: 'w', duration: '60s', name: 'frozen' }],
      });
      await killRunner(runner);
      assert.equal(await isStopped(worker.pid!), true, 'the dead runner left it frozen');
      const { code, output: out } = await runFaultline(['recover'], { stateDir, cwd: dir });
      assert.equal(code, 0, out);
      assert.match(out, /frozen on w .*removed/);
      assert.equal(
        await isStopped(worker.pid!),
        false,
        'resumed by recover, long before the 60 s deadline',
      );
      const journals = await readdir(stateDir);
      const tags = [];
      for (const name of journals) {
        const journal = JSON.parse(await readFile(join(stateDir, name), 'utf8')) as Journal;
        for (const f of journal.faultline.faults)
          if (localAt(f.location).tag) tags.push(localAt(f.location).tag);
      }
      for (const tag of tags) assert.deepEqual(await findAgents(tag), [], 'no agent left');
    });

    it(
      'a service does not outlive a SIGKILLed runner, and recover does not start it again',
      { timeout: 60_000 },
      async () => {
        const { port, target } = await serviceTarget();
        const runner = await startRun('service.yaml', {
          title: 'svc',
          targets: { api: target },
          method: [{ fault: 'kill-process', target: 'api', duration: '60s' }],
        });
        assert.equal(await refused(port), true, 'killed by the fault');
        await killRunner(runner);
        const { code } = await runFaultline(['recover'], { stateDir, cwd: dir });
        assert.equal(code, 0);
        assert.equal(
          await refused(port),
          true,
          'the service of a dead run stays stopped (it belonged to the run)',
        );
      },
    );

    it('a service up when the runner is SIGKILLed goes with it', { timeout: 60_000 }, async () => {
      const { port, target } = await serviceTarget();
      const worker = sleeper('svc-companion');
      await waitFor('the sleeper', () => alive(worker.pid!), { timeoutMs: 5_000 });
      const runner = await startRun('service-up.yaml', {
        title: 'svc up',
        targets: { api: target, w: { type: 'process', pid: worker.pid } },
        method: [{ fault: 'pause-process', target: 'w', duration: '1s' }, { wait: '60s' }],
      });
      const { pid } = await ask(port);
      await killRunner(runner);
      await waitFor('the service to die with its runner', async () => !(await alive(pid)), {
        timeoutMs: 15_000,
      });
      assert.equal(await refused(port), true);
    });
  });
});
