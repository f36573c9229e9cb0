/**
 * The network fault family (src/backends/local/family.ts): partition, bandwidth, latency and
 * packet-loss on `network` targets (Linux, root), realised with nftables and tc (./driver.ts,
 * ./rules.ts). `recover` stops the fault's agent (which takes its rules away) and then deletes
 * the fault's own nftables table and root qdisc by name and handle — never anything else — in
 * case the agent was killed before it could.
 */
import { FaultError } from '../../errors.js';
import type { NetworkLocation } from '../location.js';
import { stopAgents } from '../local/agent.js';
import type { LocalFamily } from '../local/family.js';
import { present } from './driver.js';
import { undoCommands } from './rules.js';
import { runCommand } from './system.js';

export const networkFamily: LocalFamily<NetworkLocation> = {
  async recover(location: NetworkLocation, signal: AbortSignal | undefined) {
    if (location.tag) await stopAgents(location.tag, { graceMs: 5_000, signal });
    const handle = location.handle;
    if (!(await present(handle))) return;
    for (const command of undoCommands(handle)) await runCommand(handle.netns, command, signal);
    // The location comes from a journal: one written by another version may lack the fault.
    if (await present(handle))
      throw new FaultError(
        `the ${(location.fault as string | undefined) ?? 'network'} fault's rules (${[handle.table && `nftables table inet ${handle.table}`, handle.qdisc && `qdisc ${handle.qdisc}: on ${String(handle.interface)}`].filter(Boolean).join(', ')}) could not be deleted`,
      );
  },
};
