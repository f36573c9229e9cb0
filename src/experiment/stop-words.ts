/**
 * Stop conditions on signals (`safety.stopWhen`) in words: their kind, their default names and
 * one line saying what is checked and what stops the run. Shared by the run plan, the terminal
 * and the compilers (which say what they cannot carry), so every place names them alike.
 */
import type { StopCondition } from './schema.js';
import { redact } from '../shared/redact.js';

export type StopKind = 'prometheus' | 'http' | 'alertmanager' | 'command';

/** What each kind watches, in a phrase ("a Prometheus query"). */
export const STOP_KIND_WORDS: Record<StopKind, string> = {
  prometheus: 'a Prometheus query',
  http: 'an HTTP check',
  alertmanager: 'an Alertmanager alert',
  command: 'a command',
};

/** The names of the conditions: their own, else `<kind>-<n>` (prometheus-1, http-2). */
export function stopNames(conditions: readonly StopCondition[]): string[] {
  const counts = new Map<string, number>();
  return conditions.map((condition) => {
    const kind = stopKind(condition);
    const n = (counts.get(kind) ?? 0) + 1;
    counts.set(kind, n);
    return condition.name ?? `${kind}-${n}`;
  });
}

/** The kind of a stop condition as written. */
export function stopKind(condition: StopCondition): StopKind {
  if ('prometheus' in condition) return 'prometheus';
  if ('http' in condition) return 'http';
  if ('alertmanager' in condition) return 'alertmanager';
  return 'command';
}

const BOUNDS = [
  ['above', 'above', (v: number, b: number) => v > b],
  ['below', 'below', (v: number, b: number) => v < b],
  ['atLeast', 'at least', (v: number, b: number) => v >= b],
  ['atMost', 'at most', (v: number, b: number) => v <= b],
] as const;

/** A prometheus condition's bound: its words (`above`), its value, and the test it makes. */
export function boundOf(condition: Extract<StopCondition, { prometheus: unknown }>): {
  words: string;
  bound: number;
  breaches: (v: number) => boolean;
} {
  for (const [key, words, test] of BOUNDS) {
    const bound = condition[key];
    if (bound !== undefined) return { words, bound, breaches: (v) => test(v, bound) };
  }
  // The schema requires one bound; a plan built by hand without one never breaches.
  return { words: 'with no bound', bound: NaN, breaches: () => false };
}

export const labelsText = (labels: Record<string, string>): string => {
  const entries = Object.entries(labels).filter(([k]) => k !== '__name__');
  return entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${v}"`).join(', ')}}`;
};

/** One line for a stop condition: what is checked and what stops the run. */
export function describeStopCondition(condition: StopCondition): string {
  const lasting = condition.for ? ` for ${condition.for}` : '';
  if ('prometheus' in condition) {
    const { words, bound } = boundOf(condition);
    return `PromQL ${redact(condition.prometheus.url)}: ${condition.prometheus.query} ${words} ${bound}${lasting}`;
  }
  if ('http' in condition) {
    const e = condition.expect;
    const parts: string[] = [];
    if (e.status !== undefined)
      parts.push(`status ${Array.isArray(e.status) ? e.status.join('/') : e.status}`);
    if (e.json) {
      const { path, ...bounds } = e.json;
      parts.push(
        `${path} ${Object.entries(bounds)
          .map(([k, v]) => `${k} ${JSON.stringify(v)}`)
          .join(', ')}`,
      );
    }
    if (e.body) parts.push('its body');
    if (e.header) parts.push('its headers');
    if (e.latency) parts.push(`an answer within ${e.latency}`);
    return `${condition.http.method.toUpperCase()} ${redact(condition.http.url)} not answering ${parts.join(', ') || 'as expected'}${lasting}`;
  }
  if ('alertmanager' in condition)
    return `an alert ${labelsText(condition.alertmanager.matchers)} firing on ${redact(condition.alertmanager.url)}${lasting}`;
  const run = condition.command.run;
  const codes = condition.expect.exitCode;
  const expected =
    codes === undefined
      ? 'as expected'
      : `exit code ${Array.isArray(codes) ? codes.join('/') : codes}`;
  return `run ${typeof run === 'string' ? run : run.join(' ')} not giving ${expected}${lasting}`;
}

/**
 * What a platform's manifests cannot carry of the experiment's stop conditions, one note per
 * condition (the load's, then the signals'): `faultline run` checks them, the platform does not.
 */
export function stopConditionNotes(
  safety: { abortWhen: readonly string[]; stopWhen: readonly StopCondition[] } | undefined,
  platform: 'chaos-mesh' | 'istio' | 'litmus',
): string[] {
  if (!safety) return [];
  const why = {
    'chaos-mesh':
      'Chaos Mesh objects have no stop condition (a Workflow StatusCheck with abortWithStatusCheck is the nearest, for an HTTP status)',
    istio: 'an Istio VirtualService has no stop condition',
    litmus:
      'Litmus stops an engine only on a failed probe with stopOnFailure: write it as a steady-state probe with runtime.hypothesis: fail-fast to get one',
  }[platform];
  const notes: string[] = [];
  if (safety.abortWhen.length > 0 && platform !== 'litmus')
    notes.push(
      `safety.abortWhen (${safety.abortWhen.join('; ')}) is measured on faultline's load and is not carried: ${why}; faultline run --target kubernetes checks it`,
    );
  const names = stopNames(safety.stopWhen);
  safety.stopWhen.forEach((condition, i) => {
    notes.push(
      `safety.stopWhen[${i}]: stop condition "${names[i]!}" (${STOP_KIND_WORDS[stopKind(condition)]}) is not carried: ${why}; faultline run --target kubernetes checks it${condition.for ? ` (for ${condition.for})` : ''} and removes every fault on a breach`,
    );
  });
  return notes;
}
