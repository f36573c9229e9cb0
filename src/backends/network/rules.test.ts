import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExperiment } from '../../run-plan/read-experiment.js';
import { ValidationError } from '../../errors.js';
import type { NetworkTarget } from './rules.js';
import {
  parseHost,
  partitionScript,
  qdiscHandle,
  shapingCommands,
  tableName,
  undoCommands,
} from './rules.js';
import { requireSystem } from './system.js';

const target = (extra: Partial<NetworkTarget> = {}): NetworkTarget => ({
  type: 'network',
  interface: 'eth0',
  protocol: 'tcp',
  ...extra,
});

describe('network rules', () => {
  it('reads addresses and networks, and nothing else', () => {
    assert.deepEqual(parseHost('10.0.0.2'), { family: 4, address: '10.0.0.2', prefix: 32 });
    assert.deepEqual(parseHost('10.0.0.0/24'), { family: 4, address: '10.0.0.0', prefix: 24 });
    assert.deepEqual(parseHost('fd00::1'), { family: 6, address: 'fd00::1', prefix: 128 });
    for (const bad of ['db.internal', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/2/3', '10.0.0.256'])
      assert.equal(parseHost(bad), undefined, bad);
  });

  it('a partition is one table named after the tag, dropping both ways with counted SYNs', () => {
    const script = partitionScript(target({ host: '10.1.0.2', port: 5432 }), 'both', 'fl-run1-cut');
    assert.equal(tableName('fl-run1-cut'), 'faultline_fl_run1_cut');
    assert.match(script, /^table inet faultline_fl_run1_cut \{/);
    assert.match(
      script,
      /hook output[^\n]*\n\s+ip daddr 10\.1\.0\.2\/32 tcp dport 5432 tcp flags & \(syn \| ack\) == syn counter drop comment "syn"\n\s+ip daddr 10\.1\.0\.2\/32 tcp dport 5432 counter drop comment "drop"/,
    );
    assert.match(script, /hook input[^\n]*\n\s+ip saddr 10\.1\.0\.2\/32 tcp sport 5432 /);
    assert.doesNotMatch(partitionScript(target({ host: '10.1.0.2' }), 'to', 't'), /hook input/);
    assert.doesNotMatch(
      partitionScript(target({ port: 53, protocol: 'udp' }), 'from', 't'),
      /hook output|syn/,
    );
    assert.match(
      partitionScript(target({ port: 53, protocol: 'all' }), 'to', 't'),
      /meta l4proto \{ tcp, udp \} th dport 53 /,
    );
    assert.match(
      partitionScript(target({ host: 'fd00::/64' }), 'to', 't'),
      /ip6 daddr fd00::\/64 meta l4proto tcp /,
    );
  });

  it("shaping: an htb root with the tag's handle; host/port scope it with u32 filters both ends; netem under the class", () => {
    const handle = qdiscHandle('fl-run1-slow');
    assert.equal(handle, qdiscHandle('fl-run1-slow'), 'the same handle every time');
    assert.notEqual(handle, qdiscHandle('fl-run1-other'));
    const n = Number.parseInt(handle, 16);
    assert.ok(n >= 0x1000 && n < 0xe000);
    const whole = shapingCommands(
      target(),
      { fault: 'bandwidth', target: 'n', duration: '1s', rate: '100KB/s', stream: 'downstream' },
      'fl-run1-slow',
    ).map((c) => c.argv.join(' '));
    assert.deepEqual(whole, [
      `tc qdisc add dev eth0 root handle ${handle}: htb default 2`,
      `tc class add dev eth0 parent ${handle}: classid ${handle}:2 htb rate 800000bit ceil 800000bit burst 2000b cburst 2000b`,
    ]);
    const scoped = shapingCommands(
      target({ host: '10.1.0.2', port: 80 }),
      {
        fault: 'latency',
        target: 'n',
        duration: '1s',
        delay: '100ms',
        jitter: '10ms',
        stream: 'downstream',
      },
      'x',
    ).map((c) => c.argv.join(' '));
    const h = qdiscHandle('x');
    assert.equal(scoped[0], `tc qdisc add dev eth0 root handle ${h}: htb default 1`);
    assert.ok(
      scoped.includes(
        `tc qdisc add dev eth0 parent ${h}:2 handle ${(Number.parseInt(h, 16) + 1).toString(16)}: netem delay 100ms 10ms`,
      ),
    );
    assert.ok(
      scoped.includes(
        `tc filter add dev eth0 parent ${h}: protocol ip prio 1 u32 match ip dst 10.1.0.2/32 match ip protocol 6 0xff match ip dport 80 0xffff flowid ${h}:2`,
      ),
    );
    assert.ok(
      scoped.includes(
        `tc filter add dev eth0 parent ${h}: protocol ip prio 1 u32 match ip dst 10.1.0.2/32 match ip protocol 6 0xff match ip sport 80 0xffff flowid ${h}:2`,
      ),
    );
    const loss = shapingCommands(
      target(),
      { fault: 'packet-loss', target: 'n', duration: '1s', loss: '20%' },
      'x',
    ).map((c) => c.argv.join(' '));
    assert.match(loss.at(-1)!, /netem loss 20\.000%$/);
  });

  it('removal is exact: a table by name, a qdisc by handle', () => {
    assert.deepEqual(
      undoCommands({ table: 'faultline_t', qdisc: '1a2b', interface: 'veth0' }).map((c) =>
        c.argv.join(' '),
      ),
      ['nft delete table inet faultline_t', 'tc qdisc del dev veth0 root handle 1a2b:'],
    );
  });

  it('needs Linux and root, in plain words', () => {
    assert.throws(
      () => requireSystem('target "n"', [], { platform: 'darwin', uid: 0 }),
      /network faults need Linux .* this is darwin/,
    );
    assert.throws(
      () => requireSystem('target "n"', [], { platform: 'linux', uid: 1000 }),
      /target "n": network faults need root .* uid 1000/,
    );
    assert.throws(
      () => requireSystem('target "n"', ['no-such-tool-xyz'], { platform: 'linux', uid: 0 }),
      /no-such-tool-xyz is not installed/,
    );
  });

  it('refuses at load time a partition of everything and a host that is not an address, located', () => {
    const doc = JSON.stringify({
      title: 'x',
      targets: {
        net: { type: 'network' },
        named: { type: 'network', host: 'db.internal', port: 5432 },
      },
      method: [
        { fault: 'partition', target: 'net', duration: '5s' },
        { fault: 'bandwidth', target: 'named', duration: '5s', rate: '1MB/s' },
      ],
    });
    const err = (() => {
      try {
        parseExperiment(doc, 'net.json');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof ValidationError);
    const paths = err.issues.map((i) => `${i.path}: ${i.message}`);
    assert.ok(
      paths.some((p) => /^method\[0\]\.fault: a partition on "net" needs host or port/.test(p)),
      paths.join('\n'),
    );
    assert.ok(
      paths.some((p) =>
        /^targets\.named\.host: host db\.internal is not an IP address or CIDR/.test(p),
      ),
      paths.join('\n'),
    );
  });
});
