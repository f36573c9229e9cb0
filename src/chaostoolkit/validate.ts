/**
 * Structural validation of Chaos Toolkit experiments: Chaos Toolkit's own rules and messages
 * (../shared reference, §2–§8), but every problem in one pass, each with its JSON path, and
 * pure — no environment variable read, no Python module imported, no PATH searched (those are
 * checked when the experiment is compiled for a run).
 *
 * Where Chaos Toolkit is lax, faultline is stricter and says so: refs in rollbacks are checked,
 * a misspelt known key (`tolerence`) is reported with a hint, `expected_status` is honoured
 * (not silently ignored). Where it is needlessly strict, faultline accepts: float and null
 * tolerances, the `skip` hypothesis strategy, the spec's own `"scope": "post"` control example.
 */
import type { ValidationIssue } from '../errors.js';
import { suggest } from '../shared/suggest.js';
import {
  hasPlaceholder,
  headerNameProblem,
  headerValueProblem,
  methodProblem,
  secondsProblem,
  statusProblem,
  toleranceJsonPathProblem,
  urlProblem,
  type ValueProblem,
} from '../experiment/value-checks.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

const TOP_KEYS = [
  'version',
  'title',
  'description',
  'tags',
  'contributions',
  'configuration',
  'secrets',
  'extensions',
  'controls',
  'steady-state-hypothesis',
  'method',
  'rollbacks',
  'runtime',
  'dry',
];
const ACTIVITY_KEYS = [
  'type',
  'name',
  'provider',
  'tolerance',
  'pauses',
  'background',
  'timeout',
  'controls',
  'configuration',
  'ref',
  'dry',
];
const PROVIDER_KEYS = [
  'type',
  'module',
  'func',
  'arguments',
  'secrets',
  'path',
  'timeout',
  'url',
  'method',
  'headers',
  'verify_tls',
  'max_retries',
  'expected_status',
];
const HYPOTHESIS_STRATEGIES = [
  'default',
  'before-method-only',
  'after-method-only',
  'during-method-only',
  'continuously',
  'continously',
  'skip',
];
const ROLLBACK_STRATEGIES = ['default', 'always', 'never', 'deviated'];

/** Reports a key that looks like a misspelling of a known one; other unknown keys are extensions. */
function typos(obj: Obj, known: readonly string[], path: string, issues: ValidationIssue[]): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    const hint = suggest(key, known);
    if (hint?.startsWith('did you mean'))
      issues.push({ path: join(path, key), message: `unknown key "${key}"`, hint });
  }
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

const isPlaceholder = (v: unknown): boolean => typeof v === 'string' && /^\$\{[^}]+\}$/.test(v);

/** A value check's problem at `path` (values with a `${variable}` are checked at run time). */
function valueIssue(
  issues: ValidationIssue[],
  path: string,
  value: unknown,
  problem: (v: never) => ValueProblem | undefined,
): void {
  if (typeof value === 'string' && hasPlaceholder(value)) return;
  const found = problem(value as never);
  if (found) issues.push({ path, message: found.message, hint: found.hint });
}

/** A number of seconds a timer can hold (pauses, timeouts, the hypothesis frequency). */
function checkSeconds(issues: ValidationIssue[], path: string, value: unknown): void {
  if (typeof value === 'number') valueIssue(issues, path, value, secondsProblem);
}

export function validateChaosToolkit(data: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!isObj(data) || Object.keys(data).length === 0) {
    return [{ path: '', message: 'an empty experiment is not an experiment' }];
  }
  typos(data, TOP_KEYS, '', issues);
  if (!data['title']) issues.push({ path: 'title', message: 'experiment requires a title' });
  else if (typeof data['title'] !== 'string')
    issues.push({ path: 'title', message: 'the title must be a string' });
  if (!data['description'])
    issues.push({ path: 'description', message: 'experiment requires a description' });
  if (data['tags'] !== undefined) {
    if (!Array.isArray(data['tags']))
      issues.push({ path: 'tags', message: 'tags must be a list of strings' });
    else
      data['tags'].forEach((t, i) => {
        if (typeof t !== 'string' || t === '')
          issues.push({
            path: `tags[${i}]`,
            message: 'experiment tags must be a non-empty string',
          });
      });
  }
  if (data['extensions'] !== undefined) {
    if (!Array.isArray(data['extensions']))
      issues.push({ path: 'extensions', message: 'extensions must be a list' });
    else
      data['extensions'].forEach((e, i) => {
        if (!isObj(e) || !e['name'])
          issues.push({
            path: `extensions[${i}].name`,
            message: 'All extensions require a non-empty name',
          });
      });
  }
  validateConfiguration(data['configuration'], 'configuration', issues);
  validateSecrets(data['secrets'], issues);
  validateControls(data['controls'], 'controls', issues);

  // Names that refs can point to: method and hypothesis probes (Chaos Toolkit's cache), and
  // rollbacks too (faultline checks rollback refs; Chaos Toolkit does not).
  const names = new Set<string>();
  const collect = (list: unknown): void => {
    if (Array.isArray(list))
      for (const a of list) if (isObj(a) && typeof a['name'] === 'string') names.add(a['name']);
  };
  const hypothesis = data['steady-state-hypothesis'];
  if (hypothesis !== undefined) {
    if (!isObj(hypothesis))
      issues.push({
        path: 'steady-state-hypothesis',
        message: 'the steady-state hypothesis must be a mapping',
      });
    else {
      typos(hypothesis, ['title', 'probes', 'controls'], 'steady-state-hypothesis', issues);
      if (!hypothesis['title'])
        issues.push({
          path: 'steady-state-hypothesis.title',
          message: 'hypothesis requires a title',
        });
      collect(hypothesis['probes']);
      validateControls(hypothesis['controls'], 'steady-state-hypothesis.controls', issues);
    }
  }
  collect(data['method']);

  if (isObj(hypothesis) && hypothesis['probes'] !== undefined) {
    const probes = hypothesis['probes'];
    if (!Array.isArray(probes))
      issues.push({ path: 'steady-state-hypothesis.probes', message: 'probes must be a list' });
    else
      probes.forEach((probe, i) => {
        const path = `steady-state-hypothesis.probes[${i}]`;
        validateActivity(probe, path, issues, names);
        if (isObj(probe) && !('ref' in probe)) {
          if (!('tolerance' in probe))
            issues.push({
              path,
              message: 'hypothesis probe must have a tolerance entry',
              hint: 'e.g. "tolerance": 200, true, [200, 201] or {"type": "regex", ...}',
            });
          else validateTolerance(probe['tolerance'], `${path}.tolerance`, issues);
        }
      });
  }

  if (!('method' in data)) {
    issues.push({
      path: 'method',
      message:
        'an experiment requires a method, which can be empty for only checking steady state hypothesis',
      hint: 'add "method": []',
    });
  } else if (!Array.isArray(data['method'])) {
    issues.push({ path: 'method', message: 'the method must be a list of activities' });
  } else {
    data['method'].forEach((a, i) => validateActivity(a, `method[${i}]`, issues, names));
  }
  if (data['rollbacks'] !== undefined) {
    if (!Array.isArray(data['rollbacks']))
      issues.push({ path: 'rollbacks', message: 'rollbacks must be a list of activities' });
    else data['rollbacks'].forEach((a, i) => validateActivity(a, `rollbacks[${i}]`, issues, names));
  }

  const runtime = data['runtime'];
  if (runtime !== undefined) {
    if (!isObj(runtime)) issues.push({ path: 'runtime', message: 'runtime must be a mapping' });
    else {
      typos(runtime, ['rollbacks', 'hypothesis'], 'runtime', issues);
      const r = runtime['rollbacks'];
      if (
        isObj(r) &&
        r['strategy'] !== undefined &&
        !ROLLBACK_STRATEGIES.includes(String(r['strategy']))
      ) {
        issues.push({
          path: 'runtime.rollbacks.strategy',
          message: `unknown rollback strategy "${String(r['strategy'])}"`,
          hint:
            suggest(String(r['strategy']), ROLLBACK_STRATEGIES) ??
            `one of ${ROLLBACK_STRATEGIES.join(', ')}`,
        });
      }
      const h = runtime['hypothesis'];
      if (
        isObj(h) &&
        h['strategy'] !== undefined &&
        !HYPOTHESIS_STRATEGIES.includes(String(h['strategy']))
      ) {
        issues.push({
          path: 'runtime.hypothesis.strategy',
          message: `unknown hypothesis strategy "${String(h['strategy'])}"`,
          hint:
            suggest(String(h['strategy']), HYPOTHESIS_STRATEGIES) ??
            `one of ${HYPOTHESIS_STRATEGIES.join(', ')}`,
        });
      }
      if (
        isObj(h) &&
        h['frequency'] !== undefined &&
        (typeof h['frequency'] !== 'number' || h['frequency'] <= 0)
      ) {
        issues.push({
          path: 'runtime.hypothesis.frequency',
          message: 'the frequency must be a positive number of seconds',
        });
      } else if (isObj(h)) checkSeconds(issues, 'runtime.hypothesis.frequency', h['frequency']);
    }
  }
  return issues;
}

/** Validates one activity (or a `{ref}`); exported for activity-level fixtures. */
export function validateActivity(
  activity: unknown,
  path: string,
  issues: ValidationIssue[],
  names?: ReadonlySet<string>,
): void {
  if (!isObj(activity) || Object.keys(activity).length === 0) {
    issues.push({ path, message: 'empty activity is no activity' });
    return;
  }
  if ('ref' in activity) {
    const ref = activity['ref'];
    if (typeof ref !== 'string' || ref === '')
      issues.push({
        path: `${path}.ref`,
        message: 'reference to activity must be non-empty strings',
      });
    else if (names && !names.has(ref)) {
      issues.push({
        path: `${path}.ref`,
        message: `referenced activity '${ref}' could not be found in the experiment`,
        hint:
          suggest(ref, [...names]) ??
          'refs point to the name of a method activity or a hypothesis probe',
      });
    }
    return;
  }
  typos(activity, ACTIVITY_KEYS, path, issues);
  const type = activity['type'];
  if (!type)
    issues.push({
      path: `${path}.type`,
      message: 'an activity must have a type',
      hint: '"probe" or "action"',
    });
  else if (type !== 'probe' && type !== 'action')
    issues.push({
      path: `${path}.type`,
      message: `'${String(type)}' is not a supported activity type`,
      hint: suggest(String(type), ['probe', 'action']) ?? '"probe" or "action"',
    });
  if (!activity['name'])
    issues.push({ path: `${path}.name`, message: 'an activity must have a name' });
  const pauses = activity['pauses'];
  if (pauses !== undefined) {
    if (!isObj(pauses))
      issues.push({
        path: `${path}.pauses`,
        message: 'pauses must be a mapping with before and/or after',
      });
    else
      for (const when of ['before', 'after'] as const) {
        const v = pauses[when];
        if (v !== undefined && typeof v !== 'number' && !isPlaceholder(v)) {
          issues.push({
            path: `${path}.pauses.${when}`,
            message: `activity ${when} pause must be a number or a pattern to a variable from the configuration or secrets`,
          });
        } else checkSeconds(issues, `${path}.pauses.${when}`, v);
      }
  }
  if (activity['background'] !== undefined && typeof activity['background'] !== 'boolean') {
    issues.push({ path: `${path}.background`, message: 'activity background must be a boolean' });
  }
  if (activity['timeout'] !== undefined && typeof activity['timeout'] !== 'number') {
    issues.push({ path: `${path}.timeout`, message: 'activity timeout must be a number' });
  } else checkSeconds(issues, `${path}.timeout`, activity['timeout']);
  validateControls(activity['controls'], `${path}.controls`, issues);
  const provider = activity['provider'];
  if (provider === undefined) {
    issues.push({ path: `${path}.provider`, message: 'an activity requires a provider' });
    return;
  }
  if (!isObj(provider)) {
    issues.push({ path: `${path}.provider`, message: 'the provider must be a mapping' });
    return;
  }
  typos(provider, PROVIDER_KEYS, `${path}.provider`, issues);
  const ptype = provider['type'];
  const ppath = `${path}.provider`;
  if (!ptype)
    issues.push({
      path: `${ppath}.type`,
      message: 'a provider must have a type',
      hint: '"http", "process" or "python"',
    });
  else if (ptype === 'python') {
    if (!provider['module'])
      issues.push({
        path: `${ppath}.module`,
        message: 'a Python activity must have a module path',
      });
    if (!provider['func'])
      issues.push({
        path: `${ppath}.func`,
        message: 'a Python activity must have a function name',
      });
  } else if (ptype === 'process') {
    if (!provider['path'])
      issues.push({ path: `${ppath}.path`, message: 'a process activity must have a path' });
  } else if (ptype === 'http') {
    if (!provider['url'])
      issues.push({ path: `${ppath}.url`, message: 'a HTTP activity must have a URL' });
    else if (typeof provider['url'] === 'string')
      valueIssue(issues, `${ppath}.url`, provider['url'], (u: string) => urlProblem(u, 'http'));
    if (typeof provider['method'] === 'string')
      valueIssue(issues, `${ppath}.method`, provider['method'], methodProblem);
    if (isObj(provider['headers']))
      for (const [name, value] of Object.entries(provider['headers'])) {
        valueIssue(issues, `${ppath}.headers.${name}`, name, headerNameProblem);
        if (typeof value === 'string')
          valueIssue(issues, `${ppath}.headers.${name}`, value, headerValueProblem);
      }
    const expected = provider['expected_status'];
    for (const [i, status] of (Array.isArray(expected) ? expected : [expected]).entries())
      if (typeof status === 'number')
        valueIssue(
          issues,
          Array.isArray(expected) ? `${ppath}.expected_status[${i}]` : `${ppath}.expected_status`,
          status,
          statusProblem,
        );
    if (provider['headers'] !== undefined && !isObj(provider['headers']))
      issues.push({
        path: `${ppath}.headers`,
        message: 'a HTTP activities expect headers as a mapping',
      });
    const t = provider['timeout'];
    if (
      t !== undefined &&
      typeof t !== 'number' &&
      !(Array.isArray(t) && t.length === 2 && t.every((x) => typeof x === 'number')) &&
      !isPlaceholder(t)
    ) {
      issues.push({
        path: `${ppath}.timeout`,
        message: 'the timeout must be a number of seconds, or [connect, read]',
      });
    } else if (Array.isArray(t))
      t.forEach((part, i) => checkSeconds(issues, `${ppath}.timeout[${i}]`, part));
    else checkSeconds(issues, `${ppath}.timeout`, t);
  } else {
    issues.push({
      path: `${ppath}.type`,
      message: `unknown provider type '${String(ptype)}'`,
      hint:
        suggest(String(ptype), ['http', 'process', 'python']) ?? '"http", "process" or "python"',
    });
  }
  if (
    (ptype === 'process' || ptype === 'python') &&
    provider['timeout'] !== undefined &&
    typeof provider['timeout'] !== 'number' &&
    !isPlaceholder(provider['timeout'])
  ) {
    issues.push({ path: `${ppath}.timeout`, message: 'the timeout must be a number of seconds' });
  } else if (ptype === 'process' || ptype === 'python')
    checkSeconds(issues, `${ppath}.timeout`, provider['timeout']);
}

/** Tolerance shapes (§6); floats and null are accepted (Chaos Toolkit rejects them). */
export function validateTolerance(
  tolerance: unknown,
  path: string,
  issues: ValidationIssue[],
): void {
  if (
    tolerance === null ||
    ['boolean', 'number', 'string'].includes(typeof tolerance) ||
    Array.isArray(tolerance)
  )
    return;
  if (!isObj(tolerance)) {
    issues.push({
      path,
      message:
        'hypothesis probe tolerance must either be an integer, a string, a boolean or a pair of values for boundaries',
    });
    return;
  }
  const type = tolerance['type'];
  if (type === 'probe') {
    validateActivity({ ...tolerance, type: 'probe' }, path, issues);
  } else if (type === 'regex') {
    const pattern = tolerance['pattern'];
    if (pattern === undefined)
      issues.push({ path: `${path}.pattern`, message: 'tolerance must have a `pattern` key' });
    else if (typeof pattern !== 'string')
      issues.push({
        path: `${path}.pattern`,
        message: `pattern ${JSON.stringify(pattern)} has an invalid type`,
      });
    else if (!isPlaceholder(pattern)) {
      try {
        new RegExp(pattern);
      } catch {
        issues.push({ path: `${path}.pattern`, message: `pattern ${pattern} seems invalid` });
      }
    }
  } else if (type === 'jsonpath') {
    if (typeof tolerance['path'] !== 'string' || tolerance['path'] === '')
      issues.push({ path: `${path}.path`, message: 'tolerance must have a `path` key' });
    else valueIssue(issues, `${path}.path`, tolerance['path'], toleranceJsonPathProblem);
  } else if (type === 'range') {
    const range = tolerance['range'];
    if (!Array.isArray(range) || range.length !== 2 || !range.every((x) => typeof x === 'number')) {
      issues.push({
        path: `${path}.range`,
        message: 'the range must be a list of two numbers',
        hint: 'e.g. "range": [4.6, 8.9]',
      });
    }
  } else {
    issues.push({
      path: `${path}.type`,
      message: `hypothesis probe tolerance type '${String(type)}' is unsupported`,
      hint:
        suggest(String(type), ['probe', 'regex', 'jsonpath', 'range']) ??
        'one of probe, regex, jsonpath, range',
    });
  }
}

function validateConfiguration(config: unknown, path: string, issues: ValidationIssue[]): void {
  if (config === undefined) return;
  if (!isObj(config)) {
    issues.push({ path, message: 'configuration must be a mapping' });
    return;
  }
  for (const [key, value] of Object.entries(config)) {
    if (isObj(value) && value['type'] === 'env' && typeof value['key'] !== 'string') {
      issues.push({
        path: `${path}.${key}.key`,
        message: 'an env configuration value needs the name of the variable in "key"',
      });
    }
    if (
      isObj(value) &&
      value['type'] === 'env' &&
      value['env_var_type'] !== undefined &&
      !['str', 'int', 'float', 'bytes', 'bool', 'json'].includes(String(value['env_var_type']))
    ) {
      issues.push({
        path: `${path}.${key}.env_var_type`,
        message: `unknown env_var_type "${String(value['env_var_type'])}"`,
        hint: 'one of str, int, float, bytes, bool, json',
      });
    }
  }
}

function validateSecrets(secrets: unknown, issues: ValidationIssue[]): void {
  if (secrets === undefined) return;
  if (!isObj(secrets)) {
    issues.push({ path: 'secrets', message: 'secrets must be a mapping of scopes' });
    return;
  }
  for (const [scope, values] of Object.entries(secrets)) {
    if (!isObj(values))
      issues.push({ path: `secrets.${scope}`, message: 'a secret scope must be a mapping' });
  }
}

function validateControls(controls: unknown, path: string, issues: ValidationIssue[]): void {
  if (controls === undefined) return;
  if (!Array.isArray(controls)) {
    issues.push({ path, message: 'controls must be a list' });
    return;
  }
  controls.forEach((control, i) => {
    const p = `${path}[${i}]`;
    if (!isObj(control)) {
      issues.push({ path: p, message: 'a control must be a mapping' });
      return;
    }
    if ('ref' in control) return;
    if (!control['name'])
      issues.push({ path: `${p}.name`, message: 'A control must have a `name` property' });
    if (!control['provider'])
      issues.push({
        path: `${p}.provider`,
        message: `Control '${String(control['name'] ?? '')}' must have a \`provider\` property`,
      });
    const scope = control['scope'];
    if (scope !== undefined && !['before', 'after', 'post'].includes(String(scope))) {
      issues.push({
        path: `${p}.scope`,
        message: `control scope must be "before" or "after", not "${String(scope)}"`,
      });
    }
  });
}
