/**
 * The rabbitmq fault family (src/faults/local/family.ts). Not built yet: its targets are refused
 * with a clear error before anything runs.
 */
import { FaultError } from '../../errors.js';
import type { LocalFamily } from '../local/family.js';

export const rabbitmqFamily: LocalFamily = {
  name: 'rabbitmq',
  targetTypes: ['rabbitmq'],
  createDriver(name, spec) {
    throw new FaultError(`faults on ${spec.type} targets are not built yet (target "${name}")`);
  },
  async recover(location) {
    throw new FaultError(`cannot remove ${location.fault ?? 'a'} fault: the rabbitmq family is not built yet`);
  },
};
