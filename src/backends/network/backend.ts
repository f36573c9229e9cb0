/**
 * `network` targets: traffic between this machine and a host and port, partitioned or shaped with nftables and tc (Linux, root) (./driver.ts, ./rules.ts, ./family.ts).
 */
import type { Backend } from '../backend.js';
import { planLocalFault } from '../local/family.js';
import { networkStepIssues } from './checks.js';
import { NetworkFaultDriver } from './driver.js';
import { networkFamily } from './family.js';

export const networkBackend: Backend<'network'> = {
  type: 'network',
  faults: ['partition', 'bandwidth', 'latency', 'packet-loss'],
  declare: 'a network target (type: network, host, port; Linux, root)',
  lives: 'outside',
  directionKeys: ['direction'],
  stepIssues: ({ step, path, target, targetName }) =>
    networkStepIssues(step, path, target, targetName),
  planFault: planLocalFault,
  createDriver: (name, spec, context) => new NetworkFaultDriver(name, spec, networkFamily, context),
  recover: (location, { signal }) => networkFamily.recover(location, signal),
};
