/**
 * The FaultDriver for kubernetes targets: faults become Chaos Mesh objects on the cluster.
 *
 * ```
 *  prepare: pods matching the selector listed; none, or a too-wide fixed count → refused (nothing sent)
 *  apply:   CR created (labels: managed-by faultline, run id, experiment; duration = the fault's)
 *           └─ poll until Chaos Mesh reports it injected (AllInjected=True / records Injected),
 *              or a timeout / the run's signal → the apply fails and the runner deletes the CR
 *  remove:  CR deleted (404 = already gone) └─ wait until it has really gone: Chaos Mesh keeps it
 *           (finalizer chaos-mesh/records) until every pod is recovered; still there → residue
 * ```
 *
 * The object's own `duration` is the lease: if the runner dies, Chaos Mesh still recovers the
 * pods when it runs out; the labels let `faultline recover --kubernetes` find the object.
 * @kubernetes/client-node is loaded only when a kubernetes target is prepared, so local runs do
 * not pay for it.
 */
import { UsageError, ValidationError, type ValidationIssue } from '../../errors.js';
import type { Experiment, Target } from '../../experiment/schema.js';
import type { PlannedFault } from '../planned-fault.js';
import type { PlanView } from '../backend.js';
import type { FaultDriver, Touched } from '../driver.js';
import type { KubernetesLocation, KubernetesResourceRef } from '../location.js';
import {
  CHAOS_KINDS,
  CHAOS_MESH_API_VERSION,
  chaosObject,
  dnsLabel,
  labelSelectorText,
  metadata,
  translateFault,
} from './chaos-mesh.js';
import type { CustomObject, KubernetesClient, KubernetesConnectionOptions } from './client.js';
import { checkGuardrails, checkSelection, podsHit, type GuardrailOptions } from './guardrails.js';

type KubernetesTarget = Extract<Target, { type: 'kubernetes' }>;

/** How a run reaches the cluster (`faultline run --target kubernetes` and its flags). */
export interface KubernetesRunOptions extends KubernetesConnectionOptions, GuardrailOptions {
  /** Create the chaos objects in this namespace (default: the target's). */
  namespace?: string | undefined;
  /** How long Chaos Mesh may take to report a fault injected (default 60 s). */
  injectTimeoutMs?: number | undefined;
  /** How long a deleted object may take to disappear (default 60 s). */
  removeTimeoutMs?: number | undefined;
  /** Interval between status reads (default 500 ms). */
  pollMs?: number | undefined;
  /** A ready client (tests, library users); otherwise one is made from the kubeconfig. */
  client?: KubernetesClient | undefined;
  /**
   * How load and probe URLs that name a Service (`http://NAME.NAMESPACE.svc:PORT`) are reached
   * (./service-reach.ts): `auto` (default) in-cluster when faultline runs in a pod, else through
   * a port-forward faultline opens; or one of the two forced.
   */
  reach?: 'auto' | 'in-cluster' | 'port-forward' | undefined;
  /** Where a pod's service-account token is looked for (default the path Kubernetes mounts). */
  serviceAccountDir?: string | undefined;
  /** The environment faultline runs in (default process.env): KUBERNETES_SERVICE_HOST marks a pod. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

/**
 * Everything that must hold before a cluster is touched: guardrails, and every fault
 * expressible as a Chaos Mesh object. Issues carry JSON paths and, when the plan came from a
 * file, its line and column (`plan.locate`), in source order.
 */
export function kubernetesPreflight(plan: PlanView, options: GuardrailOptions): ValidationIssue[] {
  if (plan.format !== 'faultline') return [];
  const experiment = plan.experiment as Experiment;
  const found: Omit<ValidationIssue, 'file'>[] = checkGuardrails(experiment, options);
  experiment.method.forEach((step, index) => {
    if (!('fault' in step) || experiment.targets[step.target]?.type !== 'kubernetes') return;
    found.push(...translateFault(step, `method[${index}]`, experiment.targets).problems);
  });
  const issues: ValidationIssue[] = found.map((i) => ({
    ...i,
    file: plan.file,
    ...(plan.locate && i.path ? plan.locate(i.path) : {}),
  }));
  issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  return issues;
}

/** Throws the preflight issues as one ValidationError (exit 2). */
export function assertKubernetesPreflight(plan: PlanView, options: GuardrailOptions): void {
  const issues = kubernetesPreflight(plan, options);
  if (issues.length > 0) {
    const first = issues[0]!;
    const at =
      first.line !== undefined ? `${plan.file}:${first.line}:${first.column ?? 1}` : plan.file;
    const summary =
      issues.length === 1
        ? `${at}: ${first.path ? `${first.path}: ` : ''}${first.message}`
        : `${plan.file}: ${issues.length} problems before anything is sent to the cluster`;
    throw new ValidationError(summary, issues, {
      hint: issues.length === 1 ? first.hint : undefined,
    });
  }
}

/** True when Chaos Mesh reports the object injected: AllInjected=True, or every record Injected. */
export function isInjected(object: CustomObject | undefined): boolean {
  const status = object?.status as
    | {
        conditions?: { type: string; status: string }[];
        experiment?: { containerRecords?: { phase?: string }[] };
      }
    | undefined;
  if (status?.conditions?.some((c) => c.type === 'AllInjected' && c.status === 'True')) return true;
  const records = status?.experiment?.containerRecords ?? [];
  return records.length > 0 && records.every((r) => r.phase === 'Injected');
}

/** The pods (`namespace/name`) Chaos Mesh's records say it injected. */
function injectedRecords(object: CustomObject): string[] {
  const status = object.status as
    { experiment?: { containerRecords?: { id?: string; phase?: string }[] } } | undefined;
  return (status?.experiment?.containerRecords ?? [])
    .filter((r) => r.phase === 'Injected' && typeof r.id === 'string')
    .map((r) => r.id!);
}

/** The last failure Chaos Mesh recorded on the object, if any (for messages). */
function lastFailure(object: CustomObject | undefined): string | undefined {
  const records =
    (
      object?.status as
        | {
            experiment?: {
              containerRecords?: { events?: { type?: string; message?: string }[] }[];
            };
          }
        | undefined
    )?.experiment?.containerRecords ?? [];
  const events = records
    .flatMap((r) => r.events ?? [])
    .filter((e) => e.type === 'Failed' && e.message);
  return events[events.length - 1]?.message;
}

export class KubernetesDriver implements FaultDriver<KubernetesLocation> {
  readonly target: string;
  private client: KubernetesClient | undefined;
  private matched: string[] | undefined;
  /** The pods each chaos object (by name) was reported injected into. */
  private readonly injected = new Map<string, string[]>();

  constructor(
    target: string,
    private readonly spec: KubernetesTarget,
    private readonly targets: Record<string, Target>,
    private readonly run: { runId: string; title: string },
    private readonly options: KubernetesRunOptions,
  ) {
    this.target = target;
    this.client = options.client;
  }

  get description(): string {
    const pods = this.matched ? ` — ${this.matched.length} pod(s) match` : '';
    return `pods ${labelSelectorText(this.spec.selector)} in namespace ${this.spec.namespace} (mode ${this.spec.mode}${this.spec.value ? ` ${this.spec.value}` : ''}) through Chaos Mesh${this.client?.context ? ` on context ${this.client.context}` : ''}${pods}`;
  }

  private async connect(): Promise<KubernetesClient> {
    if (!this.client) {
      const { KubernetesClient } = await import('./client.js');
      this.client = KubernetesClient.connect(this.options);
    }
    return this.client;
  }

  /** Lists the pods the selector matches and refuses an empty or too-wide selection. */
  async prepare(signal: AbortSignal): Promise<void> {
    const client = await this.connect();
    const pods = await client.listPods(
      this.spec.namespace,
      labelSelectorText(this.spec.selector),
      signal,
    );
    this.matched = pods.map((p) => p.name);
    const problem = checkSelection(this.spec, pods.length, this.options);
    if (problem)
      throw new UsageError(`target ${this.target}: ${problem}`, {
        hint: 'check the namespace and labels with faultline run --dry-run',
      });
  }

  /** Dry run: the pods each selector matches, and how many the mode would hit. */
  async preview(signal: AbortSignal): Promise<string[]> {
    const client = await this.connect();
    const pods = await client.listPods(
      this.spec.namespace,
      labelSelectorText(this.spec.selector),
      signal,
    );
    const lines = [
      `target ${this.target}: ${pods.length} pod(s) match ${labelSelectorText(this.spec.selector)} in ${this.spec.namespace}; mode ${this.spec.mode}${this.spec.value ? ` ${this.spec.value}` : ''} hits ${podsHit(this.spec, pods.length)}`,
    ];
    for (const pod of pods)
      lines.push(`  ${pod.name} (${pod.phase}${pod.ready ? ', ready' : ', NOT ready'})`);
    const problem = checkSelection(this.spec, pods.length, this.options);
    if (problem) lines.push(`  refused: ${problem}`);
    return lines;
  }

  /** The chaos object's address: known before it is created, so the journal has it first. */
  locate(fault: PlannedFault): KubernetesLocation {
    if (fault.effect.type !== 'kubernetes')
      throw new UsageError(`a kubernetes target cannot take ${fault.effect.type}`);
    const { chaos } = translateFault(fault.effect.fault, fault.name, this.targets);
    const kind = chaos?.kind ?? 'NetworkChaos';
    const resource: KubernetesResourceRef = {
      apiVersion: CHAOS_MESH_API_VERSION,
      kind,
      plural: CHAOS_KINDS[kind].plural,
      namespace: this.options.namespace ?? this.spec.namespace,
      name: dnsLabel(`faultline-${this.run.runId.slice(0, 8)}-${fault.name}`),
      context: this.client?.context ?? this.options.context,
    };
    return { backend: 'kubernetes', target: this.target, resource };
  }

  async apply(fault: PlannedFault, leaseSeconds: number, signal: AbortSignal): Promise<void> {
    if (fault.effect.type !== 'kubernetes')
      throw new UsageError(`a kubernetes target cannot take ${fault.effect.type}`);
    const { chaos, problems } = translateFault(fault.effect.fault, fault.name, this.targets);
    if (!chaos)
      throw new UsageError(`fault ${fault.name}: ${problems.map((p) => p.message).join('; ')}`, {
        hint: problems[0]?.hint,
      });
    const ref = this.locate(fault).resource;
    const durationMs = Math.min(fault.durationMs ?? leaseSeconds * 1000, leaseSeconds * 1000);
    const manifest = chaosObject(
      chaos,
      metadata(ref.name, ref.namespace, this.run.title, {
        runId: this.run.runId,
        fault: fault.name,
      }),
      durationMs,
    );
    const client = await this.connect();
    await client.create({ plural: ref.plural, namespace: ref.namespace }, manifest, signal);
    // Injected, or this apply fails (and the runner deletes the object it created).
    const deadline = performance.now() + (this.options.injectTimeoutMs ?? 60_000);
    let object: CustomObject | undefined;
    for (;;) {
      object = await client.get(ref, signal);
      if (!object)
        throw new UsageError(`${ref.kind} ${ref.name} disappeared before Chaos Mesh injected it`, {
          hint: 'was it deleted by someone else, or rejected by a Chaos Mesh webhook?',
        });
      if (isInjected(object)) {
        this.injected.set(ref.name, injectedRecords(object));
        return;
      }
      if (performance.now() >= deadline) break;
      await pause(this.options.pollMs ?? 500, signal);
      if (signal.aborted)
        throw new UsageError(
          `${ref.kind} ${ref.name}: interrupted while waiting for Chaos Mesh to inject it`,
        );
    }
    const failure = lastFailure(object);
    throw new UsageError(
      `${ref.kind} ${ref.name} was not reported injected within ${Math.round((this.options.injectTimeoutMs ?? 60_000) / 1000)} s${failure ? `: ${failure}` : ''}`,
      {
        hint: 'is Chaos Mesh running (chaos-controller-manager, chaos-daemon) and does the selector match ready pods?',
      },
    );
  }

  /**
   * Chaos Mesh does not count traffic, but it records each pod (container) it injected: those
   * are what the fault acted on. None recorded: not counted.
   */
  async touched(location: KubernetesLocation): Promise<Touched | undefined> {
    const records = this.injected.get(location.resource.name);
    return records && records.length > 0
      ? { connections: 0, bytes: 0, requests: 0, items: records.map((id) => `pod ${id}`) }
      : undefined;
  }

  /** Deletes the object and waits until Chaos Mesh has recovered the pods and let it go. */
  async remove(location: KubernetesLocation, signal: AbortSignal): Promise<void> {
    // From a journal: one written by another version may carry no resource.
    const ref = location.resource as KubernetesResourceRef | undefined;
    if (!ref) return;
    const client = await this.connect();
    await deleteAndWait(
      client,
      ref,
      signal,
      this.options.removeTimeoutMs ?? 60_000,
      this.options.pollMs ?? 500,
    );
  }

  async isGone(location: KubernetesLocation, signal: AbortSignal): Promise<boolean> {
    const ref = location.resource as KubernetesResourceRef | undefined;
    if (!ref) return true;
    const client = await this.connect();
    return (await client.get(ref, signal)) === undefined;
  }

  async dispose(): Promise<void> {}
}

/**
 * Deletes a chaos object and waits for it to disappear. Chaos Mesh holds it (finalizer
 * `chaos-mesh/records`) until every pod is recovered; one that stays is residue, reported with
 * its finalizers — never forced away (`cleanFinalizer: forced` gives up on recovery).
 */
export async function deleteAndWait(
  client: KubernetesClient,
  ref: KubernetesResourceRef,
  signal: AbortSignal,
  timeoutMs: number,
  pollMs: number,
): Promise<'deleted' | 'gone'> {
  const result = await client.delete(ref, signal);
  const deadline = performance.now() + timeoutMs;
  // The first reads come soon (25, 50, 100, 200 ms, then every pollMs): a stop condition's
  // removal is timed to the object being gone, and Chaos Mesh often lets go within 100 ms.
  let wait = Math.min(25, pollMs);
  for (;;) {
    const object = await client.get(ref, signal);
    if (!object) return result;
    if (performance.now() >= deadline || signal.aborted) {
      const finalizers = object.metadata.finalizers?.length
        ? ` (finalizers: ${object.metadata.finalizers.join(', ')})`
        : '';
      throw new UsageError(
        `${ref.kind} ${ref.namespace}/${ref.name} is still on the cluster ${Math.round(timeoutMs / 1000)} s after its deletion${finalizers}: Chaos Mesh has not confirmed the pods recovered`,
        {
          hint: `check kubectl -n ${ref.namespace} describe ${ref.plural} ${ref.name}; run faultline recover --kubernetes again later`,
        },
      );
    }
    await pause(wait, signal);
    wait = Math.min(pollMs, wait * 2);
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
