/**
 * `host` targets: the machine faultline runs on, put under CPU, memory or disk pressure by agent processes that end at their lease (./driver.ts, ./family.ts).
 */
import type { Backend } from '../backend.js';
import { planLocalFault } from '../local/family.js';
import { hostStepIssues } from './checks.js';
import { HostFaultDriver } from './driver.js';
import { resourcesFamily } from './family.js';

export const hostBackend: Backend<'host'> = {
  type: 'host',
  faults: ['cpu-stress', 'memory-stress', 'disk-fill'],
  declare: 'a host target (type: host): the machine faultline runs on',
  lives: 'outside',
  stepIssues: ({ step, path }) => hostStepIssues(step, path),
  planFault: planLocalFault,
  createDriver: (name, spec, context) => new HostFaultDriver(name, spec, resourcesFamily, context),
  recover: (location, { signal }) => resourcesFamily.recover(location, signal),
};
