/**
 * `service` targets: a process the run starts itself (ready by port or URL), which faults kill,
 * freeze, restart or run on a skewed clock. It shares the process family's driver and removal
 * (src/backends/process/); a declared service is started even when no fault acts on it.
 */
import type { Backend } from '../backend.js';
import { planLocalFault } from '../local/family.js';
import { ProcessFaultDriver } from '../process/driver.js';
import { processFamily } from '../process/family.js';

export const serviceBackend: Backend<'service'> = {
  type: 'service',
  faults: ['pause-process', 'kill-process', 'restart-process', 'clock-skew'],
  declare: 'a service target (type: service, command) that the experiment starts',
  lives: 'outside',
  startedWithoutFaults: true,
  planFault: planLocalFault,
  createDriver: (name, spec, context) =>
    new ProcessFaultDriver<'service'>(name, spec, processFamily, context, 'service'),
  recover: (location, { signal }) => processFamily.recover(location, signal),
};
