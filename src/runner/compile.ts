/**
 * faultline's experiment format → {@link RunPlan}: configuration resolved, `${var}`s
 * substituted, durations in milliseconds, faults turned into proxy toxics, expectations into
 * verdict functions. Run-time problems (a missing environment variable) are reported all at
 * once as a ValidationError, like load-time ones.
 */
import { ValidationError, type ValidationIssue } from '../errors.js';
import { parseDuration, parsePercentage, parseRate, formatDuration } from '../experiment/duration.js';
import type { Action, Experiment, Fault, Probe, Step } from '../experiment/schema.js';
import { resolveVariables, substitute } from '../experiment/substitute.js';
import type { ToxicSpec } from '../faults/proxy/toxic-entry.js';
import { checkCommand, checkHttp, checkTcp, checkValue, monotonic, type CommandExpectation, type HttpExpectation, type ValueExpectation } from '../probes/expect.js';
import { prometheusQuery } from '../probes/prometheus-query.js';
import { redisCommand } from '../probes/redis-command.js';
import { redact, sqlQuery } from '../probes/sql-query.js';
import { httpRequest, type HttpOutput } from '../probes/http-request.js';
import { runCommand, type CommandOutput } from '../probes/run-command.js';
import { tcpCheck, type TcpOutput } from '../probes/tcp-check.js';
import { parseThreshold, type Threshold } from '../load/threshold.js';
import { planKubernetesFault } from '../targets/kubernetes/planned-fault.js';
import { familyForTarget } from '../faults/local/families.js';
import { UsageError } from '../errors.js';
import type { HypothesisStrategy, PlannedActivity, PlannedFault, PlannedLoad, PlannedStep, RunPlan } from './plan.js';

export interface CompileOptions {
  file: string;
  env: Readonly<Record<string, string | undefined>>;
  /** `--var` and `--var-file` values; they win over the file and the environment. */
  vars?: Readonly<Record<string, unknown>> | undefined;
  /** Overrides of the experiment's `runtime` (CLI flags). */
  rollbackStrategy?: RunPlan['strategies']['rollbacks'] | undefined;
  hypothesisStrategy?: HypothesisStrategy | undefined;
  frequencyMs?: number | undefined;
  failFast?: boolean | undefined;
}

const ms = (duration: string | undefined, fallback = 0): number => (duration === undefined ? fallback : (parseDuration(duration) ?? fallback));

export function compileExperiment(raw: Experiment, options: CompileOptions): RunPlan {
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
  if (issues.length > 0) throw new ValidationError(`${issues.length} problem${issues.length === 1 ? '' : 's'} in ${options.file}`, issues);

  const runtime = experiment.runtime;
  let hypothesis: HypothesisStrategy = runtime?.hypothesis === 'fail-fast' ? 'continuously' : (runtime?.hypothesis ?? 'continuously');
  let failFast = runtime?.hypothesis === 'fail-fast';
  if (options.hypothesisStrategy) hypothesis = options.hypothesisStrategy;
  if (options.failFast !== undefined) failFast = options.failFast;

  const method: PlannedStep[] = [];
  experiment.method.forEach((step, index) => {
    // Faults on kubernetes targets become chaos objects, built by the Kubernetes driver.
    const targetType = 'fault' in step ? experiment.targets[step.target]?.type : undefined;
    if ('fault' in step && targetType === 'kubernetes') method.push(planKubernetesFault(step, index, experiment.targets));
    // Faults of local families (processes, resources, databases, …) are realised by their family's driver.
    else if ('fault' in step && targetType !== undefined && familyForTarget(targetType)) method.push(planLocalFault(step, index));
    else method.push(...compileStep(step, index));
  });

  return {
    title: experiment.title,
    description: experiment.description,
    tags: experiment.tags ?? [],
    environment: experiment.environment,
    format: 'faultline',
    file: options.file,
    experiment,
    targets: experiment.targets,
    hypothesis: (experiment.steadyState?.probes ?? []).map((probe) => compileProbe(probe)),
    method,
    rollbacks: experiment.rollbacks.map((action) => compileAction(action)),
    strategies: {
      rollbacks: options.rollbackStrategy ?? runtime?.rollbacks ?? 'default',
      hypothesis,
      frequencyMs: options.frequencyMs ?? ms(runtime?.hypothesisFrequency, 1000),
      failFast,
    },
    maxDurationMs: ms(experiment.safety?.maxDuration, 600_000),
    load: compileLoad(experiment),
  };
}

function thresholds(texts: readonly string[]): Threshold[] {
  return texts.flatMap((text) => {
    const parsed = parseThreshold(text);
    return parsed.ok ? [parsed.threshold] : [];
  });
}

function compileLoad(experiment: Experiment): PlannedLoad | undefined {
  const load = experiment.steadyState?.load;
  if (!load) return undefined;
  return {
    url: load.url,
    method: load.method,
    headers: load.headers,
    body: load.body,
    rate: Number(load.rate.replace('/s', '')),
    connections: load.connections,
    timeoutMs: ms(load.timeout, 5000),
    baselineMs: ms(load.baseline, 5000),
    recoveryMs: ms(load.recovery, 5000),
    recoveryTolerance: parsePercentage(load.recoveryTolerance) ?? 0.1,
    sendWindowMs: load.sendWindow === undefined ? undefined : ms(load.sendWindow),
    thresholds: thresholds(experiment.steadyState?.thresholds ?? []),
    abortWhen: thresholds(experiment.safety?.abortWhen ?? []),
  };
}

/** Keys whose values are durations in faultline's format. */
const DURATION_KEYS = new Set(['duration', 'delay', 'jitter', 'after', 'timeout', 'wait', 'maxDuration', 'hypothesisFrequency', 'latency', 'before', 'maxAge', 'baseline', 'recovery', 'sendWindow']);

/**
 * Durations may come from `${vars}`, which the schema can only check after substitution: every
 * string under a duration key must parse, or the run would silently use a default.
 */
function checkDurations(value: unknown, path: string, issues: ValidationIssue[], file: string): void {
  if (Array.isArray(value)) value.forEach((v, i) => checkDurations(v, `${path}[${i}]`, issues, file));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = path ? `${path}.${k}` : k;
      if (typeof v === 'string' && DURATION_KEYS.has(k) && parseDuration(v) === undefined) {
        issues.push({ path: p, file, message: `"${v}" is not a duration`, hint: 'write it with a unit: "500ms", "30s", "2m"' });
      } else checkDurations(v, p, issues, file);
    }
  }
}

function compileStep(step: Step, index: number): PlannedStep[] {
  if ('fault' in step) return compileFault(step, index);
  if ('wait' in step) {
    const waitMs = ms(step.wait);
    return [{ kind: 'wait', name: `wait ${step.wait}`, ms: waitMs, describe: `wait ${formatDuration(waitMs)}` }];
  }
  if ('probe' in step) return [compileProbe(step.probe)];
  return [compileAction(step.action)];
}

/** One fault step → one planned fault per direction (`stream: both` gives two). */
export function compileFault(fault: Fault, index: number): PlannedFault[] {
  const name = fault.name ?? `${fault.fault}-${index + 1}`;
  const durationMs = ms(fault.duration);
  const toxicity = fault.percentage === undefined ? 1 : (parsePercentage(fault.percentage) ?? 1);
  const share = toxicity < 1 ? ` on ${fault.percentage} of ${fault.fault.startsWith('http') ? 'requests' : 'connections'}` : '';
  const base = { kind: 'fault' as const, target: fault.target, durationMs, source: fault };
  const until = ` for ${formatDuration(durationMs)}`;

  if (fault.fault === 'disable') {
    return [{ ...base, name, effect: { type: 'disable' }, describe: `take ${fault.target} down (connections refused)${until}` }];
  }
  const toxic = (type: string, attributes: Record<string, unknown>, what: string, stream?: 'upstream' | 'downstream'): PlannedFault => {
    const spec: ToxicSpec & { name: string } = { name, type, toxicity, attributes };
    if (stream) spec.stream = stream;
    return { ...base, name: spec.name, effect: { type: 'toxic', toxic: spec }, describe: `${what} on ${fault.target}${stream ? ` (${stream})` : ''}${share}${until}` };
  };
  const streamed = (type: string, attributes: Record<string, unknown>, what: string): PlannedFault[] => {
    const stream = 'stream' in fault ? fault.stream : 'downstream';
    if (stream !== 'both') return [toxic(type, attributes, what, stream)];
    const down = toxic(type, attributes, what, 'downstream');
    const up = toxic(type, attributes, what, 'upstream');
    up.name = `${name}.upstream`;
    if (up.effect.type === 'toxic') up.effect.toxic.name = up.name;
    return [down, up];
  };
  const matchers = (match: { method?: string | undefined; pathPrefix?: string | undefined; pathRegex?: string | undefined; headers?: Record<string, string> | undefined } | undefined): Record<string, unknown> => ({
    ...(match?.method ? { method: match.method } : {}),
    ...(match?.pathPrefix ? { path_prefix: match.pathPrefix } : {}),
    ...(match?.pathRegex ? { path_regex: match.pathRegex } : {}),
    ...(match?.headers ? { headers: match.headers } : {}),
  });

  switch (fault.fault) {
    case 'latency':
      return streamed('latency', { latency: Math.round(ms(fault.delay)), jitter: Math.round(ms(fault.jitter)) }, `latency ${fault.delay}${fault.jitter ? ` ± ${fault.jitter}` : ''}`);
    case 'bandwidth': {
      const kbps = Math.max(0, Math.round((parseRate(fault.rate) ?? 0) / 1000));
      return streamed('bandwidth', { rate: kbps }, `bandwidth capped at ${fault.rate}`);
    }
    case 'timeout':
      return streamed('timeout', { timeout: Math.round(ms(fault.after)) }, fault.after ? `silence, then close after ${fault.after}` : 'silence (data dropped)');
    case 'reset-peer':
      return streamed('reset_peer', { timeout: Math.round(ms(fault.after)) }, 'connection reset (RST)');
    case 'slow-close':
      return streamed('slow_close', { delay: Math.round(ms(fault.delay)) }, `close delayed ${fault.delay}`);
    case 'slicer':
      return streamed('slicer', { average_size: fault.averageSize, size_variation: fault.sizeVariation, delay: Math.round(ms(fault.delay) * 1000) }, `data sliced into ~${fault.averageSize} B pieces`);
    case 'limit-data':
      return streamed('limit_data', { bytes: fault.bytes }, `connections cut after ${fault.bytes} bytes`);
    case 'connect-delay':
      return [toxic('connect_delay', { delay: Math.round(ms(fault.delay)) }, `new connections delayed ${fault.delay}`)];
    case 'refuse':
      return [toxic('refuse', {}, 'new connections reset')];
    case 'blackhole':
      return [toxic('blackhole', {}, 'new connections blackholed (never answered)')];
    case 'http-abort':
      return [toxic('http_abort', { status: fault.status, ...(fault.body !== undefined ? { body: fault.body } : {}), ...matchers(fault.match) }, `HTTP ${fault.status} answered to ${describeMatch(fault.match)}`)];
    case 'http-delay':
      return [toxic('http_delay', { delay: Math.round(ms(fault.delay)), ...matchers(fault.match) }, `${describeMatch(fault.match)} delayed ${fault.delay}`)];
    case 'certificate':
      return [{ ...base, name, effect: { type: 'certificate', problem: fault.problem }, describe: `${fault.problem} certificate presented by ${fault.target} to new TLS connections${until}` }];
    case 'packet-loss':
    case 'duplicate':
    case 'corrupt':
    case 'partition':
    case 'pod-kill':
    case 'pod-failure':
    case 'container-kill':
    case 'cpu-stress':
    case 'memory-stress':
    case 'io-latency':
    case 'io-error':
    case 'dns-error':
    case 'clock-skew':
    case 'http-replace':
    case 'pause-process':
    case 'kill-process':
    case 'restart-process':
    case 'disk-fill':
    case 'pg-slow-queries':
    case 'pg-pool-exhaustion':
    case 'pg-lock':
    case 'pg-terminate':
    case 'redis-pause':
    case 'redis-kill-clients':
    case 'redis-maxmemory':
    case 'rabbitmq-close-connections':
    case 'rabbitmq-memory-alarm':
    case 'dns-delay':
      // The loader refuses these on proxy targets (src/targets/capabilities.ts); a plan built
      // some other way still gets a usage error, not a silent no-op.
      throw new UsageError(`${fault.fault} cannot be applied through a proxy (target "${fault.target}")`, { hint: `${fault.fault} needs a kubernetes target` });
  }
}

function describeMatch(match: { method?: string | undefined; pathPrefix?: string | undefined; pathRegex?: string | undefined; headers?: Record<string, string> | undefined } | undefined): string {
  if (!match) return 'every request';
  const parts = [match.method ? match.method.toUpperCase() : 'requests'];
  if (match.pathPrefix) parts.push(`${match.pathPrefix}*`);
  if (match.pathRegex) parts.push(`/${match.pathRegex}/`);
  if (match.headers) parts.push(`with ${Object.entries(match.headers).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  return parts.join(' ');
}

function httpExpectation(expect: Probe extends infer P ? (P extends { http: unknown; expect: infer E } ? E : never) : never): HttpExpectation {
  return {
    status: expect.status,
    body: expect.body,
    json: expect.json,
    header: expect.header,
    latencyMs: expect.latency === undefined ? undefined : ms(expect.latency),
    fresh: expect.fresh ? { header: expect.fresh.header, maxAgeMs: ms(expect.fresh.maxAge) } : undefined,
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

export function compileProbe(probe: Probe): PlannedActivity {
  const common = { kind: 'activity' as const, activity: 'probe' as const, name: probe.name, background: false, pauseBeforeMs: 0, pauseAfterMs: 0, source: probe, phases: new Set(MODE_PHASES[probe.mode]) };
  if ('http' in probe) {
    const request = probe.http;
    const expect = httpExpectation(probe.expect);
    return {
      ...common,
      describe: `${request.method.toUpperCase()} ${request.url}`,
      execute: (signal) => httpRequest({ url: request.url, method: request.method, headers: request.headers, body: request.body, timeoutMs: ms(request.timeout, 5000) }, signal),
      verify: withMonotonic<HttpOutput>((o) => checkHttp(o, expect), expect.increases?.path, (o) => o.body),
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
    const { latency, increases, ...rest } = probe.expect;
    const expect: ValueExpectation = { ...rest, latencyMs: latency === undefined ? undefined : ms(latency) };
    const verify = withMonotonic<{ body: unknown; value: unknown; elapsedMs: number }>(
      (o) => checkValue(o.value, o.elapsedMs, expect),
      increases ? '$' : undefined,
      (o) => o.value,
    );
    if ('sql' in probe) {
      const { url, query, timeout } = probe.sql;
      return { ...common, describe: `SQL ${redact(url)}: ${query}`, execute: (signal) => sqlQuery({ url, query, timeoutMs: ms(timeout, 5000) }, signal), verify };
    }
    if ('redis' in probe) {
      const { url, command, timeout } = probe.redis;
      return { ...common, describe: `Redis ${redact(url)}: ${command.join(' ')}`, execute: (signal) => redisCommand({ url, command, timeoutMs: ms(timeout, 2000) }, signal), verify };
    }
    const { url, query, timeout } = probe.prometheus;
    return { ...common, describe: `PromQL ${url}: ${query}`, execute: (signal) => prometheusQuery({ url, query, timeoutMs: ms(timeout, 5000) }, signal), verify };
  }
  const command = probe.command;
  const expect: CommandExpectation = probe.expect;
  return {
    ...common,
    describe: `run ${typeof command.run === 'string' ? command.run : command.run.join(' ')}`,
    execute: (signal) => runCommand({ run: command.run, timeoutMs: ms(command.timeout, 30_000), env: command.env, cwd: command.cwd }, signal),
    verify: (output) => checkCommand(output as CommandOutput, expect),
  };
}

export function compileAction(action: Action): PlannedActivity {
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
    const expect = action.expect ? httpExpectation(action.expect as never) : undefined;
    return {
      ...common,
      describe: `${request.method.toUpperCase()} ${request.url}`,
      execute: (signal) => httpRequest({ url: request.url, method: request.method, headers: request.headers, body: request.body, timeoutMs: ms(request.timeout, 5000) }, signal),
      verify: expect ? (output) => checkHttp(output as HttpOutput, expect) : undefined,
    };
  }
  const command = action.command;
  const expect = action.expect;
  return {
    ...common,
    describe: `run ${typeof command.run === 'string' ? command.run : command.run.join(' ')}`,
    execute: (signal) => runCommand({ run: command.run, timeoutMs: ms(command.timeout, 30_000), env: command.env, cwd: command.cwd }, signal),
    verify: expect ? (output) => checkCommand(output as CommandOutput, expect) : undefined,
  };
}

/** A fault on a target of a local family: the fault travels in the plan, its family's driver applies it. */
export function planLocalFault(fault: Fault, index: number): PlannedFault {
  const durationMs = ms(fault.duration);
  const { fault: type, target, duration: _d, name: _n, ...rest } = fault as Fault & Record<string, unknown>;
  const details = Object.entries(rest)
    .filter(([, v]) => v !== undefined && (typeof v !== 'object' || v === null))
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(', ');
  return {
    kind: 'fault',
    name: fault.name ?? `${type}-${index + 1}`,
    target,
    effect: { type: 'local', fault },
    durationMs,
    describe: `${type} on ${target}${details ? ` (${details})` : ''} for ${formatDuration(durationMs)}`,
    source: fault,
  };
}
