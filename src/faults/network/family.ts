/**
 * The network fault family (src/faults/local/family.ts): partition, bandwidth, latency and
 * packet-loss on `network` targets (Linux, root), realised with nftables and tc (./driver.ts,
 * ./rules.ts). `recover` stops the fault's agent (which takes its rules away) and then deletes
 * the fault's own nftables table and root qdisc by name and handle — never anything else — in
 * case the agent was killed before it could.
 */
import { FaultError } from '../../errors.js';
import type { FaultLocation } from '../../targets/fault-driver.js';
import { stopAgents } from '../local/agent.js';
import type { LocalFamily } from '../local/family.js';
import { NetworkFaultDriver, present } from './driver.js';
import { undoCommands, type NetworkHandle } from './rules.js';
import { runCommand } from './system.js';

export const networkFamily: LocalFamily = {
  name: 'network',
  targetTypes: ['network'],
  createDriver(name, spec, context) {
    if (spec.type !== 'network') throw new FaultError(`the network family does not drive ${spec.type} targets`);
    return new NetworkFaultDriver(name, spec, networkFamily, context);
  },
  async recover(location: FaultLocation, signal: AbortSignal | undefined) {
    if (location.tag) await stopAgents(location.tag, { graceMs: 5_000, signal });
    const handle = (location.handle ?? {}) as NetworkHandle;
    if (!(await present(handle))) return;
    for (const command of undoCommands(handle)) await runCommand(handle.netns, command, signal);
    if (await present(handle)) throw new FaultError(`the ${location.fault ?? 'network'} fault's rules (${[handle.table && `nftables table inet ${handle.table}`, handle.qdisc && `qdisc ${handle.qdisc}: on ${handle.interface}`].filter(Boolean).join(', ')}) could not be deleted`);
  },
};
