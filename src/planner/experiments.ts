/**
 * Experiment files for the top scenarios, in faultline's own format: one to run locally
 * (remote-proxy targets on the generated docker-compose's fault proxy) and one for the cluster
 * (kubernetes targets, `mode: one`) when the architecture places the parts on Kubernetes.
 *
 * Each family maps to faults the schema has; where a local proxy can only approximate the
 * failure (a slow disk seen as slow queries, DNS failure as refused connections) the
 * experiment's description says so, and where it cannot at all (memory pressure) no local file
 * is written and the reason is returned. Every document is checked by the caller with the
 * loader `faultline validate` uses.
 */
import { stringify } from 'yaml';
import { formatDuration, parseDuration } from '../experiment/duration.js';
import type { ExperimentInput } from '../experiment/schema.js';
import type { Architecture } from './architecture-schema.js';
import type { Scenario } from './catalogue.js';
import {
  abortRate,
  consistencyServices,
  errorBound,
  loadTarget,
  p99Bound,
  percent,
} from './hypotheses.js';
import { ENVIRONMENT_LABELS } from '../backends/kubernetes/guardrails.js';
import { envName, hostPort, localProxies, type LocalProxy } from './local-proxies.js';

export type Variant = 'local' | 'kubernetes';

/** One generated experiment, or why there is none. */
export type GeneratedExperiment =
  | { variant: Variant; file: string; experiment: ExperimentInput; text: string }
  | { variant: Variant; file?: undefined; skipped: string };

type FaultStep = { fault: string; target: string; duration: string } & Record<string, unknown>;
type KubernetesFault = { target: string; step: Record<string, unknown> };

/** How long faults last, by family: the brief's 90 s outage; shorter for one-shot faults. */
const DURATION: Partial<Record<Scenario['family'], string>> = {
  'dependency-outage': '90s',
  'pod-crash': '30s',
  'retry-storm': '30s',
};
const DEFAULT_DURATION = '60s';

/**
 * The file name stem of a scenario at a place in the top, named by the family its experiment
 * injects: `01-dependency-timeout-payment-service-postgresql`.
 */
export function experimentStem(scenario: Scenario, position = scenario.rank): string {
  const variant = scenario.variants[0]?.id ?? scenario.id;
  return `${String(position).padStart(2, '0')}-${variant.replace(/[:>]/g, '-').replace(/-+/g, '-').replace(/-$/, '')}`;
}

/** The experiments of one scenario, numbered by its place in the top. */
export function experimentsFor(
  architecture: Architecture,
  scenario: Scenario,
  position = scenario.rank,
): GeneratedExperiment[] {
  return [
    localExperiment(architecture, scenario, position),
    kubernetesExperiment(architecture, scenario, position),
  ];
}

// --- local -----------------------------------------------------------------------------------

function localExperiment(
  architecture: Architecture,
  scenario: Scenario,
  position: number,
): GeneratedExperiment {
  const proxies = localProxies(architecture);
  const duration = DURATION[scenario.family] ?? DEFAULT_DURATION;
  const plan = localFaults(architecture, scenario, proxies, duration);
  if ('skipped' in plan) return { variant: 'local', skipped: plan.skipped };
  const targets: Record<string, unknown> = {};
  for (const step of plan.steps)
    targets[step.target] = { type: 'remote-proxy', url: '${proxyApi}', proxy: step.target };
  const experiment = skeleton(architecture, scenario, position, 'local', plan.note);
  experiment.configuration = {
    ...experiment.configuration,
    proxyApi: { env: 'FAULTLINE_PROXY_URL', default: 'http://127.0.0.1:8474' },
  };
  experiment.targets = targets as ExperimentInput['targets'];
  experiment.method = plan.steps as ExperimentInput['method'];
  experiment.safety = safety(architecture, scenario, duration);
  return finish(
    'local',
    scenario,
    position,
    experiment,
    `local: run against the fault proxy of docker-compose.chaos.yaml (FAULTLINE_PROXY_URL, default http://127.0.0.1:8474)`,
  );
}

function localFaults(
  architecture: Architecture,
  scenario: Scenario,
  proxies: LocalProxy[],
  duration: string,
): { steps: FaultStep[]; note?: string } | { skipped: string } {
  const byEdge = (from: string, to: string): LocalProxy | undefined =>
    proxies.find((p) => p.from === from && p.to === to);
  const into = (name: string): LocalProxy[] => proxies.filter((p) => p.to === name);
  const edgeProxies = scenario.edges
    .map((e) => byEdge(e.from, e.to))
    .filter((p): p is LocalProxy => p !== undefined);
  const step = (p: LocalProxy, fault: string, extra: Record<string, unknown> = {}): FaultStep => ({
    fault,
    target: p.name,
    ...extra,
    duration,
  });
  const none = (why: string): { skipped: string } => ({ skipped: why });
  const [first] = scenario.edges;
  switch (scenario.family) {
    case 'dependency-timeout':
      // A hang: data stops and the connection stays open (Toxiproxy's timeout toxic).
      return edgeProxies.length
        ? { steps: edgeProxies.map((p) => step(p, 'timeout', { stream: 'both' })) }
        : none(`no local address for ${String(first?.to)}`);
    case 'dependency-outage': {
      const list = into(scenario.component);
      return list.length
        ? { steps: list.map((p) => ({ fault: 'disable', target: p.name, duration })) }
        : none(`no local address for ${scenario.component}`);
    }
    case 'latency-spike': {
      const delay = /> (\S+)$/.exec(scenario.title)?.[1] ?? '5s';
      const list = into(scenario.component);
      return list.length
        ? { steps: list.map((p) => step(p, 'latency', { delay, stream: 'downstream' })) }
        : none(`no local address for ${scenario.component}`);
    }
    case 'network-partition':
      return edgeProxies.length
        ? { steps: edgeProxies.map((p) => ({ fault: 'blackhole', target: p.name, duration })) }
        : none('no local address for either side');
    case 'pod-crash': {
      const list = into(scenario.component);
      return list.length
        ? {
            steps: list.map((p) => step(p, 'reset-peer', { stream: 'both' })),
            note: `Locally a crash is seen from the callers: every connection to ${scenario.component} is reset mid-request.`,
          }
        : none(`nothing calls ${scenario.component} through a local proxy`);
    }
    case 'memory-pressure':
      return none(
        'memory pressure needs the pod itself (StressChaos): see the kubernetes experiment',
      );
    case 'disk-pressure': {
      const list = into(scenario.component);
      return list.length
        ? {
            steps: list.map((p) =>
              step(p, 'latency', { delay: '300ms', jitter: '100ms', stream: 'downstream' }),
            ),
            note: `Locally a slow disk is seen from the callers: every ${scenario.component} reply is 300 ms late. The kubernetes experiment slows the volume itself.`,
          }
        : none(`no local address for ${scenario.component}`);
    }
    case 'dns-failure':
    case 'certificate-expiry': {
      const users = new Set(scenario.broken);
      const list = proxies.filter(
        (p) =>
          users.has(p.from) &&
          (scenario.family === 'dns-failure' ||
            architecture.services[p.from]?.dependsOn.find((d) => d.on === p.to)?.mtls),
      );
      const note =
        scenario.family === 'dns-failure'
          ? 'Locally a DNS failure is seen as new connections failing: each proxy refuses them; open connections live on.'
          : 'Locally an expired certificate is seen as failed handshakes: each mTLS connection is reset.';
      return list.length
        ? {
            steps: list.map((p) => ({
              fault: scenario.family === 'dns-failure' ? 'refuse' : 'reset-peer',
              target: p.name,
              duration,
            })),
            note,
          }
        : none('no affected connection has a local proxy');
    }
    case 'queue-partition': {
      const list = edgeProxies;
      return list.length
        ? {
            steps: list.map((p) => step(p, 'reset-peer', { after: '2s', stream: 'both' })),
            note: `Consumers lose ${scenario.component} 2 s into every connection: unacknowledged messages are redelivered.`,
          }
        : none(`no local address for ${scenario.component}`);
    }
    case 'pool-exhaustion': {
      const p = edgeProxies[0];
      if (!p) return none(`no local address for ${String(first?.to)}`);
      const delay = poolDelay(architecture, p.from, p.to);
      return {
        steps: [step(p, 'latency', { delay, stream: 'downstream' })],
        note: `${delay} on every reply holds each connection long enough to empty the pool.`,
      };
    }
    case 'retry-storm':
      return edgeProxies.length
        ? {
            steps: edgeProxies.map((p) => ({ fault: 'refuse', target: p.name, duration })),
            note: 'Fast failures are what retries without backoff amplify: each connection is refused at once.',
          }
        : none(`no local address for ${String(first?.to)}`);
  }
}

/** Latency that empties a pool: twice pool / rps (Little's law), at least 500 ms. */
function poolDelay(architecture: Architecture, from: string, to: string): string {
  const service = architecture.services[from];
  const pool = service?.dependsOn.find((d) => d.on === to)?.pool ?? 10;
  const rps = service?.baseline?.rps;
  const ms = rps ? Math.max(500, Math.ceil(((2 * pool) / rps) * 10) * 100) : 1000;
  return formatDuration(ms);
}

// --- kubernetes ------------------------------------------------------------------------------

interface Placement {
  namespace: string;
  selector: Record<string, string>;
  port?: number | undefined;
  service: string;
  /** The Service's port the load and probes call. */
  servicePort: number;
}

/**
 * Where a part runs on the cluster, as a target selects it. A namespace that names the
 * environment (payments-staging) already qualifies the selector, so the top-level environment
 * labels are dropped when that leaves the part's own single label: Litmus ORs the labels of a
 * selector, and refuses more than one. A primary, when declared, is selected by its labels:
 * `mode: one` on a primary and a standby would otherwise pick either.
 */
function placement(architecture: Architecture, name: string): Placement | undefined {
  const own =
    architecture.services[name]?.kubernetes ??
    (
      architecture.dependencies[name] as
        { kubernetes?: Architecture['services'][string]['kubernetes'] } | undefined
    )?.kubernetes;
  if (!own) return undefined;
  const namespace = own.namespace ?? architecture.kubernetes?.namespace;
  if (!namespace) return undefined;
  const inNamespace = namespace.split('-').includes(architecture.environment);
  const oneLabel = inNamespace && Object.keys(own.labels).length === 1 && !own.primaryLabels;
  const shared = Object.fromEntries(
    Object.entries(architecture.kubernetes?.labels ?? {}).filter(
      ([key]) => !oneLabel || !(ENVIRONMENT_LABELS as readonly string[]).includes(key),
    ),
  );
  return {
    namespace,
    selector: { ...shared, ...own.labels, ...(own.primaryLabels ?? {}) },
    port: own.port,
    service: own.service ?? name,
    servicePort: own.servicePort ?? own.port ?? 80,
  };
}

/** Why `mode: one` may miss: a replicated datastore without declared primary labels. */
function standbyNotes(architecture: Architecture, names: Iterable<string>): string[] {
  const notes: string[] = [];
  for (const name of new Set(names)) {
    const r = architecture.dependencies[name];
    if (!r || !('replicas' in r) || r.replicas < 2 || !('kubernetes' in r) || !r.kubernetes)
      continue;
    if (r.kubernetes.primaryLabels) continue;
    notes.push(
      `${name} has ${r.replicas} replicas and no kubernetes.primaryLabels: mode one may pick a standby, where the fault changes nothing; declare the labels only its primary carries.`,
    );
  }
  return notes;
}

function externalHost(architecture: Architecture, name: string): string | undefined {
  const resource = architecture.dependencies[name];
  return resource && 'externalHost' in resource ? resource.externalHost : undefined;
}

function kubernetesExperiment(
  architecture: Architecture,
  scenario: Scenario,
  position: number,
): GeneratedExperiment {
  const duration = DURATION[scenario.family] ?? DEFAULT_DURATION;
  const plan = kubernetesFaults(architecture, scenario);
  if ('skipped' in plan) return { variant: 'kubernetes', skipped: plan.skipped };
  const targets: Record<string, unknown> = {};
  const method: Array<Record<string, unknown>> = [];
  for (const { target, step } of plan.faults) {
    const http = typeof step['fault'] === 'string' && step['fault'].startsWith('http-');
    for (const name of [target, ...(typeof step['peer'] === 'string' ? [step['peer']] : [])]) {
      const p = placement(architecture, name)!;
      targets[name] = {
        type: 'kubernetes',
        namespace: p.namespace,
        selector: p.selector,
        mode: 'one',
        ...(http && name === target ? { port: p.port, service: p.service } : {}),
      };
    }
    method.push({ ...step, target, duration });
  }
  const notes = [
    ...(plan.note ? [plan.note] : []),
    ...standbyNotes(architecture, Object.keys(targets)),
  ];
  const experiment = skeleton(
    architecture,
    scenario,
    position,
    'kubernetes',
    notes.length ? notes.join(' ') : undefined,
  );
  experiment.targets = targets as ExperimentInput['targets'];
  experiment.method = method as ExperimentInput['method'];
  experiment.safety = safety(architecture, scenario, duration);
  return finish(
    'kubernetes',
    scenario,
    position,
    experiment,
    [
      'kubernetes: faultline run FILE --target kubernetes (Chaos Mesh), or faultline compile FILE --platform chaos-mesh',
      ...reachingLines(experiment),
    ].join('\n'),
  );
}

function kubernetesFaults(
  architecture: Architecture,
  scenario: Scenario,
): { faults: KubernetesFault[]; note?: string } | { skipped: string } {
  const placed = (name: string): boolean => placement(architecture, name) !== undefined;
  const none = (why: string): { skipped: string } => ({ skipped: why });
  /** A network fault from `from` towards `to`: a kubernetes peer, or the external host. */
  const towards = (
    from: string,
    to: string,
    fault: Record<string, unknown>,
  ): KubernetesFault | undefined => {
    if (!placed(from)) return undefined;
    if (placed(to)) return { target: from, step: { ...fault, peer: to, direction: 'to' } };
    const host = externalHost(architecture, to);
    return host ? { target: from, step: { ...fault, peerHosts: [host] } } : undefined;
  };
  const all = (
    items: Array<KubernetesFault | undefined>,
    why: string,
  ): { faults: KubernetesFault[] } | { skipped: string } => {
    const faults = items.filter((f): f is KubernetesFault => f !== undefined);
    return faults.length ? { faults } : none(why);
  };
  const component = scenario.component;
  const notPlaced = `no kubernetes placement for ${component}`;
  switch (scenario.family) {
    case 'dependency-timeout':
      return all(
        scenario.edges.map((e) => towards(e.from, e.to, { fault: 'latency', delay: '30s' })),
        'neither end has a kubernetes placement',
      );
    case 'pool-exhaustion':
      return all(
        scenario.edges.map((e) =>
          towards(e.from, e.to, { fault: 'latency', delay: poolDelay(architecture, e.from, e.to) }),
        ),
        'neither end has a kubernetes placement',
      );
    case 'dependency-outage': {
      if (placed(component))
        return { faults: [{ target: component, step: { fault: 'pod-failure' } }] };
      // Outside the cluster: cut every caller off from it.
      const callers = Object.keys(architecture.services)
        .sort()
        .filter((s) => architecture.services[s]!.dependsOn.some((d) => d.on === component));
      return all(
        callers.map((s) => towards(s, component, { fault: 'partition' })),
        notPlaced,
      );
    }
    case 'latency-spike': {
      const delay = /> (\S+)$/.exec(scenario.title)?.[1] ?? '5s';
      if (!placed(component)) return none(notPlaced);
      // Its callers speak HTTP to it: delay its answers (Chaos Mesh HTTPChaos, Istio), not
      // every packet it sends (kubelet probes and DNS included).
      if (placement(architecture, component)?.port !== undefined)
        return { faults: [{ target: component, step: { fault: 'http-delay', delay } }] };
      // No port declared: its packets towards each caller only.
      return all(
        scenario.edges.map((e) =>
          placed(e.from)
            ? {
                target: component,
                step: { fault: 'latency', delay, peer: e.from, direction: 'to' },
              }
            : undefined,
        ),
        'no caller has a kubernetes placement (declare kubernetes.port for an HTTP delay)',
      );
    }
    case 'network-partition':
      return all(
        scenario.edges
          .map((e) => towards(e.from, e.to, { fault: 'partition' }))
          .map((f) => (f ? { ...f, step: { ...f.step, direction: 'both' } } : f)),
        'neither end has a kubernetes placement',
      );
    case 'pod-crash':
      return placed(component)
        ? { faults: [{ target: component, step: { fault: 'pod-kill' } }] }
        : none(notPlaced);
    case 'memory-pressure':
      return placed(component)
        ? {
            faults: [
              { target: component, step: { fault: 'memory-stress', workers: 1, size: '80%' } },
            ],
          }
        : none(notPlaced);
    case 'disk-pressure': {
      const db = architecture.dependencies[component];
      const volume = db && db.kind === 'database' ? db.volume : undefined;
      if (!placed(component)) return none(notPlaced);
      if (!volume)
        return none(`declare the data volume of ${component} (volume:) to slow its disk`);
      return {
        faults: [
          { target: component, step: { fault: 'io-latency', volumePath: volume, delay: '100ms' } },
        ],
        note: 'Chaos Mesh cannot fill a disk: every file operation on the data volume is 100 ms late instead.',
      };
    }
    case 'dns-failure':
      return all(
        [...new Set(scenario.broken)]
          .filter(placed)
          .map((s) => ({ target: s, step: { fault: 'dns-error' } })),
        'no affected service has a kubernetes placement',
      );
    case 'certificate-expiry':
      return {
        ...all(
          [...new Set(scenario.broken)]
            .filter((s) => placed(s) && architecture.services[s] !== undefined)
            .map((s) => ({ target: s, step: { fault: 'clock-skew', offset: '9000h' } })),
          'no affected service has a kubernetes placement',
        ),
        note: 'An expired certificate, made by moving the clock of the callers about a year ahead: the certificates they check are then past their end date.',
      };
    case 'queue-partition':
      return all(
        scenario.edges
          .map((e) => towards(e.from, e.to, { fault: 'partition' }))
          .map((f) => (f ? { ...f, step: { ...f.step, direction: 'both' } } : f)),
        'no consumer has a kubernetes placement',
      );
    case 'retry-storm':
      return all(
        scenario.edges.map((e) => towards(e.from, e.to, { fault: 'partition' })),
        'neither end has a kubernetes placement',
      );
  }
}

// --- shared ----------------------------------------------------------------------------------

function skeleton(
  architecture: Architecture,
  scenario: Scenario,
  position: number,
  variant: Variant,
  note: string | undefined,
): ExperimentInput {
  const target = loadTarget(architecture, scenario);
  const entry = architecture.services[target.service];
  const urlVar = `${camel(target.service)}Url`;
  const p99 = p99Bound(entry, target.service);
  const errors = errorBound(entry, target.service);
  const configuration: NonNullable<ExperimentInput['configuration']> = {
    [urlVar]: urlSetting(architecture, target.service, variant),
  };
  const request = target.path?.request;
  const secrets: Record<string, { env: string }> = {};
  for (const text of [request?.path, request?.body, ...Object.values(request?.headers ?? {})]) {
    for (const match of (text ?? '').matchAll(/\$\{([^}]+)\}/g))
      secrets[match[1]!] = { env: envName(match[1]!) };
  }
  const rate = Math.min(50, Math.max(1, Math.round(request?.rate ?? entry?.baseline?.rps ?? 20)));
  const probes: Array<Record<string, unknown>> = [
    {
      name: `${target.service} answers`,
      http: { url: `\${${urlVar}}${entry?.local?.healthPath ?? '/health'}`, timeout: '2s' },
      expect: { status: 200 },
    },
  ];
  for (const name of consistencyServices(architecture, scenario)) {
    const service = architecture.services[name]!;
    const check = service.consistency!;
    if ('http' in check) {
      const serviceUrl = `${camel(name)}Url`;
      configuration[serviceUrl] = urlSetting(architecture, name, variant);
      probes.push({
        name: `no ${name} transaction lost (reconciliation)`,
        mode: 'Edge',
        http: { url: `\${${serviceUrl}}${check.http}`, timeout: '5s' },
        expect: { status: 200, json: { path: check.jsonPath, equals: 0 } },
      });
    } else {
      const dbVar = `${camel(check.database)}DatabaseUrl`;
      const address = hostPort(
        architecture.dependencies[check.database] &&
          'address' in architecture.dependencies[check.database]!
          ? (architecture.dependencies[check.database] as { address?: string }).address
          : undefined,
      );
      configuration[dbVar] = address
        ? {
            env: `${envName(check.database)}_DATABASE_URL`,
            default: `postgres://postgres@${address.host}:${address.port}/postgres`,
          }
        : { env: `${envName(check.database)}_DATABASE_URL` };
      probes.push({
        name: `no ${name} transaction lost (reconciliation)`,
        mode: 'Edge',
        sql: { url: `\${${dbVar}}`, query: check.sql },
        expect: { equals: 0 },
      });
    }
  }
  const load: Record<string, unknown> = {
    url: `\${${urlVar}}${request?.path ?? entry?.local?.healthPath ?? '/health'}`,
    ...(request && request.method !== 'GET' ? { method: request.method } : {}),
    ...(request?.headers ? { headers: request.headers } : {}),
    ...(request?.body ? { body: request.body } : {}),
    rate: `${rate}/s`,
    timeout: formatDuration(Math.max(2000, 2 * p99.ms)),
    baseline: '10s',
    recovery: '30s',
  };
  const description = [
    scenario.effect,
    `Business impact: ${scenario.businessImpact}`,
    `Number ${position} of faultline plan's top (rank ${scenario.rank} by score), score ${scenario.score} (impact ${scenario.parts.impact.points}, reach ${scenario.parts.reach.points}, likelihood ${scenario.parts.likelihood.points}, missing mitigations ${scenario.parts.exposure.points}).`,
    ...(note ? [note] : []),
  ].join(' ');
  return {
    title: `${scenario.title} (${variant})`,
    description,
    tags: ['faultline-plan', scenario.family, variant],
    environment: variant === 'local' ? 'local' : architecture.environment,
    configuration,
    ...(Object.keys(secrets).length ? { secrets } : {}),
    targets: {},
    steadyState: {
      load: load as never,
      thresholds: [`p99 < ${formatDuration(p99.ms)}`, `error_rate < ${percent(errors.rate)}`],
      probes: probes as never,
    },
    method: [],
  };
}

/**
 * A service's base URL setting: its environment variable, defaulting locally to its local URL
 * and on the cluster to its Service's DNS name, which `run --target kubernetes` reaches
 * in-cluster from a pod, or through a port-forward it opens (src/backends/kubernetes/).
 */
function urlSetting(
  architecture: Architecture,
  name: string,
  variant: Variant,
): { env: string; default?: string } {
  const env = `${envName(name)}_URL`;
  const p = variant === 'kubernetes' ? placement(architecture, name) : undefined;
  if (p) return { env, default: `http://${p.service}.${p.namespace}.svc:${p.servicePort}` };
  const local = architecture.services[name]?.local?.url;
  return local ? { env, default: local } : { env };
}

function safety(
  architecture: Architecture,
  scenario: Scenario,
  duration: string,
): ExperimentInput['safety'] {
  const target = loadTarget(architecture, scenario);
  const errors = errorBound(architecture.services[target.service], target.service);
  return {
    maxDuration: formatDuration((parseDuration(duration) ?? 60_000) + 120_000),
    abortWhen: [`error_rate > ${percent(abortRate(errors.rate))} for 5s`],
  };
}

function finish(
  variant: Variant,
  scenario: Scenario,
  position: number,
  experiment: ExperimentInput,
  how: string,
): GeneratedExperiment {
  const file = `${experimentStem(scenario, position)}.${variant}.yaml`;
  const header = [
    `# Generated by faultline plan: number ${position} of the top (rank ${scenario.rank}), ${scenario.title}.`,
    `# ${how}`,
    `#   npx faultline validate ${file}`,
    '',
  ].join('\n');
  return { variant, file, experiment, text: header + stringify(experiment, { lineWidth: 0 }) };
}

/**
 * How a cluster experiment's URLs reach its Services, for the header: in-cluster from a pod,
 * else through the port-forward faultline opens; a URL left at a local address says so.
 */
function reachingLines(experiment: ExperimentInput): string[] {
  const urls = Object.values(experiment.configuration ?? {})
    .map((v) => v as { env?: string; default?: string } | null | undefined)
    .flatMap((v) => (v?.env?.endsWith('_URL') ? [{ env: v.env, default: v.default ?? '' }] : []));
  const services = urls.filter((v) => /\.svc:\d+$/.test(v.default));
  const lines: string[] = [];
  if (services.length > 0)
    lines.push(
      `# Reaching the services: ${services.map((v) => `${v.env} (default ${v.default})`).join(', ')} name the`,
      '# Services by their cluster DNS names. Run in a pod, faultline calls them as written (in-cluster);',
      '# elsewhere it opens a port-forward to a ready pod behind each Service through the Kubernetes API',
      '# (127.0.0.1, a free port) and closes it when the run ends; the run says which (--reach forces one).',
    );
  const other = urls.filter((v) => !services.includes(v));
  if (other.length > 0)
    lines.push(
      `# ${other.map((v) => v.env).join(', ')}: not an HTTP URL of a Service faultline reaches by itself: set it to an address the run reaches.`,
    );
  return lines;
}

function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
