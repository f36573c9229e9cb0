/**
 * The one registry of target types: each type's backend (./backend.ts). Everything that needs
 * to know about a target type — the loader's checks, the run plan, the runner, `recover`,
 * `halt` — asks here. Adding a target type is its folder under src/backends/, its target schema
 * in src/experiment/schema.ts, and one line below (ARCHITECTURE.md).
 */
import type { Backend, TargetType } from './backend.js';
import { dnsBackend } from './dns/backend.js';
import { hostBackend } from './host/backend.js';
import { kubernetesBackend } from './kubernetes/backend.js';
import { networkBackend } from './network/backend.js';
import { postgresBackend } from './postgres/backend.js';
import { processBackend } from './process/backend.js';
import { proxyBackend } from './proxy/backend.js';
import { rabbitmqBackend } from './rabbitmq/backend.js';
import { redisBackend } from './redis/backend.js';
import { remoteProxyBackend } from './remote-proxy/backend.js';
import { serviceBackend } from './service/backend.js';

/** Every backend, keyed by the target type it drives. */
export type BackendRegistry = { readonly [T in TargetType]: Backend<T> };

export const BACKENDS = {
  proxy: proxyBackend,
  'remote-proxy': remoteProxyBackend,
  kubernetes: kubernetesBackend,
  process: processBackend,
  service: serviceBackend,
  host: hostBackend,
  network: networkBackend,
  postgres: postgresBackend,
  redis: redisBackend,
  rabbitmq: rabbitmqBackend,
  dns: dnsBackend,
} as const satisfies BackendRegistry;

/** The backend of a target type. */
export function backendFor<T extends TargetType>(
  type: T,
  registry: BackendRegistry = BACKENDS,
): Backend<T> {
  return registry[type];
}

/** True when a target of this type can realise the fault type. */
export function canRealise(
  targetType: string,
  fault: string,
  registry: BackendRegistry = BACKENDS,
): boolean {
  return (
    isTargetType(targetType, registry) &&
    (registry[targetType].faults as readonly string[]).includes(fault)
  );
}

export function isTargetType(
  type: string,
  registry: BackendRegistry = BACKENDS,
): type is TargetType {
  return Object.hasOwn(registry, type);
}

/** The target types that can realise a fault type, for hints ("needs a kubernetes target"). */
export function targetTypesFor(fault: string, registry: BackendRegistry = BACKENDS): TargetType[] {
  return (Object.keys(registry) as TargetType[]).filter((t) => canRealise(t, fault, registry));
}

/**
 * A sentence saying what would work instead of `fault` on a `targetType` target: another target
 * type that can take it, or the faults this target can take.
 */
export function capabilityHint(
  fault: string,
  targetType: string,
  registry: BackendRegistry = BACKENDS,
): string {
  const others = targetTypesFor(fault, registry);
  const takes = `a ${targetType} target takes ${isTargetType(targetType, registry) ? registry[targetType].faults.join(', ') : 'nothing'}`;
  if (others.length > 0)
    return `${fault} needs ${others.map((t) => registry[t].declare).join(', or ')}; ${takes}`;
  return takes;
}
