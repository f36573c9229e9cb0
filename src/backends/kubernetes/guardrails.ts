/**
 * Blast-radius guardrails for cluster experiments, checked before anything is sent (by
 * `faultline compile` and by `faultline run --target kubernetes`). They exist because of the
 * brief's escape: a staging experiment selected its targets by a tag that production shared.
 *
 * Rules, each reported as a located issue (all of them in one pass):
 * - every fault has a duration (the schema requires it) no longer than the experiment's
 *   maximum (`safety.maxDuration`, default 10m);
 * - every selector names a namespace (not empty, not a wildcard) and at least one label;
 * - mode and value are bounded: `one` by default; `all`, or more than 50 %, refused unless
 *   `allowWideBlast`; `value` present and well formed exactly when the mode needs one;
 * - an environment qualifier: the experiment says its `environment`, and every selector carries
 *   it, as a label (`environment`, `env`, `app.kubernetes.io/environment`,
 *   `tags.datadoghq.com/env`) or as a dash-separated part of the namespace (`payments-staging`);
 * - production (`prod`, `production`, `prd`, `live`) refused unless `allowProduction`.
 *
 * A peer target (the other side of a network fault) is checked the same way, except that its
 * width is only bounded when faults are injected on its pods too (direction `from` or `both`).
 */
import type { ValidationIssue } from '../../errors.js';
import { parseDuration } from '../../experiment/duration.js';
import type { Experiment, Target } from '../../experiment/schema.js';

export interface GuardrailOptions {
  /** `--allow-wide-blast`: accept mode `all` and more than 50 % of the pods. */
  allowWideBlast?: boolean | undefined;
  /** `--allow-production`: accept a production environment. */
  allowProduction?: boolean | undefined;
}

type KubernetesTarget = Extract<Target, { type: 'kubernetes' }>;
type Issue = Omit<ValidationIssue, 'file' | 'line' | 'column'>;

/** Label keys that carry an environment name. */
export const ENVIRONMENT_LABELS = [
  'environment',
  'env',
  'app.kubernetes.io/environment',
  'tags.datadoghq.com/env',
];
const PRODUCTION = /^(prod|production|prd|live)$/i;
/** The widest share of pods accepted without `allowWideBlast`, in percent. */
export const MAX_PERCENT = 50;

/** Every guardrail problem of the experiment's kubernetes faults (empty: safe to send). */
export function checkGuardrails(experiment: Experiment, options: GuardrailOptions = {}): Issue[] {
  const issues: Issue[] = [];
  const targets = experiment.targets;
  const maxMs = parseDuration(experiment.safety?.maxDuration ?? '10m') ?? 600_000;
  const checked = new Map<string, 'injected' | 'peer'>();
  let kubernetesFaults = 0;

  experiment.method.forEach((step, index) => {
    if (!('fault' in step)) return;
    const target = targets[step.target];
    if (target?.type !== 'kubernetes') return;
    kubernetesFaults++;
    const path = `method[${index}]`;
    const durationMs = parseDuration(step.duration);
    if (durationMs === undefined || durationMs <= 0)
      issues.push({
        path: `${path}.duration`,
        message: 'every fault needs a positive duration',
        hint: 'e.g. duration: 120s',
      });
    else if (durationMs > maxMs) {
      issues.push({
        path: `${path}.duration`,
        message: `the fault lasts ${step.duration}, longer than the experiment's maximum (${experiment.safety?.maxDuration ?? '10m'})`,
        hint: 'shorten the fault, or raise safety.maxDuration',
      });
    }
    if (checked.get(step.target) !== 'injected') checked.set(step.target, 'injected');
    if ('peer' in step && step.peer) {
      const injectedToo = step.direction === 'from' || step.direction === 'both';
      if (injectedToo) checked.set(step.peer, 'injected');
      else if (!checked.has(step.peer)) checked.set(step.peer, 'peer');
    }
  });
  if (kubernetesFaults === 0) return issues;

  const environment = experiment.environment;
  if (!environment) {
    issues.push({
      path: 'environment',
      message: 'a cluster experiment must say which environment it is for',
      hint: 'add environment: staging (and the same qualifier on every selector)',
    });
  } else if (PRODUCTION.test(environment) && !options.allowProduction) {
    issues.push({
      path: 'environment',
      message: `environment "${environment}" is production`,
      hint: 'production is refused unless --allow-production (and a stop condition tuned to production)',
    });
  }
  for (const [name, role] of checked) {
    const target = targets[name];
    if (target?.type !== 'kubernetes') continue;
    issues.push(...checkTarget(name, target, role, environment, options));
  }
  return issues;
}

function checkTarget(
  name: string,
  target: KubernetesTarget,
  role: 'injected' | 'peer',
  environment: string | undefined,
  options: GuardrailOptions,
): Issue[] {
  const issues: Issue[] = [];
  const path = `targets.${name}`;
  if (
    !target.namespace ||
    target.namespace.includes('*') ||
    !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(target.namespace)
  ) {
    issues.push({
      path: `${path}.namespace`,
      message: `"${target.namespace}" is not one namespace`,
      hint: 'every selector names exactly one namespace (a DNS label such as payments-staging)',
    });
  }
  if (Object.keys(target.selector).length === 0) {
    issues.push({
      path: `${path}.selector`,
      message: 'an empty selector matches every pod of the namespace',
      hint: 'select by labels, e.g. app: payment-service',
    });
  }
  issues.push(...checkMode(path, target, role, options));

  // The environment qualifier: a label on the selector, or the namespace's name.
  const labelEnv = ENVIRONMENT_LABELS.map((k) => target.selector[k]).find((v) => v !== undefined);
  const namespaceParts = target.namespace.split('-');
  const qualified =
    labelEnv !== undefined || (environment !== undefined && namespaceParts.includes(environment));
  if (!qualified) {
    issues.push({
      path: `${path}.selector`,
      message: `the selector of "${name}" has no environment qualifier`,
      hint: `add ${String(ENVIRONMENT_LABELS[0])}: ${environment ?? '<environment>'} to the selector (a tag shared by staging and production once hit production), or use a namespace named after the environment`,
    });
  } else if (labelEnv !== undefined && environment !== undefined && labelEnv !== environment) {
    issues.push({
      path: `${path}.selector`,
      message: `the selector of "${name}" qualifies environment "${labelEnv}", but the experiment is for "${environment}"`,
      hint: 'make them agree',
    });
  }
  const productionHit =
    (labelEnv !== undefined && PRODUCTION.test(labelEnv)) ||
    namespaceParts.some((p) => PRODUCTION.test(p));
  if (productionHit && !options.allowProduction) {
    issues.push({
      path: `${path}.selector`,
      message: `target "${name}" selects production pods (${labelEnv !== undefined && PRODUCTION.test(labelEnv) ? `label ${labelEnv}` : `namespace ${target.namespace}`})`,
      hint: 'production is refused unless --allow-production',
    });
  }
  return issues;
}

function checkMode(
  path: string,
  target: KubernetesTarget,
  role: 'injected' | 'peer',
  options: GuardrailOptions,
): Issue[] {
  const issues: Issue[] = [];
  const { mode, value } = target;
  const needsValue = mode === 'fixed' || mode === 'fixed-percent' || mode === 'random-max-percent';
  if (!needsValue && value !== undefined)
    issues.push({
      path: `${path}.value`,
      message: `mode ${mode} takes no value`,
      hint: 'remove value, or use mode fixed / fixed-percent / random-max-percent',
    });
  if (needsValue) {
    const n = value === undefined ? NaN : Number(value);
    if (value === undefined)
      issues.push({
        path: `${path}.value`,
        message: `mode ${mode} needs a value`,
        hint:
          mode === 'fixed'
            ? 'the number of pods, e.g. value: "1"'
            : 'a percentage of the pods from 1 to 100, e.g. value: "10"',
      });
    else if (!/^\d+$/.test(value) || n < 1 || (mode !== 'fixed' && n > 100)) {
      issues.push({
        path: `${path}.value`,
        message: `"${value}" is not a valid value for mode ${mode}`,
        hint:
          mode === 'fixed'
            ? 'a whole number of pods, at least 1'
            : 'a whole percentage from 1 to 100',
      });
    } else if (
      mode !== 'fixed' &&
      n > MAX_PERCENT &&
      role === 'injected' &&
      !options.allowWideBlast
    ) {
      issues.push({
        path: `${path}.value`,
        message: `${value} % of the pods is more than the ${MAX_PERCENT} % faultline allows by default`,
        hint: 'lower the value, or pass --allow-wide-blast',
      });
    }
  }
  if (mode === 'all' && role === 'injected' && !options.allowWideBlast) {
    issues.push({
      path: `${path}.mode`,
      message: 'mode all hits every matching pod (Chaos Mesh also selects pods that are not ready)',
      hint: 'use one, fixed or fixed-percent (≤ 50 %), or pass --allow-wide-blast',
    });
  }
  return issues;
}

/**
 * Against the pods a selector really matches (dry run, and before a run sends anything): an
 * empty selection, or a `fixed` count above half of the pods, is a problem. Returns undefined
 * when the selection is acceptable.
 */
export function checkSelection(
  target: KubernetesTarget,
  matched: number,
  options: GuardrailOptions = {},
): string | undefined {
  if (matched === 0)
    return `no pod matches ${Object.entries(target.selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(',')} in namespace ${target.namespace}`;
  if (target.mode === 'fixed' && target.value !== undefined && !options.allowWideBlast) {
    const n = Number(target.value);
    if (n / matched > MAX_PERCENT / 100)
      return `mode fixed ${n} of ${matched} matching pods is more than ${MAX_PERCENT} %; pass --allow-wide-blast to accept it`;
  }
  return undefined;
}

/** How many of `matched` pods the mode hits at most. */
export function podsHit(target: KubernetesTarget, matched: number): number {
  const v = Number(target.value ?? 0);
  switch (target.mode) {
    case 'one':
      return Math.min(1, matched);
    case 'all':
      return matched;
    case 'fixed':
      return Math.min(v, matched);
    case 'fixed-percent':
    case 'random-max-percent':
      return Math.min(matched, Math.floor((matched * v) / 100));
  }
}
