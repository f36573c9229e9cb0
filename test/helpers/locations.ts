/**
 * Narrowing a journaled fault's location in tests: a test knows which backend its fault is on
 * and fails with a clear message when the journal says otherwise.
 */
import type {
  FaultLocation,
  KubernetesLocation,
  LocalBackendType,
  LocalLocation,
  ProxyLocation,
} from '../../src/backends/location.js';

/** A local backend's location (processes, resources, databases, brokers, network, DNS). */
export function localAt(
  location: FaultLocation | undefined,
): LocalLocation<LocalBackendType, Record<string, unknown>> {
  if (!location || !('tag' in location))
    throw new Error(`expected a local fault's location, got ${JSON.stringify(location)}`);
  return location as LocalLocation<LocalBackendType, Record<string, unknown>>;
}

export function proxyAt(location: FaultLocation | undefined): ProxyLocation {
  if (location?.backend !== 'proxy')
    throw new Error(`expected an in-process proxy's location, got ${JSON.stringify(location)}`);
  return location;
}

export function clusterAt(location: FaultLocation | undefined): KubernetesLocation {
  if (location?.backend !== 'kubernetes')
    throw new Error(`expected a chaos object's location, got ${JSON.stringify(location)}`);
  return location;
}
