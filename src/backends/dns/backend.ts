/**
 * `dns` targets: a fault-injecting resolver (src/engines/dns/) that the runner starts in its
 * own process and the service under test uses; dns-error and dns-delay are its rules. The
 * resolver, and so every rule, dies with the runner (./family.ts).
 */
import type { Backend } from '../backend.js';
import { planLocalFault } from '../local/family.js';
import { DnsDriver, dnsFamily } from './family.js';

export const dnsBackend: Backend<'dns'> = {
  type: 'dns',
  faults: ['dns-error', 'dns-delay'],
  declare: 'a dns target (type: dns): a resolver faultline starts for the run',
  lives: 'in-process',
  planFault: planLocalFault,
  createDriver: (name, spec, context) => new DnsDriver(name, spec, context),
  recover: (location, { signal }) => dnsFamily.recover(location, signal),
};
