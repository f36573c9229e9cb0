// A stand-in for a Kubernetes cluster with Chaos Mesh, for tests: no cluster can run on this
// machine, so this node:http server on 127.0.0.1 (port 0) implements the part of the API
// faultline relies on, and a tiny "controller" that plays Chaos Mesh's part:
//
//   POST   /apis/chaos-mesh.org/v1alpha1/namespaces/NS/PLURAL          create (201; 409 AlreadyExists)
//   GET    /apis/chaos-mesh.org/v1alpha1/namespaces/NS/PLURAL[?labelSelector=]   list
//   GET    /apis/chaos-mesh.org/v1alpha1/PLURAL[?labelSelector=]       list across namespaces
//   GET    /apis/chaos-mesh.org/v1alpha1/namespaces/NS/PLURAL/NAME     get (404 NotFound)
//   DELETE /apis/chaos-mesh.org/v1alpha1/namespaces/NS/PLURAL/NAME     delete (404 NotFound)
//   GET    /api/v1/namespaces/NS/pods[?labelSelector=]                  pods (for dry runs)
//   GET    /api/v1/namespaces/NS/services/NAME                          a Service (selector, ports)
//   GET    /api/v1/namespaces/NS/pods/NAME/portforward?ports=P  (WebSocket upgrade)
//
// The portforward endpoint speaks the API server's WebSocket port-forward protocol
// (subprotocol v4.channel.k8s.io; channel 0 data, channel 1 errors; the first frame of each
// channel carries the port, 2 bytes little-endian) and its data path is real: each WebSocket is
// relayed to a real local TCP server the test names per pod and port (`forward`), so a run's
// load really goes through it. A port with no relay answers on the error channel, as the API
// server does when the pod refuses the connection. `breakForwards()` drops every open forward
// abruptly (no close frame), as a lost API server or a deleted pod does.
//
// Errors are `Status` objects as the API server sends them. The controller, like Chaos Mesh's,
// adds the `chaos-mesh/records` finalizer on creation, reports the fault injected after
// `injectDelayMs` (status.conditions AllInjected=True and containerRecords[].phase Injected,
// the shapes of the CRD's status schema), and on deletion recovers the records ("Not
// Injected"), drops the finalizer and only then removes the object. `inject: false` never
// injects; `stuckFinalizer: true` never finishes a deletion (a stuck finalizer, as in
// chaos-mesh #2521).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
    uid?: string;
    creationTimestamp?: string;
    resourceVersion?: string;
  };
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export interface FakePod {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  ready?: boolean;
  /** The ports its container declares (a Service's named targetPort resolves against them). */
  containerPorts?: { name?: string; containerPort: number }[];
  /** containerPort → the local TCP port the portforward endpoint relays it to. */
  forward?: Record<number, number>;
}

export interface FakeService {
  namespace: string;
  name: string;
  selector?: Record<string, string>;
  ports: { name?: string; port: number; targetPort?: number | string }[];
}

/** What the fake's portforward endpoint saw. */
export interface ForwardStats {
  /** WebSockets accepted, per `NS/POD:PORT`. */
  opened: string[];
  /** WebSockets still open now. */
  active: number;
}

/** The part of the `ws` library the fake uses (it ships without types). */
interface WsSocket {
  protocol: string;
  send(data: Buffer): void;
  close(code?: number): void;
  terminate(): void;
  on(event: 'message', listener: (data: Buffer) => void): void;
  on(event: 'close' | 'error', listener: () => void): void;
}
interface WsServer {
  handleUpgrade(
    req: IncomingMessage,
    socket: import('node:stream').Duplex,
    head: Buffer,
    done: (ws: WsSocket) => void,
  ): void;
  close(): void;
}

export interface ControllerBehaviour {
  /** Report injection at all (default true). */
  inject: boolean;
  injectDelayMs: number;
  recoverDelayMs: number;
  /** Deletion never completes. */
  stuckFinalizer: boolean;
}

export interface FakeKubernetes {
  url: string;
  /** A kubeconfig file pointing at this server (context `fake`, bearer token). */
  kubeconfig: string;
  /** Every stored chaos object (including ones being deleted). */
  objects(): FakeObject[];
  addPod(pod: FakePod): void;
  addService(service: FakeService): void;
  /** Deletes a pod (as a pod-kill or a rollout does); its forwards then fail. */
  removePod(namespace: string, name: string): void;
  forwards: ForwardStats;
  /** Drops every open port-forward WebSocket without a close frame (a broken forward). */
  breakForwards(): void;
  /** Stores an object as if another process had created it (e.g. a runner that was killed). */
  seed(plural: string, object: FakeObject): void;
  behaviour: ControllerBehaviour;
  /** Requests seen, `METHOD path`. */
  requests: string[];
  /** Resolves when a matching object is created (or exists); rejects after 20 s. */
  waitForObject(predicate: (o: FakeObject) => boolean): Promise<FakeObject>;
  close(): Promise<void>;
}

const TOKEN = 'fake-token-for-tests';
const PLURALS = new Set([
  'networkchaos',
  'podchaos',
  'stresschaos',
  'httpchaos',
  'iochaos',
  'dnschaos',
  'timechaos',
  'workflows',
  'schedules',
]);

type Selector = (labels: Record<string, string>) => boolean;

/** Equality-based label selectors: `a=b`, `a==b`, `a!=b`, `a` (exists), `!a`. */
function parseSelector(text: string | null): Selector {
  if (!text) return () => true;
  const terms = text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((term): Selector => {
      let m = /^([^!=]+)!=(.*)$/.exec(term);
      if (m) return (l) => l[m![1]!] !== m![2];
      m = /^([^!=]+)==?(.*)$/.exec(term);
      if (m) return (l) => l[m![1]!] === m![2];
      if (term.startsWith('!')) return (l) => !(term.slice(1) in l);
      return (l) => term in l;
    });
  return (labels) => terms.every((t) => t(labels));
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      code,
    }),
  );
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

export async function startFakeKubernetes(
  behaviour: Partial<ControllerBehaviour> = {},
): Promise<FakeKubernetes> {
  const store = new Map<string, { plural: string; object: FakeObject }>();
  const pods: FakePod[] = [];
  const services: FakeService[] = [];
  const forwards: ForwardStats = { opened: [], active: 0 };
  const openSockets = new Set<WsSocket>();
  const requests: string[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const waiters: { predicate: (o: FakeObject) => boolean; resolve: (o: FakeObject) => void }[] = [];
  const settings: ControllerBehaviour = {
    inject: true,
    injectDelayMs: 20,
    recoverDelayMs: 20,
    stuckFinalizer: false,
    ...behaviour,
  };
  let version = 1;
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const key = (plural: string, ns: string, name: string): string => `${plural}/${ns}/${name}`;
  const notify = (object: FakeObject): void => {
    for (const w of [...waiters]) {
      if (w.predicate(object)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(object);
      }
    }
  };
  const records = (
    object: FakeObject,
    phase: 'Injected' | 'Not Injected',
  ): Record<string, unknown> => {
    const matched = pods.filter((p) => p.namespace === object.metadata.namespace).slice(0, 1);
    return {
      conditions: [
        { type: 'Selected', status: 'True' },
        { type: 'AllInjected', status: phase === 'Injected' ? 'True' : 'False' },
        { type: 'AllRecovered', status: phase === 'Injected' ? 'False' : 'True' },
      ],
      experiment: {
        desiredPhase: phase === 'Injected' ? 'Run' : 'Stop',
        containerRecords: (matched.length
          ? matched
          : [{ namespace: object.metadata.namespace, name: 'pod' }]
        ).map((p) => ({
          id: `${p.namespace}/${p.name}`,
          phase,
          injectedCount: 1,
          recoveredCount: phase === 'Injected' ? 0 : 1,
          selectorKey: '.',
        })),
      },
    };
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      requests.push(`${req.method} ${url.pathname}${url.search}`);
      if (req.headers.authorization !== `Bearer ${TOKEN}`)
        return status(res, 401, 'Unauthorized', 'Unauthorized');
      const selector = parseSelector(url.searchParams.get('labelSelector'));

      let m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(url.pathname);
      if (m && req.method === 'GET') {
        const items = pods
          .filter((p) => p.namespace === m![1] && selector(p.labels))
          .map((p) => ({
            metadata: { name: p.name, namespace: p.namespace, labels: p.labels },
            spec: { containers: [{ name: 'main', ports: p.containerPorts ?? [] }] },
            status: {
              phase: 'Running',
              conditions: [{ type: 'Ready', status: p.ready === false ? 'False' : 'True' }],
            },
          }));
        return json(res, 200, {
          kind: 'PodList',
          apiVersion: 'v1',
          metadata: { resourceVersion: String(version) },
          items,
        });
      }
      m = /^\/api\/v1\/namespaces\/([^/]+)\/services\/([^/]+)$/.exec(url.pathname);
      if (m && req.method === 'GET') {
        const service = services.find((s) => s.namespace === m![1] && s.name === m![2]);
        if (!service) return status(res, 404, 'NotFound', `services "${m[2]}" not found`);
        return json(res, 200, {
          kind: 'Service',
          apiVersion: 'v1',
          metadata: { name: service.name, namespace: service.namespace },
          spec: {
            selector: service.selector,
            ports: service.ports.map((p) => ({ protocol: 'TCP', ...p })),
          },
        });
      }
      m =
        /^\/apis\/chaos-mesh\.org\/v1alpha1\/(?:namespaces\/([^/]+)\/)?([a-z]+)(?:\/([^/]+))?$/.exec(
          url.pathname,
        );
      if (!m)
        return status(res, 404, 'NotFound', 'the server could not find the requested resource');
      const [, ns, plural, name] = m as unknown as [
        string,
        string | undefined,
        string,
        string | undefined,
      ];
      // Only kinds whose CRD is "installed" exist; others 404 as on a cluster without Chaos Mesh.
      if (!PLURALS.has(plural))
        return status(res, 404, 'NotFound', 'the server could not find the requested resource');
      if (name === undefined && req.method === 'GET') {
        const items = [...store.values()]
          .filter(
            (e) =>
              e.plural === plural &&
              (ns === undefined || e.object.metadata.namespace === ns) &&
              selector(e.object.metadata.labels ?? {}),
          )
          .map((e) => e.object);
        return json(res, 200, {
          apiVersion: 'chaos-mesh.org/v1alpha1',
          kind: 'List',
          metadata: { resourceVersion: String(version) },
          items,
        });
      }
      if (ns === undefined) return status(res, 405, 'MethodNotAllowed', 'namespaced resource');
      if (name === undefined && req.method === 'POST') {
        const body = (await readBody(req)) as FakeObject;
        const objectName = body?.metadata?.name;
        if (!objectName) return status(res, 422, 'Invalid', 'metadata.name: Required value');
        const k = key(plural, ns, objectName);
        if (store.has(k))
          return status(
            res,
            409,
            'AlreadyExists',
            `${plural}.chaos-mesh.org "${objectName}" already exists`,
          );
        const object: FakeObject = {
          ...body,
          metadata: {
            ...body.metadata,
            namespace: ns,
            uid: `uid-${version}`,
            creationTimestamp: new Date().toISOString(),
            resourceVersion: String(++version),
            finalizers: ['chaos-mesh/records'],
          },
          status: {
            experiment: { desiredPhase: 'Run', containerRecords: [] },
            conditions: [
              { type: 'Selected', status: 'True' },
              { type: 'AllInjected', status: 'False' },
            ],
          },
        };
        store.set(k, { plural, object });
        notify(object);
        if (settings.inject) {
          later(settings.injectDelayMs, () => {
            if (store.get(k)?.object === object && !object.metadata.deletionTimestamp)
              object.status = records(object, 'Injected');
          });
        }
        return json(res, 201, object);
      }
      const k = key(plural, ns, name!);
      const entry = store.get(k);
      if (!entry)
        return status(res, 404, 'NotFound', `${plural}.chaos-mesh.org "${name}" not found`);
      if (req.method === 'GET') return json(res, 200, entry.object);
      if (req.method === 'DELETE') {
        const object = entry.object;
        if (!object.metadata.deletionTimestamp) {
          object.metadata.deletionTimestamp = new Date().toISOString();
          if (!settings.stuckFinalizer) {
            later(settings.recoverDelayMs, () => {
              object.status = records(object, 'Not Injected');
              object.metadata.finalizers = [];
              store.delete(k);
            });
          }
        }
        return json(res, 200, object);
      }
      return status(res, 405, 'MethodNotAllowed', `${req.method} not supported`);
    })().catch((err: unknown) => status(res, 500, 'InternalError', String(err)));
  });
  // The port-forward subresource: a WebSocket per forwarded connection, relayed to a real
  // local TCP server (the `ws` library serves the WebSocket side; imported by name, untyped).
  const wsModule = 'ws';
  const { WebSocketServer } = (await import(wsModule)) as {
    WebSocketServer: new (options: {
      noServer: true;
      handleProtocols: (protocols: Set<string>) => string | false;
    }) => WsServer;
  };
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => (offered.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false),
  });
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push(`UPGRADE ${url.pathname}${url.search}`);
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward$/.exec(url.pathname);
    const refuse = (code: number, text: string): void => {
      socket.end(`HTTP/1.1 ${code} ${text}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return refuse(401, 'Unauthorized');
    if (!m) return refuse(404, 'Not Found');
    const pod = pods.find((p) => p.namespace === m[1] && p.name === m[2]);
    if (!pod) return refuse(404, 'Not Found');
    const port = Number(url.searchParams.get('ports'));
    wss.handleUpgrade(req, socket, head, (ws) => {
      forwards.opened.push(`${pod.namespace}/${pod.name}:${port}`);
      forwards.active++;
      openSockets.add(ws);
      ws.on('close', () => {
        forwards.active--;
        openSockets.delete(ws);
      });
      const prefix = (channel: number): Buffer => {
        const b = Buffer.alloc(3);
        b.writeUInt8(channel, 0);
        b.writeUInt16LE(port, 1);
        return b;
      };
      ws.send(prefix(0));
      ws.send(prefix(1));
      const relayPort = pod.forward?.[port];
      if (relayPort === undefined) {
        ws.send(
          Buffer.concat([
            Buffer.from([1]),
            Buffer.from(
              `error forwarding port ${port} to pod ${pod.name}: connection refused`,
              'utf8',
            ),
          ]),
        );
        ws.close(1000);
        return;
      }
      const tcp = connect(relayPort, '127.0.0.1');
      tcp.on('data', (chunk: Buffer) => ws.send(Buffer.concat([Buffer.from([0]), chunk])));
      tcp.on('close', () => ws.close(1000));
      tcp.on('error', () => tcp.destroy());
      ws.on('message', (data: Buffer) => {
        if (data[0] === 0 && data.length > 1) tcp.write(data.subarray(1));
      });
      ws.on('close', () => tcp.destroy());
      ws.on('error', () => tcp.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'faultline-fake-kube-'));
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      // Plain HTTP on loopback: client-node accepts http:// only with TLS verification off.
      'clusters: [{ name: fake, cluster: { server: "' +
        url +
        '", insecure-skip-tls-verify: true } }]',
      'users: [{ name: fake, user: { token: ' + TOKEN + ' } }]',
      'contexts: [{ name: fake, context: { cluster: fake, user: fake } }]',
      'current-context: fake',
      '',
    ].join('\n'),
  );

  return {
    url,
    kubeconfig,
    behaviour: settings,
    requests,
    objects: () => [...store.values()].map((e) => e.object),
    addPod: (pod) => pods.push(pod),
    addService: (service) => services.push(service),
    removePod: (namespace, name) => {
      const i = pods.findIndex((p) => p.namespace === namespace && p.name === name);
      if (i >= 0) pods.splice(i, 1);
    },
    forwards,
    breakForwards: () => {
      for (const ws of openSockets) ws.terminate();
    },
    seed: (plural, object) => {
      store.set(key(plural, object.metadata.namespace, object.metadata.name), {
        plural,
        object: { ...object, metadata: { ...object.metadata, finalizers: ['chaos-mesh/records'] } },
      });
    },
    waitForObject: (predicate) => {
      const found = [...store.values()].map((e) => e.object).find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('no matching chaos object was created within 20 s')),
          20_000,
        );
        waiters.push({ predicate, resolve: (o) => (clearTimeout(timer), resolve(o)) });
      });
    },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const ws of openSockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
