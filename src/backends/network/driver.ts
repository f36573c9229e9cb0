/**
 * The driver of `network` targets: partition (nftables), bandwidth (tc htb), latency and
 * packet-loss (tc netem, where the kernel has it). The rules are added and held by an agent
 * (./rules-agent.ts) that takes them away at the lease by itself; removal stops the agent and
 * then deletes the same table or qdisc by name (./rules.ts), so a SIGKILLed agent leaves
 * nothing either. Preparation refuses, before anything is applied: another OS than Linux, a
 * user other than root, a missing tool, namespace or interface, a partition with neither host
 * nor port (it would cut the whole machine off), and latency or loss on a kernel without netem.
 */
import { existsSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import type { Fault } from '../../experiment/schema.js';
import type { PlannedFault } from '../planned-fault.js';
import type { Touched } from '../driver.js';
import type { NetworkLocation } from '../location.js';
import { findAgents, startAgent } from '../local/agent.js';
import type { LocalFamily } from '../local/family.js';
import type { DriverContext } from '../backend.js';
import { LocalFaultDriver, type LocalApply } from '../local/local-driver.js';
import {
  parseHost,
  partitionScript,
  qdiscHandle,
  shapingCommands,
  tableName,
  undoCommands,
  type Command,
  type NetworkFault,
  type NetworkHandle,
  type NetworkTarget,
} from './rules.js';
import { netemMissing, requireInterface, requireSystem, rootQdisc, runCommand } from './system.js';

const SHAPING = new Set(['bandwidth', 'latency', 'packet-loss']);

export class NetworkFaultDriver extends LocalFaultDriver<'network', NetworkHandle> {
  protected newHandle(): NetworkHandle {
    return {};
  }

  constructor(
    target: string,
    private readonly spec: NetworkTarget,
    family: LocalFamily<NetworkLocation>,
    context: DriverContext,
  ) {
    super(target, family, context, 'network');
  }

  get description(): string {
    const peer = [this.spec.host, this.spec.port].filter((v) => v !== undefined).join(':');
    return `host network${this.spec.netns ? ` in namespace ${this.spec.netns}` : ''}, interface ${this.spec.interface}${peer ? `, traffic with ${peer}` : ''} (${this.spec.protocol})`;
  }

  private faults(): { name: string; fault: Fault }[] {
    return this.context.faults
      .filter((s): s is PlannedFault => s.target === this.target && s.effect.type === 'local')
      .map((s) => ({ name: s.name, fault: (s.effect as { fault: Fault }).fault }));
  }

  override async prepare(_signal: AbortSignal): Promise<void> {
    const faults = this.faults();
    const at = `target "${this.target}"`;
    if (this.spec.host !== undefined && !parseHost(this.spec.host))
      throw new UsageError(`${at}: host ${this.spec.host} is not an IP address or CIDR`, {
        hint: 'an address such as 10.0.0.2 or a network such as 10.0.0.0/24 (names are not resolved)',
      });
    const tools = new Set<string>(['ip']);
    for (const { fault } of faults) tools.add(fault.fault === 'partition' ? 'nft' : 'tc');
    requireSystem(at, [...tools]);
    const shapes = faults.some(({ fault }) => SHAPING.has(fault.fault));
    await requireInterface(at, this.spec.netns, shapes ? this.spec.interface : undefined);
    for (const { name, fault } of faults) {
      if (
        fault.fault === 'partition' &&
        this.spec.host === undefined &&
        this.spec.port === undefined
      ) {
        throw new UsageError(
          `${at}: partition "${name}" needs host or port on the target: without them it would cut all of the machine's traffic`,
          { hint: 'set host (and port) to the dependency to cut off' },
        );
      }
      if (fault.fault === 'latency' || fault.fault === 'packet-loss') {
        const missing = await netemMissing();
        if (missing) {
          throw new UsageError(
            `${at}: ${fault.fault} "${name}" needs the netem qdisc, and the kernel has no netem qdisc: tc says "${missing}"`,
            {
              hint: `use a proxy target's ${fault.fault === 'latency' ? 'latency' : 'timeout or reset-peer'} fault instead (the service connects through the proxy), or a kernel with sch_netem (modprobe sch_netem)`,
            },
          );
        }
      }
    }
  }

  protected async applyFault({
    fault,
    name,
    tag,
    leaseSeconds,
    signal,
    location,
    save,
  }: LocalApply<NetworkLocation>): Promise<void> {
    const handle = location.handle;
    const netns = this.spec.netns;
    handle.netns = netns;
    let apply: Command[];
    if (fault.fault === 'partition') {
      handle.table = tableName(tag);
      apply = [
        {
          argv: ['nft', '-f', '-'],
          input: partitionScript(this.spec, fault.direction ?? 'both', tag),
        },
      ];
    } else if (SHAPING.has(fault.fault)) {
      const root = await rootQdisc(netns, this.spec.interface);
      if (root && root.handle !== '0:') {
        throw new UsageError(
          `target "${this.target}": interface ${this.spec.interface} already has a root qdisc (${root.kind} ${root.handle}); faultline does not replace it`,
          {
            hint: 'another fault or tool shapes this interface: remove it first, or shape another interface',
          },
        );
      }
      handle.interface = this.spec.interface;
      handle.qdisc = qdiscHandle(tag);
      apply = shapingCommands(this.spec, fault as NetworkFault, tag);
    } else {
      throw new UsageError(`fault "${name}": a network target cannot take ${fault.fault}`);
    }
    // Journaled before the first rule exists: recover can delete it even if everything dies now.
    save();
    const agent = await startAgent(
      {
        kind: 'network/rules',
        tag,
        leaseSeconds,
        params: { netns, apply, undo: undoCommands(handle) },
      },
      signal,
    );
    handle.agent = agent.pid;
    save();
  }

  /** partition: packets dropped (bytes) and TCP connection attempts refused; shaping: bytes through the shaped class. */
  override async touched(
    location: NetworkLocation,
    _signal: AbortSignal,
  ): Promise<Touched | undefined> {
    const handle = location.handle;
    if (handle.table) {
      const result = await runCommand(handle.netns, {
        argv: ['nft', '-j', 'list', 'table', 'inet', handle.table],
      });
      if (result.code !== 0) return undefined;
      let connections = 0;
      let bytes = 0;
      const items =
        (
          JSON.parse(result.stdout) as {
            nftables?: {
              rule?: {
                comment?: string;
                expr?: { counter?: { packets: number; bytes: number } }[];
              };
            }[];
          }
        ).nftables ?? [];
      for (const item of items) {
        const counter = item.rule?.expr?.find((e) => e.counter)?.counter;
        if (!counter) continue;
        bytes += counter.bytes;
        if (item.rule?.comment === 'syn') connections += counter.packets;
      }
      return { connections, bytes, requests: 0 };
    }
    if (handle.qdisc && handle.interface) {
      const result = await runCommand(handle.netns, {
        argv: [
          'tc',
          '-s',
          'class',
          'show',
          'dev',
          handle.interface,
          'classid',
          `${handle.qdisc}:2`,
        ],
      });
      const m = /Sent (\d+) bytes/.exec(result.stdout);
      return m ? { connections: 0, bytes: Number(m[1]), requests: 0 } : undefined;
    }
    return undefined;
  }

  override async isGone(location: NetworkLocation, _signal: AbortSignal): Promise<boolean> {
    if (location.tag && (await findAgents(location.tag)).length > 0) return false;
    return !(await present(location.handle));
  }
}

/** Is any of the fault's rules still in the kernel? A deleted namespace holds none. */
export async function present(handle: NetworkHandle): Promise<boolean> {
  if (handle.netns && !(await namespaceExists(handle.netns))) return false;
  if (
    handle.table &&
    (await runCommand(handle.netns, { argv: ['nft', 'list', 'table', 'inet', handle.table] }))
      .code === 0
  )
    return true;
  if (handle.qdisc && handle.interface) {
    const root = await rootQdisc(handle.netns, handle.interface);
    if (root?.handle === `${handle.qdisc}:`) return true;
  }
  return false;
}

async function namespaceExists(netns: string): Promise<boolean> {
  return existsSync(`/run/netns/${netns}`);
}
