/**
 * Steady-state hypotheses for a scenario, as numbers derived from what the architecture
 * declares: the SLOs (what users are promised) and the baselines (what is measured today).
 *
 * Rules (docs/planner.md):
 * - where the load goes: the entry of the heaviest critical path the scenario breaks (its
 *   representative request), else the most upstream service it breaks;
 * - p99: the entry's SLO p99; without one, 3 × its baseline p99; without either, 2 s;
 * - error rate: the entry's SLO error rate; without one, the larger of 1 % and 10 × its
 *   baseline error rate;
 * - stop condition: errors above the larger of 5 % and 5 × the SLO error rate for 5 s remove
 *   the fault at once (the brief's rollback at 5 %);
 * - recovery: after the fault, p50/p99 back within 10 % of the baseline measured before it;
 * - consistency: for every transactional service it touches that declares a reconciliation, no
 *   transaction lost (the check's value stays 0);
 * - what cannot be measured from outside (a breaker opening, a fallback serving) is listed to
 *   observe, with the number it should meet.
 */
import { formatDuration, parseDuration, parsePercentage } from '../experiment/duration.js';
import type { Architecture, CriticalPath, Service } from './architecture-schema.js';
import type { Scenario } from './catalogue.js';

/** How a hypothesis is checked in the generated experiment. */
export type HypothesisCheck = 'threshold' | 'probe' | 'stop-condition' | 'recovery' | 'observe';

export interface Hypothesis {
  /** The hypothesis in words, with its number. */
  statement: string;
  /** Where the number comes from. */
  derivedFrom: string;
  check: HypothesisCheck;
  /** The threshold or stop condition text, when the check is one. */
  expression?: string | undefined;
}

/** Where load goes and what it sends. */
export interface LoadTarget {
  service: string;
  path?: CriticalPath | undefined;
}

const DEFAULT_P99_MS = 2000;
const DEFAULT_ERROR = 0.01;

/** The service (and path) the scenario's load goes to. */
export function loadTarget(architecture: Architecture, scenario: Scenario): LoadTarget {
  const paths = architecture.criticalPaths.filter((p) => scenario.brokenPaths.includes(p.name));
  const withRequest = paths.find((p) => p.request) ?? paths[0];
  if (withRequest) return { service: withRequest.steps[0]!, path: withRequest };
  const services = new Set(Object.keys(architecture.services));
  const affected = [
    ...scenario.broken,
    ...scenario.degraded,
    ...scenario.delayed,
    ...scenario.nodes,
    ...scenario.edges.map((e) => e.from),
  ].filter((s) => services.has(s));
  // The most upstream: an affected service that no other affected service calls.
  const calledByAffected = new Set(
    affected.flatMap((s) => architecture.services[s]!.dependsOn.map((d) => d.on)),
  );
  const top =
    affected.find((s) => !calledByAffected.has(s)) ??
    affected[0] ??
    Object.keys(architecture.services).sort()[0]!;
  return { service: top };
}

/** The p99 bound in ms, and where it comes from. */
export function p99Bound(service: Service | undefined, name: string): { ms: number; why: string } {
  const slo = service?.slo?.p99;
  const baseline = service?.baseline?.p99;
  if (slo)
    return {
      ms: parseDuration(slo)!,
      why: `${name}'s SLO p99 ${slo}${baseline ? ` (baseline ${baseline})` : ''}`,
    };
  if (baseline)
    return {
      ms: 3 * parseDuration(baseline)!,
      why: `no SLO: 3 × ${name}'s baseline p99 ${baseline}`,
    };
  return {
    ms: DEFAULT_P99_MS,
    why: `no SLO or baseline for ${name}: the default ${formatDuration(DEFAULT_P99_MS)}`,
  };
}

/** The error-rate bound as a fraction, and where it comes from. */
export function errorBound(
  service: Service | undefined,
  name: string,
): { rate: number; why: string } {
  const slo = service?.slo?.errorRate;
  const baseline = service?.baseline?.errorRate;
  if (slo)
    return {
      rate: parsePercentage(slo)!,
      why: `${name}'s SLO error rate ${slo}${baseline ? ` (baseline ${baseline})` : ''}`,
    };
  if (baseline)
    return {
      rate: Math.max(DEFAULT_ERROR, 10 * parsePercentage(baseline)!),
      why: `no SLO: the larger of 1% and 10 × ${name}'s baseline ${baseline}`,
    };
  return { rate: DEFAULT_ERROR, why: `no SLO or baseline for ${name}: the default 1%` };
}

/** A fraction as a percentage literal: 0.01 → "1%", 0.0025 → "0.25%". */
export function percent(fraction: number): string {
  return `${Number((fraction * 100).toFixed(3))}%`;
}

/** The stop condition's error rate: the larger of 5 % and 5 × the SLO's. */
export function abortRate(errorRate: number): number {
  return Math.max(0.05, 5 * errorRate);
}

/** The hypotheses for one scenario. */
export function hypothesesFor(architecture: Architecture, scenario: Scenario): Hypothesis[] {
  const target = loadTarget(architecture, scenario);
  const entry = architecture.services[target.service];
  const p99 = p99Bound(entry, target.service);
  const errors = errorBound(entry, target.service);
  const through = target.path
    ? ` on the ${target.path.name} path (${target.path.request ? `${target.path.request.method} ${target.path.request.path}` : 'health endpoint'})`
    : '';
  const out: Hypothesis[] = [
    {
      statement: `p99 latency of ${target.service}${through} stays under ${formatDuration(p99.ms)}`,
      derivedFrom: p99.why,
      check: 'threshold',
      expression: `p99 < ${formatDuration(p99.ms)}`,
    },
    {
      statement: `error rate of ${target.service} stays under ${percent(errors.rate)}`,
      derivedFrom: errors.why,
      check: 'threshold',
      expression: `error_rate < ${percent(errors.rate)}`,
    },
    {
      statement: `the fault is removed at once if errors pass ${percent(abortRate(errors.rate))} for 5 s`,
      derivedFrom: `the larger of 5% and 5 × ${percent(errors.rate)}`,
      check: 'stop-condition',
      expression: `error_rate > ${percent(abortRate(errors.rate))} for 5s`,
    },
    {
      statement: `after the fault, latency comes back within 10% of the baseline measured before it`,
      derivedFrom: entry?.baseline?.p99
        ? `declared baseline p99 ${entry.baseline.p99}; the run measures its own before the fault`
        : 'the run measures the baseline before the fault',
      check: 'recovery',
    },
  ];
  for (const name of consistencyServices(architecture, scenario)) {
    const service = architecture.services[name]!;
    const check = service.consistency!;
    out.push({
      statement: `no ${name} transaction is lost: ${'http' in check ? `${check.http} → ${check.jsonPath}` : 'the reconciliation query'} stays 0`,
      derivedFrom: `${name} is transactional and declares a consistency check`,
      check: 'probe',
    });
  }
  for (const name of [...scenario.broken, ...scenario.edges.map((e) => e.from)].filter(
    (n, i, all) =>
      all.indexOf(n) === i &&
      architecture.services[n]?.transactional &&
      !architecture.services[n].consistency,
  )) {
    out.push({
      statement: `no ${name} transaction is lost`,
      derivedFrom: `${name} is transactional but declares no consistency check: add one (consistency: { http | sql })`,
      check: 'observe',
    });
  }
  for (const edge of scenario.edges) {
    const d = architecture.services[edge.from]?.dependsOn.find((x) => x.on === edge.to);
    if (d?.circuitBreaker) {
      const trip = d.timeout ? Math.min(10_000, 3 * parseDuration(d.timeout)!) : 10_000;
      out.push({
        statement: `the circuit breaker on ${edge.from} → ${edge.to} opens within ${formatDuration(trip)} of the fault`,
        derivedFrom: `declared breaker${d.timeout ? `, 3 × its ${d.timeout} timeout (at most 10 s)` : ', 10 s'}`,
        check: 'observe',
      });
    }
    if (d?.fallback) {
      out.push({
        statement: `${edge.from} serves its fallback (${d.fallback}) while ${edge.to} fails`,
        derivedFrom: 'declared fallback',
        check: 'observe',
      });
    }
    if (scenario.family === 'retry-storm' && d?.retries) {
      out.push({
        statement: `connections from ${edge.from} to ${edge.to} stay under ${d.retries.attempts + 1}× their baseline while it fails`,
        derivedFrom: `${d.retries.attempts} retries: the journal counts the connections each fault touched`,
        check: 'observe',
      });
    }
  }
  return out;
}

/** Transactional services the scenario touches that declare a consistency check. */
export function consistencyServices(architecture: Architecture, scenario: Scenario): string[] {
  const touched = new Set([
    ...scenario.broken,
    ...scenario.degraded,
    ...scenario.delayed,
    ...scenario.nodes,
    ...scenario.edges.map((e) => e.from),
  ]);
  return [...touched]
    .filter((n) => architecture.services[n]?.transactional && architecture.services[n].consistency)
    .sort();
}
