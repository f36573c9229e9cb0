/**
 * The redis fault family (src/faults/local/family.ts). Not built yet: its targets are refused
 * with a clear error before anything runs.
 */
import { FaultError } from '../../errors.js';
import type { LocalFamily } from '../local/family.js';

export const redisFamily: LocalFamily = {
  name: 'redis',
  targetTypes: ['redis'],
  createDriver(name, spec) {
    throw new FaultError(`faults on ${spec.type} targets are not built yet (target "${name}")`);
  },
  async recover(location) {
    throw new FaultError(`cannot remove ${location.fault ?? 'a'} fault: the redis family is not built yet`);
  },
};
