/**
 * Chaos Toolkit's dynamic configuration: a configuration value that is a probe
 * (`{"type": "probe", "provider": …}`), run once before the experiment, its output the value.
 * As upstream, entries are evaluated in the order they are written, each seeing the values
 * before it (`${earlier}` in its arguments), and a `--var` for the key wins without running it.
 *
 * Each probe is compiled as the one step of a throwaway Chaos Toolkit experiment with the
 * configuration resolved so far, so it runs with exactly the providers, substitution and checks
 * of a real step (http, process, Python, chaosprometheus) — and a failing probe is a located
 * problem of the file, not a value of `undefined`.
 */
import { isFaultlineError, ValidationError, type ValidationIssue } from '../errors.js';
import { planChaosToolkit, type CompileChaosToolkitOptions } from './to-run-plan.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** True when the document has a probe as a configuration value. */
export function hasDynamicConfiguration(data: unknown): boolean {
  return (
    isObj(data) &&
    isObj(data['configuration']) &&
    Object.values(data['configuration']).some((v) => isObj(v) && v['type'] === 'probe')
  );
}

/** The values of the document's dynamic configuration entries, evaluated in order. */
export async function evaluateDynamicConfiguration(
  data: Obj,
  options: CompileChaosToolkitOptions,
  signal: AbortSignal,
): Promise<Record<string, unknown>> {
  const configuration = isObj(data['configuration']) ? data['configuration'] : {};
  const given = options.vars ?? {};
  const values: Record<string, unknown> = {};
  const issues: ValidationIssue[] = [];
  // The static entries, for the probes to substitute; dynamic ones join as they are evaluated.
  const staticConfig = Object.fromEntries(
    Object.entries(configuration).filter(([, v]) => !(isObj(v) && v['type'] === 'probe')),
  );
  for (const [key, entry] of Object.entries(configuration)) {
    if (!(isObj(entry) && entry['type'] === 'probe') || Object.hasOwn(given, key)) continue;
    const path = `configuration.${key}`;
    try {
      const plan = planChaosToolkit(
        {
          title: `dynamic configuration ${key}`,
          description: 'one probe',
          configuration: staticConfig,
          secrets: data['secrets'],
          method: [{ ...entry, type: 'probe', name: String(entry['name'] ?? key) }],
        },
        { ...options, vars: { ...values, ...given } },
      );
      const step = plan.method[0];
      if (step?.kind !== 'activity') throw new Error('not a probe');
      values[key] = await step.execute(signal);
    } catch (err) {
      if (signal.aborted) throw err;
      if (err instanceof ValidationError)
        issues.push(
          ...err.issues.map((i) => ({
            ...i,
            path: `${path}.${i.path.replace(/^method\[0\]\.?/, '')}`,
          })),
        );
      else
        issues.push({
          path,
          file: options.file,
          message: `the dynamic configuration probe for ${key} failed: ${isFaultlineError(err) || err instanceof Error ? err.message : String(err)}`,
          hint: `fix the probe, or pass --var ${key}=… to skip it`,
        });
    }
  }
  if (issues.length > 0)
    throw new ValidationError(
      `${issues.length} problem${issues.length === 1 ? '' : 's'} in ${options.file}`,
      issues,
    );
  return values;
}

/**
 * A Chaos Toolkit document's plan for a run: its dynamic configuration evaluated first (the
 * outputs become vars, under any `--var` given), then compiled.
 */
export async function planChaosToolkitRun(
  data: unknown,
  options: CompileChaosToolkitOptions,
  signal: AbortSignal = new AbortController().signal,
): Promise<ReturnType<typeof planChaosToolkit>> {
  if (!hasDynamicConfiguration(data)) return planChaosToolkit(data, options);
  const dynamic = await evaluateDynamicConfiguration(data as Obj, options, signal);
  return planChaosToolkit(data, { ...options, vars: { ...dynamic, ...options.vars } });
}
