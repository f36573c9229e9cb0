// Every signal that ends a run — SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2 — at every point of
// a real `faultline run` (a child process): a probe of the gate in flight, the first method
// step's pause before, a wait with a fault applied, an action in flight, an action's pause
// after; and Chaos Toolkit experiments in a pause. Each ends interrupted (exit 130) with its
// fault removed from the remote proxy server (served by this test process), the interrupted
// activity kept in the journal's run[], and the rollbacks played by the default strategy
// whenever the method had started. SIGUSR1 never opens Node's inspector, and is a graceful
// stop: a probe or an action in flight finishes first, nothing after it starts, and a second
// signal hurries it.
//
// The child says where it is before the signal is sent: a progress line ("… pause", "…
// waiting") printed just before the runner starts that pause, or a marker file a command
// touches as it starts (the command then sleeps 30 s, so it is still in flight).
import assert from 'node:assert/strict';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { FaultProxy } from '../../src/index.js';
import type { Journal } from '../../src/journal/journal.js';
import { startRemoteProxyStack } from '../helpers/services.js';
import { exitCode, startRunner, type RunnerChild } from '../helpers/runner-child.js';
import { waitFor } from '../helpers/wait-for.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const;
type Signal = (typeof SIGNALS)[number];
/**
 * The signals that interrupt an activity in flight. SIGUSR1 is a graceful stop: it lets the
 * activity finish (its own tests below).
 */
const IMMEDIATE = SIGNALS.filter((s) => s !== 'SIGUSR1');

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

describe('every signal at every phase ends the run interrupted and clean (child processes)', () => {
  let stack: Awaited<ReturnType<typeof startRemoteProxyStack>>;
  let dir: string;
  let proxy: FaultProxy;
  let n = 0;
  const children: RunnerChild[] = [];

  before(async () => {
    stack = await startRemoteProxyStack('faultline-signals-');
    ({ dir, proxy } = stack);
  });
  after(async () => {
    for (const run of children) run.child.kill('SIGKILL');
    await stack.close();
  });

  interface Scenario {
    /** The experiment, given a unique tag and the paths it may touch. */
    doc: (tag: string, marker: string, rolledBack: string) => Record<string, unknown>;
    /** Chaos Toolkit JSON instead of faultline YAML. */
    ctk?: boolean;
    /** Resolves once the run is at the point the signal must land. */
    reached: (run: RunnerChild, marker: string, tag: string) => Promise<void>;
    /** What the journal must show besides the common checks. */
    check: (journal: Journal, tag: string) => void;
    /** Whether the rollbacks must have run (default strategy: the method had started). */
    rollbacks: boolean;
  }

  const db = { type: 'remote-proxy', url: '', proxy: 'db' };
  const slow = (tag: string): Record<string, unknown> => ({
    fault: 'latency',
    target: 'db',
    delay: '1ms',
    duration: '60s',
    name: `f-${tag}`,
  });
  const rollback = (rolledBack: string): Record<string, unknown>[] => [
    { name: 'mark', command: { run: `touch ${rolledBack}` } },
  ];
  const busy = (marker: string): string => `touch ${marker}; sleep 30`;

  /** Runs SCENARIO once per signal, concurrently, and checks each end. */
  async function everySignal(
    scenario: Scenario,
    signals: readonly Signal[] = SIGNALS,
  ): Promise<void> {
    await Promise.all(
      signals.map(async (signal) => {
        const tag = `${++n}-${signal.toLowerCase()}`;
        const marker = join(dir, `in-flight-${tag}`);
        const rolledBack = join(dir, `rolled-back-${tag}`);
        const doc = scenario.doc(tag, marker, rolledBack);
        const file = join(dir, `signal-${tag}.${scenario.ctk ? 'json' : 'yaml'}`);
        await writeFile(
          file,
          scenario.ctk
            ? JSON.stringify(doc, null, 2)
            : stringify({ ...doc, safety: { maxDuration: '2m' } }),
        );
        const journalFile = join(dir, `journal-${tag}.json`);
        const run = startRunner(
          [
            'run',
            file,
            '--journal',
            journalFile,
            ...(scenario.ctk ? ['--var', `toxiproxy_url=${stack.api.url}`] : []),
          ],
          { stateDir: join(dir, `state-${tag}`), cwd: dir },
        );
        children.push(run);
        await scenario.reached(run, marker, tag);
        run.child.kill(signal);
        const code = await exitCode(run.child);
        const out = run.output();
        assert.equal(code, 130, `${signal}: exit 130 (interrupted)\n${out}`);
        assert.doesNotMatch(out, /Debugger listening/, `${signal}: no inspector`);
        const journal = JSON.parse(await readFile(journalFile, 'utf8')) as Journal;
        assert.equal(journal.status, 'interrupted', `${signal}\n${out}`);
        assert.equal(journal.faultline.outcome, 'interrupted');
        assert.match(journal.faultline.reason ?? '', new RegExp(`received ${signal}`));
        for (const fault of journal.faultline.faults)
          assert.equal(fault.state, 'removed', `${signal}: fault ${fault.name} removed`);
        assert.deepEqual(
          proxy.toxics.filter((t) => t.name.includes(tag)).map((t) => t.name),
          [],
          `${signal}: no toxic of this run left on the server`,
        );
        if (scenario.rollbacks) {
          assert.equal(
            journal.rollbacks[0]?.status,
            'succeeded',
            `${signal}: rollbacks ran\n${out}`,
          );
          assert.ok(await exists(rolledBack), `${signal}: the rollback's command ran`);
        } else {
          assert.deepEqual(journal.rollbacks, [], `${signal}: the method never started`);
          assert.equal(await exists(rolledBack), false);
        }
        scenario.check(journal, tag);
      }),
    );
  }

  const withDb = (): Record<string, unknown> => ({ db: { ...db, url: stack.api.url } });

  it(
    'during a probe of the gate (before the method): no rollbacks, the probe interrupted',
    { timeout: 180_000 },
    () =>
      everySignal(
        {
          doc: (tag, marker, rolledBack) => ({
            title: `gate ${tag}`,
            targets: withDb(),
            steadyState: { probes: [{ name: 'slow-check', command: { run: busy(marker) } }] },
            method: [slow(tag)],
            rollbacks: rollback(rolledBack),
          }),
          reached: (_run, marker) =>
            waitFor('the probe to start', () => exists(marker), { timeoutMs: 60_000 }).then(
              () => undefined,
            ),
          check: (journal) => {
            assert.equal(journal.steady_states.before?.probes[0]?.status, 'interrupted');
            assert.deepEqual(journal.run, []);
            assert.deepEqual(journal.faultline.faults, [], 'nothing was applied');
          },
          rollbacks: false,
        },
        IMMEDIATE,
      ),
  );

  it(
    "during the first method step's pause before: the step kept as interrupted, the default rollbacks run",
    { timeout: 180_000 },
    () =>
      everySignal({
        doc: (tag, _marker, rolledBack) => ({
          title: `pause before ${tag}`,
          targets: withDb(),
          method: [
            { action: { name: 'first', command: { run: 'true' }, pauses: { before: '30s' } } },
            slow(tag),
          ],
          rollbacks: rollback(rolledBack),
        }),
        reached: (run) => run.waitForOutput(/… pause 30\.0s before first/, 'the pause before'),
        check: (journal) => {
          assert.deepEqual(
            journal.run.map((r) => [r.name, r.status]),
            [['first', 'interrupted']],
          );
        },
        rollbacks: true,
      }),
  );

  it(
    'during a wait with a fault applied: the fault removed and kept in run[], rollbacks run',
    { timeout: 180_000 },
    () =>
      everySignal({
        doc: (tag, _marker, rolledBack) => ({
          title: `wait ${tag}`,
          targets: withDb(),
          method: [slow(tag), { wait: '30s' }],
          rollbacks: rollback(rolledBack),
        }),
        reached: (run) => run.waitForOutput(/… waiting 30\.0s/, 'the wait'),
        check: (journal, tag) => {
          assert.deepEqual(
            journal.run.map((r) => [r.name, r.status]),
            [[`f-${tag}`, 'succeeded']],
          );
          assert.equal(journal.faultline.faults.length, 1);
        },
        rollbacks: true,
      }),
  );

  it(
    'during an action in flight: the action kept as interrupted, the fault removed, rollbacks run',
    { timeout: 180_000 },
    () =>
      everySignal(
        {
          doc: (tag, marker, rolledBack) => ({
            title: `action ${tag}`,
            targets: withDb(),
            method: [slow(tag), { action: { name: 'busy', command: { run: busy(marker) } } }],
            rollbacks: rollback(rolledBack),
          }),
          reached: async (run, marker) => {
            await run.applied;
            await waitFor('the action to start', () => exists(marker), { timeoutMs: 60_000 });
          },
          check: (journal, tag) => {
            assert.deepEqual(
              journal.run.map((r) => [r.name, r.status]),
              [
                [`f-${tag}`, 'succeeded'],
                ['busy', 'interrupted'],
              ],
            );
          },
          rollbacks: true,
        },
        IMMEDIATE,
      ),
  );

  it(
    "during an action's pause after: the action kept as it ended (succeeded), rollbacks run",
    { timeout: 180_000 },
    () =>
      everySignal({
        doc: (tag, _marker, rolledBack) => ({
          title: `pause after ${tag}`,
          targets: withDb(),
          method: [
            slow(tag),
            { action: { name: 'quick', command: { run: 'true' }, pauses: { after: '30s' } } },
          ],
          rollbacks: rollback(rolledBack),
        }),
        reached: (run) => run.waitForOutput(/… pause 30\.0s after quick/, 'the pause after'),
        check: (journal, tag) => {
          assert.deepEqual(
            journal.run.map((r) => [r.name, r.status]),
            [
              [`f-${tag}`, 'succeeded'],
              ['quick', 'succeeded'],
            ],
          );
        },
        rollbacks: true,
      }),
  );

  const ctkRollback = (rolledBack: string): Record<string, unknown>[] => [
    {
      type: 'action',
      name: 'mark',
      provider: { type: 'process', path: 'touch', arguments: [rolledBack] },
    },
  ];

  it(
    "Chaos Toolkit: in the first method action's pauses.before, the default rollbacks run",
    { timeout: 180_000 },
    () =>
      everySignal(
        {
          ctk: true,
          doc: (tag, _marker, rolledBack) => ({
            title: `ctk pause before ${tag}`,
            description: 'interrupted in a pause',
            method: [
              {
                type: 'action',
                name: 'first',
                provider: { type: 'process', path: 'true' },
                pauses: { before: 30 },
              },
            ],
            rollbacks: ctkRollback(rolledBack),
          }),
          reached: (run) => run.waitForOutput(/… pause 30\.0s before first/, 'the pause before'),
          check: (journal) => {
            assert.deepEqual(
              journal.run.map((r) => [r.name, r.status]),
              [['first', 'interrupted']],
            );
          },
          rollbacks: true,
        },
        ['SIGINT', 'SIGUSR2'],
      ),
  );

  it(
    'Chaos Toolkit: in the pauses.after of a chaostoxi toxic, the toxic removed and kept in run[]',
    { timeout: 180_000 },
    () =>
      everySignal(
        {
          ctk: true,
          doc: (tag, _marker, rolledBack) => ({
            title: `ctk pause after ${tag}`,
            description: 'interrupted in a pause',
            method: [
              {
                type: 'action',
                name: `slow-${tag}`,
                provider: {
                  type: 'python',
                  module: 'chaostoxi.toxic.actions',
                  func: 'create_latency_toxic',
                  arguments: { for_proxy: 'db', toxic_name: `f-${tag}`, latency: 1 },
                },
                pauses: { after: 30 },
              },
            ],
            rollbacks: ctkRollback(rolledBack),
          }),
          reached: (run) => run.waitForOutput(/… waiting 30\.0s/, 'the pause after, as a wait'),
          check: (journal) => {
            assert.equal(journal.run.length, 1);
            assert.equal(journal.run[0]?.status, 'succeeded');
            assert.equal(journal.faultline.faults.length, 1);
          },
          rollbacks: true,
        },
        ['SIGINT', 'SIGUSR2'],
      ),
  );
  /** Starts `faultline run` on DOC (YAML) and returns the child with its journal's path. */
  async function start(tag: string, doc: Record<string, unknown>): Promise<[RunnerChild, string]> {
    const file = join(dir, `signal-${tag}.yaml`);
    await writeFile(file, stringify({ ...doc, safety: { maxDuration: '2m' } }));
    const journalFile = join(dir, `journal-${tag}.json`);
    const run = startRunner(['run', file, '--journal', journalFile], {
      stateDir: join(dir, `state-${tag}`),
      cwd: dir,
    });
    children.push(run);
    return [run, journalFile];
  }

  it(
    'SIGUSR1 during an action: the action finishes, the next step never starts, the fault removed, rollbacks run',
    { timeout: 120_000 },
    async () => {
      const tag = `${++n}-graceful-action`;
      const marker = join(dir, `in-flight-${tag}`);
      const finished = join(dir, `finished-${tag}`);
      const never = join(dir, `never-${tag}`);
      const rolledBack = join(dir, `rolled-back-${tag}`);
      const [run, journalFile] = await start(tag, {
        title: `graceful ${tag}`,
        targets: withDb(),
        method: [
          slow(tag),
          {
            action: {
              name: 'busy',
              command: { run: `touch ${marker}; sleep 2; touch ${finished}` },
            },
          },
          { action: { name: 'next', command: { run: `touch ${never}` } } },
        ],
        rollbacks: rollback(rolledBack),
      });
      await run.applied;
      await waitFor('the action to start', () => exists(marker), { timeoutMs: 60_000 });
      run.child.kill('SIGUSR1');
      const code = await exitCode(run.child);
      const out = run.output();
      assert.equal(code, 130, out);
      assert.ok(await exists(finished), 'the action in flight ran to its end');
      assert.equal(await exists(never), false, 'the step after it never started');
      const journal = JSON.parse(await readFile(journalFile, 'utf8')) as Journal;
      assert.equal(journal.faultline.outcome, 'interrupted');
      assert.match(
        journal.faultline.reason ?? '',
        /after the activities in progress \(received SIGUSR1\)/,
      );
      assert.deepEqual(
        journal.run.map((r) => [r.name, r.status]),
        [
          [`f-${tag}`, 'succeeded'],
          ['busy', 'succeeded'],
        ],
      );
      for (const fault of journal.faultline.faults) assert.equal(fault.state, 'removed');
      assert.deepEqual(
        proxy.toxics.filter((t) => t.name.includes(tag)),
        [],
      );
      assert.equal(journal.rollbacks[0]?.status, 'succeeded');
      assert.ok(await exists(rolledBack), "the rollback's command ran");
      assert.match(out, /stopping once the 1 activity in progress end/);
    },
  );

  it(
    'SIGUSR1 during a probe of the gate: the probe finishes and is judged, the method never starts',
    { timeout: 120_000 },
    async () => {
      const tag = `${++n}-graceful-gate`;
      const marker = join(dir, `in-flight-${tag}`);
      const rolledBack = join(dir, `rolled-back-${tag}`);
      const [run, journalFile] = await start(tag, {
        title: `graceful ${tag}`,
        targets: withDb(),
        steadyState: {
          probes: [{ name: 'slow-check', command: { run: `touch ${marker}; sleep 2` } }],
        },
        method: [slow(tag)],
        rollbacks: rollback(rolledBack),
      });
      await waitFor('the probe to start', () => exists(marker), { timeoutMs: 60_000 });
      run.child.kill('SIGUSR1');
      assert.equal(await exitCode(run.child), 130, run.output());
      const journal = JSON.parse(await readFile(journalFile, 'utf8')) as Journal;
      assert.equal(journal.faultline.outcome, 'interrupted');
      assert.equal(journal.steady_states.before?.probes[0]?.status, 'succeeded');
      assert.deepEqual(journal.faultline.faults, [], 'nothing was applied');
      assert.deepEqual(journal.run, []);
      assert.equal(await exists(rolledBack), false, 'the method never started: no rollbacks');
    },
  );

  it(
    'SIGUSR1 then SIGINT during a long action: the second signal stops it at once, the fault removed',
    { timeout: 120_000 },
    async () => {
      const tag = `${++n}-graceful-hurried`;
      const marker = join(dir, `in-flight-${tag}`);
      const rolledBack = join(dir, `rolled-back-${tag}`);
      const [run, journalFile] = await start(tag, {
        title: `graceful ${tag}`,
        targets: withDb(),
        method: [slow(tag), { action: { name: 'busy', command: { run: busy(marker) } } }],
        rollbacks: rollback(rolledBack),
      });
      await run.applied;
      await waitFor('the action to start', () => exists(marker), { timeoutMs: 60_000 });
      run.child.kill('SIGUSR1');
      await run.waitForOutput(/stopping once the 1 activity in progress end/, 'the graceful stop');
      const hurried = performance.now();
      run.child.kill('SIGINT');
      assert.equal(await exitCode(run.child), 130, run.output());
      // The action sleeps 30 s: ending well before proves it was interrupted, not waited for.
      assert.ok(performance.now() - hurried < 20_000, 'stopped without waiting out the action');
      const journal = JSON.parse(await readFile(journalFile, 'utf8')) as Journal;
      assert.match(journal.faultline.reason ?? '', /received SIGINT/);
      assert.deepEqual(
        journal.run.map((r) => [r.name, r.status]),
        [
          [`f-${tag}`, 'succeeded'],
          ['busy', 'interrupted'],
        ],
      );
      for (const fault of journal.faultline.faults) assert.equal(fault.state, 'removed');
      assert.deepEqual(
        proxy.toxics.filter((t) => t.name.includes(tag)),
        [],
      );
      assert.ok(await exists(rolledBack), "the rollback's command ran");
    },
  );
});
