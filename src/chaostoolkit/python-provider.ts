/**
 * Chaos Toolkit's `"type": "python"` providers, run in the user's own Python.
 *
 * Chaos Toolkit imports `provider.module` and calls `provider.func(**arguments)`, adding
 * `configuration` (the experiment's resolved configuration) and `secrets` (the scopes the
 * provider names) when the function's signature takes them; the return value is the activity's
 * output and an exception its failure. faultline does the same in a `python3` child process
 * (`FAULTLINE_PYTHON` picks another interpreter, e.g. a virtualenv's), so chaosk8s, chaosaws or a
 * team's in-house module run wherever they are installed — inside faultline's lifecycle, load,
 * stop conditions, journal and reports.
 *
 * The request goes in on stdin as JSON and the answer comes back on file descriptor 3, so
 * whatever the module prints (logging, print debugging) never corrupts it. A return value that
 * is not JSON becomes its `repr()`, as Chaos Toolkit's journal encoder falls back to a string.
 * The child runs in its own process group: an interrupted run ends it (SIGTERM, then SIGKILL
 * after a grace) and nothing it started outlives the activity.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { Readable } from 'node:stream';
import { ProbeError } from '../probes/probe-error.js';

/** The interpreter: `FAULTLINE_PYTHON`, else `python3` from PATH. */
export function pythonInterpreter(env: Readonly<Record<string, string | undefined>>): string {
  return env['FAULTLINE_PYTHON'] || 'python3';
}

/**
 * The program the child runs. `check` imports each module and binds each call's arguments to
 * the function's signature, as `chaos validate` does; `call` makes one call.
 */
const BOOTSTRAP = String.raw`
import importlib, inspect, json, os, sys, traceback
out = os.fdopen(3, "w")
req = json.load(sys.stdin)

def fits(func, args):
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return []
    problems = []
    params = sig.parameters
    var_kw = any(p.kind == p.VAR_KEYWORD for p in params.values())
    for name, p in params.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or name in ("configuration", "secrets"):
            continue
        if p.default is p.empty and name not in args:
            problems.append({"missing": name})
    if not var_kw:
        for name in args:
            if name not in params:
                problems.append({"extra": name})
    return problems

if req["mode"] == "check":
    results = []
    for a in req["activities"]:
        try:
            mod = importlib.import_module(a["module"])
        except ModuleNotFoundError as e:
            results.append({"missing": True, "message": str(e)})
            continue
        except BaseException as e:
            results.append({"message": "importing %s failed: %s: %s" % (a["module"], type(e).__name__, e)})
            continue
        func = getattr(mod, a["func"], None)
        if not callable(func):
            results.append({"noFunc": True})
            continue
        results.append({"problems": fits(func, a.get("arguments") or {})})
    json.dump(results, out)
else:
    try:
        func = getattr(importlib.import_module(req["module"]), req["func"])
        args = dict(req.get("arguments") or {})
        try:
            params = inspect.signature(func).parameters
        except (TypeError, ValueError):
            params = {}
        if "configuration" in params:
            args["configuration"] = req.get("configuration") or {}
        if "secrets" in params and req.get("secrets") is not None:
            args["secrets"] = req["secrets"]
        result = func(**args)
    except BaseException as e:
        json.dump({"error": {"type": type(e).__name__, "message": str(e), "traceback": traceback.format_exc()}}, out)
    else:
        json.dump({"result": result}, out, default=repr)
out.flush()
`;

/** The pip package that provides a Chaos Toolkit extension module, by its top-level package. */
const PACKAGES: Record<string, string> = {
  chaosk8s: 'chaostoolkit-kubernetes',
  chaosaws: 'chaostoolkit-aws',
  chaosazure: 'chaostoolkit-azure',
  chaosgcp: 'chaostoolkit-google-cloud-platform',
  chaosprometheus: 'chaostoolkit-prometheus',
  chaosgrafana: 'chaostoolkit-grafana',
  chaosk6: 'chaostoolkit-k6',
  chaosistio: 'chaostoolkit-istio',
  chaosspring: 'chaostoolkit-spring',
  chaoscf: 'chaostoolkit-cloud-foundry',
  chaosgremlin: 'chaostoolkit-gremlin',
  chaoshumio: 'chaostoolkit-humio',
  chaosdatadog: 'chaostoolkit-datadog',
  chaosslack: 'chaostoolkit-slack',
  chaosreliably: 'chaostoolkit-reliably',
  chaostracing: 'chaostoolkit-opentracing',
  chaosotel: 'chaostoolkit-opentelemetry',
  chaoswm: 'chaostoolkit-wiremock',
  chaosdynatrace: 'chaostoolkit-dynatrace',
  chaosservicefabric: 'chaostoolkit-service-fabric',
  chaosaddons: 'chaostoolkit-addons',
  chaostoxi: 'chaostoolkit-toxiproxy',
};

/** How to get a module: the pip line for a known extension, else a general hint. */
export function installHint(module: string): string {
  const top = module.split('.')[0] ?? module;
  const pkg = PACKAGES[top];
  return pkg
    ? `pip install ${pkg} in the Python that faultline runs (python3 on PATH, or FAULTLINE_PYTHON=/path/to/venv/bin/python)`
    : `install the package that provides ${top} in the Python that faultline runs (python3 on PATH, or FAULTLINE_PYTHON=…), or add its folder to PYTHONPATH`;
}

export interface PythonCall {
  module: string;
  func: string;
  arguments: Record<string, unknown>;
  /** The experiment's configuration, resolved (given when the function takes `configuration`). */
  configuration: Record<string, unknown>;
  /** The secrets of the scopes the provider names, merged (undefined: it names none). */
  secrets: Record<string, unknown> | undefined;
  /** Chaos Toolkit sets no limit on a Python call; the provider's own `timeout` when it has one. */
  timeoutMs?: number | undefined;
  python: string;
  cwd?: string | undefined;
  /** The child's environment (the run's: PYTHONPATH, a virtualenv's PATH, credentials). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

/** How long an interrupted call gets to end on SIGTERM before SIGKILL. */
const TERM_GRACE_MS = 2_000;

/** One call in a child Python; its return value, or a {@link ProbeError} with the exception. */
export function callPython(call: PythonCall, signal?: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const child = spawn(call.python, ['-c', BOOTSTRAP], {
      cwd: call.cwd,
      env: { ...(call.env ?? process.env) },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let answer = '';
    let stderr = '';
    const answerStream = child.stdio[3] as Readable;
    answerStream.setEncoding('utf8').on('data', (d: string) => (answer += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 64 * 1024) stderr += d;
    });
    child.stdout.resume(); // the module's prints: read and dropped
    let stopped: 'timeout' | 'abort' | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (why: 'timeout' | 'abort'): void => {
      stopped = why;
      const group = (sig: NodeJS.Signals): void => {
        try {
          if (child.pid) process.kill(-child.pid, sig);
        } catch {
          child.kill(sig);
        }
      };
      group('SIGTERM');
      killTimer = setTimeout(() => group('SIGKILL'), TERM_GRACE_MS);
      killTimer.unref();
    };
    const timer =
      call.timeoutMs !== undefined ? setTimeout(() => stop('timeout'), call.timeoutMs) : undefined;
    const onAbort = (): void => stop('abort');
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (): void => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      done();
      reject(
        new ProbeError(
          err.code === 'ENOENT'
            ? `${call.python} not found: the activity calls the Python module ${call.module}`
            : `cannot run ${call.python}: ${err.message}`,
          { hint: installHint(call.module) },
        ),
      );
    });
    child.once('close', (code) => {
      done();
      if (stopped === 'abort') {
        reject(signal!.reason);
        return;
      }
      if (stopped === 'timeout') {
        reject(
          new ProbeError(
            `${call.module}.${call.func} did not return within ${call.timeoutMs! / 1000} s`,
          ),
        );
        return;
      }
      let parsed: { result?: unknown; error?: { type: string; message: string } };
      try {
        parsed = JSON.parse(answer) as typeof parsed;
      } catch {
        reject(
          new ProbeError(
            `${call.python} ended (exit ${code ?? '?'}) without an answer from ${call.module}.${call.func}${stderr ? `: ${lastLines(stderr)}` : ''}`,
          ),
        );
        return;
      }
      if (parsed.error) {
        const { type, message } = parsed.error;
        const missing = type === 'ModuleNotFoundError';
        reject(
          new ProbeError(`${call.module}.${call.func} raised ${type}: ${message}`, {
            hint: missing ? installHint(call.module) : undefined,
          }),
        );
        return;
      }
      resolve(parsed.result ?? null);
    });
    child.stdin.on('error', () => undefined); // a child that exits without reading
    child.stdin.end(
      JSON.stringify({
        mode: 'call',
        module: call.module,
        func: call.func,
        arguments: call.arguments,
        configuration: call.configuration,
        secrets: call.secrets,
      }),
    );
  });
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' / ');
}

export interface PythonActivityRef {
  module: string;
  func: string;
  arguments: Record<string, unknown>;
}

/** What the check found for one activity: nothing, a missing module, or problems. */
export interface PythonCheck {
  missing?: boolean;
  /** Why the module cannot be used (the import's own words). */
  message?: string;
  /** The module has no such function. */
  noFunc?: boolean;
  /** Arguments that do not bind to the signature: a required one missing, or one it does not take. */
  problems?: ({ missing: string } | { extra: string })[];
}

/**
 * Imports every module and binds every call's arguments, in one child Python (as
 * `chaos validate` does: a module's top-level code runs). `undefined` when the interpreter
 * cannot be started, with the reason.
 */
export function checkPythonActivities(
  activities: readonly PythonActivityRef[],
  python: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  timeoutMs = 60_000,
): { results: PythonCheck[] } | { unavailable: string } {
  const result = spawnSync(python, ['-c', BOOTSTRAP], {
    env: { ...env },
    input: JSON.stringify({ mode: 'check', activities }),
    stdio: ['pipe', 'ignore', 'pipe', 'pipe'],
    timeout: timeoutMs,
    encoding: 'utf8',
  });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    return {
      unavailable:
        code === 'ENOENT'
          ? `${python} not found`
          : code === 'ETIMEDOUT'
            ? `importing the modules took more than ${timeoutMs / 1000} s`
            : result.error.message,
    };
  }
  const answer = result.output[3] ?? '';
  try {
    return { results: JSON.parse(answer) as PythonCheck[] };
  } catch {
    return {
      unavailable: `${python} gave no answer (exit ${result.status ?? '?'})${result.stderr ? `: ${lastLines(result.stderr)}` : ''}`,
    };
  }
}
