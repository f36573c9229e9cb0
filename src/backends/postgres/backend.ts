/**
 * `postgres` targets: a PostgreSQL server, given slow queries, exhausted connection slots, held locks and terminated sessions (./driver.ts, ./family.ts).
 */
import type { Backend } from '../backend.js';
import { planLocalFault } from '../local/family.js';
import { postgresStepIssues, postgresTargetIssues } from './checks.js';
import { PostgresFaultDriver } from './driver.js';
import { postgresFamily } from './family.js';

export const postgresBackend: Backend<'postgres'> = {
  type: 'postgres',
  faults: ['pg-slow-queries', 'pg-pool-exhaustion', 'pg-lock', 'pg-terminate'],
  declare: 'a postgres target (type: postgres, url)',
  lives: 'outside',
  targetIssues: postgresTargetIssues,
  stepIssues: ({ step, path }) => postgresStepIssues(step, path),
  planFault: planLocalFault,
  createDriver: (name, spec, context) =>
    new PostgresFaultDriver(name, spec, postgresFamily, context),
  recover: (location, { signal }) => postgresFamily.recover(location, signal),
};
