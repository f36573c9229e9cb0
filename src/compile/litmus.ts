/**
 * faultline faults on kubernetes targets → LitmusChaos ChaosEngines (`litmuschaos.io/v1alpha1`),
 * one per fault, with the experiment's steady-state probes as Litmus probes. Pure: no I/O, no
 * clock (golden-tested and validated against the real ChaosEngine CRD in test/fixtures/litmus/).
 *
 * ```
 *  fault ──▶ ChaosExperiment name (pod-delete, pod-network-latency, …) + its env (TOTAL_CHAOS_DURATION, …)
 *  target ─▶ spec.selectors.workloads[{kind, namespace, labels}] + PODS_AFFECTED_PERC
 *  probes ─▶ spec.experiments[0].spec.probe[] (httpProbe, cmdProbe, promProbe; mode one to one)
 * ```
 *
 * Litmus's facts, read in litmus-go 1b3603f and chaos-operator af8244e (the snapshots of
 * /work/shared/reference/platforms.md §2):
 * - fault parameters are env vars of the experiment (`pkg/generic/<fault>/environment`);
 * - the operator turns `selectors.workloads[].labels` into `kind:ns:[labels]` and litmus-go
 *   splits the labels at "," and lists pods for *each* label (a union): `app=x,environment=staging`
 *   would also select another environment's `app=x` pods — the brief's blast-radius escape — so
 *   a target compiled for Litmus must have exactly one label (put the environment in the namespace
 *   or in that label);
 * - label selection keeps only pods whose owner is of the workload `kind`, so the kind is needed
 *   (`--workload-kind`, default deployment);
 * - `PODS_AFFECTED_PERC` is a share of the matching pods, at least one (0 = one pod); a fixed
 *   count has no equivalent.
 *
 * A fault or probe Litmus cannot express is a located problem that names the fault (or probe),
 * the target and what would work instead; nothing is written when there is one.
 */
import type { ValidationIssue } from '../errors.js';
import { parseDuration, parsePercentage, parseRate } from '../experiment/duration.js';
import type { Experiment, Fault, Probe, Target } from '../experiment/schema.js';
import {
  dnsLabel,
  experimentSlug,
  faultName,
  labelSelectorText,
  metadata,
  type Manifest,
} from '../backends/kubernetes/chaos-mesh.js';

export const LITMUS_API_VERSION = 'litmuschaos.io/v1alpha1';
/** The workload kinds litmus-go selects pods by (the CRD's `appkind` pattern). */
export const LITMUS_WORKLOAD_KINDS = [
  'deployment',
  'statefulset',
  'daemonset',
  'deploymentconfig',
  'rollout',
] as const;
export type LitmusWorkloadKind = (typeof LITMUS_WORKLOAD_KINDS)[number];

type Problem = Omit<ValidationIssue, 'file' | 'line' | 'column'>;
type KubernetesTarget = Extract<Target, { type: 'kubernetes' }>;
type Env = { name: string; value: string }[];

export interface LitmusCompileOptions {
  /** Where the ChaosEngines are created (default: the namespace of the faulted pods). */
  namespace?: string | undefined;
  /** The owner kind of the selected pods (default deployment). */
  workloadKind?: LitmusWorkloadKind | undefined;
  /** The service account the experiment pods run as (default litmus-admin). */
  chaosServiceAccount?: string | undefined;
}

export interface LitmusResult {
  documents: Manifest[];
  problems: Problem[];
  notes: string[];
}

const ms = (text: string | undefined): number =>
  text === undefined ? 0 : (parseDuration(text) ?? 0);
/** Litmus durations are whole seconds; a fault is never made shorter. */
const seconds = (milliseconds: number): number => Math.max(1, Math.ceil(milliseconds / 1000));
/** "25" from "25%", whole percent (Litmus parses these with Atoi). */
const wholePercent = (text: string): number => Math.round((parsePercentage(text) ?? 0) * 100);
const IP = /^(\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?$|:/;

/** A single label, or the problem of a selector Litmus would widen. */
function workloadSelector(
  target: KubernetesTarget,
  name: string,
  kind: LitmusWorkloadKind,
  problems: Problem[],
): Record<string, unknown> | undefined {
  const labels = Object.entries(target.selector);
  if (labels.length !== 1) {
    problems.push({
      path: `targets.${name}.selector`,
      message: `target "${name}" selects pods by ${labels.length} labels (${labelSelectorText(target.selector)}); Litmus selects the pods matching ANY one of them, which would widen the blast radius (e.g. to another environment's pods)`,
      hint: 'give the target one label that names exactly these pods (e.g. app: payment-service-staging), with the environment in the namespace (payments-staging); or compile with --platform chaos-mesh',
    });
    return undefined;
  }
  return { kind, namespace: target.namespace, labels: labelSelectorText(target.selector) };
}

/** PODS_AFFECTED_PERC from the target's mode, or a problem. */
function affectedPercent(
  target: KubernetesTarget,
  name: string,
  problems: Problem[],
  notes: string[],
): string | undefined {
  switch (target.mode) {
    case 'one':
      return '0';
    case 'all':
      return '100';
    case 'fixed-percent':
      return String(Math.round(Number(target.value ?? 0)));
    case 'random-max-percent':
      notes.push(
        `targets.${name}: Litmus affects exactly ${String(target.value)} % of the pods (PODS_AFFECTED_PERC); Chaos Mesh's random-max-percent picks up to it`,
      );
      return String(Math.round(Number(target.value ?? 0)));
    case 'fixed':
      if (target.value === '1') return '0';
      problems.push({
        path: `targets.${name}.mode`,
        message: `mode fixed (${target.value ?? '?'} pods) on target "${name}": Litmus selects a share of the pods (PODS_AFFECTED_PERC), not a count`,
        hint: 'use mode one, or fixed-percent with the share these pods are of the workload',
      });
      return undefined;
  }
}

/** The experiment name and env of one fault; undefined with problems when Litmus cannot express it. */
function translate(
  fault: Fault,
  path: string,
  target: KubernetesTarget,
  targets: Record<string, Target>,
  problems: Problem[],
  notes: string[],
): { experiment: string; env: Env } | undefined {
  const where = `fault ${fault.fault} on target "${fault.target}"`;
  const refuse = (field: string, message: string, hint: string): undefined => {
    problems.push({
      path: field ? `${path}.${field}` : path,
      message: `${where}: ${message}`,
      hint,
    });
    return undefined;
  };
  const before = problems.length;
  const durationS = seconds(ms(fault.duration));
  if (ms(fault.duration) % 1000 !== 0)
    notes.push(`${path}: Litmus counts whole seconds; ${fault.duration} becomes ${durationS}s`);
  const env: Env = [{ name: 'TOTAL_CHAOS_DURATION', value: String(durationS) }];
  const set = (name: string, value: string | number): void =>
    void env.push({ name, value: String(value) });
  const noShare = (): void => {
    if (fault.percentage !== undefined && parsePercentage(fault.percentage) !== 1) {
      refuse(
        'percentage',
        `Litmus's ${fault.fault.startsWith('pod') ? 'pod' : 'network'} faults have no share of connections (percentage ${fault.percentage})`,
        "scope the blast radius with the target's mode and value (a share of pods), or compile with --platform chaos-mesh",
      );
    }
  };
  /** Egress to hosts/IPs only: litmus-go's tc rules sit on the target pod's interface. */
  const destinations = (f: Extract<Fault, { direction?: unknown }>): void => {
    if (f.direction && f.direction !== 'to')
      refuse(
        'direction',
        `Litmus network faults act on the pods' outgoing traffic only, not direction "${f.direction}"`,
        'use direction: to (the default), or compile with --platform chaos-mesh',
      );
    if (f.peer) {
      const peer = targets[f.peer];
      refuse(
        'peer',
        `Litmus takes destination hosts or IPs, not another target's pods ("${f.peer}")`,
        `use peerHosts with the peer's Service DNS name${peer?.type === 'kubernetes' && peer.service ? ` (e.g. ${peer.service}.${peer.namespace}.svc.cluster.local)` : ''}, or compile with --platform chaos-mesh`,
      );
    }
    if (f.peerHosts) {
      const ips = f.peerHosts.filter((h) => IP.test(h));
      const hosts = f.peerHosts.filter((h) => !IP.test(h));
      if (ips.length) set('DESTINATION_IPS', ips.join(','));
      if (hosts.length) set('DESTINATION_HOSTS', hosts.join(','));
    }
  };
  const correlation = (f: { correlation?: string | undefined }): void => {
    if (f.correlation !== undefined) set('CORRELATION', wholePercent(f.correlation));
  };
  const httpPort = (): void => {
    if (target.port === undefined)
      refuse(
        'target',
        `Litmus's HTTP faults need the container port they proxy (TARGET_SERVICE_PORT)`,
        `set port: on target "${fault.target}"`,
      );
    else set('TARGET_SERVICE_PORT', target.port);
    if ('match' in fault && fault.match)
      refuse(
        'match',
        'Litmus HTTP faults act on every request to the port; they cannot match methods, paths or headers',
        'remove match, or compile with --platform chaos-mesh (HTTPChaos) or istio',
      );
    if (fault.percentage !== undefined) set('TOXICITY', wholePercent(fault.percentage));
  };
  let experiment: string;
  switch (fault.fault) {
    case 'latency':
      noShare();
      destinations(fault);
      experiment = 'pod-network-latency';
      set('NETWORK_LATENCY', Math.round(ms(fault.delay)));
      if (fault.jitter) set('JITTER', Math.round(ms(fault.jitter)));
      break;
    case 'packet-loss':
      noShare();
      destinations(fault);
      correlation(fault);
      experiment = 'pod-network-loss';
      set('NETWORK_PACKET_LOSS_PERCENTAGE', wholePercent(fault.loss));
      break;
    case 'duplicate':
      noShare();
      destinations(fault);
      correlation(fault);
      experiment = 'pod-network-duplication';
      set('NETWORK_PACKET_DUPLICATION_PERCENTAGE', wholePercent(fault.duplicate));
      break;
    case 'corrupt':
      noShare();
      destinations(fault);
      correlation(fault);
      experiment = 'pod-network-corruption';
      set('NETWORK_PACKET_CORRUPTION_PERCENTAGE', wholePercent(fault.corrupt));
      break;
    case 'bandwidth': {
      noShare();
      destinations(fault);
      experiment = 'pod-network-rate-limit';
      // tc's units: kbit = 1000 bits per second.
      set(
        'NETWORK_BANDWIDTH',
        `${Math.max(1, Math.round(((parseRate(fault.rate) ?? 0) * 8) / 1000))}kbit`,
      );
      break;
    }
    case 'partition': {
      noShare();
      experiment = 'pod-network-partition';
      // A NetworkPolicy whose podSelector is the label: every pod with it is cut off.
      if (target.mode !== 'all')
        refuse(
          'target',
          `Litmus's pod-network-partition applies a NetworkPolicy to every pod with the label, not to ${target.mode === 'one' ? 'one pod' : `mode ${target.mode}`}`,
          `set mode: all on target "${fault.target}" (with --allow-wide-blast), or compile with --platform chaos-mesh`,
        );
      set(
        'POLICY_TYPES',
        { to: 'egress', from: 'ingress', both: 'all' }[fault.direction ?? 'both'],
      );
      if (fault.peer) {
        const peer = targets[fault.peer];
        if (peer?.type !== 'kubernetes')
          refuse(
            'peer',
            `peer "${fault.peer}" is not a kubernetes target`,
            'name a kubernetes target, or use peerHosts',
          );
        else {
          set('POD_SELECTOR', labelSelectorText(peer.selector));
          set('NAMESPACE_SELECTOR', `kubernetes.io/metadata.name=${peer.namespace}`);
        }
      }
      if (fault.peerHosts) {
        const ips = fault.peerHosts.filter((h) => IP.test(h));
        const hosts = fault.peerHosts.filter((h) => !IP.test(h));
        if (ips.length) set('DESTINATION_IPS', ips.join(','));
        if (hosts.length) set('DESTINATION_HOSTS', hosts.join(','));
      }
      break;
    }
    case 'pod-kill': {
      experiment = 'pod-delete';
      // One kill: the interval spans the whole duration.
      set('CHAOS_INTERVAL', durationS);
      const grace = ms(fault.gracePeriod);
      set('FORCE', grace === 0 ? 'true' : 'false');
      if (grace > 0)
        notes.push(
          `${path}: Litmus deletes gracefully with the pod's own termination grace period, not ${String(fault.gracePeriod)}`,
        );
      break;
    }
    case 'container-kill':
      experiment = 'container-kill';
      if (fault.containers.length !== 1)
        refuse(
          'containers',
          `Litmus kills one container per experiment (TARGET_CONTAINER), not ${fault.containers.length}`,
          'one fault per container, or compile with --platform chaos-mesh',
        );
      set('TARGET_CONTAINER', fault.containers[0]!);
      set('CHAOS_INTERVAL', durationS);
      set('SIGNAL', 'SIGKILL');
      break;
    case 'cpu-stress':
      experiment = 'pod-cpu-hog';
      set('CPU_CORES', fault.workers);
      set('CPU_LOAD', fault.load ?? 100);
      break;
    case 'memory-stress': {
      experiment = 'pod-memory-hog';
      const mb = /^(\d+(?:\.\d+)?)(B|KB|MB|GB)$/.exec(fault.size);
      if (!mb)
        refuse(
          'size',
          `Litmus's pod-memory-hog takes megabytes (MEMORY_CONSUMPTION), not a share of the container's memory (${fault.size})`,
          'give the size in MB or GB',
        );
      else
        set(
          'MEMORY_CONSUMPTION',
          Math.max(
            1,
            Math.round(
              Number(mb[1]) *
                { B: 1 / 1_000_000, KB: 1 / 1000, MB: 1, GB: 1000 }[
                  mb[2] as 'B' | 'KB' | 'MB' | 'GB'
                ],
            ),
          ),
        );
      if (fault.growth)
        refuse(
          'growth',
          'Litmus allocates at once; it cannot grow memory at a rate',
          'remove growth',
        );
      set('NUMBER_OF_WORKERS', fault.workers);
      break;
    }
    case 'dns-error': {
      experiment = 'pod-dns-error';
      const wild = (fault.patterns ?? []).filter((p) => /[*?]/.test(p));
      if (wild.length)
        refuse(
          'patterns',
          `Litmus matches host names exactly or as substrings, not patterns (${wild.join(', ')})`,
          'list the names, or compile with --platform chaos-mesh (DNSChaos)',
        );
      if (fault.patterns) set('TARGET_HOSTNAMES', JSON.stringify(fault.patterns));
      set('MATCH_SCHEME', 'exact');
      break;
    }
    case 'http-delay':
      experiment = 'pod-http-latency';
      httpPort();
      set('LATENCY', Math.round(ms(fault.delay)));
      break;
    case 'http-abort':
    case 'http-replace': {
      httpPort();
      const status = fault.status;
      if (status === undefined) {
        experiment = 'pod-http-modify-body';
        set('RESPONSE_BODY', fault.body ?? '');
        break;
      }
      experiment = 'pod-http-status-code';
      if (!LITMUS_STATUS_CODES.includes(status))
        refuse(
          'status',
          `Litmus's pod-http-status-code returns one of ${LITMUS_STATUS_CODES.join(', ')}, not ${status}`,
          'pick one of those codes, or compile with --platform chaos-mesh or istio',
        );
      set('STATUS_CODE', status);
      set('MODIFY_RESPONSE_BODY', fault.body !== undefined ? 'true' : 'false');
      if (fault.body !== undefined) set('RESPONSE_BODY', fault.body);
      break;
    }
    case 'pod-failure':
      refuse(
        '',
        'Litmus has no pod-failure experiment (pods unavailable but not deleted)',
        'use pod-kill (Litmus pod-delete), or compile with --platform chaos-mesh (PodChaos pod-failure)',
      );
      return undefined;
    case 'io-latency':
    case 'io-error':
      refuse(
        '',
        'Litmus has no file-operation fault (its pod-io-stress only loads the disk)',
        'compile with --platform chaos-mesh (IOChaos)',
      );
      return undefined;
    case 'clock-skew':
      refuse(
        '',
        'Litmus has no clock fault for pods',
        'compile with --platform chaos-mesh (TimeChaos)',
      );
      return undefined;
    default:
      refuse('', `Litmus cannot express ${fault.fault}`, 'compile with --platform chaos-mesh');
      return undefined;
  }
  return problems.length > before ? undefined : { experiment, env };
}

/** The status codes litmus-go's pod-http-status-code accepts (chaoslib/litmus/http-chaos/lib/statuscode). */
export const LITMUS_STATUS_CODES = [
  200, 201, 202, 204, 300, 301, 302, 304, 307, 400, 401, 403, 404, 500, 501, 502, 503, 504,
];

/** Litmus comparator criteria for a single numeric bound of faultline's ValueExpect. */
function numericComparator(expect: {
  equals?: unknown;
  below?: number | undefined;
  above?: number | undefined;
  atMost?: number | undefined;
  atLeast?: number | undefined;
}): { criteria: string; value: string } | undefined {
  const bounds: [string, unknown][] = [
    ['==', expect.equals],
    ['<', expect.below],
    ['>', expect.above],
    ['<=', expect.atMost],
    ['>=', expect.atLeast],
  ];
  const set = bounds.filter(([, v]) => v !== undefined);
  if (set.length === 2 && expect.atLeast !== undefined && expect.atMost !== undefined)
    return { criteria: 'between', value: `${expect.atLeast},${expect.atMost}` };
  if (set.length !== 1 || typeof set[0]![1] !== 'number') return undefined;
  return { criteria: set[0]![0], value: String(set[0]![1]) };
}

/** A steady-state probe as a Litmus probe, or problems. */
function litmusProbe(
  probe: Probe,
  path: string,
  frequency: string,
  failFast: boolean,
  problems: Problem[],
  notes: string[],
): Record<string, unknown> | undefined {
  const where = `probe "${probe.name}"`;
  const before = problems.length;
  const refuse = (field: string, message: string, hint: string): void =>
    void problems.push({ path: `${path}.${field}`, message: `${where}: ${message}`, hint });
  const runProperties = (timeout: string): Record<string, unknown> => ({
    probeTimeout: timeout,
    interval: frequency,
    attempt: 1,
    ...(probe.mode === 'Continuous' || probe.mode === 'OnChaos'
      ? { probePollingInterval: frequency }
      : {}),
    ...(failFast ? { stopOnFailure: true } : {}),
  });
  const base = { name: dnsLabel(probe.name), mode: probe.mode };
  if ('http' in probe) {
    const { http, expect } = probe;
    const method = http.method.toUpperCase();
    if (method !== 'GET' && method !== 'POST')
      refuse(
        'http.method',
        `Litmus's httpProbe sends GET or POST, not ${method}`,
        'use GET or POST, or a command probe (curl)',
      );
    if (http.headers && Object.keys(http.headers).some((h) => h.toLowerCase() !== 'content-type'))
      refuse(
        'http.headers',
        "Litmus's httpProbe sends no custom headers",
        'use a command probe (curl -H …)',
      );
    for (const field of ['body', 'json', 'header', 'fresh', 'increases'] as const) {
      if (expect[field] !== undefined)
        refuse(
          `expect.${field}`,
          `Litmus's httpProbe checks the status code only, not expect.${field}`,
          `use a command probe (curl … | grep) for that check, or compile with --platform chaos-mesh; dropping it would make the hypothesis more lenient`,
        );
    }
    const codes =
      expect.status === undefined
        ? [200]
        : Array.isArray(expect.status)
          ? expect.status
          : [expect.status];
    const check =
      codes.length === 1
        ? { criteria: '==', responseCode: String(codes[0]) }
        : { criteria: 'oneOf', responseCode: codes.join(',') };
    const contentType = Object.entries(http.headers ?? {}).find(
      ([h]) => h.toLowerCase() === 'content-type',
    )?.[1];
    const post =
      method === 'POST'
        ? {
            post: {
              ...(contentType ? { contentType } : {}),
              body:
                typeof http.body === 'string'
                  ? http.body
                  : http.body === undefined
                    ? ''
                    : JSON.stringify(http.body),
              ...check,
            },
          }
        : undefined;
    if (problems.length > before) return undefined;
    return {
      ...base,
      type: 'httpProbe',
      'httpProbe/inputs': { url: http.url, method: post ?? { get: check } },
      runProperties: runProperties(expect.latency ?? http.timeout),
    };
  }
  if ('command' in probe) {
    const { command, expect } = probe;
    const codes =
      expect.exitCode === undefined
        ? [0]
        : Array.isArray(expect.exitCode)
          ? expect.exitCode
          : [expect.exitCode];
    if (codes.length !== 1 || codes[0] !== 0)
      refuse(
        'expect.exitCode',
        `Litmus's cmdProbe fails on any non-zero exit; it cannot expect exit code ${codes.join(' or ')}`,
        'make the command exit 0 when the hypothesis holds',
      );
    if (expect.stderr)
      refuse(
        'expect.stderr',
        "Litmus's cmdProbe compares stdout only",
        'redirect stderr to stdout in the command (2>&1) and check stdout',
      );
    if (command.env || command.cwd)
      refuse(
        command.env ? 'command.env' : 'command.cwd',
        "Litmus's inline cmdProbe runs in the experiment pod with its own environment and directory",
        'put them in the command (cd DIR && NAME=value …)',
      );
    const text =
      typeof command.run === 'string' ? command.run : command.run.map(shellQuote).join(' ');
    const stdout = expect.stdout;
    const comparator =
      stdout === undefined
        ? { type: 'string', criteria: 'contains', value: '' }
        : 'equals' in stdout
          ? { type: 'string', criteria: 'equal', value: stdout.equals }
          : 'contains' in stdout
            ? { type: 'string', criteria: 'contains', value: stdout.contains }
            : { type: 'string', criteria: 'matches', value: stdout.regex };
    if (problems.length > before) return undefined;
    notes.push(
      `${path}: the cmdProbe "${probe.name}" runs inline in the Litmus experiment pod, inside the cluster: addresses such as 127.0.0.1 mean that pod`,
    );
    return {
      ...base,
      type: 'cmdProbe',
      'cmdProbe/inputs': { command: text, comparator },
      runProperties: runProperties(command.timeout),
    };
  }
  if ('prometheus' in probe) {
    const { prometheus, expect } = probe;
    const comparator = numericComparator(expect);
    if (!comparator)
      refuse(
        'expect',
        "Litmus's promProbe compares the value with one bound (or atLeast + atMost as between)",
        'keep one of equals (a number), below, above, atMost, atLeast',
      );
    for (const field of ['contains', 'regex', 'latency', 'increases'] as const)
      if (expect[field] !== undefined)
        refuse(
          `expect.${field}`,
          `Litmus's promProbe cannot check expect.${field}`,
          'remove it, or compile with --platform chaos-mesh',
        );
    if (problems.length > before) return undefined;
    return {
      ...base,
      type: 'promProbe',
      'promProbe/inputs': {
        endpoint: prometheus.url,
        query: prometheus.query,
        comparator: comparator!,
      },
      runProperties: runProperties(prometheus.timeout),
    };
  }
  const kind = 'tcp' in probe ? 'tcp' : 'sql' in probe ? 'sql' : 'redis';
  const alternative = {
    tcp: 'a command probe (nc -z HOST PORT)',
    sql: 'a command probe (psql -tAc "…" with expect.stdout)',
    redis: 'a command probe (redis-cli …)',
  }[kind];
  refuse(
    kind,
    `Litmus has no ${kind} probe (its probes are httpProbe, cmdProbe, k8sProbe and promProbe)`,
    `use ${alternative}, or compile with --platform chaos-mesh`,
  );
  return undefined;
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Compiles an experiment (already substituted) to one ChaosEngine per fault. Faults must all
 * start with the method: Litmus starts an engine when it is applied, so a wait before a fault is
 * a problem (Chaos Mesh's Workflow, `--platform chaos-mesh`, sequences them).
 */
export function compileLitmus(
  experiment: Experiment,
  options: LitmusCompileOptions = {},
): LitmusResult {
  const problems: Problem[] = [];
  const notes: string[] = [];
  const kind = options.workloadKind ?? 'deployment';
  const frequency = experiment.runtime?.hypothesisFrequency ?? '1s';
  const failFast = experiment.runtime?.hypothesis === 'fail-fast';

  const probes: Record<string, unknown>[] = [];
  (experiment.steadyState?.probes ?? []).forEach((probe, i) => {
    const mapped = litmusProbe(
      probe,
      `steadyState.probes[${i}]`,
      frequency,
      failFast,
      problems,
      notes,
    );
    if (mapped) probes.push(mapped);
  });
  if (experiment.steadyState?.load || (experiment.steadyState?.thresholds.length ?? 0) > 0) {
    notes.push(
      'steadyState.load and thresholds are measured by faultline run (its load generator); the ChaosEngines carry the probes only',
    );
  }
  if ((experiment.safety?.abortWhen.length ?? 0) > 0)
    notes.push(
      "safety.abortWhen is measured on faultline's load; Litmus stops an engine on a failed probe only with stopOnFailure (runtime.hypothesis: fail-fast)",
    );

  const documents: Manifest[] = [];
  const experiments = new Set<string>();
  const selectorChecked = new Set<string>();
  let waited: string | undefined;
  experiment.method.forEach((step, index) => {
    const path = `method[${index}]`;
    if ('wait' in step) {
      waited = path;
      return;
    }
    if (!('fault' in step)) {
      notes.push(
        `${path}: the ${'probe' in step ? `probe "${step.probe.name}"` : `action "${step.action.name}"`} is not part of the ChaosEngines; faultline run --target kubernetes runs it`,
      );
      return;
    }
    const target = experiment.targets[step.target];
    if (target?.type !== 'kubernetes') {
      problems.push({
        path: `${path}.target`,
        message: `fault ${step.fault} on ${target ? `${target.type} target` : 'unknown target'} "${step.target}" cannot be compiled to Litmus`,
        hint: target
          ? `Litmus acts on pods: declare a kubernetes target; ${target.type} targets run locally with faultline run`
          : 'declare it under targets:',
      });
      return;
    }
    if (waited)
      problems.push({
        path,
        message: `fault ${step.fault} on target "${step.target}" starts after a wait (${waited}); Litmus starts every ChaosEngine when it is applied`,
        hint: 'compile with --platform chaos-mesh (a Workflow sequences the faults), or split the experiment',
      });
    const before = problems.length;
    const selector = workloadSelector(
      target,
      step.target,
      kind,
      selectorChecked.has(step.target) ? [] : problems,
    );
    selectorChecked.add(step.target);
    const percent = affectedPercent(target, step.target, problems, notes);
    const translated = translate(step, path, target, experiment.targets, problems, notes);
    if (!translated || !selector || percent === undefined || problems.length > before) return;
    const name = faultName(step, index);
    experiments.add(translated.experiment);
    const env = [...translated.env, { name: 'PODS_AFFECTED_PERC', value: percent }];
    documents.push({
      apiVersion: LITMUS_API_VERSION,
      kind: 'ChaosEngine',
      metadata: metadata(
        `${experimentSlug(experiment.title)}-${name}`,
        options.namespace ?? target.namespace,
        experiment.title,
        { fault: name },
      ),
      spec: {
        engineState: 'active',
        chaosServiceAccount: options.chaosServiceAccount ?? 'litmus-admin',
        jobCleanUpPolicy: 'delete',
        selectors: { workloads: [selector] },
        experiments: [
          {
            name: translated.experiment,
            spec: { components: { env }, ...(probes.length > 0 ? { probe: probes } : {}) },
          },
        ],
      },
    });
  });
  if (documents.length === 0 && problems.length === 0)
    problems.push({
      path: 'method',
      message: 'the experiment has no fault to compile',
      hint: 'add a fault step on a kubernetes target',
    });
  if (problems.length > 0) return { documents: [], problems, notes };
  notes.push(
    `install the ChaosExperiments ${[...experiments].sort().join(', ')} (ChaosHub) in namespace ${[...new Set(documents.map((d) => d.metadata.namespace))].join(', ')}, with service account ${options.chaosServiceAccount ?? 'litmus-admin'}; pods are selected by ${kind} (--workload-kind)`,
  );
  if (probes.length === 0)
    notes.push('no probe: Litmus judges the engines by its built-in pod health checks only');
  return { documents, problems, notes };
}
