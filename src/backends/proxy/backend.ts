/**
 * `proxy` targets: a fault proxy the runner starts in its own process between the service and
 * its dependency (src/engines/proxy/). TCP faults become toxics, HTTP-mode proxies take HTTP
 * faults, TLS proxies take certificate faults. Its faults live in the runner's process.
 */
import type { ValidationIssue } from '../../errors.js';
import { ProxyCollection } from '../../engines/proxy/proxy-collection.js';
import type { Backend, RawObject, StepCheck } from '../backend.js';
import { LocalProxyDriver } from './driver.js';
import { planProxyFault } from './plan-fault.js';

/** TCP-level faults the fault proxy realises as toxics. */
export const PROXY_FAULTS = [
  'latency',
  'bandwidth',
  'timeout',
  'reset-peer',
  'slow-close',
  'slicer',
  'limit-data',
  'disable',
  'connect-delay',
  'refuse',
  'blackhole',
  'http-abort',
  'http-delay',
] as const;
const HTTP_FAULTS: ReadonlySet<string> = new Set(['http-abort', 'http-delay']);
const STREAM_FAULTS: ReadonlySet<string> = new Set(
  PROXY_FAULTS.filter((f) => !HTTP_FAULTS.has(f) && f !== 'disable'),
);

const asObject = (value: unknown): RawObject | undefined =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as RawObject) : undefined;

/** A proxy fault must fit the proxy's mode (HTTP faults on HTTP proxies, stream faults on TCP). */
export function proxyModeIssues(
  { step, path, targetName }: StepCheck,
  mode: string | undefined,
): ValidationIssue[] {
  const fault = String(step['fault']);
  const issues: ValidationIssue[] = [];
  if (HTTP_FAULTS.has(fault) && mode === 'tcp') {
    issues.push({
      path: `${path}.fault`,
      message: `${fault} needs a target in HTTP mode; "${targetName}" is a tcp proxy`,
      hint: `set mode: http on targets.${targetName}`,
    });
  }
  if (STREAM_FAULTS.has(fault) && mode === 'http') {
    issues.push({
      path: `${path}.fault`,
      message: `${fault} acts on TCP streams; "${targetName}" is an HTTP-mode proxy`,
      hint: 'use http-delay or http-abort, or a tcp proxy',
    });
  }
  return issues;
}

export const PROXY_DIRECTION_HINT =
  'a proxy fault chooses its direction with stream: upstream, downstream or both';

/**
 * The proxies of one run: created by the runner (so it can watch them live, e.g. for
 * `--metrics-port`) and handed to the drivers through the driver context's `proxies`.
 */
export const proxyBackend: Backend<'proxy'> = {
  type: 'proxy',
  faults: [...PROXY_FAULTS, 'certificate'],
  declare:
    'a proxy target (type: proxy, upstream: host:port) between the service and its dependency',
  lives: 'in-process',
  startedWithoutFaults: true,
  directionHint: PROXY_DIRECTION_HINT,
  targetIssues(target, path) {
    if (asObject(target['tls']) && target['mode'] === 'http') {
      return [
        {
          path: `${path}.tls`,
          message: 'tls works with tcp proxies; this one is in HTTP mode',
          hint: 'use mode: tcp (HTTP faults cannot see inside TLS), or drop tls',
        },
      ];
    }
    return [];
  },
  stepIssues(check) {
    const issues = proxyModeIssues(check, String(check.target['mode'] ?? 'tcp'));
    if (check.step['fault'] === 'certificate' && !asObject(check.target['tls'])) {
      issues.push({
        path: `${check.path}.fault`,
        message: `certificate needs a TLS proxy; "${check.targetName}" has no tls`,
        hint: `add tls: { hostname: … } to targets.${check.targetName} and point the service at the proxy over TLS`,
      });
    }
    return issues;
  },
  planFault: (fault, index) => planProxyFault(fault, index),
  createDriver: (name, spec, context) =>
    new LocalProxyDriver(name, spec, context.proxies ?? new ProxyCollection()),
  // The proxy lived in the runner's process: once that process is gone, so is every toxic.
  recover: async () => undefined,
};
