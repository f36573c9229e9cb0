// The network family in network namespaces the test creates (two namespaces joined by a veth
// pair, 10.231.<n>.0/24): a real TCP server in one, real clients in the other. Each fault goes
// through the runner from an experiment and is observed from outside — connections fail under a
// partition, a download slows to the rate under bandwidth, both work again after removal — and
// a rule faultline did not add survives. The host's interfaces and the root namespace's rules
// are never touched. A SIGKILLed runner's partition ends at its lease, and recover removes it.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findAgents } from '../../src/backends/local/agent.js';
import type { Journal } from '../../src/journal/journal.js';
import { runUntilApplied, killRunner, runFaultline } from '../helpers/runner-child.js';
import { runExperimentDoc, type FaultApplied } from '../helpers/run-experiment.js';
import { localAt } from '../helpers/locations.js';
import { needTool, TOOLS } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait-for.js';

const SUBNET = `10.231.${process.pid % 250}`;
const CLIENT_NS = `fl-test-${process.pid}-c`;
const SERVER_NS = `fl-test-${process.pid}-s`;
const CLIENT_IP = `${SUBNET}.1`;
const SERVER_IP = `${SUBNET}.2`;
const PORT = 7070;
const PAYLOAD = 300_000;

/** Sends PAYLOAD bytes to every connection, then closes it. */
const SERVER = `
const net = require('node:net');
const data = Buffer.alloc(${PAYLOAD}, 7);
net.createServer((s) => { s.on('error', () => {}); s.end(data); }).listen(${PORT}, '${SERVER_IP}', () => console.log('listening'));
`;
/** Connects, reads everything, prints { ok, bytes, ms } (ok false on timeout or error). */
const CLIENT = `
const net = require('node:net');
const t0 = performance.now(); let bytes = 0;
const s = net.connect({ host: '${SERVER_IP}', port: ${PORT} });
const done = (ok) => { console.log(JSON.stringify({ ok, bytes, ms: performance.now() - t0 })); process.exit(0); };
s.setTimeout(Number(process.argv[1] || 2000), () => done(false));
s.on('data', (d) => (bytes += d.length)); s.on('end', () => done(bytes === ${PAYLOAD})); s.on('error', () => done(false));
`;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

function inNs(ns: string, argv: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, ...argv], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function fetchPayload(timeoutMs = 2000): Promise<{ ok: boolean; bytes: number; ms: number }> {
  const child = spawn(
    'ip',
    ['netns', 'exec', CLIENT_NS, process.execPath, '-e', CLIENT, String(timeoutMs)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  await once(child, 'exit');
  return JSON.parse(out) as { ok: boolean; bytes: number; ms: number };
}

const tables = (ns: string): string => inNs(ns, ['nft', 'list', 'tables']);
const rootQdisc = (ns: string, dev: string): string =>
  inNs(ns, ['tc', 'qdisc', 'show', 'dev', dev, 'root']);

const noIp = needTool(TOOLS.ip, TOOLS.tc, TOOLS.iptables, TOOLS.nft);

describe('network faults (namespaces the test creates, through the runner)', { skip: noIp }, () => {
  let dir: string;
  let server: ChildProcess | undefined;
  const children: ChildProcess[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-network-'));
    ip('netns', 'add', CLIENT_NS);
    ip('netns', 'add', SERVER_NS);
    ip(
      'link',
      'add',
      `flc${process.pid % 100000}`,
      'type',
      'veth',
      'peer',
      'name',
      `fls${process.pid % 100000}`,
    );
    ip('link', 'set', `flc${process.pid % 100000}`, 'netns', CLIENT_NS, 'name', 'veth0');
    ip('link', 'set', `fls${process.pid % 100000}`, 'netns', SERVER_NS, 'name', 'veth0');
    ip('-n', CLIENT_NS, 'addr', 'add', `${CLIENT_IP}/24`, 'dev', 'veth0');
    ip('-n', SERVER_NS, 'addr', 'add', `${SERVER_IP}/24`, 'dev', 'veth0');
    for (const ns of [CLIENT_NS, SERVER_NS]) {
      ip('-n', ns, 'link', 'set', 'veth0', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    server = spawn('ip', ['netns', 'exec', SERVER_NS, process.execPath, '-e', SERVER], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => server!.stdout!.once('data', () => resolve()));
    // Rules faultline did not add, which must survive every removal.
    inNs(CLIENT_NS, [
      'iptables',
      '-A',
      'OUTPUT',
      '-d',
      `${SUBNET}.99`,
      '-m',
      'comment',
      '--comment',
      'not-faultline',
      '-j',
      'DROP',
    ]);
    execFileSync('ip', ['netns', 'exec', CLIENT_NS, 'nft', '-f', '-'], {
      input:
        'table inet keepme {\n  chain c {\n    type filter hook output priority 0; policy accept;\n  }\n}\n',
    });
  });
  after(async () => {
    server?.kill('SIGKILL');
    for (const child of children) child.kill('SIGKILL');
    for (const ns of [CLIENT_NS, SERVER_NS]) spawnSync('ip', ['netns', 'del', ns]);
    // A before() that failed between creating the veth pair and moving it leaves it here.
    spawnSync('ip', ['link', 'del', `flc${process.pid % 100000}`], { stdio: 'ignore' });
    await rm(dir, { recursive: true, force: true });
  });

  function unrelatedRulesSurvive(): void {
    assert.match(
      inNs(CLIENT_NS, ['iptables', '-S', 'OUTPUT']),
      /-d 10\.231\.\d+\.99\/32 .*not-faultline.* -j DROP/,
    );
    assert.match(tables(CLIENT_NS), /table inet keepme/);
  }

  let runs = 0;
  async function run(
    doc: Record<string, unknown>,
    during?: (event: FaultApplied) => Promise<void>,
  ): Promise<Journal> {
    const file = `network-${++runs}.yaml`;
    return runExperimentDoc(
      { title: file, safety: { maxDuration: '1m' }, ...doc },
      { file, journalPath: join(dir, `${runs}.json`), during },
    );
  }

  it(
    'partition: connections to the server fail while it holds, work again after, and only its table goes',
    { timeout: 60_000 },
    async () => {
      assert.equal((await fetchPayload()).ok, true, 'works before');
      const target = { type: 'network', netns: CLIENT_NS, host: SERVER_IP, port: PORT };
      const journal = await run(
        {
          targets: { db: target },
          method: [{ fault: 'partition', target: 'db', duration: '5s', name: 'cut' }],
        },
        async (event) => {
          assert.match(
            tables(CLIENT_NS),
            new RegExp(`table inet ${localAt(event.fault.location).handle!['table'] as string}`),
          );
          const cut = await fetchPayload(1500);
          assert.equal(cut.ok, false, 'the connection fails under the partition');
          assert.equal(cut.bytes, 0);
        },
      );
      const fault = journal.faultline.faults[0]!;
      assert.equal(fault.state, 'removed', journal.faultline.reason);
      assert.ok(
        fault.touched && fault.touched.connections >= 1 && fault.touched.bytes > 0,
        `dropped SYNs counted: ${JSON.stringify(fault.touched)}`,
      );
      assert.doesNotMatch(tables(CLIENT_NS), /faultline_/);
      assert.deepEqual(await findAgents(localAt(fault.location).tag!), []);
      assert.deepEqual(journal.faultline.verification, [{ fault: 'cut', gone: true }]);
      unrelatedRulesSurvive();
      assert.equal((await fetchPayload()).ok, true, 'works again');
    },
  );

  it(
    'partition from the server only (direction from): the answer never arrives',
    { timeout: 60_000 },
    async () => {
      const journal = await run(
        {
          targets: { db: { type: 'network', netns: CLIENT_NS, host: SERVER_IP, port: PORT } },
          method: [{ fault: 'partition', target: 'db', duration: '4s', direction: 'from' }],
        },
        async () => {
          assert.equal((await fetchPayload(1500)).ok, false);
        },
      );
      assert.equal(journal.faultline.faults[0]!.state, 'removed', journal.faultline.reason);
      assert.equal((await fetchPayload()).ok, true);
    },
  );

  it(
    'bandwidth: a download slows to about the rate, and is fast again after',
    { timeout: 60_000 },
    async () => {
      const fast = await fetchPayload();
      assert.equal(fast.ok, true);
      // Shaped where the data leaves: the server's side, toward the client, answers from PORT.
      const target = {
        type: 'network',
        netns: SERVER_NS,
        interface: 'veth0',
        host: CLIENT_IP,
        port: PORT,
      };
      let slow = { ok: false, bytes: 0, ms: 0 };
      const journal = await run(
        {
          targets: { link: target },
          method: [
            { fault: 'bandwidth', target: 'link', duration: '12s', rate: '100KB/s', name: 'slow' },
          ],
        },
        async (event) => {
          assert.match(
            rootQdisc(SERVER_NS, 'veth0'),
            new RegExp(`htb ${localAt(event.fault.location).handle!['qdisc'] as string}:`),
          );
          slow = await fetchPayload(10_000);
        },
      );
      assert.equal(slow.ok, true, 'the download completes');
      // 300 KB at 100 KB/s ≈ 3 s (the first bucket's burst makes it a little less).
      assert.ok(slow.ms > 2_200 && slow.ms < 6_000, `took ${slow.ms.toFixed(0)} ms, about 3 s`);
      assert.ok(fast.ms < 1_500, `unshaped took ${fast.ms.toFixed(0)} ms`);
      const fault = journal.faultline.faults[0]!;
      assert.equal(fault.state, 'removed', journal.faultline.reason);
      assert.ok(
        (fault.touched?.bytes ?? 0) >= PAYLOAD,
        `bytes through the shaped class: ${JSON.stringify(fault.touched)}`,
      );
      assert.match(rootQdisc(SERVER_NS, 'veth0'), /qdisc noqueue 0: root/);
      assert.ok((await fetchPayload()).ms < 1_500, 'fast again');
    },
  );

  it(
    'bandwidth refuses an interface that already has a root qdisc, and leaves it be',
    { timeout: 30_000 },
    async () => {
      inNs(CLIENT_NS, [
        'tc',
        'qdisc',
        'add',
        'dev',
        'veth0',
        'root',
        'handle',
        '9:',
        'htb',
        'default',
        '1',
      ]);
      try {
        const journal = await run({
          targets: { link: { type: 'network', netns: CLIENT_NS, interface: 'veth0' } },
          method: [{ fault: 'bandwidth', target: 'link', duration: '3s', rate: '1MB/s' }],
        });
        assert.equal(journal.faultline.faults[0]?.state, 'failed');
        assert.match(
          journal.faultline.reason ?? journal.faultline.faults[0]?.error ?? '',
          /already has a root qdisc \(htb 9:\)/,
        );
        assert.match(rootQdisc(CLIENT_NS, 'veth0'), /htb 9: root/);
      } finally {
        inNs(CLIENT_NS, ['tc', 'qdisc', 'del', 'dev', 'veth0', 'root']);
      }
    },
  );

  it(
    'latency and packet-loss say plainly, at preparation, when the kernel has no netem',
    { timeout: 30_000 },
    async () => {
      // The kernel's own answer, asked in a namespace of the test's: does it have netem?
      const probe = spawnSync(
        'ip',
        [
          'netns',
          'exec',
          SERVER_NS,
          'tc',
          'qdisc',
          'add',
          'dev',
          'lo',
          'root',
          'netem',
          'delay',
          '1ms',
        ],
        { encoding: 'utf8' },
      );
      spawnSync('ip', ['netns', 'exec', SERVER_NS, 'tc', 'qdisc', 'del', 'dev', 'lo', 'root']);
      const journal = await run({
        targets: { link: { type: 'network', netns: CLIENT_NS, interface: 'veth0' } },
        method: [
          { fault: 'latency', target: 'link', duration: '2s', delay: '100ms', name: 'slow' },
        ],
      });
      if (probe.status === 0) {
        assert.equal(journal.faultline.faults[0]?.state, 'removed', journal.faultline.reason);
      } else {
        assert.equal(journal.faultline.faults.length, 0, 'nothing applied');
        assert.match(
          journal.faultline.reason ?? '',
          /latency "slow" needs the netem qdisc, and the kernel has no netem qdisc: tc says "Error: Specified qdisc kind is unknown\."/,
        );
        assert.match(rootQdisc(CLIENT_NS, 'veth0'), /noqueue 0:/);
      }
    },
  );

  describe('a SIGKILLed runner (faultline run as a child process)', () => {
    let stateDir: string;
    before(async () => {
      stateDir = await mkdtemp(join(dir, 'state-'));
    });

    async function startAndKill(name: string, doc: Record<string, unknown>): Promise<void> {
      // A 2 s lease grace (FAULTLINE_LEASE_GRACE_SECONDS) instead of 5: the lease test waits less.
      const child = await runUntilApplied(name, doc, { stateDir, cwd: dir, leaseGraceSeconds: 2 });
      children.push(child);
      await killRunner(child);
    }

    it(
      'mid-partition: the agent removes its table at the lease by itself',
      { timeout: 60_000 },
      async () => {
        await startAndKill('lease.yaml', {
          targets: { db: { type: 'network', netns: CLIENT_NS, host: SERVER_IP, port: PORT } },
          method: [{ fault: 'partition', target: 'db', duration: '1s' }, { wait: '60s' }],
        });
        const killedAt = Date.now();
        assert.match(tables(CLIENT_NS), /faultline_/, 'still cut right after the runner died');
        await waitFor(
          'the agent to remove the table',
          () => !/faultline_/.test(tables(CLIENT_NS)),
          { timeoutMs: 30_000, intervalMs: 100 },
        );
        assert.ok(
          Date.now() - killedAt < 8_000,
          `lease = 1 s + 2 s of grace; removed ${Date.now() - killedAt} ms after the kill`,
        );
        assert.equal((await fetchPayload()).ok, true);
        unrelatedRulesSurvive();
      },
    );

    it(
      'mid-bandwidth: faultline recover removes the qdisc at once',
      { timeout: 60_000 },
      async () => {
        await startAndKill('recover.yaml', {
          targets: { link: { type: 'network', netns: SERVER_NS, interface: 'veth0' } },
          method: [{ fault: 'bandwidth', target: 'link', duration: '60s', rate: '50KB/s' }],
        });
        assert.match(rootQdisc(SERVER_NS, 'veth0'), /htb/);
        const { code, output: out } = await runFaultline(['recover'], { stateDir, cwd: dir });
        assert.equal(code, 0, out);
        assert.match(rootQdisc(SERVER_NS, 'veth0'), /noqueue 0:/);
        assert.ok((await fetchPayload()).ms < 1_500);
      },
    );
  });
});
