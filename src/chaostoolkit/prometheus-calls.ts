/**
 * chaostoolkit-prometheus's probes, `query` and `query_interval`, as HTTP calls to Prometheus's
 * API (`prometheus_base_url` from the configuration, default http://localhost:9090), so the many
 * Chaos Toolkit experiments that read Prometheus run without the Python package. As upstream,
 * the probe's output is Prometheus's JSON payload as is, and an error answer fails the probe.
 *
 * Times are what the experiments in the wild write: `now`, `N seconds|minutes|hours|days ago`,
 * RFC 3339, or Unix seconds (upstream accepts anything `dateparser` reads; other phrases are
 * refused here by name instead of being guessed).
 */
import { httpRequest } from '../probes/http-request.js';
import { ProbeError } from '../probes/probe-error.js';

type Obj = Record<string, unknown>;

export const PROMETHEUS_FUNCS: ReadonlySet<string> = new Set(['query', 'query_interval']);

const UNIT_S: Record<string, number> = {
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86400,
  week: 604800,
};

/** A time argument as Unix seconds. */
export function prometheusTime(value: unknown, nowMs = Date.now()): number {
  if (typeof value === 'number') return value;
  const text = String(value).trim().toLowerCase();
  if (text === 'now') return nowMs / 1000;
  const relative = /^(\d+(?:\.\d+)?)\s*(second|minute|hour|day|week)s?\s+ago$/.exec(text);
  if (relative) return nowMs / 1000 - Number(relative[1]) * UNIT_S[relative[2]!]!;
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text);
  const parsed = Date.parse(String(value));
  if (!Number.isNaN(parsed)) return parsed / 1000;
  throw new ProbeError(`"${String(value)}" is not a time faultline reads`, {
    hint: 'write now, "5 minutes ago", an RFC 3339 time or Unix seconds',
  });
}

export async function prometheusCall(
  configuration: Obj,
  func: string,
  args: Obj,
  signal: AbortSignal,
): Promise<unknown> {
  const base = String(configuration['prometheus_base_url'] ?? 'http://localhost:9090').replace(
    /\/+$/,
    '',
  );
  const params = new URLSearchParams({ query: String(args['query'] ?? '') });
  if (args['timeout'] != null) params.set('timeout', String(args['timeout']));
  let path: string;
  if (func === 'query') {
    path = '/api/v1/query';
    if (args['when']) params.set('time', String(prometheusTime(args['when'])));
  } else {
    path = '/api/v1/query_range';
    params.set('start', String(prometheusTime(args['start'])));
    params.set('end', String(prometheusTime(args['end'] ?? 'now')));
    params.set('step', String(args['step'] ?? 1));
  }
  const res = await httpRequest(
    { url: `${base}${path}?${params.toString()}`, timeoutMs: 30_000 },
    signal,
  );
  if (res.status !== 200)
    throw new ProbeError(
      `Prometheus ${func} failed: HTTP ${res.status}${typeof res.body === 'object' && res.body ? `: ${String((res.body as Obj)['error'] ?? '')}` : ''}`,
    );
  return res.body;
}
