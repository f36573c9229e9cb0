/**
 * What the network family adds to the kernel, as commands: pure functions of the target, the
 * fault and its tag, so the agent that applies them, the removal and `faultline recover` all
 * agree on exactly which rules are faultline's.
 *
 * - partition: one nftables table of its own, `inet faultline_<tag>`, with an output chain
 *   (traffic to host:port) and/or an input chain (traffic from host:port) that drop. Removal
 *   deletes that table and nothing else; a drop in any base chain is final, so other tables
 *   (iptables-nft's included) can neither let the traffic through nor be touched.
 * - bandwidth, latency, packet-loss: an htb root qdisc on the interface with a handle derived
 *   from the tag; without host/port all egress goes through the shaped class, with them a u32
 *   filter sends only packets toward host (with port at either end) there. Latency and loss hang
 *   a netem qdisc below that class. Removal deletes the root qdisc by its handle (the kernel
 *   refuses the deletion when the root is someone else's).
 */
import { isIP } from 'node:net';
import type { Fault, Target } from '../../experiment/schema.js';
import { parseDuration, parsePercentage, parseRate } from '../../experiment/duration.js';

export type NetworkTarget = Extract<Target, { type: 'network' }>;
export type NetworkFault = Extract<
  Fault,
  { fault: 'partition' | 'bandwidth' | 'latency' | 'packet-loss' }
>;

/** One command, run with no shell (inside the target's namespace); `input` goes to its stdin. */
export interface Command {
  argv: string[];
  input?: string | undefined;
}

/** What removal needs, journaled in the fault's location. */
export interface NetworkHandle {
  netns?: string | undefined;
  interface?: string | undefined;
  /** partition: the nftables table (family inet). */
  table?: string | undefined;
  /** shaping: the root qdisc's major handle, hex (`1a2b`). */
  qdisc?: string | undefined;
  agent?: number | undefined;
}

/** An address or CIDR: `10.0.0.2`, `10.0.0.0/24`, `fd00::1`; undefined when it is not one. */
export function parseHost(
  host: string,
): { family: 4 | 6; address: string; prefix: number } | undefined {
  const [address = '', prefixText, extra] = host.split('/');
  if (extra !== undefined) return undefined;
  const family = isIP(address);
  if (family !== 4 && family !== 6) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (
    !Number.isInteger(prefix) ||
    prefix < 0 ||
    prefix > max ||
    (prefixText !== undefined && !/^\d+$/.test(prefixText))
  )
    return undefined;
  return { family, address, prefix };
}

/** The nftables table of a partition: `faultline_` + the tag in identifier characters. */
export function tableName(tag: string): string {
  return `faultline_${tag.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** The root qdisc's major handle (hex), from the tag: the same in the agent, removal and recover. */
export function qdiscHandle(tag: string): string {
  let hash = 0x811c9dc5;
  for (const ch of tag) hash = Math.imul(hash ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return (0x1000 + (hash % 0xd000)).toString(16); // 1000–dfff: clear of 1:, ffff: and the child's +1
}

function portMatch(target: NetworkTarget, end: 'dport' | 'sport'): string {
  const proto = target.protocol;
  if (target.port === undefined) return proto === 'all' ? '' : `meta l4proto ${proto}`;
  return proto === 'all'
    ? `meta l4proto { tcp, udp } th ${end} ${target.port}`
    : `${proto} ${end} ${target.port}`;
}

/** The nftables script that adds a partition's table (loaded with `nft -f -`). */
export function partitionScript(
  target: NetworkTarget,
  direction: 'to' | 'from' | 'both',
  tag: string,
): string {
  const host = target.host === undefined ? undefined : parseHost(target.host);
  if (target.host !== undefined && !host)
    throw new Error(`host ${target.host} is not an IP address or CIDR`);
  const ip = host?.family === 6 ? 'ip6' : 'ip';
  const addr = host ? `${host.address}/${host.prefix}` : '';
  const rules = (addrKey: 'daddr' | 'saddr', end: 'dport' | 'sport'): string[] => {
    const match = [host ? `${ip} ${addrKey} ${addr}` : '', portMatch(target, end)]
      .filter(Boolean)
      .join(' ');
    const lines = [];
    // Counted apart: new TCP connections refused (SYNs, retransmissions included).
    if (target.protocol !== 'udp')
      lines.push(`    ${match} tcp flags & (syn | ack) == syn counter drop comment "syn"`);
    lines.push(`    ${match} counter drop comment "drop"`);
    return lines;
  };
  const chains: string[] = [];
  if (direction !== 'from')
    chains.push(
      '  chain output {',
      '    type filter hook output priority -10; policy accept;',
      ...rules('daddr', 'dport'),
      '  }',
    );
  if (direction !== 'to')
    chains.push(
      '  chain input {',
      '    type filter hook input priority -10; policy accept;',
      ...rules('saddr', 'sport'),
      '  }',
    );
  return [`table inet ${tableName(tag)} {`, ...chains, '}', ''].join('\n');
}

/** Bytes per second as tc reads them (bits). */
function tcRate(bytesPerSecond: number): string {
  return `${Math.max(8, Math.round(bytesPerSecond * 8))}bit`;
}

function ms(duration: string): string {
  return `${parseDuration(duration) ?? 0}ms`;
}

function percent(text: string): string {
  return `${((parsePercentage(text) ?? 0) * 100).toFixed(3)}%`;
}

/** The tc commands that shape the interface for bandwidth, latency or packet-loss. */
// eslint-disable-next-line max-lines-per-function -- the tc commands of one shaping fault, in the order the kernel needs them
export function shapingCommands(
  target: NetworkTarget,
  fault: NetworkFault,
  tag: string,
): Command[] {
  const dev = target.interface;
  const major = qdiscHandle(tag);
  const child = (Number.parseInt(major, 16) + 1).toString(16);
  const scoped = target.host !== undefined || target.port !== undefined;
  const unlimited = ['rate', '100gbit', 'quantum', '60000'];
  const commands: Command[] = [
    {
      argv: [
        'tc',
        'qdisc',
        'add',
        'dev',
        dev,
        'root',
        'handle',
        `${major}:`,
        'htb',
        'default',
        scoped ? '1' : '2',
      ],
    },
  ];
  if (scoped)
    commands.push({
      argv: [
        'tc',
        'class',
        'add',
        'dev',
        dev,
        'parent',
        `${major}:`,
        'classid',
        `${major}:1`,
        'htb',
        ...unlimited,
      ],
    });
  if (fault.fault === 'bandwidth') {
    const rate = parseRate(fault.rate) ?? 0;
    const burst = Math.max(1600, Math.round(rate / 50)); // 20 ms worth, at least a packet
    commands.push({
      argv: [
        'tc',
        'class',
        'add',
        'dev',
        dev,
        'parent',
        `${major}:`,
        'classid',
        `${major}:2`,
        'htb',
        'rate',
        tcRate(rate),
        'ceil',
        tcRate(rate),
        'burst',
        `${burst}b`,
        'cburst',
        `${burst}b`,
      ],
    });
  } else {
    commands.push({
      argv: [
        'tc',
        'class',
        'add',
        'dev',
        dev,
        'parent',
        `${major}:`,
        'classid',
        `${major}:2`,
        'htb',
        ...unlimited,
      ],
    });
    const netem =
      fault.fault === 'latency'
        ? ['delay', ms(fault.delay), ...(fault.jitter ? [ms(fault.jitter)] : [])]
        : fault.fault === 'packet-loss'
          ? [
              'loss',
              percent(fault.loss),
              ...(fault.correlation ? [percent(fault.correlation)] : []),
            ]
          : [];
    commands.push({
      argv: [
        'tc',
        'qdisc',
        'add',
        'dev',
        dev,
        'parent',
        `${major}:2`,
        'handle',
        `${child}:`,
        'netem',
        ...netem,
      ],
    });
  }
  if (scoped) {
    const host = target.host === undefined ? undefined : parseHost(target.host);
    if (target.host !== undefined && !host)
      throw new Error(`host ${target.host} is not an IP address or CIDR`);
    const family = host?.family === 6 ? 'ipv6' : 'ip';
    const addr = host
      ? ['match', family === 'ip' ? 'ip' : 'ip6', 'dst', `${host.address}/${host.prefix}`]
      : [];
    const proto =
      target.protocol === 'all'
        ? []
        : [
            'match',
            family === 'ip' ? 'ip' : 'ip6',
            family === 'ip' ? 'protocol' : 'protocol',
            target.protocol === 'tcp' ? '6' : '17',
            '0xff',
          ];
    const ends: string[][] =
      target.port === undefined
        ? [[]]
        : [['dport'], ['sport']].map(([end]) => [
            'match',
            family === 'ip' ? 'ip' : 'ip6',
            end!,
            String(target.port),
            '0xffff',
          ]);
    // Toward host, with port at either end: a client's requests and a server's answers alike.
    for (const end of ends)
      commands.push({
        argv: [
          'tc',
          'filter',
          'add',
          'dev',
          dev,
          'parent',
          `${major}:`,
          'protocol',
          family,
          'prio',
          '1',
          'u32',
          ...addr,
          ...proto,
          ...end,
          'flowid',
          `${major}:2`,
        ],
      });
  }
  return commands;
}

/** Commands that take the fault away again (each harmless when it is already gone). */
export function undoCommands(handle: NetworkHandle): Command[] {
  const commands: Command[] = [];
  if (handle.table) commands.push({ argv: ['nft', 'delete', 'table', 'inet', handle.table] });
  if (handle.qdisc && handle.interface)
    commands.push({
      argv: ['tc', 'qdisc', 'del', 'dev', handle.interface, 'root', 'handle', `${handle.qdisc}:`],
    });
  return commands;
}

/** A command run inside a namespace (or the current one). */
export function inNetns(netns: string | undefined, argv: string[]): string[] {
  return netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
}
