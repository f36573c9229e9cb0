/**
 * Where an applied fault lives: one member per backend, discriminated by `backend` (the target
 * type), each with the handle its backend journals. A location is written to the journal before
 * the fault exists anywhere else, and is all that `faultline recover` and `faultline halt` get:
 * everything a backend needs to remove the fault with no runner state is in it.
 *
 * Only types here: the journal (src/journal/) and the reports read locations without importing a
 * driver.
 */
import type { Fault } from '../experiment/schema.js';
import type { HostHandle } from './host/driver.js';
import type { NetworkHandle } from './network/rules.js';
import type { PostgresHandle } from './postgres/driver.js';
import type { ProcessHandle } from './process/driver.js';
import type { RabbitmqHandle } from './rabbitmq/driver.js';
import type { RedisHandle } from './redis/driver.js';
import type { DnsHandle } from './dns/family.js';

/** What every location has: its backend (the target type) and the target's name. */
export interface LocationBase {
  backend: string;
  target: string;
}

/** A namespaced custom object on a cluster, and which kubeconfig context reached it. */
export interface KubernetesResourceRef {
  apiVersion: string;
  kind: string;
  /** Lower-case plural, as in the REST path (`networkchaos`). */
  plural: string;
  namespace: string;
  name: string;
  /** The kubeconfig context used (undefined: the default one, or in-cluster). */
  context?: string | undefined;
}

/** A toxic, a disabled proxy or a bad certificate on a proxy inside the runner's own process. */
export interface ProxyLocation {
  backend: 'proxy';
  target: string;
  proxy: string;
  kind: 'toxic' | 'disable' | 'certificate';
  /** The toxic's name, or the certificate fault's name. */
  toxic?: string | undefined;
}

/** A toxic or a disabled proxy on a faultline or Toxiproxy server. */
export interface RemoteProxyLocation {
  backend: 'remote-proxy';
  target: string;
  server: string;
  proxy: string;
  kind: 'toxic' | 'disable';
  toxic?: string | undefined;
}

/** A chaos object on a cluster: enough for `faultline recover --kubernetes` to delete it. */
export interface KubernetesLocation {
  backend: 'kubernetes';
  target: string;
  resource: KubernetesResourceRef;
}

/**
 * A fault realised on this machine by a local backend (processes, resources, databases,
 * brokers, the host network, DNS).
 */
export interface LocalLocation<B extends LocalBackendType, H> {
  backend: B;
  target: string;
  /** The fault type (`pg-lock`, `disk-fill`, …). */
  fault: Fault['fault'];
  /**
   * A name unique to this fault of this run, carried by everything the fault creates (agent
   * processes' command lines, PostgreSQL application_name, Redis client names, nftables table
   * names, file names), so removal and `faultline recover` find exactly faultline's own even
   * when the runner died before it could journal a pid.
   */
  tag: string;
  /** What the backend needs to remove the fault with no runner state (JSON). */
  handle: H;
}

export type LocalBackendType =
  'process' | 'service' | 'host' | 'network' | 'postgres' | 'redis' | 'rabbitmq' | 'dns';

export type ProcessLocation =
  LocalLocation<'process', ProcessHandle> | LocalLocation<'service', ProcessHandle>;
export type HostLocation = LocalLocation<'host', HostHandle>;
export type NetworkLocation = LocalLocation<'network', NetworkHandle>;
export type PostgresLocation = LocalLocation<'postgres', PostgresHandle>;
export type RedisLocation = LocalLocation<'redis', RedisHandle>;
export type RabbitmqLocation = LocalLocation<'rabbitmq', RabbitmqHandle>;
export type DnsLocation = LocalLocation<'dns', DnsHandle>;

export type FaultLocation =
  | ProxyLocation
  | RemoteProxyLocation
  | KubernetesLocation
  | ProcessLocation
  | HostLocation
  | NetworkLocation
  | PostgresLocation
  | RedisLocation
  | RabbitmqLocation
  | DnsLocation;
