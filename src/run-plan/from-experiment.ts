/**
 * faultline's experiment format → {@link RunPlan}: configuration resolved, `${var}`s
 * substituted, durations in milliseconds, faults turned into proxy toxics, expectations into
 * verdict functions. Run-time problems (a missing environment variable) are reported all at
 * once as a ValidationError, like load-time ones.
 */
import { UsageError, ValidationError, type ValidationIssue } from '../errors.js';
import { parseDuration, parsePercentage, formatDuration } from '../experiment/duration.js';
import type { Action, Experiment, Probe, Step, Target } from '../experiment/schema.js';
import { resolveVariables, substitute } from '../experiment/substitute.js';
import { substitutedIssues } from '../experiment/read.js';
import {
  checkCommand,
  checkHttp,
  checkTcp,
  checkValue,
  monotonic,
  type CommandExpectation,
  type HttpExpectation,
  type ValueExpectation,
} from '../probes/expect.js';
import { prometheusQuery } from '../probes/prometheus-query.js';
import { redisCommand } from '../probes/redis-command.js';
import { sqlQuery } from '../probes/sql-query.js';
import { httpRequest, type HttpOutput } from '../probes/http-request.js';
import { runCommand, type CommandOutput } from '../probes/run-command.js';
import { tcpCheck, type TcpOutput } from '../probes/tcp-check.js';
import { parseThreshold, type Threshold } from '../experiment/threshold.js';
import { backendFor } from '../backends/registry.js';
import type { FaultEvidence } from '../backends/planned-fault.js';
import type {
  HypothesisStrategy,
  PlannedActivity,
  PlannedLoad,
  PlannedStep,
  RunPlan,
} from './plan.js';
import { redact } from '../shared/redact.js';
import { planStopConditions } from './stop-conditions.js';
import { ServiceRoutes } from './service-routes.js';

export interface RunPlanOptions {
  file: string;
  env: Readonly<Record<string, string | undefined>>;
  /** `--var` and `--var-file` values; they win over the file and the environment. */
  vars?: Readonly<Record<string, unknown>> | undefined;
  /** Overrides of the experiment's `runtime` (CLI flags). */
  rollbackStrategy?: RunPlan['strategies']['rollbacks'] | undefined;
  hypothesisStrategy?: HypothesisStrategy | undefined;
  frequencyMs?: number | undefined;
  failFast?: boolean | undefined;
  /** The run limit (`--max-duration`), over the experiment's `safety.maxDuration`. */
  maxDurationMs?: number | undefined;
  /** Chaos Toolkit experiments only: see CompileChaosToolkitOptions. */
  noVerifyTls?: boolean | undefined;
  checkPython?: boolean | undefined;
  auths?: Readonly<Record<string, string>> | undefined;
}

const ms = (duration: string | undefined, fallback = 0): number =>
  duration === undefined ? fallback : (parseDuration(duration) ?? fallback);

export function planExperiment(raw: Experiment, options: RunPlanOptions): RunPlan {
  const vars = resolveVariables(raw, options.env, options.vars ?? {}, options.file);
  const unknown = new Set<string>();
  const experiment = substitute(raw, vars, unknown);
  const issues: ValidationIssue[] = [...unknown].map((name) => ({
    path: '',
    file: options.file,
    message: `\${${name}} has no value`,
    hint: `declare ${name} under configuration, or pass --var ${name}=…`,
  }));
  // Durations may have come from ${vars}: check them now that they are substituted.
  const { configuration: _configuration, secrets: _secrets, ...checked } = experiment;
  checkDurations(checked, '', issues, options.file);
  if (issues.length === 0)
    for (const issue of substitutedIssues(experiment))
      issues.push({ ...issue, file: options.file });
  if (issues.length > 0)
    throw new ValidationError(
      `${issues.length} problem${issues.length === 1 ? '' : 's'} in ${options.file}`,
      issues,
    );

  const runtime = experiment.runtime;
  let hypothesis: HypothesisStrategy =
    runtime?.hypothesis === 'fail-fast' ? 'continuously' : (runtime?.hypothesis ?? 'continuously');
  let failFast = runtime?.hypothesis === 'fail-fast';
  if (options.hypothesisStrategy) hypothesis = options.hypothesisStrategy;
  if (options.failFast !== undefined) failFast = options.failFast;

  const services = new ServiceRoutes();
  const method: PlannedStep[] = [];
  experiment.method.forEach((step, index) =>
    method.push(...planStep(step, index, experiment.targets, services)),
  );

  return {
    title: experiment.title,
    description: experiment.description,
    tags: experiment.tags ?? [],
    environment: experiment.environment,
    format: 'faultline',
    file: options.file,
    experiment,
    targets: experiment.targets,
    hypothesis: (experiment.steadyState?.probes ?? []).map((probe) => planProbe(probe, services)),
    method,
    rollbacks: experiment.rollbacks.map((action) => planAction(action, services)),
    strategies: {
      rollbacks: options.rollbackStrategy ?? runtime?.rollbacks ?? 'default',
      hypothesis,
      frequencyMs: options.frequencyMs ?? ms(runtime?.hypothesisFrequency, 1000),
      failFast,
    },
    maxDurationMs: options.maxDurationMs ?? ms(experiment.safety?.maxDuration, 600_000),
    load: planLoad(experiment, services),
    services,
    stopWhen: planStopConditions(experiment.safety?.stopWhen ?? [], services),
  };
}

function thresholds(texts: readonly string[]): Threshold[] {
  return texts.flatMap((text) => {
    const parsed = parseThreshold(text);
    return parsed.ok ? [parsed.threshold] : [];
  });
}

function planLoad(experiment: Experiment, services: ServiceRoutes): PlannedLoad | undefined {
  const load = experiment.steadyState?.load;
  if (!load) return undefined;
  return {
    url: services.note(load.url),
    method: load.method,
    headers: load.headers,
    body: load.body,
    rate: Number(load.rate.replace('/s', '')),
    connections: load.connections,
    timeoutMs: ms(load.timeout, 5000),
    warmupMs: load.warmup === undefined ? 0 : ms(load.warmup),
    baselineMs: ms(load.baseline, 5000),
    recoveryMs: ms(load.recovery, 5000),
    recoveryTolerance: parsePercentage(load.recoveryTolerance) ?? 0.1,
    sendWindowMs: load.sendWindow === undefined ? undefined : ms(load.sendWindow),
    thresholds: thresholds(experiment.steadyState?.thresholds ?? []),
    abortWhen: thresholds(experiment.safety?.abortWhen ?? []),
  };
}

/** Keys whose values are durations in faultline's format. */
const DURATION_KEYS = new Set([
  'duration',
  'delay',
  'jitter',
  'after',
  'timeout',
  'wait',
  'maxDuration',
  'hypothesisFrequency',
  'latency',
  'slowerThan',
  'before',
  'maxAge',
  'warmup',
  'baseline',
  'recovery',
  'sendWindow',
  'for',
  'every',
]);

/**
 * Durations may come from `${vars}`, which the schema can only check after substitution: every
 * string under a duration key must parse, or the run would silently use a default.
 */
function checkDurations(
  value: unknown,
  path: string,
  issues: ValidationIssue[],
  file: string,
): void {
  if (Array.isArray(value))
    value.forEach((v, i) => checkDurations(v, `${path}[${i}]`, issues, file));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = path ? `${path}.${k}` : k;
      if (typeof v === 'string' && DURATION_KEYS.has(k) && parseDuration(v) === undefined) {
        issues.push({
          path: p,
          file,
          message: `"${v}" is not a duration`,
          hint: 'write it with a unit: "500ms", "30s", "2m"',
        });
      } else checkDurations(v, p, issues, file);
    }
  }
}

function planStep(
  step: Step,
  index: number,
  targets: Record<string, Target>,
  services: ServiceRoutes,
): PlannedStep[] {
  if ('fault' in step) {
    // Each target type's backend plans its own faults (a proxy's toxics, a chaos object, …).
    const target = targets[step.target];
    if (!target)
      throw new UsageError(`fault on unknown target "${step.target}"`, {
        hint: 'declare it under targets:',
      });
    const planned = backendFor(target.type).planFault(step, index, targets);
    return step.shows
      ? planned.map((f) => ({ ...f, shows: evidence(step.shows!, services) }))
      : planned;
  }
  if ('wait' in step) {
    const waitMs = ms(step.wait);
    return [
      {
        kind: 'wait',
        name: `wait ${step.wait}`,
        ms: waitMs,
        describe: `wait ${formatDuration(waitMs)}`,
      },
    ];
  }
  if ('probe' in step) return [planProbe(step.probe, services)];
  return [planAction(step.action, services)];
}

function httpExpectation(
  expect: Probe extends infer P
    ? P extends { http: unknown; expect: infer E }
      ? E
      : never
    : never,
): HttpExpectation {
  return {
    status: expect.status,
    body: expect.body,
    json: expect.json,
    header: expect.header,
    latencyMs: expect.latency === undefined ? undefined : ms(expect.latency),
    slowerThanMs: expect.slowerThan === undefined ? undefined : ms(expect.slowerThan),
    fresh: expect.fresh
      ? { header: expect.fresh.header, path: expect.fresh.path, maxAgeMs: ms(expect.fresh.maxAge) }
      : undefined,
    increases: expect.increases,
  };
}

/** Adds the monotonic-counter checks an expectation asks for, with their state. */
function withMonotonic<T extends { body: unknown; value?: unknown }>(
  check: (output: T) => { met: boolean; reason?: string | undefined },
  path: string | undefined,
  pick: (output: T) => unknown,
): (output: unknown) => { met: boolean; reason?: string | undefined } {
  const grows = path === undefined ? undefined : monotonic(path);
  return (output) => {
    const verdict = check(output as T);
    const problem = grows?.(pick(output as T));
    if (!problem) return verdict;
    return { met: false, reason: verdict.met ? problem : `${verdict.reason ?? ''}; ${problem}` };
  };
}

const MODE_PHASES: Record<Probe['mode'], readonly ('before' | 'during' | 'after')[]> = {
  SOT: ['before'],
  EOT: ['after'],
  Edge: ['before', 'after'],
  OnChaos: ['during'],
  Continuous: ['before', 'during', 'after'],
};

/** A fault's stated effect (`shows:`): its probe, run and judged in one check. */
function evidence(probe: Probe, services: ServiceRoutes): FaultEvidence {
  const activity = planProbe(probe, services);
  return {
    name: activity.name,
    describe: activity.describe,
    async check(signal) {
      const output = await activity.execute(signal);
      return activity.verify ? activity.verify(output, signal) : { met: true };
    },
  };
}

/**
 * A probe of faultline's format. Its HTTP URL is read through `services` at each request: a URL
 * naming a Kubernetes Service goes where the run routes it (service-routes.ts).
 */
export function planProbe(
  probe: Probe,
  services: ServiceRoutes = new ServiceRoutes(),
): PlannedActivity {
  const common = {
    kind: 'activity' as const,
    activity: 'probe' as const,
    name: probe.name,
    background: false,
    pauseBeforeMs: 0,
    pauseAfterMs: 0,
    source: probe,
    phases: new Set(MODE_PHASES[probe.mode]),
  };
  if ('http' in probe) {
    const request = probe.http;
    services.note(request.url);
    const expect = httpExpectation(probe.expect);
    return {
      ...common,
      describe: `${request.method.toUpperCase()} ${request.url}`,
      execute: (signal) =>
        httpRequest(
          {
            url: services.resolve(request.url),
            method: request.method,
            headers: request.headers,
            body: request.body,
            timeoutMs: ms(request.timeout, 5000),
          },
          signal,
        ),
      verify: withMonotonic<HttpOutput>(
        (o) => checkHttp(o, expect),
        expect.increases?.path,
        (o) => o.body,
      ),
    };
  }
  if ('tcp' in probe) {
    const { host, port, timeout } = probe.tcp;
    const open = probe.expect.open;
    return {
      ...common,
      describe: `TCP connect ${host}:${port}`,
      execute: (signal) => tcpCheck(host, port, ms(timeout, 2000), signal),
      verify: (output) => checkTcp(output as TcpOutput, open),
    };
  }
  if ('sql' in probe || 'redis' in probe || 'prometheus' in probe) {
    const { latency, slowerThan, increases, ...rest } = probe.expect;
    const expect: ValueExpectation = {
      ...rest,
      latencyMs: latency === undefined ? undefined : ms(latency),
      slowerThanMs: slowerThan === undefined ? undefined : ms(slowerThan),
    };
    const verify = withMonotonic<{ body: unknown; value: unknown; elapsedMs: number }>(
      (o) => checkValue(o.value, o.elapsedMs, expect),
      increases ? '$' : undefined,
      (o) => o.value,
    );
    if ('sql' in probe) {
      const { url, query, timeout } = probe.sql;
      return {
        ...common,
        describe: `SQL ${redact(url)}: ${query}`,
        execute: (signal) => sqlQuery({ url, query, timeoutMs: ms(timeout, 5000) }, signal),
        verify,
      };
    }
    if ('redis' in probe) {
      const { url, command, timeout } = probe.redis;
      return {
        ...common,
        describe: `Redis ${redact(url)}: ${command.join(' ')}`,
        execute: (signal) => redisCommand({ url, command, timeoutMs: ms(timeout, 2000) }, signal),
        verify,
      };
    }
    const { url, query, timeout } = probe.prometheus;
    services.note(url);
    return {
      ...common,
      describe: `PromQL ${url}: ${query}`,
      execute: (signal) =>
        prometheusQuery(
          { url: services.resolve(url), query, timeoutMs: ms(timeout, 5000) },
          signal,
        ),
      verify,
    };
  }
  const command = probe.command;
  const expect: CommandExpectation = probe.expect;
  return {
    ...common,
    describe: `run ${typeof command.run === 'string' ? command.run : command.run.join(' ')}`,
    execute: (signal) =>
      runCommand(
        {
          run: command.run,
          timeoutMs: ms(command.timeout, 30_000),
          env: command.env,
          cwd: command.cwd,
        },
        signal,
      ),
    verify: (output) => checkCommand(output as CommandOutput, expect),
  };
}

export function planAction(
  action: Action,
  services: ServiceRoutes = new ServiceRoutes(),
): PlannedActivity {
  const common = {
    kind: 'activity' as const,
    activity: 'action' as const,
    name: action.name,
    background: action.background,
    pauseBeforeMs: ms(action.pauses?.before),
    pauseAfterMs: ms(action.pauses?.after),
    source: action,
  };
  if ('http' in action) {
    const request = action.http;
    services.note(request.url);
    const expect = action.expect ? httpExpectation(action.expect) : undefined;
    return {
      ...common,
      describe: `${request.method.toUpperCase()} ${request.url}`,
      execute: (signal) =>
        httpRequest(
          {
            url: services.resolve(request.url),
            method: request.method,
            headers: request.headers,
            body: request.body,
            timeoutMs: ms(request.timeout, 5000),
          },
          signal,
        ),
      verify: expect ? (output) => checkHttp(output as HttpOutput, expect) : undefined,
    };
  }
  const command = action.command;
  const expect = action.expect;
  return {
    ...common,
    describe: `run ${typeof command.run === 'string' ? command.run : command.run.join(' ')}`,
    execute: (signal) =>
      runCommand(
        {
          run: command.run,
          timeoutMs: ms(command.timeout, 30_000),
          env: command.env,
          cwd: command.cwd,
        },
        signal,
      ),
    verify: expect ? (output) => checkCommand(output as CommandOutput, expect) : undefined,
  };
}
