/**
 * Chaos Toolkit tolerances, evaluated with its semantics (reference §6) — and never crashing:
 * where Chaos Toolkit raises inside a tolerance (a regex without `target` on a dict output, a
 * probe tolerance without `arguments`) and leaves no journal and the faults in place, faultline
 * records "not met" with the reason and goes on to clean up.
 *
 * Documented choices where Chaos Toolkit has none: a regex without `target` on a process output
 * searches `stdout`, on an HTTP output `body`; floats and null compare by equality.
 */
import type { Verdict } from '../run-plan/plan.js';
import { jsonPath } from '../shared/json-path.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Runs a probe tolerance: the probe's provider receives `arguments.value = output`. */
export type ProbeToleranceRunner = (
  tolerance: Obj,
  output: unknown,
  signal: AbortSignal,
) => Promise<unknown>;

function show(v: unknown): string {
  const s =
    typeof v === 'string'
      ? JSON.stringify(v)
      : ((JSON.stringify(v) as string | undefined) ?? String(v));
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
}

/** Python-style equality for the scalar cases (True == 1). */
function equal(a: unknown, b: unknown): boolean {
  if (typeof a === 'boolean' && typeof b === 'number') return Number(a) === b;
  if (typeof b === 'boolean' && typeof a === 'number') return Number(b) === a;
  return JSON.stringify(a) === JSON.stringify(b);
}

function statusOf(output: unknown): number | undefined {
  return isObj(output) && typeof output['status'] === 'number' ? output['status'] : undefined;
}

function targetValue(output: unknown, target: unknown): unknown {
  if (!isObj(output)) return output;
  if (typeof target === 'string') return output[target];
  // No target on a dict: search what a user means.
  if ('stdout' in output) return output['stdout'];
  if ('body' in output) return output['body'];
  return output;
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

export async function evaluateTolerance(
  tolerance: unknown,
  output: unknown,
  runProbe: ProbeToleranceRunner | undefined,
  signal: AbortSignal,
): Promise<Verdict> {
  try {
    return await evaluate(tolerance, output, runProbe, signal);
  } catch (err) {
    return {
      met: false,
      reason: `the tolerance could not be evaluated: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

async function evaluate(
  tolerance: unknown,
  output: unknown,
  runProbe: ProbeToleranceRunner | undefined,
  signal: AbortSignal,
): Promise<Verdict> {
  const status = statusOf(output);
  if (
    typeof tolerance === 'boolean' ||
    tolerance === null ||
    (typeof tolerance === 'number' && !Number.isInteger(tolerance))
  ) {
    return equal(output, tolerance)
      ? { met: true }
      : { met: false, reason: `got ${show(output)}, expected ${show(tolerance)}` };
  }
  if (typeof tolerance === 'number') {
    const value = status ?? output;
    return equal(value, tolerance)
      ? { met: true }
      : {
          met: false,
          reason: `${status !== undefined ? 'status ' : ''}${show(value)}, expected ${tolerance}`,
        };
  }
  if (typeof tolerance === 'string') {
    return output === tolerance
      ? { met: true }
      : { met: false, reason: `got ${show(output)}, expected ${show(tolerance)}` };
  }
  if (Array.isArray(tolerance)) {
    if (status !== undefined) {
      return tolerance.includes(status)
        ? { met: true }
        : { met: false, reason: `status ${status}, expected one of ${tolerance.join(', ')}` };
    }
    if (tolerance.length === 2 && tolerance.every((x) => typeof x === 'number')) {
      const n = toNumber(output);
      const [lo, hi] = tolerance as [number, number];
      return n !== undefined && n >= lo && n <= hi
        ? { met: true }
        : { met: false, reason: `${show(output)} is not within [${lo}, ${hi}]` };
    }
    return tolerance.some((t) => equal(t, output))
      ? { met: true }
      : { met: false, reason: `${show(output)} is not one of ${show(tolerance)}` };
  }
  if (!isObj(tolerance)) return { met: false, reason: 'unsupported tolerance' };
  switch (tolerance['type']) {
    case 'regex': {
      const value = targetValue(output, tolerance['target']);
      const text =
        typeof value === 'string' ? value : ((JSON.stringify(value) as string | undefined) ?? '');
      const pattern = new RegExp(String(tolerance['pattern']));
      return pattern.test(text)
        ? { met: true }
        : { met: false, reason: `${show(text)} does not match /${String(tolerance['pattern'])}/` };
    }
    case 'range': {
      const [lo, hi] = tolerance['range'] as [number, number];
      const value = targetValue(output, tolerance['target']);
      const n = toNumber(value);
      return n !== undefined && n >= lo && n <= hi
        ? { met: true }
        : { met: false, reason: `${show(value)} is not within [${lo}, ${hi}]` };
    }
    case 'jsonpath': {
      let value = targetValue(output, tolerance['target']);
      if (typeof value === 'string') value = JSON.parse(value);
      const matches = jsonPath(value, String(tolerance['path']));
      const path = String(tolerance['path']);
      if ('count' in tolerance) {
        if (matches.length !== tolerance['count'])
          return {
            met: false,
            reason: `${path} matched ${matches.length} value(s), expected ${String(tolerance['count'])}`,
          };
        if (!('expect' in tolerance)) return { met: true };
      }
      if ('expect' in tolerance) {
        const expect = tolerance['expect'];
        const ok = Array.isArray(expect) ? equal(matches, expect) : equal(matches, [expect]);
        return ok
          ? { met: true }
          : { met: false, reason: `${path} is ${show(matches)}, expected ${show(expect)}` };
      }
      return matches.length > 0 ? { met: true } : { met: false, reason: `${path} matched nothing` };
    }
    case 'probe': {
      if (!runProbe) return { met: false, reason: 'probe tolerances need a probe runner' };
      const result = await runProbe(tolerance, output, signal);
      return result
        ? { met: true }
        : {
            met: false,
            reason: `tolerance probe "${String(tolerance['name'] ?? '')}" answered ${show(result)}`,
          };
    }
    default:
      return { met: false, reason: `unsupported tolerance type ${show(tolerance['type'])}` };
  }
}
