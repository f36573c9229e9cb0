// `faultline halt` against real runs (child processes) whose runner is stuck (SIGSTOPped) or
// healthy. A stuck runner cannot remove anything: halt itself must resume a paused process, end
// a fault agent, and — for what only lives in the runner's process (an in-process proxy) —
// SIGKILL the runner after --wait, which takes the proxy with it. A healthy runner is SIGTERMed
// and removes its in-process faults itself. Every line of halt's output says who removed what,
// and every claim is checked from outside: /proc states, agents by tag, a closed port, the
// journal the runner left.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { Journal } from '../../src/journal/journal.js';
import { findAgents } from '../../src/backends/local/agent.js';
import { readStat } from '../../src/backends/process/proc.js';
import { readJournals } from '../../src/safety/recover.js';
import { freePort } from '../helpers/services.js';
import { startRunner, exitCode, runFaultline, type RunnerChild } from '../helpers/runner-child.js';
import { localAt } from '../helpers/locations.js';

/** Polls `check` every 50 ms until it holds; fails with `what` after `ms`. */
async function until(
  check: () => Promise<boolean> | boolean,
  ms: number,
  what: string,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const state = async (pid: number): Promise<string | undefined> => (await readStat(pid))?.state;

/** Whether something accepts a TCP connection on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('faultline halt (real runs as child processes)', () => {
  let dir: string;
  let upstream: Server;
  let upstreamPort: number;
  const children: ChildProcess[] = [];
  const tags: string[] = [];
  let runs = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-halt-'));
    upstream = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamPort = (upstream.address() as { port: number }).port;
  });
  after(async () => {
    // Nothing outlives the tests: runners (a SIGSTOPped one dies from SIGKILL too), victims, agents.
    for (const child of children) child.kill('SIGKILL');
    for (const tag of tags) for (const pid of await findAgents(tag)) process.kill(pid, 'SIGKILL');
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  /** A process the test owns and a fault may pause. */
  function victim(): ChildProcess {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      stdio: 'ignore',
    });
    children.push(child);
    return child;
  }

  /** Starts `faultline run` on DOC in a state directory of its own (halt acts on every run there). */
  async function start(
    doc: Record<string, unknown>,
  ): Promise<{ run: RunnerChild; stateDir: string }> {
    const n = ++runs;
    const stateDir = join(dir, `state-${n}`);
    const file = join(dir, `halt-${n}.yaml`);
    await writeFile(file, stringify({ title: `halt ${n}`, safety: { maxDuration: '2m' }, ...doc }));
    const run = startRunner(['run', file, '--journal', join(dir, `journal-${n}.json`)], {
      stateDir,
      cwd: dir,
    });
    children.push(run.child);
    return { run, stateDir };
  }

  /** The live journal of the run in STATEDIR (one run per directory). */
  async function journalOf(stateDir: string): Promise<Journal> {
    const [entry] = await readJournals(stateDir);
    assert.ok(entry, `a journal in ${stateDir}`);
    return entry.journal;
  }

  /** Waits until every fault named is journaled `applied`, and returns the journal. */
  async function appliedJournal(
    run: RunnerChild,
    stateDir: string,
    names: string[],
  ): Promise<Journal> {
    await run.applied;
    let journal: Journal | undefined;
    await until(
      async () => {
        journal = (await readJournals(stateDir))[0]?.journal;
        return names.every(
          (name) => journal?.faultline.faults.find((f) => f.name === name)?.state === 'applied',
        );
      },
      20_000,
      `faults ${names.join(', ')} journaled applied (output so far:\n${run.output()})`,
    );
    for (const fault of journal!.faultline.faults)
      if ('tag' in fault.location) tags.push(fault.location.tag);
    return journal!;
  }

  async function halt(stateDir: string): Promise<{ code: number | null; out: string; ms: number }> {
    const started = Date.now();
    const { code, output } = await runFaultline(['halt', '--state-dir', stateDir, '--wait', '2s'], {
      stateDir,
      cwd: dir,
    });
    return { code, out: output, ms: Date.now() - started };
  }

  it(
    '--wait takes a duration: anything else is a usage error (exit 2)',
    { timeout: 30_000 },
    async () => {
      const { code, output } = await runFaultline(
        ['halt', '--state-dir', join(dir, 'empty'), '--wait', 'soon'],
        { stateDir: join(dir, 'empty'), cwd: dir },
      );
      assert.equal(code, 2, output);
      assert.match(output, /--wait soon is not a duration/);
    },
  );

  it(
    'a stuck runner: halt itself resumes the paused process, SIGKILLs the runner after --wait, exits 0',
    { timeout: 60_000 },
    async () => {
      const frozen = victim();
      const pid = frozen.pid!;
      await until(async () => (await state(pid)) !== undefined, 5_000, 'the victim to start');
      const { run, stateDir } = await start({
        targets: { victim: { type: 'process', pid } },
        method: [{ fault: 'pause-process', target: 'victim', duration: '60s', name: 'freeze' }],
      });
      await appliedJournal(run, stateDir, ['freeze']);
      await until(
        async () => (await state(pid)) === 'T',
        10_000,
        'the victim to be stopped (state T)',
      );

      run.child.kill('SIGSTOP');
      await until(
        async () => (await state(run.child.pid!)) === 'T',
        5_000,
        'the runner to be stuck (state T)',
      );

      const { code, out, ms } = await halt(stateDir);
      assert.ok(
        ms < 15_000,
        `halt took ${ms} ms (a stuck runner must not hold it for 30 s)\n${out}`,
      );
      await until(
        async () => (await state(pid)) !== 'T',
        5_000,
        `the victim to run again after halt\n${out}`,
      );
      assert.match(out, /fault freeze on victim \(run \w+\): removed by halt$/m);
      assert.doesNotMatch(out, /freeze.*removed by its runner/);
      assert.match(out, /run \w+ "halt \d+" \(pid \d+\): killed after 2 s/);
      assert.equal(code, 0, out);
      await exitCode(run.child);
      assert.equal(run.child.signalCode, 'SIGKILL', 'the stuck runner was SIGKILLed');
      const journal = await journalOf(stateDir);
      assert.equal(journal.faultline.faults[0]?.state, 'removed');
      assert.ok(journal.faultline.recovered_at, 'recover marked the dead run');
    },
  );

  it(
    'a stuck runner: halt ends a local fault agent (cpu-stress) itself',
    { timeout: 60_000 },
    async () => {
      const { run, stateDir } = await start({
        targets: { box: { type: 'host' } },
        method: [
          {
            fault: 'cpu-stress',
            target: 'box',
            duration: '60s',
            workers: 1,
            load: 10,
            name: 'burn',
          },
        ],
      });
      const journal = await appliedJournal(run, stateDir, ['burn']);
      const tag = localAt(journal.faultline.faults[0]!.location).tag!;
      assert.equal((await findAgents(tag)).length, 1, 'an agent holds the fault');
      run.child.kill('SIGSTOP');
      await until(
        async () => (await state(run.child.pid!)) === 'T',
        5_000,
        'the runner to be stuck (state T)',
      );

      const { code, out, ms } = await halt(stateDir);
      assert.ok(ms < 15_000, `halt took ${ms} ms\n${out}`);
      await until(
        async () => (await findAgents(tag)).length === 0,
        5_000,
        `the agent to end\n${out}`,
      );
      assert.match(out, /fault burn on box \(run \w+\): removed by halt$/m);
      assert.equal(code, 0, out);
    },
  );

  it(
    'a stuck runner with an in-process proxy: SIGKILLed after --wait, the proxy gone with it, said so',
    { timeout: 60_000 },
    async () => {
      const listen = await freePort();
      const { run, stateDir } = await start({
        targets: {
          db: {
            type: 'proxy',
            listen: `127.0.0.1:${listen}`,
            upstream: `127.0.0.1:${upstreamPort}`,
          },
        },
        method: [{ fault: 'latency', target: 'db', delay: '10ms', duration: '60s', name: 'slow' }],
      });
      await appliedJournal(run, stateDir, ['slow']);
      assert.equal(await accepts(listen), true, 'the in-process proxy listens');
      run.child.kill('SIGSTOP');

      const { code, out, ms } = await halt(stateDir);
      assert.ok(ms < 15_000, `halt took ${ms} ms\n${out}`);
      assert.match(
        out,
        /fault slow on db \(run \w+\): gone with its runner \(killed after 2 s\)$/m,
      );
      assert.doesNotMatch(out, /slow.*removed by/);
      assert.match(out, /\(pid \d+\): killed after 2 s/);
      assert.equal(code, 0, out);
      await exitCode(run.child);
      assert.equal(run.child.signalCode, 'SIGKILL');
      await until(async () => !(await accepts(listen)), 5_000, 'the proxy to be gone');
      const journal = await journalOf(stateDir);
      assert.equal(journal.faultline.faults[0]?.state, 'removed', 'recover marked the journal');
      assert.ok(journal.faultline.recovered_at);
    },
  );

  it(
    'a healthy runner: SIGTERM, it removes its in-process fault itself and ends interrupted (130)',
    { timeout: 60_000 },
    async () => {
      const frozen = victim();
      const pid = frozen.pid!;
      await until(async () => (await state(pid)) !== undefined, 5_000, 'the victim to start');
      const listen = await freePort();
      const { run, stateDir } = await start({
        targets: {
          db: {
            type: 'proxy',
            listen: `127.0.0.1:${listen}`,
            upstream: `127.0.0.1:${upstreamPort}`,
          },
          victim: { type: 'process', pid },
        },
        method: [
          { fault: 'latency', target: 'db', delay: '10ms', duration: '60s', name: 'slow' },
          { fault: 'pause-process', target: 'victim', duration: '60s', name: 'freeze' },
        ],
      });
      await appliedJournal(run, stateDir, ['slow', 'freeze']);
      await until(
        async () => (await state(pid)) === 'T',
        10_000,
        'the victim to be stopped (state T)',
      );

      const { code, out, ms } = await halt(stateDir);
      assert.ok(ms < 15_000, `halt took ${ms} ms\n${out}`);
      assert.equal(await exitCode(run.child), 130, run.output());
      assert.match(out, /fault freeze on victim \(run \w+\): removed by halt$/m);
      assert.match(out, /fault slow on db \(run \w+\): removed by its runner$/m);
      assert.match(out, /\(pid \d+\): stopped/);
      assert.doesNotMatch(out, /killed/);
      assert.equal(code, 0, out);
      assert.notEqual(await state(pid), 'T', 'the victim runs');
      const journal = JSON.parse(
        await readFile(join(dir, `journal-${runs}.json`), 'utf8'),
      ) as Journal;
      assert.equal(journal.status, 'interrupted');
      assert.deepEqual(
        journal.faultline.faults.map((f) => [f.name, f.state]),
        [
          ['slow', 'removed'],
          ['freeze', 'removed'],
        ],
        'the runner really removed them',
      );
    },
  );
});
