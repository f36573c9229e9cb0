/**
 * `redis` targets: a Redis server, paused (CLIENT PAUSE), its clients killed or its maxmemory lowered (./driver.ts, ./family.ts).
 */
import type { Backend } from '../backend.js';
import { planLocalFault } from '../local/family.js';
import { redisStepIssues, redisTargetIssues } from './checks.js';
import { RedisFaultDriver } from './driver.js';
import { redisFamily } from './family.js';

export const redisBackend: Backend<'redis'> = {
  type: 'redis',
  faults: ['redis-pause', 'redis-kill-clients', 'redis-maxmemory'],
  declare: 'a redis target (type: redis, url)',
  lives: 'outside',
  targetIssues: redisTargetIssues,
  stepIssues: ({ step, path }) => redisStepIssues(step, path),
  planFault: planLocalFault,
  createDriver: (name, spec, context) => new RedisFaultDriver(name, spec, redisFamily, context),
  recover: (location, { signal }) => redisFamily.recover(location, signal),
};
