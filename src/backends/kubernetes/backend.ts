/**
 * `kubernetes` targets: pods selected by namespace and labels, faulted through Chaos Mesh
 * objects (./chaos-mesh.ts) with a bounded blast radius (./guardrails.ts). Its faults live on
 * the cluster, labelled with the run, each with Chaos Mesh's own duration.
 */
import { UsageError, type ValidationIssue } from '../../errors.js';
import { suggest } from '../../shared/suggest.js';
import type { Backend, RawObject } from '../backend.js';
import { assertKubernetesPreflight, KubernetesDriver } from './driver.js';
import { planKubernetesFault } from './planned-fault.js';

/** What Chaos Mesh can do to pods (./chaos-mesh.ts maps each). */
export const KUBERNETES_FAULTS = [
  'latency',
  'bandwidth',
  'packet-loss',
  'duplicate',
  'corrupt',
  'partition',
  'pod-kill',
  'pod-failure',
  'container-kill',
  'cpu-stress',
  'memory-stress',
  'io-latency',
  'io-error',
  'dns-error',
  'clock-skew',
  'http-abort',
  'http-delay',
  'http-replace',
] as const;

const asObject = (value: unknown): RawObject | undefined =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as RawObject) : undefined;

export const kubernetesBackend: Backend<'kubernetes'> = {
  type: 'kubernetes',
  faults: KUBERNETES_FAULTS,
  declare:
    'a kubernetes target (type: kubernetes, namespace, selector), run with --target kubernetes or compiled with faultline compile',
  lives: 'outside',
  directionKeys: ['direction', 'peer', 'peerHosts'],
  stepIssues({ step, path, targets }) {
    const issues: ValidationIssue[] = [];
    if ('stream' in step)
      issues.push({
        path: `${path}.stream`,
        message: 'stream applies to proxy targets',
        hint: 'on a kubernetes target, say which traffic with direction: to, from or both (and peer or peerHosts)',
      });
    const peer = step['peer'];
    if (typeof peer === 'string') {
      const peerTarget = asObject(targets[peer]);
      if (!peerTarget)
        issues.push({
          path: `${path}.peer`,
          message: `unknown target "${peer}"`,
          hint: suggest(peer, Object.keys(targets)) ?? 'declare it under targets:',
        });
      else if (peerTarget['type'] !== 'kubernetes')
        issues.push({
          path: `${path}.peer`,
          message: `peer "${peer}" is a ${String(peerTarget['type'])} target; a peer must be a kubernetes target`,
          hint: 'for a dependency outside the cluster use peerHosts: [host or IP]',
        });
    }
    if (typeof peer === 'string' && step['peerHosts'] !== undefined)
      issues.push({
        path: `${path}.peerHosts`,
        message: 'peer and peerHosts cannot be combined',
        hint: 'use one fault per peer',
      });
    return issues;
  },
  planFault: (fault, index, targets) => [planKubernetesFault(fault, index, targets)],
  // Guardrails and expressibility, once for every kubernetes target, before anything is sent.
  preflight(context) {
    if (context.kubernetes) assertKubernetesPreflight(context.plan, context.kubernetes);
  },
  createDriver(name, spec, context) {
    if (!context.kubernetes)
      throw new UsageError(`faults on kubernetes target "${name}" act on a cluster`, {
        hint: 'run with --target kubernetes (and --context / --kubeconfig), or compile it with faultline compile --platform chaos-mesh',
      });
    return new KubernetesDriver(
      name,
      spec,
      { ...context.targets },
      { runId: context.runId, title: context.title },
      context.kubernetes,
    );
  },
  async recover(location, { kubernetes, signal }) {
    const r = location.resource;
    if (!kubernetes)
      throw new Error(
        `a chaos object on a cluster (${r.kind} ${r.namespace}/${r.name}): run faultline recover --kubernetes`,
      );
    await kubernetes(location, signal);
  },
};
