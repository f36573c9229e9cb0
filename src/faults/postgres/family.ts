/**
 * The postgres fault family (src/faults/local/family.ts). Not built yet: its targets are refused
 * with a clear error before anything runs.
 */
import { FaultError } from '../../errors.js';
import type { LocalFamily } from '../local/family.js';

export const postgresFamily: LocalFamily = {
  name: 'postgres',
  targetTypes: ['postgres'],
  createDriver(name, spec) {
    throw new FaultError(`faults on ${spec.type} targets are not built yet (target "${name}")`);
  },
  async recover(location) {
    throw new FaultError(`cannot remove ${location.fault ?? 'a'} fault: the postgres family is not built yet`);
  },
};
