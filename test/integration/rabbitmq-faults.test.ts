// The rabbitmq fault family against a RabbitMQ node this test starts itself (its own node name,
// ports and directories; never the shared rabbit@localhost), with amqplib connections as the
// application. Each fault runs through the runner from an experiment, is observed from the
// client's side (closed connections, connection.blocked / unblocked), removed and proven gone;
// then the runner is SIGKILLed mid-fault and the lease or `faultline recover` ends it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import amqp, { type ChannelModel } from 'amqplib';
import { stringify } from 'yaml';
import { findAgents } from '../../src/backends/local/agent.js';
import { memoryAlarm, readWatermark } from '../../src/backends/rabbitmq/watermark.js';
import type { Journal } from '../../src/journal/journal.js';
import type { RunEvent } from '../../src/runner/runner.js';
import { startRabbit, type PrivateRabbit } from '../helpers/private-brokers.js';
import {
  startRunner,
  killRunner,
  runFaultline,
  type RunnerChild,
} from '../helpers/runner-child.js';
import { runExperimentDoc } from '../helpers/run-experiment.js';
import { localAt } from '../helpers/locations.js';
import { needTool, TOOLS } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait-for.js';

const noRabbit = needTool(TOOLS.rabbitmqServer);

describe('rabbitmq faults (a private RabbitMQ node)', { timeout: 300_000, skip: noRabbit }, () => {
  let rabbit: PrivateRabbit;
  let dir: string;
  let runs = 0;
  const open: ChannelModel[] = [];

  before(async () => {
    rabbit = await startRabbit();
    dir = await mkdtemp(join(tmpdir(), 'fl-rabbit-faults-'));
  });
  after(async () => {
    for (const c of open) await c.close().catch(() => undefined);
    await rabbit?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function connect(name: string): Promise<ChannelModel> {
    const connection = await amqp.connect(rabbit.amqpUrl, {
      clientProperties: { connection_name: name },
    });
    connection.on('error', () => undefined);
    open.push(connection);
    return connection;
  }

  function experiment(
    method: unknown[],
    target: Record<string, unknown> = {},
  ): Record<string, unknown> {
    return {
      title: 'rabbitmq fault',
      targets: { broker: { type: 'rabbitmq', url: rabbit.amqpUrl, node: rabbit.node, ...target } },
      method,
      safety: { maxDuration: '90s' },
    };
  }

  async function run(
    doc: Record<string, unknown>,
    onEvent?: (e: RunEvent, at: number) => void,
  ): Promise<Journal> {
    return runExperimentDoc(doc, {
      file: `rabbit-${++runs}.yaml`,
      journalPath: join(dir, `${runs}.json`),
      onEvent,
    });
  }

  it("rabbitmq-close-connections: the application's matching connections close, others and faultline's own stay open", async () => {
    const app = await connect('orders-app');
    const bystander = await connect('billing');
    const own = await connect('fl-own-probe');
    const closed = once(app, 'close');
    const journal = await run(
      experiment([
        {
          fault: 'rabbitmq-close-connections',
          target: 'broker',
          match: { name: 'orders-*', user: 'guest', vhost: '/' },
          duration: '1s',
          name: 'close',
        },
      ]),
    );
    const [err] = (await closed) as [Error | undefined];
    assert.match(
      String(err),
      /CONNECTION_FORCED|faultline/,
      'the client was told the broker closed it',
    );
    // The others still work: a channel opens and a queue is declared on each.
    for (const c of [bystander, own]) {
      const channel = await c.createChannel();
      assert.ok((await channel.assertQueue('', { exclusive: true })).queue);
      await channel.close();
    }
    const fault = journal.faultline.faults[0]!;
    assert.equal(fault.state, 'removed', fault.error);
    assert.equal(fault.touched?.connections, 1);
    assert.match(
      (localAt(fault.location).handle as { closed: string[] }).closed[0]!,
      /\(orders-app\)$/,
    );
    assert.equal(journal.faultline.outcome, 'held', journal.faultline.reason);
  });

  it('rabbitmq-close-connections every: a connection opened during the fault is closed at the next round', async () => {
    const first = await connect('orders-first');
    const firstClosed = once(first, 'close');
    let late: Promise<unknown> | undefined;
    const journal = await run(
      experiment([
        {
          fault: 'rabbitmq-close-connections',
          target: 'broker',
          match: { name: 'orders-*' },
          every: '500ms',
          // Long enough for rounds to come after the late connection opens even when
          // rabbitmqctl answers slowly on a busy machine.
          duration: '8s',
          name: 'close-often',
        },
      ]),
      (e) => {
        if (e.type === 'fault-applied') late = connect('orders-late').then((c) => once(c, 'close'));
      },
    );
    await firstClosed;
    await late;
    const fault = journal.faultline.faults[0]!;
    assert.equal(fault.touched?.connections, 2);
    assert.deepEqual(
      (localAt(fault.location).handle as { closed: string[] }).closed.map(
        (c) => /\((.*)\)$/.exec(c)?.[1],
      ),
      ['orders-first', 'orders-late'],
    );
  });

  it('rabbitmq-memory-alarm: a publisher is blocked while it lasts and unblocked at removal; the watermark comes back exactly', async () => {
    await rabbit.ctl('set_vm_memory_high_watermark', '0.45');
    const publisher = await connect('orders-publisher');
    const channel = await publisher.createConfirmChannel();
    const queue = (await channel.assertQueue('', { exclusive: true })).queue;
    let blockedAt = 0;
    let unblockedAt = 0;
    let appliedAt = 0;
    let removedAt = 0;
    publisher.on('blocked', () => (blockedAt = Date.now()));
    publisher.on('unblocked', () => (unblockedAt = Date.now()));
    let confirmed: Promise<number> | undefined;
    const journal = await run(
      experiment([
        { fault: 'rabbitmq-memory-alarm', target: 'broker', duration: '3s', name: 'alarm' },
      ]),
      (e, at) => {
        if (e.type === 'fault-applied') {
          appliedAt = at;
          confirmed = new Promise<number>((resolve, reject) =>
            channel.sendToQueue(queue, Buffer.from('order'), {}, (err) =>
              err ? reject(err) : resolve(Date.now()),
            ),
          );
        }
        if (e.type === 'fault-removed') removedAt = at;
      },
    );
    const confirmedAt = await confirmed!;
    const fault = journal.faultline.faults[0]!;
    assert.equal(fault.state, 'removed', fault.error);
    assert.ok(
      blockedAt > 0 && blockedAt <= appliedAt + 1_000,
      'the broker told the publisher it is blocked',
    );
    assert.ok(
      unblockedAt >= appliedAt + 2_900 && unblockedAt <= removedAt + 1_000,
      `unblocked at removal (${unblockedAt - removedAt} ms from it)`,
    );
    assert.ok(confirmedAt >= unblockedAt, 'the message was only accepted once unblocked');
    assert.ok((fault.touched?.connections ?? 0) >= 1, 'a blocked publisher is counted');
    assert.deepEqual((localAt(fault.location).handle as { original: unknown }).original, {
      relative: 0.45,
    });
    assert.deepEqual(await readWatermark({ node: rabbit.node }), { relative: 0.45 });
    assert.deepEqual(await findAgents(localAt(fault.location).tag!), []);
    assert.deepEqual(journal.faultline.verification, [{ fault: 'alarm', gone: true }]);
  });

  it('a node rabbitmqctl cannot reach is refused before anything is applied', async () => {
    const journal = await run(
      experiment([{ fault: 'rabbitmq-memory-alarm', target: 'broker', duration: '1s' }], {
        node: `fltest-nosuch-${process.pid}@localhost`,
      }),
    );
    assert.equal(journal.faultline.faults.length, 0);
    assert.match(journal.faultline.reason ?? '', /rabbitmqctl cannot act on node fltest-nosuch/);
    assert.deepEqual(
      await readWatermark({ node: rabbit.node }),
      { relative: 0.45 },
      'the real node untouched',
    );
  });

  describe('a SIGKILLed runner (faultline run as a child process)', () => {
    // A 3 s lease grace (FAULTLINE_LEASE_GRACE_SECONDS) instead of 5: the lease test waits less,
    // and the alarm still outlasts the rabbitmqctl calls that check it right after the kill.
    const start = (file: string, stateDir: string): RunnerChild =>
      startRunner(['run', file], { stateDir, cwd: dir, leaseGraceSeconds: 3 });
    const alarmed = (): Promise<boolean> => memoryAlarm({ node: rabbit.node });

    it('rabbitmq-memory-alarm: the agent restores an absolute watermark at the deadline by itself', async () => {
      await rabbit.ctl('set_vm_memory_high_watermark', 'absolute', '3000000000');
      const file = join(dir, 'lease.yaml');
      await writeFile(
        file,
        stringify(
          experiment([
            { fault: 'rabbitmq-memory-alarm', target: 'broker', duration: '1s', name: 'leased' },
            { wait: '60s' },
          ]),
        ),
      );
      const stateDir = join(dir, 'state-lease');
      const child = start(file, stateDir);
      await child.applied;
      await killRunner(child.child);
      assert.equal(await alarmed(), true, 'the dead runner left the alarm');
      const journal = JSON.parse(
        await readFile(join(stateDir, (await readdir(stateDir)).at(-1)!), 'utf8'),
      ) as Journal;
      const deadline = Date.parse(journal.faultline.faults[0]!.expires_at!);
      await waitFor('the agent to clear the alarm', async () => !(await alarmed()), {
        timeoutMs: 60_000,
        intervalMs: 100,
        ignoreErrors: true,
      });
      assert.ok(Date.now() >= deadline - 1_000, 'not before its deadline');
      assert.deepEqual(await readWatermark({ node: rabbit.node }), { absolute: 3000000000 });
    });

    it('rabbitmq-memory-alarm: faultline recover restores the watermark at once', async () => {
      await rabbit.ctl('set_vm_memory_high_watermark', '0.4');
      const file = join(dir, 'recover.yaml');
      await writeFile(
        file,
        stringify(
          experiment([
            { fault: 'rabbitmq-memory-alarm', target: 'broker', duration: '60s', name: 'stuck' },
          ]),
        ),
      );
      const stateDir = join(dir, 'state-recover');
      const child = start(file, stateDir);
      await child.applied;
      await killRunner(child.child);
      assert.equal(await alarmed(), true);
      const { code, output: out } = await runFaultline(['recover'], { stateDir, cwd: dir });
      assert.equal(code, 0, out);
      assert.match(out, /stuck.*removed/);
      assert.equal(await alarmed(), false);
      assert.deepEqual(await readWatermark({ node: rabbit.node }), { relative: 0.4 });
      const journal = JSON.parse(
        await readFile(join(stateDir, (await readdir(stateDir)).at(-1)!), 'utf8'),
      ) as Journal;
      assert.deepEqual(await findAgents(localAt(journal.faultline.faults[0]!.location).tag!), []);
    });
  });
});
