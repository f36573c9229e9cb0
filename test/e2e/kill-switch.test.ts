// The kill switch for the whole machine: `faultline halt` and `faultline recover` started in a
// directory that has nothing to do with the runs (a fresh temporary cwd) find every run through
// the machine-wide registry and remove its faults — three kinds at once: a toxic on a remote
// proxy server (this test process serves it), a paused process (SIGSTOP'd child of the test) and
// a paused private redis-server (CLIENT PAUSE). A registration whose pid now belongs to another
// live process (pid reuse) is a dead run: its faults are recovered and the other process is left
// alone. --run, --pid and --here narrow what is acted on.
//
// Each runner gets XDG_STATE_HOME of its own test (and no FAULTLINE_STATE_DIR): its journal is
// in its project's .faultline/runs, its registration in XDG_STATE_HOME/faultline/runs — the
// defaults a user gets — and no test sees another's runs (nor the machine's real registry).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { FaultProxy } from '../../src/index.js';
import type { Journal } from '../../src/journal/journal.js';
import { readStat } from '../../src/backends/process/proc.js';
import { readRegistrations, type Registration } from '../../src/safety/registry.js';
import { processStart } from '../../src/shared/process-identity.js';
import { startRedis, type PrivateRedis } from '../helpers/private-brokers.js';
import {
  exitCode,
  killRunner,
  runFaultline,
  startRunner,
  type RunnerChild,
} from '../helpers/runner-child.js';
import { freePort, startRemoteProxyStack } from '../helpers/services.js';
import { needTool, TOOLS } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait-for.js';

const state = async (pid: number): Promise<string | undefined> => (await readStat(pid))?.state;

describe(
  'the kill switch from another directory (real runs as child processes)',
  { skip: needTool(TOOLS.redisServer) },
  () => {
    let stack: Awaited<ReturnType<typeof startRemoteProxyStack>>;
    let proxy: FaultProxy;
    let redis: PrivateRedis;
    let base: string;
    let n = 0;
    const children: ChildProcess[] = [];

    before(async () => {
      stack = await startRemoteProxyStack('faultline-kill-switch-');
      proxy = stack.proxy;
      base = stack.dir;
      redis = await startRedis();
    });
    after(async () => {
      for (const child of children) child.kill('SIGKILL');
      await redis.stop();
      await stack.close();
    });

    /** A fresh test world: its own XDG_STATE_HOME and an unrelated directory to halt from. */
    async function world(): Promise<{ xdg: string; registry: string; elsewhere: string }> {
      const root = await mkdtemp(join(base, `world-${++n}-`));
      const elsewhere = join(root, 'elsewhere');
      await mkdir(elsewhere);
      return {
        xdg: join(root, 'xdg'),
        registry: join(root, 'xdg', 'faultline', 'runs'),
        elsewhere,
      };
    }

    /** A process the test owns and a fault may pause. */
    async function victim(): Promise<number> {
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
        stdio: 'ignore',
      });
      children.push(child);
      const pid = child.pid!;
      await waitFor('the victim to start', async () => (await state(pid)) !== undefined);
      return pid;
    }

    /** `faultline run` on DOC in a project directory of its own, registered in XDG. */
    async function startIn(
      xdg: string,
      project: string,
      doc: Record<string, unknown>,
    ): Promise<RunnerChild> {
      await mkdir(project, { recursive: true });
      const file = join(project, 'experiment.yaml');
      await writeFile(file, stringify({ safety: { maxDuration: '2m' }, ...doc }));
      const run = startRunner(['run', file, '--journal', join(project, 'journal.json')], {
        xdgStateHome: xdg,
        cwd: project,
      });
      children.push(run.child);
      return run;
    }

    /** The three kinds of fault, each on a target of its own, for 60 s. */
    function threeKinds(tag: string, victimPid: number): Record<string, unknown> {
      return {
        title: `three kinds ${tag}`,
        targets: {
          db: { type: 'remote-proxy', url: stack.api.url, proxy: 'db' },
          worker: { type: 'process', pid: victimPid },
          cache: { type: 'redis', url: redis.url },
        },
        method: [
          { fault: 'latency', target: 'db', delay: '10ms', duration: '60s', name: `slow-${tag}` },
          { fault: 'pause-process', target: 'worker', duration: '60s', name: `freeze-${tag}` },
          {
            fault: 'redis-pause',
            target: 'cache',
            mode: 'write',
            duration: '60s',
            name: `hold-${tag}`,
          },
        ],
      };
    }

    /** The one registration in REGISTRY once it names a journal with every fault applied. */
    async function appliedRun(
      registry: string,
      run: RunnerChild,
      faults: number,
    ): Promise<{ registration: Registration; journal: Journal }> {
      return waitFor(
        `the run to be registered with ${faults} fault(s) applied (output so far:\n${run.output()})`,
        async () => {
          const [entry] = readRegistrations(registry);
          if (!entry) return undefined;
          const journal = JSON.parse(
            await readFile(entry.registration.journal, 'utf8').catch(() => 'null'),
          ) as Journal | null;
          const applied = journal?.faultline.faults.filter((f) => f.state === 'applied').length;
          return journal && applied === faults
            ? { registration: entry.registration, journal }
            : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      );
    }

    /** A write to the private redis: held while a write pause is in place. */
    function write(): Promise<number> {
      const client = redis.client('app', { commandTimeout: 60_000 });
      return client.set('k', String(Date.now())).then(() => {
        client.disconnect();
        return Date.now();
      });
    }

    it(
      'halt from another directory removes three kinds of live fault at once; the run ends interrupted and unregisters',
      { timeout: 120_000 },
      async () => {
        const { xdg, registry, elsewhere } = await world();
        const worker = await victim();
        const project = join(base, `project-${n}`);
        const run = await startIn(xdg, project, threeKinds('h', worker));
        const { registration, journal } = await appliedRun(registry, run, 3);

        // The registration names the runner (pid and /proc start time), its directory and journal.
        assert.equal(registration.pid, run.child.pid);
        assert.equal(registration.pid_start, processStart(run.child.pid!));
        assert.match(registration.pid_start ?? '', /^stat:\d+$/);
        assert.equal(registration.cwd, project);
        assert.equal(registration.title, 'three kinds h');
        assert.equal(join(registration.journal, '..'), join(project, '.faultline', 'runs'));
        assert.equal(journal.faultline.pid_start, registration.pid_start);
        // The faults are really there.
        assert.deepEqual(
          proxy.toxics.map((t) => t.name),
          ['slow-h'],
        );
        assert.equal(await state(worker), 'T', 'the worker is stopped');
        let answered = 0;
        const held = write().then((at) => (answered = at));

        const haltStarted = Date.now();
        const { code, stdout } = await runFaultline(['halt', '--wait', '5s'], {
          xdgStateHome: xdg,
          cwd: elsewhere,
        });
        assert.equal(code, 0, stdout);
        for (const fault of ['slow-h on db', 'freeze-h on worker', 'hold-h on cache'])
          assert.match(stdout, new RegExp(`^fault ${fault} \\(run \\w+\\): removed by halt$`, 'm'));
        assert.match(stdout, /^run \w+ "three kinds h" \(pid \d+\): stopped$/m);
        assert.equal(proxy.toxics.length, 0, 'the toxic is gone');
        assert.notEqual(await state(worker), 'T', 'the worker runs again');
        await held;
        assert.ok(answered >= haltStarted, 'the held write was answered once the pause was lifted');

        assert.equal(await exitCode(run.child), 130, run.output());
        const final = JSON.parse(await readFile(join(project, 'journal.json'), 'utf8')) as Journal;
        assert.equal(final.status, 'interrupted');
        assert.deepEqual(
          final.faultline.faults.map((f) => f.state),
          ['removed', 'removed', 'removed'],
        );
        assert.deepEqual(readRegistrations(registry), [], 'a run that ended clean unregisters');
        assert.equal(final.faultline.registration, undefined);
      },
    );

    it(
      'recover from another directory after kill -9: three kinds of fault removed, the journal marked, the registration gone',
      { timeout: 120_000 },
      async () => {
        const { xdg, registry, elsewhere } = await world();
        const worker = await victim();
        const project = join(base, `project-${n}`);
        const run = await startIn(xdg, project, threeKinds('r', worker));
        const { registration } = await appliedRun(registry, run, 3);
        await killRunner(run.child);
        assert.equal(readRegistrations(registry).length, 1, 'a crashed run stays registered');
        assert.equal(proxy.toxics.length, 1);
        assert.equal(await state(worker), 'T');
        let answered = 0;
        const held = write().then((at) => (answered = at));

        // From the project directory's point of view nothing changed: recover runs elsewhere.
        const recoverStarted = Date.now();
        const { code, stdout } = await runFaultline(['recover'], {
          xdgStateHome: xdg,
          cwd: elsewhere,
        });
        assert.equal(code, 0, stdout);
        for (const fault of ['slow-r on db', 'freeze-r on worker', 'hold-r on cache'])
          assert.match(stdout, new RegExp(`^fault ${fault} \\(run \\w+\\): removed$`, 'm'));
        assert.equal(proxy.toxics.length, 0);
        assert.notEqual(await state(worker), 'T');
        await held;
        assert.ok(answered >= recoverStarted);
        const journal = JSON.parse(await readFile(registration.journal, 'utf8')) as Journal;
        assert.equal(journal.status, 'aborted');
        assert.ok(journal.faultline.recovered_at);
        assert.deepEqual(readRegistrations(registry), [], 'nothing left: unregistered');

        const again = await runFaultline(['recover'], { xdgStateHome: xdg, cwd: elsewhere });
        assert.equal(again.code, 0, again.stdout);
        assert.match(again.stdout, /^nothing to recover on this machine/m);
      },
    );

    it(
      'a registered pid now held by another live process (pid reuse) is a dead run: its faults are recovered, the other process is left alone',
      { timeout: 120_000 },
      async () => {
        const { xdg, registry, elsewhere } = await world();
        const worker = await victim();
        const project = join(base, `project-${n}`);
        const run = await startIn(xdg, project, {
          title: 'reused pid',
          targets: {
            db: { type: 'remote-proxy', url: stack.api.url, proxy: 'db' },
            worker: { type: 'process', pid: worker },
          },
          method: [
            { fault: 'latency', target: 'db', delay: '10ms', duration: '60s', name: 'slow-p' },
            { fault: 'pause-process', target: 'worker', duration: '60s', name: 'freeze-p' },
          ],
        });
        const { registration } = await appliedRun(registry, run, 2);
        await killRunner(run.child);

        // Another process now has "the runner's" pid: a real, live `sleep`, which started at
        // another time than the runner did. The journal and the registration are rewritten to
        // that pid, as the kernel would have reused it; the start time stays the runner's.
        const other = spawn('sleep', ['120'], { stdio: 'ignore' });
        children.push(other);
        const otherPid = other.pid!;
        await waitFor('sleep to start', () => processStart(otherPid));
        assert.notEqual(processStart(otherPid), registration.pid_start);
        const [entry] = readRegistrations(registry);
        const reused = { ...entry!.registration, pid: otherPid };
        await writeFile(entry!.path, JSON.stringify(reused));
        const journal = JSON.parse(await readFile(registration.journal, 'utf8')) as Journal;
        journal.faultline.pid = otherPid;
        await writeFile(registration.journal, JSON.stringify(journal));

        // Control: with the other process's own start time, the run would be alive and left alone.
        await writeFile(
          entry!.path,
          JSON.stringify({ ...reused, pid_start: processStart(otherPid) }),
        );
        const alive = {
          ...journal,
          faultline: { ...journal.faultline, pid_start: processStart(otherPid) },
        };
        await writeFile(registration.journal, JSON.stringify(alive));
        const left = await runFaultline(['recover'], { xdgStateHome: xdg, cwd: elsewhere });
        assert.match(left.stdout, /fault slow-p on db .*left alone: its run is still in progress/);
        assert.equal(proxy.toxics.length, 1, 'a live run is left alone');
        await writeFile(entry!.path, JSON.stringify(reused));
        await writeFile(registration.journal, JSON.stringify(journal));

        // halt from elsewhere: no live run (the pid is someone else's), so it signals nobody, and
        // its recover removes the dead run's faults.
        const { code, stdout } = await runFaultline(['halt', '--wait', '2s'], {
          xdgStateHome: xdg,
          cwd: elsewhere,
        });
        assert.equal(code, 0, stdout);
        assert.match(
          stdout,
          /^fault slow-p on db \(run \w+\): removed by recover \(its runner was already dead\)$/m,
        );
        assert.match(stdout, /^fault freeze-p on worker \(run \w+\): removed by recover/m);
        assert.doesNotMatch(stdout, /^run /m, 'no runner was signalled');
        assert.equal(proxy.toxics.length, 0);
        assert.notEqual(await state(worker), 'T');
        assert.equal(other.exitCode, null, 'the process that has the pid now was not signalled');
        assert.equal(other.signalCode, null);
        assert.equal((await state(otherPid)) !== undefined, true, 'and still runs');
        assert.deepEqual(readRegistrations(registry), []);
        other.kill('SIGKILL');
      },
    );

    it(
      '--run, --pid and --here narrow halt to one run each; the others keep running',
      { timeout: 180_000 },
      async () => {
        const { xdg, registry, elsewhere } = await world();
        const projects = ['a', 'b', 'c'].map((x) => join(base, `narrow-${n}-${x}`));
        const runs = await Promise.all(
          ['a', 'b', 'c'].map((x, i) =>
            startIn(xdg, projects[i]!, {
              title: `narrow ${x}`,
              targets: { db: { type: 'remote-proxy', url: stack.api.url, proxy: 'db' } },
              method: [
                { fault: 'latency', target: 'db', delay: '1ms', duration: '60s', name: `n-${x}` },
              ],
            }),
          ),
        );
        await Promise.all(runs.map((r) => r.applied));
        await waitFor('three registrations', () => readRegistrations(registry).length === 3);
        const idOf = (i: number): string =>
          readRegistrations(registry).find((r) => r.registration.pid === runs[i]!.child.pid)!
            .registration.run_id;
        const toxics = (): string[] => proxy.toxics.map((t) => t.name).sort();
        assert.deepEqual(toxics(), ['n-a', 'n-b', 'n-c']);

        const byRun = await runFaultline(['halt', '--run', idOf(0).slice(0, 8), '--wait', '5s'], {
          xdgStateHome: xdg,
          cwd: elsewhere,
        });
        assert.equal(byRun.code, 0, byRun.stdout);
        assert.equal(await exitCode(runs[0]!.child), 130);
        assert.deepEqual(toxics(), ['n-b', 'n-c'], `only run a was halted\n${byRun.stdout}`);

        const byPid = await runFaultline(
          ['halt', '--pid', String(runs[1]!.child.pid), '--wait', '5s'],
          { xdgStateHome: xdg, cwd: elsewhere },
        );
        assert.equal(byPid.code, 0, byPid.stdout);
        assert.equal(await exitCode(runs[1]!.child), 130);
        assert.deepEqual(toxics(), ['n-c'], `only run b was halted\n${byPid.stdout}`);

        // --here in an unrelated directory: nothing; in c's project: c.
        const none = await runFaultline(['halt', '--here'], { xdgStateHome: xdg, cwd: elsewhere });
        assert.equal(none.code, 0, none.stdout);
        assert.match(none.stdout, /^no running experiment matching started in /m);
        assert.deepEqual(toxics(), ['n-c']);
        const here = await runFaultline(['halt', '--here', '--wait', '5s'], {
          xdgStateHome: xdg,
          cwd: projects[2]!,
        });
        assert.equal(here.code, 0, here.stdout);
        assert.match(here.stdout, /^run \w+ "narrow c" \(pid \d+\): stopped$/m);
        assert.equal(await exitCode(runs[2]!.child), 130);
        assert.deepEqual(toxics(), []);
        assert.deepEqual(readRegistrations(registry), []);
        // Every project kept its own journal, in its own .faultline/runs.
        for (const project of projects)
          assert.equal((await readdir(join(project, '.faultline', 'runs'))).length, 1);
      },
    );

    it(
      'a fault recover cannot remove: exit 70, NOT removed, the registration kept for the next recover',
      { timeout: 120_000 },
      async () => {
        const { xdg, registry, elsewhere } = await world();
        const project = join(base, `project-${n}`);
        const run = await startIn(xdg, project, {
          title: 'unreachable',
          targets: { db: { type: 'remote-proxy', url: stack.api.url, proxy: 'db' } },
          method: [
            { fault: 'latency', target: 'db', delay: '1ms', duration: '60s', name: 'stuck-u' },
          ],
        });
        const { registration } = await appliedRun(registry, run, 1);
        await killRunner(run.child);
        // The journal names a server that no longer answers (a closed port).
        const closed = await freePort();
        const journal = JSON.parse(await readFile(registration.journal, 'utf8')) as Journal;
        const location = journal.faultline.faults[0]!.location as { server: string };
        const server = location.server;
        location.server = `http://127.0.0.1:${closed}`;
        await writeFile(registration.journal, JSON.stringify(journal));

        const failed = await runFaultline(['recover'], { xdgStateHome: xdg, cwd: elsewhere });
        assert.equal(failed.code, 70, failed.output);
        assert.match(failed.stdout, /^fault stuck-u on db \(run \w+\): NOT removed: /m);
        assert.equal(readRegistrations(registry).length, 1, 'kept: the fault is still in place');
        assert.deepEqual(
          proxy.toxics.map((t) => t.name),
          ['stuck-u'],
        );

        // The server is back under its address: the next recover, from anywhere, finishes the job.
        const after = JSON.parse(await readFile(registration.journal, 'utf8')) as Journal;
        (after.faultline.faults[0]!.location as { server: string }).server = server;
        await writeFile(registration.journal, JSON.stringify(after));
        const again = await runFaultline(['recover'], { xdgStateHome: xdg, cwd: elsewhere });
        assert.equal(again.code, 0, again.output);
        assert.match(again.stdout, /^fault stuck-u on db \(run \w+\): removed$/m);
        assert.equal(proxy.toxics.length, 0);
        assert.deepEqual(readRegistrations(registry), []);
      },
    );

    it(
      'FAULTLINE_STATE_DIR is the registry and the journal directory at once; halt --state-dir from elsewhere finds the run',
      { timeout: 120_000 },
      async () => {
        const { xdg, registry, elsewhere } = await world();
        const stateDir = join(base, `state-${n}`);
        const project = join(base, `project-${n}`);
        await mkdir(project, { recursive: true });
        const file = join(project, 'experiment.yaml');
        await writeFile(
          file,
          stringify({
            title: 'state dir',
            safety: { maxDuration: '2m' },
            targets: { db: { type: 'remote-proxy', url: stack.api.url, proxy: 'db' } },
            method: [{ fault: 'latency', target: 'db', delay: '1ms', duration: '60s', name: 'sd' }],
          }),
        );
        const run = startRunner(['run', file], { stateDir, xdgStateHome: xdg, cwd: project });
        children.push(run.child);
        await run.applied;
        // (A journal being rewritten has a .tmp beside it for an instant.)
        const names = (await readdir(stateDir)).filter((name) => name.endsWith('.json'));
        assert.equal(names.length, 1, `one journal, no separate registration: ${names.join(', ')}`);
        const journal = JSON.parse(await readFile(join(stateDir, names[0]!), 'utf8')) as Journal;
        assert.equal(journal.faultline.pid_start, processStart(run.child.pid!));
        assert.equal(journal.faultline.cwd, project);
        assert.deepEqual(readRegistrations(registry), [], 'the XDG registry is not used');
        await assert.rejects(readdir(join(project, '.faultline')), 'nor the project directory');

        // Neither the environment nor the cwd says where: --state-dir does.
        const { code, stdout } = await runFaultline(
          ['halt', '--state-dir', stateDir, '--wait', '5s'],
          { xdgStateHome: xdg, cwd: elsewhere },
        );
        assert.equal(code, 0, stdout);
        assert.match(stdout, /^fault sd on db \(run \w+\): removed by halt$/m);
        assert.equal(await exitCode(run.child), 130);
        assert.equal(proxy.toxics.length, 0);
      },
    );

    it('a --pid or --run that names nothing a run can have is a usage error (exit 2)', async () => {
      const { xdg, elsewhere } = await world();
      for (const args of [
        ['halt', '--pid', 'abc'],
        ['recover', '--pid', '0'],
        ['recover', '--run', 'not an id'],
      ]) {
        const { code, output } = await runFaultline(args, { xdgStateHome: xdg, cwd: elsewhere });
        assert.equal(code, 2, output);
        assert.match(output, /is not a (process|run) id/);
        assert.doesNotMatch(output, /\n\s+at /);
      }
    });
  },
);
