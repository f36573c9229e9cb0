/**
 * Which fault types each kind of target can realise, in one table, so the loader refuses
 * `pod-kill` on a proxy (or `slicer` on a Kubernetes pod) with a located error and a hint
 * before anything runs, instead of a driver failing half-way through a method.
 *
 * Fault types are backend-neutral names (src/experiment/schema.ts); a target type lists the
 * ones its driver can apply. Adding a fault type means adding it to the targets that can take
 * it here; a fault type absent from every row is refused everywhere.
 */
import type { Fault, Target } from '../experiment/schema.js';

type FaultType = Fault['fault'];
type TargetType = Target['type'];

/** TCP-level faults the fault proxy realises as toxics. */
const PROXY_FAULTS: readonly FaultType[] = ['latency', 'bandwidth', 'timeout', 'reset-peer', 'slow-close', 'slicer', 'limit-data', 'disable', 'connect-delay', 'refuse', 'blackhole', 'http-abort', 'http-delay'];

/** What Chaos Mesh can do to pods (src/targets/kubernetes/chaos-mesh.ts maps each). */
export const KUBERNETES_FAULTS: readonly FaultType[] = [
  'latency', 'bandwidth', 'packet-loss', 'duplicate', 'corrupt', 'partition',
  'pod-kill', 'pod-failure', 'container-kill', 'cpu-stress', 'memory-stress',
  'io-latency', 'io-error', 'dns-error', 'clock-skew', 'http-abort', 'http-delay', 'http-replace',
];

export const TARGET_CAPABILITIES = {
  proxy: [...PROXY_FAULTS, 'certificate'],
  'remote-proxy': PROXY_FAULTS,
  process: ['pause-process', 'kill-process', 'restart-process'],
  kubernetes: KUBERNETES_FAULTS,
  service: ['pause-process', 'kill-process', 'restart-process', 'clock-skew'],
  host: ['cpu-stress', 'memory-stress', 'disk-fill'],
  network: ['partition', 'bandwidth', 'latency', 'packet-loss'],
  postgres: ['pg-slow-queries', 'pg-pool-exhaustion', 'pg-lock', 'pg-terminate'],
  redis: ['redis-pause', 'redis-kill-clients', 'redis-maxmemory'],
  rabbitmq: ['rabbitmq-close-connections', 'rabbitmq-memory-alarm'],
  dns: ['dns-error', 'dns-delay'],
} as const satisfies Record<TargetType, readonly FaultType[]>;

/** True when a target of this type can realise the fault type. */
export function canRealise(targetType: string, fault: string): boolean {
  const row = (TARGET_CAPABILITIES as Record<string, readonly string[]>)[targetType];
  return row !== undefined && row.includes(fault);
}

/** The target types that can realise a fault type, for hints ("needs a kubernetes target"). */
export function targetTypesFor(fault: string): TargetType[] {
  return (Object.keys(TARGET_CAPABILITIES) as TargetType[]).filter((t) => canRealise(t, fault));
}

/**
 * A sentence saying what would work instead of `fault` on a `targetType` target: another target
 * type that can take it, or the faults this target can take.
 */
export function capabilityHint(fault: string, targetType: string): string {
  const others = targetTypesFor(fault);
  const declare: Record<string, string> = {
    proxy: 'a proxy target (type: proxy, upstream: host:port) between the service and its dependency',
    'remote-proxy': 'a remote-proxy target',
    process: 'a process target (type: process, with pid, pidfile or match)',
    kubernetes: 'a kubernetes target (type: kubernetes, namespace, selector), run with --target kubernetes or compiled with faultline compile',
    service: 'a service target (type: service, command) that the experiment starts',
    host: 'a host target (type: host): the machine faultline runs on',
    network: 'a network target (type: network, host, port; Linux, root)',
    postgres: 'a postgres target (type: postgres, url)',
    redis: 'a redis target (type: redis, url)',
    rabbitmq: 'a rabbitmq target (type: rabbitmq, url)',
    dns: 'a dns target (type: dns): a resolver faultline starts for the run',
  };
  const row = (TARGET_CAPABILITIES as Record<string, readonly string[]>)[targetType] ?? [];
  const takes = `a ${targetType} target takes ${row.join(', ')}`;
  if (others.length > 0) return `${fault} needs ${others.map((t) => declare[t] ?? t).join(', or ')}; ${takes}`;
  return takes;
}
