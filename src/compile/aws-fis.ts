/**
 * Faults on kubernetes targets (on EKS) → an AWS FIS experiment template (JSON). Pure.
 *
 * - targets: `aws:eks:pod` per kubernetes target (namespace + label selector, the mode as
 *   `selectionMode`: one → COUNT(1), fixed n → COUNT(n), fixed-percent p → PERCENT(p), all →
 *   ALL), and one `aws:eks:cluster` for custom-resource actions;
 * - actions: `latency` without a peer uses the native `aws:eks:pod-network-latency`; every other
 *   fault uses `aws:eks:inject-kubernetes-custom-resource` carrying the Chaos Mesh spec that
 *   `--platform chaos-mesh` would emit (so Chaos Mesh must run in the cluster); durations are
 *   ISO-8601 (`PT2M`); a `wait` becomes `aws:fis:wait` and later faults `startAfter` it;
 * - stopConditions: FIS stops an experiment on CloudWatch alarms only. The load's stop
 *   conditions (`safety.abortWhen`) are measured by faultline on its own load, which FIS cannot
 *   see; a stop condition on a signal (`safety.stopWhen`: a Prometheus query, an HTTP check, an
 *   Alertmanager alert, a command) has no CloudWatch equivalent either, unless it names the alarm
 *   that watches the same signal (`cloudwatchAlarm: ARN`). Those alarms and the ones given
 *   (`--stop-alarm ARN`) become `aws:cloudwatch:alarm` stop conditions (at most 5, FIS's quota);
 *   a condition without one is refused unless --stop-alarm is given, and then noted as not
 *   carried.
 */
import type { ValidationIssue } from '../errors.js';
import { parseDuration } from '../experiment/duration.js';
import type { Experiment, Target } from '../experiment/schema.js';
import { STOP_KIND_WORDS } from '../experiment/stop-words.js';
import { planStopConditions } from '../run-plan/stop-conditions.js';
import {
  CHAOS_MESH_API_VERSION,
  experimentSlug,
  faultName,
  goDuration,
  labelSelectorText,
  LABELS,
  MANAGED_BY,
  translateFault,
} from '../backends/kubernetes/chaos-mesh.js';

type Problem = Omit<ValidationIssue, 'file' | 'line' | 'column'>;

/** AWS FIS quota: stop conditions per experiment template. */
const FIS_MAX_STOP_CONDITIONS = 5;

type KubernetesTarget = Extract<Target, { type: 'kubernetes' }>;

export interface FisOptions {
  /** The IAM role FIS assumes. */
  roleArn?: string | undefined;
  /** The EKS cluster's ARN. */
  clusterArn?: string | undefined;
  /** The Kubernetes service account FIS uses in the cluster (default `fis-experiment`). */
  serviceAccount?: string | undefined;
  /** CloudWatch alarm ARNs that stop the experiment. */
  stopAlarms?: readonly string[] | undefined;
}

export interface FisResult {
  template?: Record<string, unknown> | undefined;
  problems: Problem[];
  notes: string[];
}

/** ISO-8601 duration (`PT2M`, `PT30S`, `PT1H30M`); whole seconds, at least one. */
export function isoDuration(ms: number): string {
  let s = Math.max(1, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `PT${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s ? `${s}S` : ''}`;
}

function selectionMode(target: KubernetesTarget): string {
  switch (target.mode) {
    case 'one':
      return 'COUNT(1)';
    case 'all':
      return 'ALL';
    case 'fixed':
      return `COUNT(${target.value ?? 1})`;
    case 'fixed-percent':
    case 'random-max-percent':
      return `PERCENT(${target.value ?? 0})`;
  }
}

/** FIS keys: letters, digits, `-` and `_`. */
const key = (text: string): string => text.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 64);

export function compileFis(experiment: Experiment, options: FisOptions = {}): FisResult {
  const problems: Problem[] = [];
  const notes: string[] = [];
  if (!options.clusterArn)
    problems.push({
      path: '',
      message: 'an AWS FIS template needs the EKS cluster',
      hint: 'pass --cluster-arn arn:aws:eks:REGION:ACCOUNT:cluster/NAME',
    });
  if (!options.roleArn)
    problems.push({
      path: '',
      message: 'an AWS FIS template needs the IAM role FIS assumes',
      hint: 'pass --role-arn arn:aws:iam::ACCOUNT:role/NAME',
    });
  const abortWhen = experiment.safety?.abortWhen ?? [];
  const stopWhen = experiment.safety?.stopWhen ?? [];
  const given = options.stopAlarms ?? [];
  // A stop condition on a signal maps to FIS only through the CloudWatch alarm that watches the
  // same signal: FIS evaluates nothing but alarms.
  const planned = planStopConditions(stopWhen);
  const alarms = [
    ...new Set([
      ...given,
      ...planned.flatMap((c) => (c.cloudwatchAlarm ? [c.cloudwatchAlarm] : [])),
    ]),
  ];
  planned.forEach((c, i) => {
    const path = `safety.stopWhen[${i}]`;
    if (c.cloudwatchAlarm) {
      notes.push(
        `${path}: stop condition "${c.name}" → aws:cloudwatch:alarm ${c.cloudwatchAlarm} (FIS stops when that alarm is in ALARM; ${c.forMs > 0 ? `its for: ${Math.round(c.forMs / 1000)} s is the alarm's own evaluation periods, not carried; ` : ''}faultline run checks the ${STOP_KIND_WORDS[c.kind]} itself)`,
      );
      return;
    }
    const cannot = `stop condition "${c.name}" (${STOP_KIND_WORDS[c.kind]}) has no CloudWatch equivalent: FIS stops an experiment only on CloudWatch alarms`;
    if (given.length > 0)
      notes.push(
        `${path}: ${cannot}; this template is stopped only by the --stop-alarm alarm(s), not by this condition`,
      );
    else
      problems.push({
        path,
        message: cannot,
        hint: 'give it cloudwatchAlarm: ARN (an alarm on the same signal), or pass --stop-alarm ARN',
      });
  });
  if (alarms.length > FIS_MAX_STOP_CONDITIONS)
    problems.push({
      path: 'safety.stopWhen',
      message: `${alarms.length} CloudWatch alarms, and an FIS experiment template takes at most ${FIS_MAX_STOP_CONDITIONS} stop conditions`,
      hint: 'combine them into one composite alarm and give that one',
    });
  if (abortWhen.length > 0 && alarms.length === 0) {
    problems.push({
      path: 'safety.abortWhen',
      message: `the experiment's stop conditions (${abortWhen.join('; ')}) need CloudWatch alarms in FIS`,
      hint: "create an alarm for each (tuned to the environment's error rate) and pass --stop-alarm ARN",
    });
  }
  const serviceAccount = options.serviceAccount ?? 'fis-experiment';
  const targets: Record<string, unknown> = {};
  const actions: Record<string, Record<string, unknown>> = {};
  const clusterKey = 'eks-cluster';
  let usesCluster = false as boolean; // set inside the step callback below
  let lastWait: string | undefined;
  let waits = 0;

  experiment.method.forEach((step, index) => {
    const path = `method[${index}]`;
    if ('wait' in step) {
      const name = `wait-${++waits}`;
      actions[name] = {
        actionId: 'aws:fis:wait',
        description: `wait ${step.wait}`,
        parameters: { duration: isoDuration(parseDuration(step.wait) ?? 0) },
        ...(lastWait ? { startAfter: [lastWait] } : {}),
      };
      lastWait = name;
      return;
    }
    if (!('fault' in step)) {
      notes.push(`${path}: probes and actions are not part of the FIS template`);
      return;
    }
    const { chaos, problems: found } = translateFault(step, path, experiment.targets);
    if (!chaos) {
      problems.push(
        ...found.map((p) => ({
          ...p,
          hint: p.hint?.replace('Chaos Mesh', 'FIS (through Chaos Mesh)'),
        })),
      );
      return;
    }
    const target = experiment.targets[step.target] as KubernetesTarget;
    const name = key(faultName(step, index));
    const durationMs = parseDuration(step.duration) ?? 0;
    const after = lastWait ? { startAfter: [lastWait] } : {};
    if (step.fault === 'latency' && !step.peer && !step.peerHosts) {
      const podsKey = key(`${step.target}-pods`);
      targets[podsKey] = {
        resourceType: 'aws:eks:pod',
        parameters: {
          clusterIdentifier: options.clusterArn ?? '',
          namespace: target.namespace,
          selectorType: 'labelSelector',
          selectorValue: labelSelectorText(target.selector),
        },
        selectionMode: selectionMode(target),
      };
      if (target.mode === 'random-max-percent')
        notes.push(
          `${path}: FIS selects exactly PERCENT(${String(target.value)}); Chaos Mesh's random-max-percent picks up to it`,
        );
      actions[name] = {
        actionId: 'aws:eks:pod-network-latency',
        description: `latency ${step.delay} on ${step.target}`,
        parameters: {
          duration: isoDuration(durationMs),
          delayMilliseconds: String(Math.round(parseDuration(step.delay) ?? 0)),
          jitterMilliseconds: String(Math.round(parseDuration(step.jitter ?? '0ms') ?? 0)),
          flowsPercent: '100',
          kubernetesServiceAccount: serviceAccount,
        },
        targets: { Pods: podsKey },
        ...after,
      };
      return;
    }
    usesCluster = true;
    actions[name] = {
      actionId: 'aws:eks:inject-kubernetes-custom-resource',
      description: `${step.fault} on ${step.target} (Chaos Mesh ${chaos.kind})`,
      parameters: {
        kubernetesApiVersion: CHAOS_MESH_API_VERSION,
        kubernetesKind: chaos.kind,
        kubernetesNamespace: chaos.namespace,
        kubernetesSpec: JSON.stringify({ ...chaos.spec, duration: goDuration(durationMs) }),
        maxDuration: isoDuration(durationMs),
      },
      targets: { Cluster: clusterKey },
      ...after,
    };
  });
  if (Object.keys(actions).every((a) => a.startsWith('wait-')) && problems.length === 0)
    problems.push({
      path: 'method',
      message: 'the experiment has no fault to compile',
      hint: 'add a fault step on a kubernetes target',
    });
  if (problems.length > 0) return { problems, notes };
  if (usesCluster) {
    targets[clusterKey] = {
      resourceType: 'aws:eks:cluster',
      resourceArns: [options.clusterArn],
      selectionMode: 'ALL',
    };
    notes.push(
      'aws:eks:inject-kubernetes-custom-resource needs Chaos Mesh in the cluster and Kubernetes RBAC for the FIS role to create its objects',
    );
  }
  if (alarms.length === 0)
    notes.push(
      'no stop condition: FIS will not stop this experiment by itself; pass --stop-alarm ARN (an alarm on the error rate that also covers production, should the blast radius escape)',
    );
  return {
    template: {
      description: experiment.title.slice(0, 512),
      roleArn: options.roleArn,
      tags: {
        [LABELS.managedBy]: MANAGED_BY,
        [LABELS.experiment]: experimentSlug(experiment.title),
        ...(experiment.environment ? { environment: experiment.environment } : {}),
      },
      targets,
      actions,
      stopConditions:
        alarms.length > 0
          ? alarms.map((value) => ({ source: 'aws:cloudwatch:alarm', value }))
          : [{ source: 'none' }],
      experimentOptions: { accountTargeting: 'single-account', emptyTargetResolutionMode: 'fail' },
    },
    problems,
    notes,
  };
}
