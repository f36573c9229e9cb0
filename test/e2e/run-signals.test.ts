// `faultline run` as a real child process against a remote faultline proxy server (served by
// this test process): SIGKILL mid-fault leaves a fault that its lease removes by itself and
// that `faultline recover` removes at once; SIGINT rolls back and exits 130; --dry-run applies
// nothing; a bad file exits 2 with located problems.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { FaultProxy, ProxyCollection } from '../../src/index.js';
import type { Journal } from '../../src/journal/journal.js';
import { startRemoteProxyStack } from '../helpers/services.js';
import {
  startRunner,
  killRunner,
  runFaultline,
  exitCode,
  type RunnerChild,
} from '../helpers/runner-child.js';
import { entryArgs } from '../helpers/entry.js';

describe('faultline run and recover (child processes)', () => {
  let stack: Awaited<ReturnType<typeof startRemoteProxyStack>>;
  let dir: string;
  let stateDir: string;
  let collection: ProxyCollection;
  let api: { url: string };
  let service: Awaited<ReturnType<typeof startRemoteProxyStack>>['service'];
  let proxy: FaultProxy;

  before(async () => {
    stack = await startRemoteProxyStack('faultline-run-');
    ({ dir, collection, api, service, proxy } = stack);
    stateDir = join(dir, 'state');
  });
  after(() => stack.close());

  async function experimentFile(
    name: string,
    method: unknown[],
    extra: Record<string, unknown> = {},
  ): Promise<string> {
    const file = join(dir, name);
    await writeFile(
      file,
      stringify({
        title: `signals: ${name}`,
        targets: { db: { type: 'remote-proxy', url: api.url, proxy: 'db' } },
        steadyState: { probes: [{ name: 'health', http: { url: `${service.url}/health` } }] },
        method,
        safety: { maxDuration: '2m' },
        ...extra,
      }),
    );
    return file;
  }

  const start = (args: string[]): RunnerChild => startRunner(args, { stateDir, cwd: dir });

  it(
    'SIGKILL mid-fault: the fault stays only until faultline recover removes it',
    { timeout: 60_000 },
    async () => {
      const file = await experimentFile('kill.yaml', [
        { fault: 'latency', target: 'db', delay: '10ms', duration: '60s', name: 'slow-db' },
      ]);
      const run = start(['run', file]);
      await run.applied;
      await killRunner(run.child);
      assert.deepEqual(
        proxy.toxics.map((t) => t.name),
        ['slow-db'],
        'the killed runner left its fault',
      );
      assert.ok(proxy.toxics[0]?.expiresAt, 'but the fault carries a lease');

      const { code, stdout: out } = await runFaultline(['recover'], { stateDir, cwd: dir });
      assert.equal(code, 0, out);
      assert.match(out, /fault slow-db on db .*removed/);
      assert.equal(proxy.toxics.length, 0, 'recover removed it');

      const journals = await readdir(stateDir);
      const journal = JSON.parse(
        await readFile(join(stateDir, journals.at(-1)!), 'utf8'),
      ) as Journal;
      assert.equal(journal.status, 'aborted');
      assert.equal(journal.faultline.faults[0]?.state, 'removed');
      assert.ok(journal.faultline.recovered_at);
    },
  );

  it(
    'SIGKILL mid-fault: without recover, the lease removes the fault by itself',
    { timeout: 60_000 },
    async () => {
      const file = await experimentFile('lease.yaml', [
        { fault: 'latency', target: 'db', delay: '10ms', duration: '1s', name: 'leased' },
        { wait: '30s' },
      ]);
      // A 2 s grace (FAULTLINE_LEASE_GRACE_SECONDS) instead of the default 5: the lease is 1 s + 2 s.
      const run = startRunner(['run', file], { stateDir, cwd: dir, leaseGraceSeconds: 2 });
      const expired = once(collection, 'lease-expired') as Promise<[string, string]>;
      await run.applied;
      await killRunner(run.child);
      assert.equal(proxy.toxics.length, 1);
      const deadline = proxy.toxics[0]!.expiresAt!.getTime();
      assert.ok(
        deadline - Date.now() <= 3_000,
        `the lease is the fault duration plus the grace (${deadline - Date.now()} ms left)`,
      );
      const [, what] = await expired;
      assert.match(what, /leased/);
      assert.equal(proxy.toxics.length, 0);
      assert.ok(Date.now() >= deadline - 50, 'not before its deadline');
    },
  );

  it('SIGINT removes the fault, runs rollbacks and exits 130', { timeout: 60_000 }, async () => {
    const marker = join(dir, 'rolled-back');
    const file = await experimentFile(
      'interrupt.yaml',
      [{ fault: 'latency', target: 'db', delay: '10ms', duration: '60s', name: 'int' }],
      {
        rollbacks: [{ name: 'mark', command: { run: `touch ${marker}` } }],
      },
    );
    const run = start(['run', file, '--journal', join(dir, 'interrupt-journal.json')]);
    await run.applied;
    run.child.kill('SIGINT');
    assert.equal(await exitCode(run.child), 130, run.output());
    assert.equal(proxy.toxics.length, 0, 'the fault was removed');
    const journal = JSON.parse(
      await readFile(join(dir, 'interrupt-journal.json'), 'utf8'),
    ) as Journal;
    assert.equal(journal.status, 'interrupted');
    assert.equal(journal.faultline.faults[0]?.state, 'removed');
    assert.equal(journal.rollbacks[0]?.status, 'succeeded');
    await readFile(marker); // the rollback ran
  });

  it(
    '--dry-run prints the plan, checks the targets and applies nothing',
    { timeout: 30_000 },
    async () => {
      const valid = await experimentFile('dry-ok.yaml', [
        { fault: 'reset-peer', target: 'db', duration: '10s', percentage: '10%' },
      ]);
      const { code, stdout: out } = await runFaultline(['run', valid, '--dry-run'], {
        stateDir,
        cwd: dir,
      });
      assert.equal(code, 0, out);
      assert.match(
        out,
        /connection reset \(RST\) on db \(downstream\) on 10% of connections for 10s/,
      );
      assert.match(out, /target db: reachable/);
      assert.match(out, /nothing was applied/);
      assert.equal(proxy.toxics.length, 0);
    },
  );

  it(
    'a bad experiment exits 2 with every problem located and no stack trace',
    { timeout: 30_000 },
    async () => {
      const file = join(dir, 'bad.yaml');
      await writeFile(
        file,
        [
          'title: bad',
          'method:',
          '  - fault: latncy',
          '    target: nowhere',
          '    duration: 10s',
          '  - wait: soon',
          '',
        ].join('\n'),
      );
      const child = spawn(process.execPath, entryArgs('cli/main', 'run', file), { cwd: dir });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d));
      assert.equal(await exitCode(child), 2, err);
      assert.match(err, /bad\.yaml:3:\d+/);
      assert.match(err, /latency/);
      assert.match(err, /bad\.yaml:6:\d+/);
      assert.doesNotMatch(err, /\n\s+at /);
    },
  );

  it(
    'FAULTLINE_LEASE_GRACE_SECONDS that is not a non-negative number is a usage error (exit 2) and applies nothing',
    { timeout: 60_000 },
    async () => {
      const file = await experimentFile('bad-grace.yaml', [
        { fault: 'latency', target: 'db', delay: '10ms', duration: '10s', name: 'never' },
      ]);
      for (const value of ['soon', '-1', '5s']) {
        const child = spawn(process.execPath, entryArgs('cli/main', 'run', file), {
          cwd: dir,
          env: {
            ...process.env,
            FAULTLINE_STATE_DIR: stateDir,
            FAULTLINE_LEASE_GRACE_SECONDS: value,
          },
        });
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err += d));
        const [code] = (await once(child, 'close')) as [number | null]; // its stderr read to the end
        assert.equal(code, 2, err);
        assert.match(
          err,
          new RegExp(`FAULTLINE_LEASE_GRACE_SECONDS ${value} is not a number of seconds`),
        );
        assert.doesNotMatch(err, /\n\s+at /);
        assert.equal(proxy.toxics.length, 0, 'nothing applied');
      }
    },
  );

  it(
    'faultline halt removes the faults of every running experiment at once and stops them',
    { timeout: 60_000 },
    async () => {
      const a = start([
        'run',
        await experimentFile('halt-a.yaml', [
          { fault: 'latency', target: 'db', delay: '10ms', duration: '60s', name: 'halt-a' },
        ]),
      ]);
      const b = start([
        'run',
        await experimentFile('halt-b.yaml', [
          { fault: 'bandwidth', target: 'db', rate: '1MB/s', duration: '60s', name: 'halt-b' },
        ]),
      ]);
      await Promise.all([a.applied, b.applied]);
      assert.equal(proxy.toxics.length, 2);
      const { code, stdout: out } = await runFaultline(['halt'], { stateDir, cwd: dir });
      assert.equal(code, 0, out);
      assert.equal(proxy.toxics.length, 0, 'every fault removed');
      // Remote toxics are removed by halt itself, through the server's API (not left to the runners).
      assert.match(out, /^fault halt-a on db \(run \w+\): removed by halt$/m);
      assert.match(out, /^fault halt-b on db \(run \w+\): removed by halt$/m);
      assert.doesNotMatch(out, /removed by its runner|gone with|NOT removed/);
      assert.equal(
        out.match(/^run \w+ "signals: halt-[ab]\.yaml" \(pid \d+\): stopped$/gm)?.length,
        2,
        out,
      );
      assert.equal(await exitCode(a.child), 130);
      assert.equal(await exitCode(b.child), 130);
    },
  );
});
