/**
 * The few Kubernetes API calls faultline makes, over @kubernetes/client-node: custom objects
 * (create, get, list by label, delete) and pods (list by label, for dry runs and pre-flight).
 * Authentication is the library's: a kubeconfig file (`--kubeconfig`, `KUBECONFIG`,
 * `~/.kube/config`) with an optional context, or the in-cluster service account.
 *
 * Every call takes an AbortSignal (wired into the request), and API failures become faultline
 * errors with stable codes: 404 → E_NOT_FOUND, 409 → E_CONFLICT, 401/403 → E_UNAUTHORIZED /
 * E_FORBIDDEN, others and connection failures → E_IO, with the API server's own message.
 */
import type { Readable, Writable } from 'node:stream';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PortForward,
  type ConfigurationOptions,
} from '@kubernetes/client-node';
import { ConflictError, NotFoundError, RemoteError, UsageError } from '../../errors.js';
import { CHAOS_MESH_GROUP, CHAOS_MESH_VERSION } from './chaos-mesh.js';

export interface KubernetesConnectionOptions {
  /** A kubeconfig file; default: `KUBECONFIG`, then `~/.kube/config`, then in-cluster. */
  kubeconfig?: string | undefined;
  /** A context of the kubeconfig; default: its current context. */
  context?: string | undefined;
}

/** A custom object's address. */
export interface ObjectRef {
  plural: string;
  namespace: string;
  name: string;
}

/** What faultline reads of a custom object. */
export interface CustomObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    deletionTimestamp?: string;
    finalizers?: string[];
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export interface PodSummary {
  name: string;
  phase: string;
  ready: boolean;
  labels: Record<string, string>;
  /** The ports its containers declare (a Service's named targetPort resolves against them). */
  containerPorts: { name?: string | undefined; containerPort: number }[];
}

/** What faultline reads of a Service: how it selects pods and maps its ports. */
export interface ServiceSummary {
  /** Its pod selector; undefined for a Service without one (ExternalName, hand-made Endpoints). */
  selector: Record<string, string> | undefined;
  ports: { name?: string | undefined; port: number; targetPort?: number | string | undefined }[];
}

/**
 * One forwarded connection: the WebSocket to a pod's `portforward` subresource, as
 * @kubernetes/client-node opens it (the `ws` library's socket, typed loosely here because the
 * library ships without its types).
 */
export interface ForwardSocket {
  close(): void;
  terminate?: () => void;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export class KubernetesClient {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private readonly config: KubeConfig;
  /** The context in use (undefined in-cluster). */
  readonly context: string | undefined;
  /** The API server's URL, for messages. */
  readonly server: string;

  private constructor(config: KubeConfig) {
    this.config = config;
    this.custom = config.makeApiClient(CustomObjectsApi);
    this.core = config.makeApiClient(CoreV1Api);
    this.context = config.getCurrentContext() || undefined;
    this.server = config.getCurrentCluster()?.server ?? '(unknown server)';
  }

  /** Loads credentials; reads local files only (no request is made). */
  static connect(options: KubernetesConnectionOptions = {}): KubernetesClient {
    const config = new KubeConfig();
    try {
      if (options.kubeconfig) config.loadFromFile(options.kubeconfig);
      else config.loadFromDefault();
    } catch (err) {
      throw new UsageError(
        `cannot load the kubeconfig${options.kubeconfig ? ` ${options.kubeconfig}` : ''}: ${err instanceof Error ? err.message : String(err)}`,
        {
          hint: 'pass --kubeconfig FILE, set KUBECONFIG, or run inside the cluster',
          cause: err,
        },
      );
    }
    if (options.context) {
      if (!config.getContexts().some((c) => c.name === options.context)) {
        throw new UsageError(`no context "${options.context}" in the kubeconfig`, {
          hint: `one of ${
            config
              .getContexts()
              .map((c) => c.name)
              .join(', ') || '(none)'
          }`,
        });
      }
      config.setCurrentContext(options.context);
    }
    if (!config.getCurrentCluster())
      throw new UsageError('the kubeconfig names no cluster', {
        hint: 'pass --kubeconfig FILE or --context NAME',
      });
    return new KubernetesClient(config);
  }

  async create(
    ref: Omit<ObjectRef, 'name'>,
    body: object,
    signal?: AbortSignal,
  ): Promise<CustomObject> {
    return (await this.call(`create ${ref.plural} in ${ref.namespace}`, () =>
      this.custom.createNamespacedCustomObject(
        {
          group: CHAOS_MESH_GROUP,
          version: CHAOS_MESH_VERSION,
          namespace: ref.namespace,
          plural: ref.plural,
          body,
        },
        withSignal(signal),
      ),
    )) as CustomObject;
  }

  /** The object, or undefined when it does not exist. */
  async get(ref: ObjectRef, signal?: AbortSignal): Promise<CustomObject | undefined> {
    try {
      return (await this.call(`get ${ref.plural}/${ref.name} in ${ref.namespace}`, () =>
        this.custom.getNamespacedCustomObject(
          {
            group: CHAOS_MESH_GROUP,
            version: CHAOS_MESH_VERSION,
            namespace: ref.namespace,
            plural: ref.plural,
            name: ref.name,
          },
          withSignal(signal),
        ),
      )) as CustomObject;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  /** Objects of a kind with these labels, in one namespace or (namespace undefined) all. */
  async list(
    plural: string,
    namespace: string | undefined,
    labelSelector: string,
    signal?: AbortSignal,
  ): Promise<CustomObject[]> {
    const list = (await this.call(`list ${plural}`, () =>
      namespace === undefined
        ? this.custom.listClusterCustomObject(
            { group: CHAOS_MESH_GROUP, version: CHAOS_MESH_VERSION, plural, labelSelector },
            withSignal(signal),
          )
        : this.custom.listNamespacedCustomObject(
            {
              group: CHAOS_MESH_GROUP,
              version: CHAOS_MESH_VERSION,
              namespace,
              plural,
              labelSelector,
            },
            withSignal(signal),
          ),
    )) as { items?: CustomObject[] };
    return list.items ?? [];
  }

  /** Deletes the object; `gone` when it did not exist. Deletion may still wait on finalizers. */
  async delete(ref: ObjectRef, signal?: AbortSignal): Promise<'deleted' | 'gone'> {
    try {
      await this.call(`delete ${ref.plural}/${ref.name} in ${ref.namespace}`, () =>
        this.custom.deleteNamespacedCustomObject(
          {
            group: CHAOS_MESH_GROUP,
            version: CHAOS_MESH_VERSION,
            namespace: ref.namespace,
            plural: ref.plural,
            name: ref.name,
          },
          withSignal(signal),
        ),
      );
      return 'deleted';
    } catch (err) {
      if (err instanceof NotFoundError) return 'gone';
      throw err;
    }
  }

  async listPods(
    namespace: string,
    labelSelector: string,
    signal?: AbortSignal,
  ): Promise<PodSummary[]> {
    const list = await this.call(`list pods in ${namespace}`, () =>
      this.core.listNamespacedPod({ namespace, labelSelector }, withSignal(signal)),
    );
    return list.items.map((pod) => ({
      name: pod.metadata?.name ?? '?',
      phase: pod.status?.phase ?? 'Unknown',
      ready: (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
      labels: pod.metadata?.labels ?? {},
      containerPorts: (pod.spec?.containers ?? []).flatMap((c) =>
        (c.ports ?? []).map((p) => ({ name: p.name, containerPort: p.containerPort })),
      ),
    }));
  }

  async getService(namespace: string, name: string, signal?: AbortSignal): Promise<ServiceSummary> {
    const service = await this.call(`get services/${name} in ${namespace}`, () =>
      this.core.readNamespacedService({ namespace, name }, withSignal(signal)),
    );
    return {
      selector: service.spec?.selector,
      ports: (service.spec?.ports ?? []).map((p) => ({
        name: p.name,
        port: p.port,
        targetPort: p.targetPort,
      })),
    };
  }

  /**
   * Opens one forwarded connection to a pod's port through the API server (the `portforward`
   * subresource over a WebSocket, channel protocol v4): bytes written to `input` reach the pod's
   * port, its answers are written to `output`, and the API server's error channel to `errors`.
   * The library handles the channel framing (the port prefix of each channel's first frame).
   */
  async portForward(
    namespace: string,
    pod: string,
    port: number,
    output: Writable,
    errors: Writable,
    input: Readable,
  ): Promise<ForwardSocket> {
    const forward = new PortForward(this.config, true);
    try {
      // The `ws` socket, whose types the library does not ship: narrowed to what is used.
      const socket: unknown = await forward.portForward(
        namespace,
        pod,
        [port],
        output,
        errors,
        input,
      );
      return socket as ForwardSocket;
    } catch (err) {
      // The WebSocket handshake failed: the event carries no status, only a message.
      const message =
        (err as { message?: string }).message ??
        (err as { error?: { message?: string } }).error?.message ??
        String(err);
      throw new RemoteError(
        'E_IO',
        `Kubernetes API at ${this.server}: port-forward to pod ${namespace}/${pod}:${port}: ${message}`,
        503,
        {
          cause: err,
          hint: 'the account needs RBAC create on pods/portforward in that namespace; is the pod still running?',
        },
      );
    }
  }

  private async call<T>(what: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      throw toFaultlineError(err, what, this.server);
    }
  }
}

/**
 * Per-request options carrying the signal into the HTTP request. The generated API runs
 * middleware on its own minimal Observable (anything with `toPromise()`), as the library's
 * own `setHeaderMiddleware` does.
 */
function withSignal(signal: AbortSignal | undefined): ConfigurationOptions | undefined {
  if (!signal) return undefined;
  const of = <T>(value: T): { toPromise(): Promise<T> } => ({
    toPromise: () => Promise.resolve(value),
  });
  const middleware = {
    pre: (context: { setSignal(signal: AbortSignal): void }) => {
      context.setSignal(signal);
      return of(context);
    },
    post: (context: unknown) => of(context),
  };
  return {
    middleware: [middleware],
    middlewareMergeStrategy: 'append',
  } as unknown as ConfigurationOptions;
}

function toFaultlineError(err: unknown, what: string, server: string): Error {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'number') {
    const body = (err as { body?: unknown }).body;
    let message = `HTTP ${code}`;
    try {
      const status = (typeof body === 'string' ? JSON.parse(body) : body) as
        { message?: string } | null | undefined;
      if (status?.message) message = status.message;
    } catch {
      // not a Status object
    }
    const text = `Kubernetes API: ${what}: ${message}`;
    if (code === 404)
      return new NotFoundError(text, {
        cause: err,
        hint:
          what.startsWith('create') || what.startsWith('list')
            ? 'is Chaos Mesh installed (its CRDs) in this cluster?'
            : undefined,
      });
    if (code === 409) return new ConflictError(text, { cause: err });
    if (code === 401)
      return new RemoteError('E_UNAUTHORIZED', text, 401, {
        cause: err,
        hint: 'check the kubeconfig credentials',
      });
    if (code === 403)
      return new RemoteError('E_FORBIDDEN', text, 403, {
        cause: err,
        hint: 'the account needs RBAC create/get/list/delete on chaos-mesh.org objects in that namespace',
      });
    return new RemoteError('E_IO', text, code, { cause: err });
  }
  if ((err as { name?: string }).name === 'AbortError')
    return new RemoteError('E_IO', `Kubernetes API: ${what}: aborted`, 499, { cause: err });
  return new RemoteError(
    'E_IO',
    `Kubernetes API at ${server}: ${what}: ${err instanceof Error ? err.message : String(err)}`,
    503,
    { cause: err, hint: 'is the cluster reachable with this kubeconfig?' },
  );
}
