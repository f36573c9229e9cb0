/**
 * `rabbitmq` targets: a RabbitMQ node, its application connections closed or its memory alarm raised (./driver.ts, ./family.ts).
 */
import type { Backend } from '../backend.js';
import { planLocalFault } from '../local/family.js';
import { rabbitmqStepIssues, rabbitmqTargetIssues } from './checks.js';
import { RabbitmqFaultDriver } from './driver.js';
import { rabbitmqFamily } from './family.js';

export const rabbitmqBackend: Backend<'rabbitmq'> = {
  type: 'rabbitmq',
  faults: ['rabbitmq-close-connections', 'rabbitmq-memory-alarm'],
  declare: 'a rabbitmq target (type: rabbitmq, url)',
  lives: 'outside',
  targetIssues: rabbitmqTargetIssues,
  stepIssues: ({ step, path }) => rabbitmqStepIssues(step, path),
  planFault: planLocalFault,
  createDriver: (name, spec, context) =>
    new RabbitmqFaultDriver(name, spec, rabbitmqFamily, context),
  recover: (location, { signal }) => rabbitmqFamily.recover(location, signal),
};
