/**
 * Warnings about experiments that are valid but would lie (the brief's "three ways chaos tests
 * lie"): a hypothesis that only checks status codes passes while a stale cache answers 200.
 */
import type { Experiment } from './schema.js';

const lenient = (remedy: string): string =>
  `the steady state only checks status codes, latency or a health endpoint: a stale cache answering 200 would pass. Add a freshness or consistency probe: ${remedy}`;

/** `/health`, `/healthz`, `/ready`, `/livez`, `/ping`, `/status`, `/actuator/health`… */
function isHealthEndpoint(url: string): boolean {
  const path = url.replace(/^[a-z]+:\/\/[^/]*/i, '').split(/[?#]/)[0] ?? '';
  return /\/(health|healthz|healthcheck|ready|readyz|readiness|live|livez|liveness|ping|status)\/?$/i.test(
    path,
  );
}

export function lintExperiment(experiment: Experiment): string[] {
  const probes = experiment.steadyState?.probes ?? [];
  const thresholds = experiment.steadyState?.thresholds ?? [];
  if (probes.length === 0 && thresholds.length === 0) return [];
  const checksContent = probes.some((p) => {
    if ('http' in p) {
      if (p.expect.fresh || p.expect.increases) return true;
      // A body or JSON check on a health endpoint ("ok", status: "UP") says the process is up,
      // not that its answers are right: a stale cache passes it too.
      return !!(p.expect.body || p.expect.json || p.expect.header) && !isHealthEndpoint(p.http.url);
    }
    return 'sql' in p || 'redis' in p || 'prometheus' in p || 'command' in p;
  });
  return checksContent
    ? []
    : [
        lenient(
          'expect.fresh (Last-Modified, or a timestamp in the body), expect.increases (a monotonic counter), a body/json expectation, or a reconciliation sql probe',
        ),
      ];
}

/** The same check on a Chaos Toolkit document: only int/list tolerances on http probes. */
export function lintChaosToolkit(data: unknown): string[] {
  const hypothesis = (
    data as { 'steady-state-hypothesis'?: { probes?: unknown } } | null | undefined
  )?.['steady-state-hypothesis'];
  const probes = Array.isArray(hypothesis?.probes)
    ? (hypothesis.probes as Record<string, unknown>[])
    : [];
  if (probes.length === 0) return [];
  const statusOnly = probes.every((p) => {
    const provider = p['provider'] as { type?: unknown } | undefined;
    const t = p['tolerance'];
    return (
      provider?.type === 'http' &&
      (typeof t === 'number' || (Array.isArray(t) && t.every((x) => typeof x === 'number')))
    );
  });
  return statusOnly
    ? [
        lenient(
          'a regex or jsonpath tolerance on the body, or a process probe running a reconciliation query',
        ),
      ]
    : [];
}
