/**
 * A port-forward faultline opens itself, for a run outside the cluster whose load and probes
 * name a Service (./service-url.ts): the Service is resolved to one ready pod behind it (its
 * selector, then the pods, then the Service port's targetPort — a number, or a container port's
 * name), and a listener on 127.0.0.1 (a free port) relays each connection it accepts through
 * its own WebSocket to the pod's `portforward` subresource (@kubernetes/client-node's
 * PortForward, as `kubectl port-forward` does over SPDY).
 *
 * It lives as long as the run: the runner closes it at the end of every path (success, failure,
 * abort, signal). A forward that breaks while the run uses it — the API server's error channel,
 * a WebSocket that fails or closes abnormally, a pod gone — is reported through `onProblem`,
 * once per kind of failure, for the journal; the connection concerned is closed, so the load
 * counts it as an error rather than hanging. After a break the next connection resolves the
 * Service again: when its pod has gone (a pod-kill on it), the forward moves to another ready
 * pod, and says so.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { NotFoundError, UsageError } from '../../errors.js';
import { labelSelectorText } from './chaos-mesh.js';
import type { ForwardSocket, KubernetesClient, PodSummary, ServiceSummary } from './client.js';
import { serviceLabel, type ServiceRef } from './service-url.js';

/** Where a Service was resolved to: the pod and its port. */
export interface ForwardTarget {
  pod: string;
  podPort: number;
}

/** Resolves a Service port to one ready pod behind it and the container port it maps to. */
export async function resolveServicePod(
  client: KubernetesClient,
  ref: ServiceRef,
  signal?: AbortSignal,
): Promise<ForwardTarget> {
  const label = serviceLabel(ref);
  let service: ServiceSummary;
  try {
    service = await client.getService(ref.namespace, ref.name, signal);
  } catch (err) {
    if (err instanceof NotFoundError)
      throw new UsageError(`no Service ${ref.name} in namespace ${ref.namespace} (for ${label})`, {
        hint: `check the URL's host (NAME.NAMESPACE.svc) with kubectl -n ${ref.namespace} get services`,
        cause: err,
      });
    throw err;
  }
  const port = service.ports.find((p) => p.port === ref.port);
  if (!port)
    throw new UsageError(
      `Service ${ref.name} in ${ref.namespace} has no port ${ref.port} (it has ${service.ports.map((p) => p.port).join(', ') || 'none'})`,
      { hint: 'write the Service port in the URL (http://NAME.NAMESPACE.svc:PORT/…)' },
    );
  if (!service.selector || Object.keys(service.selector).length === 0)
    throw new UsageError(
      `Service ${ref.name} in ${ref.namespace} has no pod selector: faultline cannot pick a pod to port-forward to`,
      { hint: 'run faultline in a pod of the cluster (the URL is then used as written)' },
    );
  const pods = await client.listPods(ref.namespace, labelSelectorText(service.selector), signal);
  const ready = pods
    .filter((p) => p.ready && p.phase === 'Running')
    .sort((a, b) => a.name.localeCompare(b.name));
  const pod = ready[0];
  if (!pod)
    throw new UsageError(
      `no ready pod behind Service ${ref.name} in ${ref.namespace} (${pods.length} pod(s) match ${labelSelectorText(service.selector)}, none ready)`,
      {
        hint: `check kubectl -n ${ref.namespace} get pods -l ${labelSelectorText(service.selector)}`,
      },
    );
  return { pod: pod.name, podPort: targetPortOf(port, pod, ref) };
}

function targetPortOf(
  port: ServiceSummary['ports'][number],
  pod: PodSummary,
  ref: ServiceRef,
): number {
  const target = port.targetPort;
  if (target === undefined) return port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const named = pod.containerPorts.find((p) => p.name === target);
  if (!named)
    throw new UsageError(
      `Service ${ref.name} port ${ref.port} targets the port named "${target}", which pod ${pod.name} does not declare`,
      { hint: 'check the containers[].ports[].name of the pods behind the Service' },
    );
  return named.containerPort;
}

export class ServicePortForward {
  private readonly sockets = new Set<Socket>();
  private readonly forwards = new Set<ForwardSocket>();
  private readonly reported = new Set<string>();
  private closing = false;
  /** Set by a break: the next connection resolves the Service's pod again first. */
  private stale = false;
  private resolving: Promise<ForwardTarget> | undefined;
  /** Connections relayed so far. */
  connections = 0;

  private constructor(
    private readonly client: KubernetesClient,
    readonly ref: ServiceRef,
    /** The pod connections go to now (another one after its pod has gone). */
    public target: ForwardTarget,
    private readonly server: Server,
    private readonly onProblem: (message: string) => void,
  ) {
    server.on('connection', (socket) => this.relay(socket));
  }

  /** Resolves the Service to a pod and listens on 127.0.0.1, on a free port. */
  static async open(
    client: KubernetesClient,
    ref: ServiceRef,
    onProblem: (message: string) => void,
    signal?: AbortSignal,
  ): Promise<ServicePortForward> {
    const target = await resolveServicePod(client, ref, signal);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new ServicePortForward(client, ref, target, server, onProblem);
  }

  /** The local address the load and probes use instead of the Service's. */
  get local(): { host: string; port: number } {
    const address = this.server.address() as AddressInfo;
    return { host: '127.0.0.1', port: address.port };
  }

  private problem(kind: string, message: string, pod = this.target.pod): void {
    if (this.closing) return;
    this.stale = true;
    if (this.reported.has(kind)) return;
    this.reported.add(kind);
    this.onProblem(`the port-forward to ${serviceLabel(this.ref)} (pod ${pod}) broke: ${message}`);
  }

  /** The pod to forward to: after a break, the Service resolved again (once for all waiting). */
  private async current(): Promise<ForwardTarget> {
    if (!this.stale) return this.target;
    this.resolving ??= (async () => {
      try {
        const next = await resolveServicePod(this.client, this.ref);
        if (next.pod !== this.target.pod && !this.closing)
          this.onProblem(
            `the port-forward to ${serviceLabel(this.ref)} now goes to pod ${next.pod} (port ${next.podPort}) instead of ${this.target.pod}`,
          );
        this.target = next;
        this.stale = false;
        return next;
      } catch {
        return this.target; // no other pod: keep trying the one it had
      } finally {
        this.resolving = undefined;
      }
    })();
    return this.resolving;
  }

  private relay(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.connections++;
    this.sockets.add(socket);
    socket.on('error', () => socket.destroy());
    let forward: ForwardSocket | undefined;
    socket.on('close', () => {
      this.sockets.delete(socket);
      forward?.close();
    });
    const errors = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        const text = chunk.toString('utf8').trim();
        // The first frame of the channel carries only the port: empty once the library strips it.
        if (text) {
          this.problem('error channel', text, pod);
          socket.destroy();
        }
        done();
      },
    });
    const { namespace } = this.ref;
    let pod = this.target.pod;
    this.current()
      .then((target) => {
        pod = target.pod;
        return this.client.portForward(namespace, pod, target.podPort, socket, errors, socket);
      })
      .then((ws) => {
        forward = ws;
        if (socket.destroyed || this.closing) {
          ws.close();
          return;
        }
        this.forwards.add(ws);
        ws.on('error', (err) => this.problem('websocket', err.message, pod));
        ws.on('close', (code, reason) => {
          this.forwards.delete(ws);
          // 1000 normal, 1005 none given: the pod's side ended the connection.
          if (code !== 1000 && code !== 1005)
            this.problem(
              `close ${code}`,
              `its connection closed abnormally (WebSocket code ${code}${reason.length ? `: ${reason.toString('utf8')}` : ''})`,
              pod,
            );
          socket.end();
        });
      })
      .catch((err: unknown) => {
        this.problem('connect', err instanceof Error ? err.message : String(err), pod);
        socket.destroy();
      });
  }

  /** Stops listening and ends every forwarded connection; nothing is left listening. */
  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    for (const ws of this.forwards) (ws.terminate ?? ws.close).call(ws);
    await closed;
  }
}
