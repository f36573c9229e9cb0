/**
 * Every local fault family, in one list: the runner asks it for the driver of a target type,
 * and `faultline recover` for the family that removes a journaled leftover.
 */
import type { Target } from '../../experiment/schema.js';
import { dnsFamily } from '../dns/family.js';
import { networkFamily } from '../network/family.js';
import { postgresFamily } from '../postgres/family.js';
import { processFamily } from '../process/family.js';
import { rabbitmqFamily } from '../rabbitmq/family.js';
import { redisFamily } from '../redis/family.js';
import { resourcesFamily } from '../resources/family.js';
import type { LocalFamily } from './family.js';

export const LOCAL_FAMILIES: readonly LocalFamily[] = [processFamily, resourcesFamily, networkFamily, postgresFamily, redisFamily, rabbitmqFamily, dnsFamily];

/** The family that drives a target type, if a local one does. */
export function familyForTarget(type: Target['type']): LocalFamily | undefined {
  return LOCAL_FAMILIES.find((f) => f.targetTypes.includes(type));
}

/** The family named in a journaled location. */
export function familyByName(name: string | undefined): LocalFamily | undefined {
  return LOCAL_FAMILIES.find((f) => f.name === name);
}
