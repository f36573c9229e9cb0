/**
 * A validated Chaos Toolkit experiment → {@link RunPlan}.
 *
 * - configuration: inline values, `{type: env, key, default?, env_var_type?}`; secrets: inline
 *   and env (vault → a clear error); `--var`/`--var-file` values win. Dynamic configuration
 *   (a probe as a value) is evaluated before planning (./dynamic-configuration.ts) and comes in
 *   as a var.
 * - `${name}` substitution where Chaos Toolkit substitutes (title, provider arguments, http
 *   url/headers/timeout, pauses, string tolerances, regex patterns, jsonpath path/expect) —
 *   never bare `$name`.
 * - providers: http and process run natively; `chaostoxi.*` (chaostoolkit-toxiproxy) toxic and
 *   disable functions become faults on a remote proxy server, its other functions calls to that
 *   server's API; `chaosprometheus` queries are HTTP calls to Prometheus; any other Python
 *   provider runs in the user's Python (./python-provider.ts), each module imported and each
 *   call's arguments bound to its function before anything runs (as `chaos validate` does).
 * - refs are resolved (the journal records the resolved activity).
 */
import { ValidationError, type ValidationIssue } from '../errors.js';
import { substitute } from '../experiment/substitute.js';
import type { Target } from '../experiment/schema.js';
import { httpRequest, type HttpOutput } from '../probes/http-request.js';
import { runCommand } from '../probes/run-command.js';
import type {
  HypothesisStrategy,
  PlannedActivity,
  PlannedFault,
  PlannedFaultRemoval,
  PlannedStep,
  RollbackStrategy,
  RunPlan,
} from '../run-plan/plan.js';
import { evaluateTolerance } from './tolerance.js';
import { authFor } from './settings.js';
import {
  callPython,
  checkPythonActivities,
  installHint,
  pythonInterpreter,
  type PythonActivityRef,
} from './python-provider.js';
import { chaostoxiCall, CHAOSTOXI_CALLS } from './chaostoxi-calls.js';
import { prometheusCall, PROMETHEUS_FUNCS } from './prometheus-calls.js';

type Obj = Record<string, unknown>;
/** A Python call of the plan, where it is in the file. */
type PythonRef = PythonActivityRef & { path: string; name: string; type: 'probe' | 'action' };
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export interface CompileChaosToolkitOptions {
  file: string;
  env: Readonly<Record<string, string | undefined>>;
  vars?: Readonly<Record<string, unknown>> | undefined;
  rollbackStrategy?: RollbackStrategy | undefined;
  hypothesisStrategy?: HypothesisStrategy | undefined;
  frequencyMs?: number | undefined;
  failFast?: boolean | undefined;
  /** Default 10 minutes (Chaos Toolkit has no run limit; faultline always has one). */
  maxDurationMs?: number | undefined;
  /**
   * Import every Python provider's module and bind its arguments before the run (default true;
   * `--no-validation` turns it off, as `chaos run --no-validation` does).
   */
  checkPython?: boolean | undefined;
  /** Skip TLS certificate checks of every http provider (`--no-verify-tls`). */
  noVerifyTls?: boolean | undefined;
  /**
   * Given (by `validate`), an environment variable the configuration reads and the environment
   * lacks is a warning pushed here instead of a problem: the file is checked, not run.
   */
  missingEnv?: string[] | undefined;
  /** `auths` of a Chaos Toolkit settings file (`--settings`): host:port → Authorization value. */
  auths?: Readonly<Record<string, string>> | undefined;
}

function envValue(raw: string, type: unknown): unknown {
  switch (type) {
    case 'int':
      return Number.parseInt(raw, 10);
    case 'float':
      return Number.parseFloat(raw);
    case 'bool':
      return !['false', '0', 'no'].includes(raw.toLowerCase());
    case 'json':
      return JSON.parse(raw);
    default:
      return raw;
  }
}

/** Resolves configuration and secrets into one variable table (secrets flattened, as upstream). */
interface ResolvedVars {
  /** Configuration and secrets, flattened: what `${name}` reads. */
  vars: Map<string, unknown>;
  /** The resolved configuration, as a Python provider's `configuration` argument. */
  configuration: Obj;
  /** The resolved secrets by scope, for a Python provider's `secrets`. */
  secrets: Record<string, Obj>;
}

function resolveVars(
  data: Obj,
  options: CompileChaosToolkitOptions,
  issues: ValidationIssue[],
): ResolvedVars {
  const vars = new Map<string, unknown>();
  const configuration: Obj = {};
  const secretScopes: Record<string, Obj> = {};
  const overrides = options.vars ?? {};
  const config = isObj(data['configuration']) ? data['configuration'] : {};
  for (const [key, value] of Object.entries(config)) {
    if (Object.hasOwn(overrides, key)) continue;
    const path = `configuration.${key}`;
    if (isObj(value) && value['type'] === 'env') {
      const raw = options.env[String(value['key'])];
      if (raw !== undefined) {
        try {
          vars.set(key, envValue(raw, value['env_var_type']));
        } catch {
          issues.push({
            path,
            file: options.file,
            message: `environment variable ${String(value['key'])} is not valid ${String(value['env_var_type'])}`,
          });
        }
      } else if ('default' in value) vars.set(key, value['default']);
      else if (options.missingEnv)
        options.missingEnv.push(
          `${path}: the environment variable ${String(value['key'])} is not set and has no default (Chaos Toolkit calls the file invalid; export it or pass --var ${key}=…)`,
        );
      else
        issues.push({
          path,
          file: options.file,
          message: `Configuration makes reference to an environment key that does not exist: ${String(value['key'])}`,
          hint: `export ${String(value['key'])}=… or pass --var ${key}=…`,
        });
    } else if (isObj(value) && value['type'] === 'probe') {
      // Dynamic configuration: evaluated before planning (./dynamic-configuration.ts) and
      // passed in as a var; validate, which runs nothing, leaves it unresolved.
      if (!options.missingEnv)
        issues.push({
          path,
          file: options.file,
          message: 'dynamic configuration (a probe as a configuration value) was not evaluated',
          hint: `plan with evaluateDynamicConfiguration first, or pass --var ${key}=…`,
        });
    } else {
      vars.set(key, value);
    }
  }
  const secrets = isObj(data['secrets']) ? data['secrets'] : {};
  for (const [scope, values] of Object.entries(secrets)) {
    if (!isObj(values)) continue;
    for (const [key, value] of Object.entries(values)) {
      if (Object.hasOwn(overrides, key)) continue;
      const path = `secrets.${scope}.${key}`;
      if (isObj(value) && value['type'] === 'env') {
        const raw = options.env[String(value['key'])];
        if (raw !== undefined) vars.set(key, raw);
        else if (options.missingEnv) {
          options.missingEnv.push(
            `${path}: the environment variable ${String(value['key'])} is not set (Chaos Toolkit calls the file invalid; set it before the run)`,
          );
        } else
          issues.push({
            path,
            file: options.file,
            message: `Secrets make reference to an environment key that does not exist: ${String(value['key'])}`,
          });
      } else if (isObj(value) && value['type'] === 'vault') {
        issues.push({
          path,
          file: options.file,
          message: 'Vault secrets are not supported',
          hint: 'read the secret into an environment variable and use {"type": "env", "key": …}',
        });
      } else {
        vars.set(key, value);
      }
      if (vars.has(key)) (secretScopes[scope] ??= {})[key] = vars.get(key);
    }
  }
  for (const [key, value] of Object.entries(overrides)) vars.set(key, value);
  for (const key of Object.keys(config)) if (vars.has(key)) configuration[key] = vars.get(key);
  for (const [key, value] of Object.entries(overrides)) configuration[key] = value;
  return { vars, configuration, secrets: secretScopes };
}

const seconds = (v: unknown, fallback: number): number =>
  typeof v === 'number' && v >= 0 ? v * 1000 : fallback;

export function planChaosToolkit(raw: unknown, options: CompileChaosToolkitOptions): RunPlan {
  if (!isObj(raw))
    throw new ValidationError('not a Chaos Toolkit experiment', [
      { path: '', file: options.file, message: 'expected a mapping' },
    ]);
  const issues: ValidationIssue[] = [];
  const { vars, configuration, secrets } = resolveVars(raw, options, issues);
  const sub = <T>(v: T): T => substitute(v, vars);
  const python = pythonInterpreter(options.env);
  /** Every Python call the plan makes, checked in one child Python before anything runs. */
  const pythonRefs: PythonRef[] = [];

  // Ref resolution: method activities and hypothesis probes by name (last one wins, as upstream).
  const byName = new Map<string, Obj>();
  const hypothesis = isObj(raw['steady-state-hypothesis'])
    ? raw['steady-state-hypothesis']
    : undefined;
  for (const list of [hypothesis?.['probes'], raw['method']]) {
    if (Array.isArray(list))
      for (const a of list)
        if (isObj(a) && typeof a['name'] === 'string' && !('ref' in a)) byName.set(a['name'], a);
  }
  const resolve = (a: unknown, path: string): Obj | undefined => {
    if (!isObj(a)) return undefined;
    if (!('ref' in a)) return a;
    const target = byName.get(String(a['ref']));
    if (!target)
      issues.push({
        path: `${path}.ref`,
        file: options.file,
        message: `referenced activity '${String(a['ref'])}' could not be found in the experiment`,
      });
    return target;
  };

  const toxiproxy = toxiproxyUrl(vars);
  const targets: Record<string, Target> = {};
  const activity = (
    a: Obj,
    path: string,
    hypothesisProbe: boolean,
  ): PlannedActivity | PlannedFault | PlannedFaultRemoval | undefined => {
    const provider = isObj(a['provider']) ? sub(a['provider']) : {};
    const name = String(a['name'] ?? '');
    let planned: PlannedActivity | undefined;
    if (provider['type'] === 'python') {
      const module = String(provider['module'] ?? '');
      const func = String(provider['func'] ?? '');
      const args = isObj(provider['arguments']) ? provider['arguments'] : {};
      if (module.startsWith('chaostoxi') && !CHAOSTOXI_CALLS.has(func))
        return chaostoxi(a, provider, path, name, toxiproxy, targets, issues, options.file);
      const pauses = isObj(a['pauses']) ? sub(a['pauses']) : {};
      const base = {
        kind: 'activity' as const,
        activity: a['type'] === 'action' ? ('action' as const) : ('probe' as const),
        name,
        background: a['background'] === true,
        pauseBeforeMs: seconds(pauses['before'], 0),
        pauseAfterMs: seconds(pauses['after'], 0),
        source: { ...a, provider },
      };
      if (module.startsWith('chaostoxi')) {
        planned = {
          ...base,
          describe: `${func} on the Toxiproxy API at ${toxiproxy}`,
          execute: (signal) => chaostoxiCall(toxiproxy, func, args, signal),
        };
      } else if (module.startsWith('chaosprometheus') && PROMETHEUS_FUNCS.has(func)) {
        planned = {
          ...base,
          describe: `Prometheus ${func} at ${String(configuration['prometheus_base_url'] ?? '?')}`,
          execute: (signal) => prometheusCall(configuration, func, args, signal),
        };
      } else {
        pythonRefs.push({ module, func, arguments: args, path, name, type: base.activity });
        const scopes = Array.isArray(provider['secrets']) ? provider['secrets'].map(String) : [];
        const timeout = provider['timeout'];
        planned = {
          ...base,
          describe: `python ${module}.${func}(${Object.keys(args).join(', ')})`,
          execute: (signal) =>
            callPython(
              {
                module,
                func,
                arguments: args,
                configuration,
                secrets:
                  scopes.length > 0
                    ? scopes.reduce<Obj>((all, sc) => ({ ...all, ...secrets[sc] }), {})
                    : undefined,
                timeoutMs: typeof timeout === 'number' ? timeout * 1000 : undefined,
                python,
                env: options.env,
              },
              signal,
            ),
        };
      }
    } else
      planned = nativeActivity(a, provider, name, sub, options.noVerifyTls === true, options.auths);
    if (!planned) {
      issues.push({
        path: `${path}.provider.type`,
        file: options.file,
        message: `unknown provider type '${String(provider['type'])}'`,
      });
      return undefined;
    }
    // Tolerances are checked on hypothesis probes, and — unlike Chaos Toolkit — on method probes
    // that carry one; `expected_status` on an http provider is honoured.
    if (hypothesisProbe || 'tolerance' in a) {
      const tolerance = sub(a['tolerance']);
      planned.verify = (output, signal) =>
        evaluateTolerance(
          tolerance,
          output,
          (t, out, s) => runToleranceProbe(t, out, s, sub),
          signal,
        );
    } else if (provider['type'] === 'http' && provider['expected_status'] !== undefined) {
      const expected = provider['expected_status'];
      planned.verify = (output) => {
        const status = (output as HttpOutput).status;
        const allowed = Array.isArray(expected) ? expected : [expected];
        return allowed.includes(status)
          ? { met: true }
          : { met: false, reason: `status ${status}, expected_status ${allowed.join(' or ')}` };
      };
    }
    return planned;
  };

  const hypothesisProbes: PlannedActivity[] = [];
  if (hypothesis && Array.isArray(hypothesis['probes'])) {
    hypothesis['probes'].forEach((p, i) => {
      const path = `steady-state-hypothesis.probes[${i}]`;
      const resolved = resolve(p, path);
      if (!resolved) return;
      const planned = activity(resolved, path, true);
      if (planned?.kind === 'activity') hypothesisProbes.push(planned);
      else if (planned)
        issues.push({
          path,
          file: options.file,
          message: 'a steady-state probe cannot inject a fault',
        });
    });
  }
  const method: PlannedStep[] = [];
  (Array.isArray(raw['method']) ? raw['method'] : []).forEach((a, i) => {
    const path = `method[${i}]`;
    const resolved = resolve(a, path);
    if (!resolved) return;
    const planned = activity(resolved, path, false);
    if (!planned) return;
    if (planned.kind !== 'fault' && planned.kind !== 'remove-fault') {
      method.push(planned);
      return;
    }
    // Activities that became faults (chaostoxi.*) keep their pauses as waits around them.
    const pauses = isObj(resolved['pauses']) ? sub(resolved['pauses']) : {};
    const pause = (key: 'before' | 'after'): void => {
      const ms = seconds(pauses[key], 0);
      if (ms > 0)
        method.push({
          kind: 'wait',
          name: `pause ${key} ${planned.name}`,
          ms,
          describe: `pause ${ms / 1000} s ${key} ${planned.name}`,
        });
    };
    pause('before');
    method.push(planned);
    pause('after');
  });
  const rollbacks: (PlannedActivity | PlannedFaultRemoval)[] = [];
  (Array.isArray(raw['rollbacks']) ? raw['rollbacks'] : []).forEach((a, i) => {
    const path = `rollbacks[${i}]`;
    const resolved = resolve(a, path);
    if (!resolved) return;
    const planned = activity(resolved, path, false);
    if (planned?.kind === 'fault')
      issues.push({
        path,
        file: options.file,
        message: 'a rollback cannot inject a fault',
        hint: 'rollbacks remove faults (delete_toxic, enable_proxy, reset)',
      });
    else if (planned) rollbacks.push(planned);
  });

  if (pythonRefs.length > 0 && options.checkPython !== false)
    issues.push(...pythonIssues(pythonRefs, python, options.env, options.file));

  if (issues.length > 0)
    throw new ValidationError(
      `${issues.length} problem${issues.length === 1 ? '' : 's'} in ${options.file}`,
      issues,
    );

  // Strategies: experiment `runtime`, merged (an omitted sub-block keeps its default), then flags.
  const runtime = isObj(raw['runtime']) ? raw['runtime'] : {};
  const hyp = isObj(runtime['hypothesis']) ? runtime['hypothesis'] : {};
  const rb = isObj(runtime['rollbacks']) ? runtime['rollbacks'] : {};
  let hypothesisStrategy =
    (hyp['strategy'] === 'continously'
      ? 'continuously'
      : (hyp['strategy'] as HypothesisStrategy | undefined)) ?? 'default';
  if (options.hypothesisStrategy) hypothesisStrategy = options.hypothesisStrategy;
  const title = sub(String(raw['title'] ?? ''));
  return {
    title,
    description: typeof raw['description'] === 'string' ? raw['description'] : undefined,
    tags: Array.isArray(raw['tags']) ? raw['tags'].map(String) : [],
    environment: undefined,
    format: 'chaostoolkit',
    file: options.file,
    experiment: { ...raw, title },
    targets,
    hypothesis: hypothesisProbes,
    method,
    rollbacks,
    strategies: {
      rollbacks:
        options.rollbackStrategy ?? (rb['strategy'] as RollbackStrategy | undefined) ?? 'default',
      hypothesis: hypothesisStrategy,
      frequencyMs: options.frequencyMs ?? seconds(hyp['frequency'], 1000),
      failFast: options.failFast ?? hyp['fail_fast'] === true,
    },
    maxDurationMs: options.maxDurationMs ?? 600_000,
  };
}

/** http and process providers; undefined for an unknown type. */
function nativeActivity(
  a: Obj,
  provider: Obj,
  name: string,
  sub: <T>(v: T) => T,
  noVerifyTls = false,
  auths: Readonly<Record<string, string>> = {},
): PlannedActivity | undefined {
  const pauses = isObj(a['pauses']) ? sub(a['pauses']) : {};
  const activity: 'action' | 'probe' = a['type'] === 'action' ? 'action' : 'probe';
  const base = {
    kind: 'activity' as const,
    activity,
    name,
    background: a['background'] === true,
    pauseBeforeMs: seconds(pauses['before'], 0),
    pauseAfterMs: seconds(pauses['after'], 0),
    source: { ...a, provider },
  };
  if (provider['type'] === 'http') {
    const method = String(provider['method'] ?? 'GET').toUpperCase();
    const timeout = provider['timeout'];
    const timeoutMs = Array.isArray(timeout)
      ? (Number(timeout[0]) + Number(timeout[1])) * 1000
      : seconds(timeout, 30_000);
    const headers = isObj(provider['headers'])
      ? Object.fromEntries(Object.entries(provider['headers']).map(([k, v]) => [k, String(v)]))
      : {};
    const args = provider['arguments'];
    const verifyTls = !noVerifyTls && provider['verify_tls'] !== false;
    let url = String(provider['url']);
    const auth = authFor(auths, url);
    if (auth && !Object.keys(headers).some((k) => k.toLowerCase() === 'authorization'))
      headers['authorization'] = auth;
    let body: unknown;
    if (isObj(args)) {
      if (method === 'GET') {
        // A URL that does not parse is left as written: the probe reports it when it runs.
        if (URL.canParse(url)) {
          const u = new URL(url);
          for (const [k, v] of Object.entries(args))
            u.searchParams.append(k, typeof v === 'string' ? v : JSON.stringify(v));
          url = u.toString();
        }
      } else if (
        Object.entries(headers).some(
          ([k, v]) => k.toLowerCase() === 'content-type' && /json/i.test(v),
        )
      ) {
        body = args;
      } else {
        body = new URLSearchParams(
          Object.entries(args).map(([k, v]): [string, string] => [
            k,
            typeof v === 'string' ? v : JSON.stringify(v),
          ]),
        ).toString();
        if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type'))
          headers['content-type'] = 'application/x-www-form-urlencoded';
      }
    }
    return {
      ...base,
      describe: `${method} ${url}`,
      execute: (signal) =>
        httpRequest({ url, method, headers, body, timeoutMs, verifyTls }, signal),
    };
  }
  if (provider['type'] === 'process') {
    const path = String(provider['path']).replace(/^~(?=\/|$)/, process.env['HOME'] ?? '~');
    const args = provider['arguments'];
    let run: string | string[];
    if (typeof args === 'string') run = `${path} ${args}`;
    else if (Array.isArray(args))
      run = [
        path,
        ...args
          .filter((x) => x !== null && x !== '')
          .map((x) => (typeof x === 'string' ? x : JSON.stringify(x))),
      ];
    else if (isObj(args))
      run = [
        path,
        ...Object.entries(args).flatMap(([k, v]) =>
          v === null || v === '' ? [k] : [k, String(v)],
        ),
      ];
    else run = [path];
    const timeoutMs = seconds(provider['timeout'], 300_000);
    return {
      ...base,
      describe: `run ${typeof run === 'string' ? run : run.join(' ')}`,
      execute: (signal) => runCommand({ run, timeoutMs }, signal),
    };
  }
  return undefined;
}

/** A probe tolerance: the probe gets `arguments.value = output`; its truthy answer means met. */
async function runToleranceProbe(
  tolerance: Obj,
  output: unknown,
  signal: AbortSignal,
  sub: <T>(v: T) => T,
): Promise<unknown> {
  const provider = isObj(tolerance['provider']) ? { ...tolerance['provider'] } : {};
  provider['arguments'] = {
    ...(isObj(provider['arguments']) ? provider['arguments'] : {}),
    value: output,
  };
  const planned = nativeActivity(
    { ...tolerance, type: 'probe' },
    sub(provider),
    String(tolerance['name'] ?? 'tolerance'),
    sub,
  );
  if (!planned)
    throw new Error(
      `tolerance probe "${String(tolerance['name'] ?? '')}" needs an http or process provider`,
    );
  const result = await planned.execute(signal);
  // A process answers through its exit code; an http probe through its status.
  if (isObj(result) && 'stdout' in result) return result['status'] === 0;
  if (isObj(result) && 'body' in result && typeof result['status'] === 'number')
    return result['status'] < 400;
  return result;
}

function toxiproxyUrl(vars: ReadonlyMap<string, unknown>): string {
  const url = vars.get('toxiproxy_url');
  if (typeof url === 'string' && url) return url.replace(/\/+$/, '');
  const host = vars.get('toxiproxy_host') ?? '127.0.0.1';
  const port = vars.get('toxiproxy_port') ?? 8474;
  return `http://${String(host)}:${String(port)}`;
}

const TOXIC_FUNCS: Record<string, { type: string; attributes: (args: Obj) => Obj }> = {
  create_latency_toxic: {
    type: 'latency',
    attributes: (a) => ({ latency: Number(a['latency'] ?? 0), jitter: Number(a['jitter'] ?? 0) }),
  },
  create_bandwith_degradation_toxic: {
    type: 'bandwidth',
    attributes: (a) => ({ rate: Number(a['rate'] ?? 0) }),
  },
  create_bandwidth_degradation_toxic: {
    type: 'bandwidth',
    attributes: (a) => ({ rate: Number(a['rate'] ?? 0) }),
  },
  create_slow_connection_close_toxic: {
    type: 'slow_close',
    attributes: (a) => ({ delay: Number(a['delay'] ?? 0) }),
  },
  create_slicer_toxic: {
    type: 'slicer',
    attributes: (a) => ({
      average_size: Number(a['average_size'] ?? 0),
      size_variation: Number(a['size_variation'] ?? 0),
      delay: Number(a['delay'] ?? 0),
    }),
  },
  create_limiter_toxic: {
    type: 'limit_data',
    // chaostoolkit-toxiproxy's argument is bytes_limit (it sends it as the toxic's `bytes`).
    attributes: (a) => ({ bytes: Number(a['bytes_limit'] ?? a['bytes'] ?? 0) }),
  },
  create_timeout_toxic: {
    type: 'timeout',
    attributes: (a) => ({ timeout: Number(a['timeout'] ?? 0) }),
  },
  create_reset_peer_toxic: {
    type: 'reset_peer',
    attributes: (a) => ({ timeout: Number(a['timeout'] ?? 0) }),
  },
};

/** chaostoolkit-toxiproxy functions as faultline faults on a remote proxy server. */
function chaostoxi(
  a: Obj,
  provider: Obj,
  path: string,
  name: string,
  server: string,
  targets: Record<string, Target>,
  issues: ValidationIssue[],
  file: string,
): PlannedFault | PlannedFaultRemoval | undefined {
  const func = String(provider['func'] ?? '');
  const args = isObj(provider['arguments']) ? provider['arguments'] : {};
  const proxyName = String(args['for_proxy'] ?? args['proxy_name'] ?? '');
  const target = (): string => {
    targets[proxyName] ??= { type: 'remote-proxy', url: server, proxy: proxyName };
    return proxyName;
  };
  const toxicName = String(args['toxic_name'] ?? '');
  const known = TOXIC_FUNCS[func];
  if (known || func === 'create_toxic') {
    const type = known ? known.type : String(args['toxic_type'] ?? '');
    const attributes = known
      ? known.attributes(args)
      : isObj(args['attributes'])
        ? args['attributes']
        : {};
    if (!proxyName || !toxicName) {
      issues.push({
        path: `${path}.provider.arguments`,
        file,
        message: `${func} needs for_proxy and toxic_name`,
      });
      return undefined;
    }
    const stream = args['stream'] === 'upstream' ? 'upstream' : 'downstream';
    const toxicity = typeof args['toxicity'] === 'number' ? args['toxicity'] : 1;
    return {
      kind: 'fault',
      name: toxicName,
      target: target(),
      effect: { type: 'toxic', toxic: { name: toxicName, type, stream, toxicity, attributes } },
      durationMs: undefined,
      describe: `${type} toxic ${toxicName} on proxy ${proxyName} at ${server} (${JSON.stringify(attributes)}) until removed`,
      source: { ...a, provider },
    };
  }
  if (func === 'disable_proxy') {
    if (!proxyName) {
      issues.push({
        path: `${path}.provider.arguments.proxy_name`,
        file,
        message: 'disable_proxy needs proxy_name',
      });
      return undefined;
    }
    return {
      kind: 'fault',
      name: `disable-${proxyName}`,
      target: target(),
      effect: { type: 'disable' },
      durationMs: undefined,
      describe: `proxy ${proxyName} at ${server} disabled until enabled again`,
      source: { ...a, provider },
    };
  }
  if (func === 'delete_toxic') {
    return {
      kind: 'remove-fault',
      name,
      fault: toxicName,
      describe: `remove toxic ${toxicName} from ${proxyName}`,
      source: { ...a, provider },
    };
  }
  if (func === 'enable_proxy') {
    return {
      kind: 'remove-fault',
      name,
      fault: `disable-${proxyName}`,
      describe: `enable proxy ${proxyName} again`,
      source: { ...a, provider },
    };
  }
  if (func === 'reset') {
    return {
      kind: 'remove-fault',
      name,
      all: { target: undefined },
      describe: 'remove every fault this run applied',
      source: { ...a, provider },
    };
  }
  issues.push({
    path: `${path}.provider.func`,
    file,
    message: `chaostoxi function "${func}" in activity "${name}" is not supported`,
    hint: 'declare proxies on the server (faultline proxy serve --config) and use the toxic functions, disable_proxy/enable_proxy, delete_toxic or reset',
  });
  return undefined;
}

/**
 * The check of every Python call (one child Python for all): a module that is missing names
 * its package; an argument that does not bind says which, as `chaos validate` does.
 */
function pythonIssues(
  refs: readonly PythonRef[],
  python: string,
  env: Readonly<Record<string, string | undefined>>,
  file: string,
): ValidationIssue[] {
  const checked = checkPythonActivities(
    refs.map(({ module, func, arguments: args }) => ({ module, func, arguments: args })),
    python,
    env,
  );
  if ('unavailable' in checked) {
    // One problem per module, not per activity: the cause is the same.
    const seen = new Set<string>();
    return refs.flatMap((r) => {
      if (seen.has(r.module)) return [];
      seen.add(r.module);
      return [
        {
          path: `${r.path}.provider.module`,
          file,
          message: `activity "${r.name}" calls the Python module ${r.module}, and Python cannot be used: ${checked.unavailable}`,
          hint: `install python3 (Debian: apt-get install python3), then ${installHint(r.module)}; or set FAULTLINE_PYTHON`,
        },
      ];
    });
  }
  // The messages are chaostoolkit-lib's own (validate_python_activity), word for word.
  return refs.flatMap((r, i): ValidationIssue[] => {
    const c = checked.results[i] ?? {};
    if (c.missing)
      return [
        {
          path: `${r.path}.provider.module`,
          file,
          message: `could not find Python module '${r.module}' in activity '${r.name}'`,
          hint: `${c.message ?? 'not installed'}: ${installHint(r.module)}`,
        },
      ];
    if (c.message) return [{ path: `${r.path}.provider.module`, file, message: c.message }];
    if (c.noFunc)
      return [
        {
          path: `${r.path}.provider.func`,
          file,
          message: `The python module '${r.module}' does not expose a function called '${r.func}' in ${r.type} '${r.name}'`,
        },
      ];
    return (c.problems ?? []).map((p) => ({
      path: `${r.path}.provider.arguments`,
      file,
      message:
        'missing' in p
          ? `required argument '${p.missing}' is missing from activity '${r.func}'`
          : `argument '${p.extra}' is not part of the function signature in activity '${r.func}'`,
      hint: `activity "${r.name}" calls ${r.module}.${r.func}`,
    }));
  });
}
