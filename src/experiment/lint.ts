/**
 * Warnings about experiments that are valid but would lie (the brief's "three ways chaos tests
 * lie"): a hypothesis that only checks status codes passes while a stale cache answers 200.
 */
import type { Experiment } from './schema.js';

const lenient = (remedy: string): string =>
  `the steady state only checks status codes (and latency): a stale cache answering 200 would pass. Add a freshness or consistency probe: ${remedy}`;

export function lintExperiment(experiment: Experiment): string[] {
  const probes = experiment.steadyState?.probes ?? [];
  const thresholds = experiment.steadyState?.thresholds ?? [];
  if (probes.length === 0 && thresholds.length === 0) return [];
  const checksContent = probes.some((p) => {
    if ('http' in p) return !!(p.expect.body || p.expect.json || p.expect.header || p.expect.fresh || p.expect.increases);
    return 'sql' in p || 'redis' in p || 'prometheus' in p || 'command' in p;
  });
  return checksContent ? [] : [lenient('expect.fresh (Last-Modified), expect.increases (a monotonic counter), a body/json expectation, or a reconciliation sql probe')];
}

/** The same check on a Chaos Toolkit document: only int/list tolerances on http probes. */
export function lintChaosToolkit(data: unknown): string[] {
  const hypothesis = (data as { 'steady-state-hypothesis'?: { probes?: unknown } })?.['steady-state-hypothesis'];
  const probes = Array.isArray(hypothesis?.probes) ? (hypothesis.probes as Record<string, unknown>[]) : [];
  if (probes.length === 0) return [];
  const statusOnly = probes.every((p) => {
    const provider = p['provider'] as { type?: unknown } | undefined;
    const t = p['tolerance'];
    return provider?.type === 'http' && (typeof t === 'number' || (Array.isArray(t) && t.every((x) => typeof x === 'number')));
  });
  return statusOnly ? [lenient('a regex or jsonpath tolerance on the body, or a process probe running a reconciliation query')] : [];
}
