/**
 * faultline faults on kubernetes targets → Chaos Mesh custom resources (`chaos-mesh.org/v1alpha1`).
 * Pure: no I/O, no clock; the same experiment always gives the same manifests (golden-tested,
 * and validated against the real CRD schemas in test/fixtures/chaos-mesh/).
 *
 * ```
 *  experiment ──▶ one fault ──▶ kind + spec (selector, mode/value, action fields)
 *                     │                 │
 *                     │                 ├─▶ chaosObject(): a standalone CR with `duration`  (run path; single-step compile)
 *                     │                 └─▶ a Workflow template with `deadline`             (multi-step compile)
 *                     └─▶ problems: a fault Chaos Mesh cannot express, located (method[2].percentage) with what would work
 * ```
 *
 * Mapping (platforms.md §1): latency/bandwidth/packet-loss/duplicate/corrupt/partition →
 * NetworkChaos (direction + `target` from a peer kubernetes target, `externalTargets` from
 * peerHosts); pod-kill/pod-failure/container-kill → PodChaos; cpu-/memory-stress → StressChaos;
 * http-abort/-delay/-replace → HTTPChaos; io-latency/-error → IOChaos; dns-error → DNSChaos;
 * clock-skew → TimeChaos. Every object carries a `duration` (Chaos Mesh counts it from the CR's
 * creation, and without one a fault stays until the CR is deleted), and faultline's labels.
 */
import type { ValidationIssue } from '../../errors.js';
import {
  formatDuration,
  parseDuration,
  parsePercentage,
  parseRate,
} from '../../experiment/duration.js';
import type { Experiment, Fault, Target } from '../../experiment/schema.js';

export const CHAOS_MESH_API_VERSION = 'chaos-mesh.org/v1alpha1';
export const CHAOS_MESH_GROUP = 'chaos-mesh.org';
export const CHAOS_MESH_VERSION = 'v1alpha1';

/** Labels on every object faultline creates; `faultline recover --kubernetes` sweeps by them. */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  runId: 'faultline.dev/run-id',
  experiment: 'faultline.dev/experiment',
} as const;
export const MANAGED_BY = 'faultline';

/** The fault kinds faultline emits, with their REST plural and the field name embedding them in a Workflow or Schedule. */
export const CHAOS_KINDS = {
  NetworkChaos: { plural: 'networkchaos', embed: 'networkChaos' },
  PodChaos: { plural: 'podchaos', embed: 'podChaos' },
  StressChaos: { plural: 'stresschaos', embed: 'stressChaos' },
  HTTPChaos: { plural: 'httpchaos', embed: 'httpChaos' },
  IOChaos: { plural: 'iochaos', embed: 'ioChaos' },
  DNSChaos: { plural: 'dnschaos', embed: 'dnsChaos' },
  TimeChaos: { plural: 'timechaos', embed: 'timeChaos' },
} as const satisfies Record<string, { plural: string; embed: string }>;
export type ChaosKind = keyof typeof CHAOS_KINDS;

/** Plurals of every kind faultline may leave on a cluster (fault kinds, Workflow, Schedule). */
export const ALL_PLURALS = [
  ...Object.values(CHAOS_KINDS).map((k) => k.plural),
  'workflows',
  'schedules',
];

type KubernetesTarget = Extract<Target, { type: 'kubernetes' }>;

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: Record<string, unknown>;
}

/** A fault as Chaos Mesh understands it, before it becomes an object or a template. */
export interface ChaosFault {
  kind: ChaosKind;
  /** The spec without `duration`. */
  spec: Record<string, unknown>;
  /** The namespace of the faulted pods. */
  namespace: string;
  /** Semantics that differ from faultline's own (shown, not fatal). */
  notes: string[];
}

// --- names --------------------------------------------------------------------------------

/** A DNS-1123 label: lower-case alphanumerics and "-", at most `max` characters. */
export function dnsLabel(text: string, max = 63): string {
  const label = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+/, '')
    .slice(0, max)
    .replace(/-+$/, '');
  return label || 'faultline';
}

/** The experiment's label value: its title, shortened to a valid label. */
export function experimentSlug(title: string): string {
  return dnsLabel(title, 40);
}

/** The fault's name as the runner names it (`latency-1` when unnamed). */
export function faultName(fault: Fault, index: number): string {
  return fault.name ?? `${fault.fault}-${index + 1}`;
}

/** Go duration (Chaos Mesh's `duration`, `deadline`, `latency`): whole milliseconds, shortest exact unit. */
export function goDuration(ms: number): string {
  return formatDuration(Math.max(1, Math.round(ms)));
}

const ms = (text: string | undefined): number =>
  text === undefined ? 0 : (parseDuration(text) ?? 0);

/** Percent as Chaos Mesh writes it: a string number without `%` ("25"). */
const percentString = (text: string): string =>
  String(Math.round((parsePercentage(text) ?? 0) * 100_000) / 1000);

// --- selectors ----------------------------------------------------------------------------

/** `selector` + `mode` (+ `value`) of a Chaos Mesh spec, from a kubernetes target. */
export function podSelection(target: KubernetesTarget): Record<string, unknown> {
  return {
    selector: { namespaces: [target.namespace], labelSelectors: { ...target.selector } },
    mode: target.mode,
    ...(target.value !== undefined ? { value: target.value } : {}),
  };
}

/** The label selector text of a target (`app=payment,environment=staging`). */
export function labelSelectorText(selector: Record<string, string>): string {
  return Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

// --- one fault ----------------------------------------------------------------------------

type Problem = Omit<ValidationIssue, 'file' | 'line' | 'column'>;

/**
 * Translates one fault on a kubernetes target. `path` is the fault's JSON path (`method[2]`),
 * for problems; `targets` resolves `peer`.
 */
// eslint-disable-next-line max-lines-per-function -- one flat case per fault type, each mapping to its Chaos Mesh object; splitting would scatter the mapping table
export function translateFault(
  fault: Fault,
  path: string,
  targets: Record<string, Target>,
): { chaos?: ChaosFault; problems: Problem[] } {
  const problems: Problem[] = [];
  const target = targets[fault.target];
  if (!target || target.type !== 'kubernetes') {
    problems.push({
      path: `${path}.target`,
      message: `fault ${fault.fault} on ${target ? `${target.type} target` : 'unknown target'} "${fault.target}" cannot be compiled to Chaos Mesh`,
      hint: target
        ? `Chaos Mesh acts on pods: declare a kubernetes target (namespace, selector); ${target.type} targets run locally with faultline run`
        : 'declare it under targets:',
    });
    return { problems };
  }
  const base = podSelection(target);
  const notes: string[] = [];
  const noShare = (what: string): void => {
    if (fault.percentage !== undefined && parsePercentage(fault.percentage) !== 1) {
      problems.push({
        path: `${path}.percentage`,
        message: `${fault.fault} with percentage ${fault.percentage}: Chaos Mesh ${what} has no share of ${fault.fault.startsWith('http') ? 'requests' : 'connections'}`,
        hint: fault.fault.startsWith('http')
          ? "compile with --platform istio (per-request percentages), or scope with the target's mode/value and match fields"
          : "scope the blast radius with the target's mode and value (a share of pods), or use packet-loss for a share of packets",
      });
    }
  };
  const done = (
    kind: ChaosKind,
    spec: Record<string, unknown>,
  ): { chaos?: ChaosFault; problems: Problem[] } =>
    problems.length > 0
      ? { problems }
      : {
          chaos: { kind, spec: { ...base, ...spec }, namespace: target.namespace, notes },
          problems,
        };

  switch (fault.fault) {
    case 'latency':
    case 'bandwidth':
    case 'packet-loss':
    case 'duplicate':
    case 'corrupt':
    case 'partition': {
      noShare('NetworkChaos');
      const scope = networkScope(fault, path, targets, problems);
      if (fault.fault === 'latency')
        return done('NetworkChaos', {
          action: 'delay',
          delay: {
            latency: goDuration(ms(fault.delay)),
            ...(fault.jitter ? { jitter: goDuration(ms(fault.jitter)) } : {}),
          },
          ...scope,
        });
      if (fault.fault === 'bandwidth') {
        // tc's `bps` is bytes per second; limit and buffer are Chaos Mesh's documented defaults.
        const bytes = Math.max(1, Math.round(parseRate(fault.rate) ?? 1));
        return done('NetworkChaos', {
          action: 'bandwidth',
          bandwidth: { rate: `${bytes}bps`, limit: 20971520, buffer: 10000 },
          ...scope,
        });
      }
      if (fault.fault === 'packet-loss')
        return done('NetworkChaos', {
          action: 'loss',
          loss: {
            loss: percentString(fault.loss),
            ...(fault.correlation ? { correlation: percentString(fault.correlation) } : {}),
          },
          ...scope,
        });
      if (fault.fault === 'duplicate')
        return done('NetworkChaos', {
          action: 'duplicate',
          duplicate: {
            duplicate: percentString(fault.duplicate),
            ...(fault.correlation ? { correlation: percentString(fault.correlation) } : {}),
          },
          ...scope,
        });
      if (fault.fault === 'corrupt')
        return done('NetworkChaos', {
          action: 'corrupt',
          corrupt: {
            corrupt: percentString(fault.corrupt),
            ...(fault.correlation ? { correlation: percentString(fault.correlation) } : {}),
          },
          ...scope,
        });
      if (!fault.peer && !fault.peerHosts) {
        problems.push({
          path: `${path}.peer`,
          message: 'a partition needs the other side',
          hint: 'set peer: <kubernetes target> (or peerHosts: [host]); to take pods away entirely use pod-failure',
        });
      }
      return done('NetworkChaos', { action: 'partition', ...scope });
    }
    case 'pod-kill':
      noShare('PodChaos');
      return done('PodChaos', {
        action: 'pod-kill',
        ...(fault.gracePeriod ? { gracePeriod: Math.round(ms(fault.gracePeriod) / 1000) } : {}),
      });
    case 'pod-failure':
      noShare('PodChaos');
      return done('PodChaos', { action: 'pod-failure' });
    case 'container-kill':
      noShare('PodChaos');
      return done('PodChaos', { action: 'container-kill', containerNames: [...fault.containers] });
    case 'cpu-stress':
      noShare('StressChaos');
      return done('StressChaos', {
        stressors: {
          cpu: {
            workers: fault.workers,
            ...(fault.load !== undefined ? { load: fault.load } : {}),
          },
        },
      });
    case 'memory-stress':
      noShare('StressChaos');
      return done('StressChaos', {
        stressors: { memory: { workers: fault.workers, size: fault.size } },
      });
    case 'io-latency':
    case 'io-error': {
      const percent =
        fault.percentage === undefined
          ? 100
          : Math.round((parsePercentage(fault.percentage) ?? 1) * 100);
      const common = {
        volumePath: fault.volumePath,
        ...(fault.path ? { path: fault.path } : {}),
        ...(fault.methods ? { methods: [...fault.methods] } : {}),
        percent,
      };
      if (fault.fault === 'io-latency')
        return done('IOChaos', {
          action: 'latency',
          ...common,
          delay: goDuration(ms(fault.delay)),
        });
      return done('IOChaos', { action: 'fault', ...common, errno: fault.errno });
    }
    case 'dns-error': {
      noShare('DNSChaos');
      (fault.patterns ?? []).forEach((pattern, i) => {
        const wildcard = pattern.search(/[*?]/);
        if (pattern.includes('*') && pattern.indexOf('*') !== pattern.length - 1) {
          problems.push({
            path: `${path}.patterns[${i}]`,
            message: `"${pattern}": Chaos Mesh accepts "*" only at the end of a pattern`,
            hint: 'e.g. "postgres.*" or "api.example.co?"',
          });
        } else if (wildcard === 0) {
          problems.push({
            path: `${path}.patterns[${i}]`,
            message: `"${pattern}" starts with a wildcard`,
            hint: 'leave patterns out to fail every domain, or start with a name',
          });
        }
      });
      // DNSChaos's only failing action is `error`, answered as SERVFAIL: other rcodes are local-only.
      if (fault.rcode !== undefined && fault.rcode !== 'servfail') {
        problems.push({
          path: `${path}.rcode`,
          message: `DNSChaos cannot answer ${fault.rcode}: its error action always answers SERVFAIL`,
          hint: 'leave rcode out (or servfail) on kubernetes targets; nxdomain, refused and timeout need a dns target',
        });
      }
      return done('DNSChaos', {
        action: 'error',
        ...(fault.patterns ? { patterns: [...fault.patterns] } : {}),
      });
    }
    case 'clock-skew':
      noShare('TimeChaos');
      return done('TimeChaos', { timeOffset: fault.offset });
    case 'http-abort':
    case 'http-delay':
    case 'http-replace': {
      noShare('HTTPChaos');
      const match = fault.match;
      if (match?.pathRegex !== undefined)
        problems.push({
          path: `${path}.match.pathRegex`,
          message: 'HTTPChaos matches paths with wildcards, not regular expressions',
          hint: 'use match.pathPrefix (becomes "prefix*")',
        });
      const scope = {
        port: target.port ?? 0,
        ...(match?.pathPrefix ? { path: `${match.pathPrefix}*` } : {}),
        ...(match?.method ? { method: match.method.toUpperCase() } : {}),
        ...(match?.headers ? { request_headers: { ...match.headers } } : {}),
      };
      if (target.port === undefined)
        problems.push({
          path: `${path}.target`,
          message: `HTTPChaos needs the container port; target "${fault.target}" has none`,
          hint: `set port on targets.${fault.target}`,
        });
      if (fault.fault === 'http-delay')
        return done('HTTPChaos', {
          target: 'Request',
          ...scope,
          delay: goDuration(ms(fault.delay)),
        });
      if (fault.fault === 'http-abort') {
        notes.push(
          `${path}: Chaos Mesh replaces the response status (${fault.status}); the request still reaches the service (Istio's abort answers in its place)`,
        );
        return done('HTTPChaos', {
          target: 'Response',
          ...scope,
          replace: {
            code: fault.status,
            ...(fault.body !== undefined
              ? { body: Buffer.from(fault.body).toString('base64') }
              : {}),
          },
        });
      }
      if (fault.status === undefined && fault.body === undefined)
        problems.push({
          path,
          message: 'http-replace replaces nothing',
          hint: 'set status, body or both',
        });
      return done('HTTPChaos', {
        target: 'Response',
        ...scope,
        replace: {
          ...(fault.status !== undefined ? { code: fault.status } : {}),
          ...(fault.body !== undefined ? { body: Buffer.from(fault.body).toString('base64') } : {}),
        },
      });
    }
    case 'timeout':
    case 'reset-peer':
    case 'slow-close':
    case 'slicer':
    case 'limit-data':
    case 'disable':
    case 'pause-process':
    case 'connect-delay':
    case 'refuse':
    case 'blackhole':
      problems.push({
        path: `${path}.fault`,
        message: `${fault.fault} on kubernetes target "${fault.target}" has no Chaos Mesh equivalent`,
        hint:
          fault.fault === 'disable' || fault.fault === 'blackhole' || fault.fault === 'refuse'
            ? 'use partition (with a peer) or pod-failure'
            : fault.fault === 'pause-process'
              ? 'use pod-failure, or a process target locally'
              : 'use latency, packet-loss or partition, or run it locally through a proxy target',
      });
      return { problems };
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
    case 'certificate':
      problems.push({
        path: `${path}.fault`,
        message: `${fault.fault} on kubernetes target "${fault.target}" has no Chaos Mesh equivalent`,
        hint:
          fault.fault === 'kill-process' || fault.fault === 'restart-process'
            ? 'use pod-kill or container-kill'
            : fault.fault === 'disk-fill'
              ? 'use io-error (ENOSPC is errno 28) on the volume'
              : 'run it locally against its own target type (faultline run without --target kubernetes)',
      });
      return { problems };
    default: {
      const never: never = fault;
      throw new Error(`unhandled fault ${(never as Fault).fault}`);
    }
  }
}

/** NetworkChaos direction, `target` (peer pods) and `externalTargets` (peer hosts). */
function networkScope(
  fault: Extract<Fault, { direction?: unknown }>,
  path: string,
  targets: Record<string, Target>,
  problems: Problem[],
): Record<string, unknown> {
  const direction = fault.direction ?? 'to';
  const scope: Record<string, unknown> = { direction };
  if (fault.peer) {
    const peer = targets[fault.peer];
    if (!peer || peer.type !== 'kubernetes')
      problems.push({
        path: `${path}.peer`,
        message: `peer "${fault.peer}" is not a kubernetes target`,
        hint: 'name a kubernetes target, or use peerHosts for hosts outside the cluster',
      });
    else scope['target'] = podSelection(peer);
  }
  if (fault.peerHosts) {
    if (direction !== 'to')
      problems.push({
        path: `${path}.direction`,
        message: `Chaos Mesh applies peerHosts (externalTargets) only with direction "to", not "${direction}"`,
        hint: 'set direction: to, or name a kubernetes target as peer',
      });
    scope['externalTargets'] = [...fault.peerHosts];
  }
  return scope;
}

/** Standard metadata for a faultline-made object. */
export function metadata(
  name: string,
  namespace: string,
  experimentTitle: string,
  extra: { runId?: string | undefined; fault?: string | undefined } = {},
): Manifest['metadata'] {
  return {
    name: dnsLabel(name),
    namespace,
    labels: {
      [LABELS.managedBy]: MANAGED_BY,
      [LABELS.experiment]: experimentSlug(experimentTitle),
      ...(extra.runId ? { [LABELS.runId]: extra.runId } : {}),
    },
    ...(extra.fault ? { annotations: { 'faultline.dev/fault': extra.fault } } : {}),
  };
}

/** A standalone chaos object for one translated fault, ending after `durationMs`. */
export function chaosObject(
  chaos: ChaosFault,
  meta: Manifest['metadata'],
  durationMs: number,
): Manifest {
  return {
    apiVersion: CHAOS_MESH_API_VERSION,
    kind: chaos.kind,
    metadata: meta,
    spec: { ...chaos.spec, duration: goDuration(durationMs) },
  };
}

// --- the whole experiment -----------------------------------------------------------------

export interface ChaosMeshCompileOptions {
  /** Where the objects are created (default: the namespace of the faulted pods). */
  namespace?: string | undefined;
  /** A cron expression: wrap the experiment in a Schedule. */
  schedule?: string | undefined;
}

export interface CompileResult {
  documents: Manifest[];
  /** Faults Chaos Mesh cannot express, located; non-empty means no documents. */
  problems: Problem[];
  /** Parts of the experiment left out or changed in meaning (method probes, abort semantics). */
  notes: string[];
}

interface TimedFault {
  fault: Fault;
  index: number;
  name: string;
  offsetMs: number;
  durationMs: number;
  chaos: ChaosFault;
}

/**
 * Compiles an experiment (already substituted) to Chaos Mesh: one object per fault when every
 * fault starts with the method, a Workflow when faults start at different times (waits between
 * them), a Schedule around either when `schedule` is given.
 */
// eslint-disable-next-line max-lines-per-function -- one pass over the experiment: guardrails, every fault translated, the objects and their workflow, in reading order
export function compileChaosMesh(
  experiment: Experiment,
  options: ChaosMeshCompileOptions = {},
): CompileResult {
  const problems: Problem[] = [];
  const notes: string[] = [];
  const timed: TimedFault[] = [];
  let clock = 0;
  experiment.method.forEach((step, index) => {
    const path = `method[${index}]`;
    if ('wait' in step) {
      clock += ms(step.wait);
      return;
    }
    if ('probe' in step || 'action' in step) {
      notes.push(
        `${path}: the ${'probe' in step ? 'probe' : 'action'} "${'probe' in step ? step.probe.name : step.action.name}" is not part of the manifests (Chaos Mesh runs faults); faultline run --target kubernetes runs it`,
      );
      return;
    }
    const { chaos, problems: found } = translateFault(step, path, experiment.targets);
    problems.push(...found);
    if (chaos) {
      notes.push(...chaos.notes);
      timed.push({
        fault: step,
        index,
        name: faultName(step, index),
        offsetMs: clock,
        durationMs: ms(step.duration),
        chaos,
      });
    }
  });
  if (timed.length === 0 && problems.length === 0)
    problems.push({
      path: 'method',
      message: 'the experiment has no fault to compile',
      hint: 'add a fault step on a kubernetes target',
    });
  if (problems.length > 0) return { documents: [], problems, notes };

  const title = experiment.title;
  const homeNamespace = options.namespace ?? timed[0]!.chaos.namespace;
  const multiStep = timed.some((t) => t.offsetMs > 0);
  if (!multiStep && !options.schedule) {
    const documents = timed.map((t) =>
      chaosObject(
        t.chaos,
        metadata(
          `${experimentSlug(title)}-${t.name}`,
          options.namespace ?? t.chaos.namespace,
          title,
          { fault: t.name },
        ),
        t.durationMs,
      ),
    );
    return { documents, problems, notes };
  }
  if (options.schedule && timed.length === 1 && !multiStep) {
    const t = timed[0]!;
    const embed = CHAOS_KINDS[t.chaos.kind].embed;
    return {
      documents: [
        {
          apiVersion: CHAOS_MESH_API_VERSION,
          kind: 'Schedule',
          metadata: metadata(experimentSlug(title), homeNamespace, title),
          spec: {
            schedule: options.schedule,
            type: t.chaos.kind,
            concurrencyPolicy: 'Forbid',
            historyLimit: 5,
            [embed]: { ...t.chaos.spec, duration: goDuration(t.durationMs) },
          },
        },
      ],
      problems,
      notes,
    };
  }
  const workflow = workflowSpec(experiment, timed, notes);
  if (options.schedule) {
    return {
      documents: [
        {
          apiVersion: CHAOS_MESH_API_VERSION,
          kind: 'Schedule',
          metadata: metadata(experimentSlug(title), homeNamespace, title),
          spec: {
            schedule: options.schedule,
            type: 'Workflow',
            concurrencyPolicy: 'Forbid',
            historyLimit: 5,
            workflow,
          },
        },
      ],
      problems,
      notes,
    };
  }
  return {
    documents: [
      {
        apiVersion: CHAOS_MESH_API_VERSION,
        kind: 'Workflow',
        metadata: metadata(experimentSlug(title), homeNamespace, title),
        spec: workflow,
      },
    ],
    problems,
    notes,
  };
}

/**
 * The method as a Workflow: a Parallel entry whose children are the faults, each delayed by a
 * Suspend for as long as the waits before it (faultline's fault steps do not block the method),
 * plus StatusCheck templates from the HTTP steady-state probes with `abortWithStatusCheck`, so
 * the workflow aborts when the service stops answering as the hypothesis says.
 */
// eslint-disable-next-line max-lines-per-function -- the Workflow template list built in one place, step by step, as Chaos Mesh lays it out
function workflowSpec(
  experiment: Experiment,
  timed: TimedFault[],
  notes: string[],
): Record<string, unknown> {
  const templates: Record<string, unknown>[] = [];
  const children: string[] = [];
  const used = new Set<string>(['entry']);
  const unique = (name: string): string => {
    let candidate = dnsLabel(name, 50);
    for (let i = 2; used.has(candidate); i++) candidate = `${dnsLabel(name, 46)}-${i}`;
    used.add(candidate);
    return candidate;
  };
  const methodEnd = Math.max(...timed.map((t) => t.offsetMs + t.durationMs));
  for (const t of timed) {
    const name = unique(t.name);
    const { kind, spec } = t.chaos;
    templates.push({
      name,
      templateType: kind,
      deadline: goDuration(t.durationMs),
      [CHAOS_KINDS[kind].embed]: spec,
    });
    if (t.offsetMs === 0) {
      children.push(name);
      continue;
    }
    const wait = unique(`wait-${t.name}`);
    const serial = unique(`after-${goDuration(t.offsetMs)}-${t.name}`);
    templates.push({ name: wait, templateType: 'Suspend', deadline: goDuration(t.offsetMs) });
    templates.push({ name: serial, templateType: 'Serial', children: [wait, name] });
    children.push(serial);
  }
  const frequency = Math.max(
    1,
    Math.round(ms(experiment.runtime?.hypothesisFrequency ?? '10s') / 1000),
  );
  for (const probe of experiment.steadyState?.probes ?? []) {
    if (!('http' in probe)) {
      notes.push(
        `steady-state probe "${probe.name}" is not part of the workflow (only HTTP probes become StatusChecks)`,
      );
      continue;
    }
    const criteria = statusCriteria(probe.expect.status);
    const method = probe.http.method.toUpperCase();
    if (criteria === undefined || (method !== 'GET' && method !== 'POST')) {
      notes.push(
        `steady-state probe "${probe.name}" is not part of the workflow (a StatusCheck takes GET/POST and one status code or one range)`,
      );
      continue;
    }
    const name = unique(`check-${probe.name}`);
    templates.push({
      name,
      templateType: 'StatusCheck',
      deadline: goDuration(methodEnd),
      abortWithStatusCheck: true,
      statusCheck: {
        mode: 'Continuous',
        type: 'HTTP',
        intervalSeconds: frequency,
        timeoutSeconds: Math.max(1, Math.round(ms(probe.http.timeout) / 1000)),
        failureThreshold: 3,
        http: {
          url: probe.http.url,
          method,
          criteria: { statusCode: criteria },
          ...(typeof probe.http.body === 'string' ? { body: probe.http.body } : {}),
        },
      },
    });
    children.push(name);
  }
  const maxMs = ms(experiment.safety?.maxDuration ?? '10m');
  templates.unshift({
    name: 'entry',
    templateType: 'Parallel',
    deadline: goDuration(maxMs || methodEnd),
    children,
  });
  return { entry: 'entry', templates };
}

/** "200", or "200-204" for a contiguous list; undefined when a StatusCheck cannot say it. */
function statusCriteria(status: number | number[] | undefined): string | undefined {
  if (status === undefined) return '200';
  if (typeof status === 'number') return String(status);
  const sorted = [...status].sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  if (sorted.length === 1) return String(sorted[0]);
  const contiguous = sorted.every((s, i) => i === 0 || s === sorted[i - 1]! + 1);
  return contiguous ? `${String(sorted[0])}-${String(sorted[sorted.length - 1])}` : undefined;
}

/** One line for the plan and the terminal: what the chaos object does. */
export function describeChaos(chaos: ChaosFault): string {
  const spec = chaos.spec as {
    mode?: string;
    value?: string;
    selector?: { namespaces?: string[]; labelSelectors?: Record<string, string> };
    action?: string;
  };
  const pods = `${spec.mode === 'one' ? 'one pod' : `${String(spec.mode)}${spec.value ? ` ${spec.value}` : ''} of the pods`} ${labelSelectorText(spec.selector?.labelSelectors ?? {})} in ${spec.selector?.namespaces?.join(', ') ?? '?'}`;
  return `${chaos.kind}${spec.action ? ` ${spec.action}` : ''} on ${pods}`;
}
