// Journals both ways with Chaos Toolkit: faultline's journal of a Chaos Toolkit run carries the
// keys Chaos Toolkit's report tooling reads (chaostoolkit-reporting's generate_report: a semver
// `chaoslib-version` it matches templates on, `node` as the host, `duration`, each run's
// `activity.provider`, every removal listed in `rollbacks[]`), and `faultline report` reads a
// journal written by `chaos run` (the shape chaoslib 1.x writes, built here field by field from
// chaoslib's journal keys) — never calling it held.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Journal } from '../../src/journal/journal.js';
import { readPlan } from '../../src/run-plan/read-plan.js';
import { runExperiment } from '../../src/runner/runner.js';
import { runCli } from '../helpers/cli.js';
import { startRemoteProxyStack } from '../helpers/services.js';

/** A journal as `chaos run` (chaoslib 1.45) writes it: a deviated run of a latency toxic. */
function chaosRunJournal(deviated: boolean): Record<string, unknown> {
  const probe = (met: boolean) => ({
    activity: {
      type: 'probe',
      name: 'api-healthy',
      tolerance: 200,
      provider: { type: 'http', url: 'http://127.0.0.1:1/health' },
    },
    output: { status: met ? 200 : 503, headers: {}, body: '' },
    start: '2026-11-30T10:00:00.000000',
    end: '2026-11-30T10:00:00.100000',
    duration: 0.1,
    status: 'succeeded',
    tolerance_met: met,
  });
  const action = {
    type: 'action',
    name: 'slow-db',
    provider: {
      type: 'python',
      module: 'chaostoxi.toxic.actions',
      func: 'create_latency_toxic',
      arguments: { for_proxy: 'db', toxic_name: 'slow', latency: 3000 },
    },
  };
  return {
    'chaoslib-version': '1.45.0',
    platform: 'Linux-6.1.0-x86_64-with-glibc2.36',
    node: 'ci-runner-7',
    experiment: {
      title: 'checkout survives a slow database',
      description: 'd',
      tags: ['service:checkout'],
      'steady-state-hypothesis': { title: 'healthy', probes: [probe(true).activity] },
      method: [action],
    },
    start: '2026-11-30T10:00:00.000000',
    status: 'completed',
    deviated,
    steady_states: {
      before: { steady_state_met: true, probes: [probe(true)] },
      after: { steady_state_met: !deviated, probes: [probe(!deviated)] },
      during: [],
    },
    run: [
      {
        activity: action,
        output: true,
        start: '2026-11-30T10:00:01.000000',
        end: '2026-11-30T10:00:01.100000',
        duration: 0.1,
        status: 'succeeded',
      },
    ],
    rollbacks: [],
    end: '2026-11-30T10:00:10.000000',
    duration: 10.0,
  };
}

describe('Chaos Toolkit journals, both ways', () => {
  let stack: Awaited<ReturnType<typeof startRemoteProxyStack>>;
  before(async () => {
    stack = await startRemoteProxyStack('faultline-ctk-journals-');
  });
  after(() => stack.close());

  it("faultline's journal of a Chaos Toolkit run has the keys chaos report reads, every removal listed", async () => {
    const toxi = (name: string, func: string, args: Record<string, unknown>) => ({
      type: 'action',
      name,
      provider: { type: 'python', module: 'chaostoxi.toxic.actions', func, arguments: args },
    });
    const file = join(stack.dir, 'ctk.json');
    await writeFile(
      file,
      JSON.stringify({
        title: 't',
        description: 'd',
        method: [
          toxi('slow', 'create_latency_toxic', {
            for_proxy: 'db',
            toxic_name: 'slow',
            latency: 10,
          }),
        ],
        rollbacks: [toxi('fast-again', 'delete_toxic', { for_proxy: 'db', toxic_name: 'slow' })],
      }),
    );
    const plan = await readPlan(file, { env: {}, vars: { toxiproxy_url: stack.api.url } });
    await runExperiment(plan, { journalPath: join(stack.dir, 'j.json') });
    const journal = JSON.parse(await readFile(join(stack.dir, 'j.json'), 'utf8')) as Journal &
      Record<string, unknown>;
    assert.match(
      String(journal['chaoslib-version']),
      /^\d+\.\d+\.\d+$/,
      'a semver (templates are matched on it)',
    );
    assert.equal(journal.node, hostname(), "the host, Chaos Toolkit's meaning");
    assert.equal(journal.faultline.node_version, process.version);
    assert.equal(typeof journal.duration, 'number');
    for (const run of [...journal.run, ...journal.rollbacks])
      assert.ok(
        (run.activity as { provider?: unknown }).provider,
        `${run.name}: activity.provider`,
      );
    const rollback = journal.rollbacks.find((r) => r.name === 'fast-again');
    assert.ok(
      rollback,
      `the removal is listed in rollbacks[]: ${JSON.stringify(journal.rollbacks)}`,
    );
    assert.equal(rollback.status, 'succeeded');
    // faultline removes every fault before the rollbacks: the toxic was already gone.
    assert.deepEqual(rollback.output, { removed: [], already_removed: ['slow'] });
  });

  it('faultline report reads a chaos run journal: deviated is deviated, completed is inconclusive (never held)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-ctk-report-'));
    try {
      await mkdir(join(dir, 'history'));
      await writeFile(join(dir, 'history', 'deviated.json'), JSON.stringify(chaosRunJournal(true)));
      await writeFile(
        join(dir, 'history', 'completed.json'),
        JSON.stringify(chaosRunJournal(false)),
      );
      const env = { PATH: process.env['PATH'] };
      const md = await runCli(['report', join(dir, 'history', 'deviated.json')], { env });
      assert.equal(md.code, 0, md.stderr);
      assert.match(md.stdout, /DEVIATED/);
      assert.match(md.stdout, /checkout survives a slow database/);
      const page = await runCli(
        ['report', join(dir, 'history', 'deviated.json'), '--html', join(dir, 'r.html')],
        { env },
      );
      assert.equal(page.code, 0, page.stderr);
      const html = await readFile(join(dir, 'r.html'), 'utf8');
      assert.match(html, /ci-runner-7/, 'the host the run was made from');
      const held = await runCli(['report', join(dir, 'history', 'completed.json')], {
        env: { PATH: process.env['PATH'] },
      });
      assert.equal(held.code, 0, held.stderr);
      assert.match(held.stdout, /INCONCLUSIVE/);
      assert.doesNotMatch(held.stdout, /\bHELD\b/);
      const summary = await runCli(['report', '--summary', join(dir, 'history'), '--json'], {
        env: { PATH: process.env['PATH'] },
      });
      assert.equal(summary.code, 0, summary.stderr);
      assert.match(summary.stdout, /checkout/, 'the service of the tag');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
