/**
 * Locations in journals written before locations were typed per backend (`where: 'local' |
 * 'remote' | 'process' | 'kubernetes' | 'local-fault'`): read as today's, so `faultline recover`
 * still removes what an older faultline left.
 */
import type { FaultLocation } from './location.js';

const FAMILY_BACKENDS: Record<string, FaultLocation['backend']> = {
  resources: 'host',
  network: 'network',
  postgres: 'postgres',
  redis: 'redis',
  rabbitmq: 'rabbitmq',
  dns: 'dns',
};

type Legacy = Record<string, unknown>;
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Today's location for a journaled one, old or new. */
export function upgradeLocation(raw: unknown): FaultLocation {
  const old = (raw ?? {}) as Legacy;
  if (typeof old['backend'] === 'string') return raw as FaultLocation;
  const target = text(old['target']);
  const handle = (old['handle'] ?? {}) as Record<string, unknown>;
  switch (old['where']) {
    case 'local':
      return {
        backend: 'proxy',
        target,
        proxy: text(old['proxy']),
        kind:
          old['kind'] === 'disable'
            ? 'disable'
            : old['kind'] === 'certificate'
              ? 'certificate'
              : 'toxic',
        toxic: text(old['toxic']) || undefined,
      };
    case 'remote':
      return {
        backend: 'remote-proxy',
        target,
        server: text(old['server']) || 'http://127.0.0.1:8474',
        proxy: text(old['proxy']),
        kind: old['kind'] === 'disable' ? 'disable' : 'toxic',
        toxic: text(old['toxic']) || undefined,
      };
    case 'kubernetes':
      return {
        backend: 'kubernetes',
        target,
        resource: old['resource'] as Extract<FaultLocation, { backend: 'kubernetes' }>['resource'],
      };
    case 'process':
      // A process paused by a faultline older still, with a watchdog: resumed by pid.
      return {
        backend: 'process',
        target,
        fault: 'pause-process',
        tag: '',
        handle: {
          legacyPause: {
            pid: Number(old['pid']),
            watchdog: typeof old['watchdog'] === 'number' ? old['watchdog'] : undefined,
          },
        },
      };
    default: {
      const family = text(old['family']);
      const backend =
        family === 'process'
          ? 'service' in handle
            ? 'service'
            : 'process'
          : (FAMILY_BACKENDS[family] ?? 'process');
      return {
        backend,
        target,
        fault: old['fault'],
        tag: text(old['tag']),
        handle,
      } as FaultLocation;
    }
  }
}
