// Reaching in-cluster Services from `faultline run --target kubernetes`, against a FAKE
// Kubernetes API server.
//
// No cluster can run on this machine, so test/helpers/fake-kubernetes.ts stands in for the API
// server (a mock: Services, pods, Chaos Mesh objects). Its port-forward data path is real,
// though: the pod's `portforward` subresource is a WebSocket (the API server's v4.channel.k8s.io
// protocol) that the fake relays to a real HTTP server on port 0 here, and faultline's side is
// @kubernetes/client-node's PortForward behind a real listener on 127.0.0.1. The run's load and
// probes go through it; the test counts the requests that arrive at the HTTP server.
//
// What is proven: a URL naming a Service (http://NAME.NAMESPACE.svc:PORT) is resolved to a
// ready pod and its named target port; the forward opens, load and probes flow through it; the
// run says so (terminal and journal); the forward is closed at the end (nothing listens on its
// port) and when the run is aborted; a forward broken mid-run is a journal warning; in a pod
// (KUBERNETES_SERVICE_HOST and a token) the URL is used as written and no forward is opened.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { Journal } from '../../src/journal/journal.js';
import type { Summary } from '../../src/load/metrics.js';
import { KubernetesClient } from '../../src/backends/kubernetes/client.js';
import { runExperiment } from '../../src/runner/runner.js';
import { readPlan } from '../../src/run-plan/read-plan.js';
import { startFakeKubernetes, type FakeKubernetes } from '../helpers/fake-kubernetes.js';
import { runCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait-for.js';

const SERVICE_URL = 'http://payment-service.shop.svc:8080';
const POD = 'payment-service-7d9f-abcde';

/** Resolves true when nothing accepts connections on 127.0.0.1:port any more. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

describe('Services reached through a port-forward faultline opens (fake API server, real data path)', () => {
  let fake: FakeKubernetes;
  let dir: string;
  let app: Server;
  let appPort = 0;
  const seen = { pay: 0, health: 0, hosts: new Set<string>() };

  before(async () => {
    app = createServer((req, res) => {
      if (req.url === '/health') seen.health++;
      else seen.pay++;
      seen.hosts.add(req.headers.host ?? '');
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appPort = (app.address() as AddressInfo).port;
    fake = await startFakeKubernetes({ injectDelayMs: 20, recoverDelayMs: 20 });
    fake.addService({
      namespace: 'shop',
      name: 'payment-service',
      selector: { app: 'payment-service' },
      ports: [{ name: 'http', port: 8080, targetPort: 'http' }],
    });
    // A pod that is not ready is never chosen; the ready one declares the named port.
    fake.addPod({
      namespace: 'shop',
      name: 'payment-service-7d9f-aaaaa',
      labels: { app: 'payment-service', environment: 'staging' },
      ready: false,
    });
    fake.addPod({
      namespace: 'shop',
      name: POD,
      labels: { app: 'payment-service', environment: 'staging' },
      containerPorts: [{ name: 'http', containerPort: 3000 }],
      forward: { 3000: appPort },
    });
    dir = await mkdtemp(join(tmpdir(), 'faultline-k8s-services-'));
  });
  after(async () => {
    app.closeAllConnections();
    await new Promise<void>((resolve) => app.close(() => resolve()));
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  let files = 0;
  async function experimentFile(
    faultDuration: string,
    maxDuration = '30s',
    base = SERVICE_URL,
  ): Promise<string> {
    const file = join(dir, `experiment-${++files}.yaml`);
    await writeFile(
      file,
      stringify({
        title: 'Payments answer through a port-forward',
        environment: 'staging',
        targets: {
          payments: {
            type: 'kubernetes',
            namespace: 'shop',
            selector: { app: 'payment-service', environment: 'staging' },
          },
        },
        steadyState: {
          load: {
            url: `${base}/pay`,
            rate: '40/s',
            connections: 4,
            timeout: '2s',
            baseline: '1s',
            recovery: '1s',
          },
          thresholds: ['error_rate < 5%'],
          probes: [
            {
              name: 'health',
              http: { url: `${base}/health`, timeout: '1s' },
              expect: { status: 200 },
            },
          ],
        },
        method: [{ fault: 'pod-failure', target: 'payments', duration: faultDuration }],
        runtime: { hypothesisFrequency: '200ms' },
        safety: {
          maxDuration,
          // A stop condition on the Service's own health: reached the same way.
          stopWhen: [{ name: 'health', http: { url: `${base}/health`, timeout: '1s' } }],
        },
      }),
    );
    return file;
  }
  const k8s = (): string[] => ['--target', 'kubernetes', '--kubeconfig', fake.kubeconfig];
  const env = (): Record<string, string> => ({ FAULTLINE_STATE_DIR: join(dir, 'state') });
  const journal = async (file: string): Promise<Journal> =>
    JSON.parse(await readFile(file, 'utf8')) as Journal;

  it('opens the forward to a ready pod, sends the load and probes through it, says so, and closes it', async () => {
    const before = { pay: seen.pay, health: seen.health, opened: fake.forwards.opened.length };
    const journalPath = join(dir, 'held.json');
    const result = await runCli(
      ['run', await experimentFile('1s'), ...k8s(), '--journal', journalPath],
      { env: env() },
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const line =
      /reaching payment-service\.shop:8080 through a port-forward to pod (\S+) \(port (\d+)\) on 127\.0\.0\.1:(\d+)/.exec(
        result.stdout,
      );
    assert.ok(line, result.stdout);
    assert.equal(line[1], POD);
    assert.equal(line[2], '3000');
    const localPort = Number(line[3]);

    const j = await journal(journalPath);
    assert.equal(j.faultline.services?.length, 1);
    const record = j.faultline.services![0]!;
    assert.equal(record.via, 'port-forward');
    assert.equal(record.service, 'payment-service.shop:8080');
    assert.equal(record.pod, POD);
    assert.equal(record.pod_port, 3000);
    assert.equal(record.local, `127.0.0.1:${localPort}`);
    assert.ok((record.connections ?? 0) > 0, 'connections counted');
    assert.equal(record.problems, undefined);
    // The journal keeps the URL as written; the traffic went to the forward.
    assert.equal(j.faultline.load?.url, `${SERVICE_URL}/pay`);

    // Load and probes really went through the WebSocket relay to the HTTP server.
    const requests = (j.faultline.load?.total as Summary | undefined)?.completed ?? 0;
    assert.ok(requests >= 40, `load requests ${requests}`);
    assert.ok(
      seen.pay - before.pay >= requests * 0.95,
      `${seen.pay - before.pay} of ${requests} arrived`,
    );
    assert.ok(seen.health > before.health, 'probes arrived');
    const stop = j.faultline.stop_conditions?.[0];
    assert.ok(stop && stop.checks > 0 && stop.errors === 0, JSON.stringify(stop));
    assert.equal(stop.last_value, 'status 200');
    assert.ok(seen.hosts.has(`127.0.0.1:${localPort}`));
    const opened = fake.forwards.opened.slice(before.opened);
    assert.ok(opened.length > 0 && opened.every((f) => f === `shop/${POD}:3000`), opened.join());

    // Closed at the end: nothing listens on its port, no WebSocket left open.
    assert.equal(await refused(localPort), true, 'the forward still listens');
    await waitFor('the fake to see every forward closed', () => fake.forwards.active === 0);
    assert.equal(fake.objects().length, 0);
  });

  it('--dry-run names the pod each Service would be forwarded to, and opens nothing', async () => {
    const upgrades = fake.requests.filter((r) => r.startsWith('UPGRADE')).length;
    const result = await runCli(['run', await experimentFile('1s'), ...k8s(), '--dry-run'], {
      env: env(),
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /service payment-service\.shop:8080: the run would port-forward to pod payment-service-7d9f-abcde \(port 3000\) on 127\.0\.0\.1/,
    );
    assert.equal(fake.requests.filter((r) => r.startsWith('UPGRADE')).length, upgrades);
  });

  it('a Service that does not exist fails the run before the gate, with nothing applied', async () => {
    const file = join(dir, 'missing-service.yaml');
    await writeFile(
      file,
      (await readFile(await experimentFile('1s'), 'utf8')).replaceAll(
        'payment-service.shop.svc',
        'payment-servic.shop.svc',
      ),
    );
    const journalPath = join(dir, 'missing.json');
    const result = await runCli(['run', file, ...k8s(), '--journal', journalPath], { env: env() });
    assert.notEqual(result.code, 0);
    const j = await journal(journalPath);
    assert.match(j.faultline.reason ?? '', /no Service payment-servic in namespace shop/);
    assert.equal(j.faultline.faults.length, 0);
    assert.equal(j.steady_states.before, null);
  });

  it('closes the forward when the run is aborted (the signal of a Ctrl-C)', async () => {
    const controller = new AbortController();
    const journalPath = join(dir, 'aborted.json');
    const running = runCli(
      ['run', await experimentFile('60s', '2m'), ...k8s(), '--journal', journalPath],
      { env: env(), signal: controller.signal },
    );
    // Wait until the fault is applied: the forward is open and the load flows through it.
    const liveDir = join(dir, 'state');
    let localPort = 0;
    await waitFor(
      'a live journal recording the forward and an applied fault',
      async () => {
        const { readdir } = await import('node:fs/promises');
        for (const name of await readdir(liveDir).catch(() => [] as string[])) {
          const text = await readFile(join(liveDir, name), 'utf8').catch(() => '');
          if (!text) continue;
          const live = JSON.parse(text) as Journal;
          const local = live.faultline.services?.[0]?.local;
          if (
            live.status === 'running' &&
            local &&
            live.faultline.faults.some((f) => f.state === 'applied')
          ) {
            localPort = Number(local.split(':')[1]);
            return true;
          }
        }
        return false;
      },
      { timeoutMs: 20_000 },
    );
    assert.equal(await refused(localPort), false, 'the forward listens while the run lasts');
    assert.ok(fake.forwards.active > 0);
    controller.abort(new Error('SIGINT'));
    const result = await running;
    assert.equal(result.code, 130, result.stdout + result.stderr);
    assert.equal((await journal(journalPath)).status, 'interrupted');
    assert.equal(await refused(localPort), true, 'the forward still listens after the abort');
    await waitFor('the fake to see every forward closed', () => fake.forwards.active === 0);
    assert.equal(fake.objects().length, 0);
  });

  it('a forward broken mid-run is said in the journal, and later connections go through again', async () => {
    const journalPath = join(dir, 'broken.json');
    const file = await experimentFile('3s');
    const plan = await readPlan(file, { displayName: file, env: {} });
    const client = KubernetesClient.connect({ kubeconfig: fake.kubeconfig });
    const warnings: string[] = [];
    let broke = false;
    const j = await runExperiment(plan, {
      journalPath,
      kubernetes: { client, env: {} },
      onEvent: (event) => {
        if (event.type === 'warning') warnings.push(event.message);
        // Once the fault is on, the API server drops every forwarded connection.
        if (event.type === 'fault-applied' && !broke) {
          broke = true;
          fake.breakForwards();
        }
      },
    });
    assert.ok(broke);
    const problems = j.faultline.services?.[0]?.problems ?? [];
    assert.ok(problems.length > 0, JSON.stringify(j.faultline.services));
    assert.match(
      problems[0]!,
      /the port-forward to payment-service\.shop:8080 \(pod payment-service-7d9f-abcde\) broke: .*WebSocket code 1006/,
    );
    assert.ok(j.faultline.warnings?.includes(problems[0]!));
    assert.ok(warnings.includes(problems[0]!));
    // The load went on through new forwarded connections after the break.
    assert.ok(((j.faultline.load?.total as Summary | undefined)?.completed ?? 0) > 100);
    const local = Number(j.faultline.services![0]!.local!.split(':')[1]);
    assert.equal(await refused(local), true);
  });

  it('moves to another ready pod when the pod it forwards to is deleted mid-run', async () => {
    // A Service of its own (numeric targetPort), so the other tests' pods stay as they are.
    fake.addService({
      namespace: 'shop',
      name: 'checkout',
      selector: { app: 'checkout' },
      ports: [{ port: 80, targetPort: 3000 }],
    });
    const labels = { app: 'checkout', environment: 'staging' };
    fake.addPod({ namespace: 'shop', name: 'checkout-1111', labels, forward: { 3000: appPort } });
    const file = await experimentFile('3s', '30s', 'http://checkout.shop.svc');
    const plan = await readPlan(file, { displayName: file, env: {} });
    const client = KubernetesClient.connect({ kubeconfig: fake.kubeconfig });
    const opened = fake.forwards.opened.length;
    let moved = false;
    const j = await runExperiment(plan, {
      journalPath: join(dir, 'moved.json'),
      kubernetes: { client, env: {} },
      onEvent: (event) => {
        // The pod is replaced (a pod-kill, a rollout): the old one's forwards drop.
        if (event.type === 'fault-applied' && !moved) {
          moved = true;
          fake.removePod('shop', 'checkout-1111');
          fake.addPod({
            namespace: 'shop',
            name: 'checkout-2222',
            labels,
            forward: { 3000: appPort },
          });
          fake.breakForwards();
        }
      },
    });
    assert.ok(moved);
    const record = j.faultline.services?.[0];
    assert.equal(record?.service, 'checkout.shop:80');
    assert.equal(record.pod, 'checkout-1111');
    assert.ok(
      record.problems?.some((p) =>
        /the port-forward to checkout\.shop:80 now goes to pod checkout-2222 \(port 3000\) instead of checkout-1111/.test(
          p,
        ),
      ),
      JSON.stringify(record.problems),
    );
    const after = fake.forwards.opened.slice(opened);
    assert.ok(
      after.includes('shop/checkout-1111:3000') && after.includes('shop/checkout-2222:3000'),
      after.join(),
    );
    // After the move no connection went to the deleted pod.
    const moveAt = after.indexOf('shop/checkout-2222:3000');
    assert.ok(
      after.slice(moveAt).every((f) => f === 'shop/checkout-2222:3000'),
      after.join(),
    );
    assert.ok(((j.faultline.load?.total as Summary | undefined)?.completed ?? 0) > 100);
  });

  it('in a pod (KUBERNETES_SERVICE_HOST and a service-account token) the URL is used as written: no forward', async () => {
    const accountDir = join(dir, 'serviceaccount');
    await mkdir(accountDir, { recursive: true });
    await writeFile(join(accountDir, 'token'), 'a-token');
    const file = await experimentFile('1s');
    const plan = await readPlan(file, { displayName: file, env: {} });
    const client = KubernetesClient.connect({ kubeconfig: fake.kubeconfig });
    const upgrades = fake.requests.filter((r) => r.startsWith('UPGRADE')).length;
    const serviceReads = fake.requests.filter((r) => r.includes('/services/')).length;
    const messages: string[] = [];
    const j = await runExperiment(plan, {
      journalPath: join(dir, 'in-cluster.json'),
      kubernetes: {
        client,
        env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' },
        serviceAccountDir: accountDir,
      },
      onEvent: (event) => {
        if (event.type === 'service') messages.push(event.message);
      },
    });
    assert.deepEqual(j.faultline.services, [
      { service: 'payment-service.shop:8080', via: 'in-cluster' },
    ]);
    assert.match(messages[0] ?? '', /reaching payment-service\.shop:8080 in-cluster/);
    assert.equal(fake.requests.filter((r) => r.startsWith('UPGRADE')).length, upgrades);
    assert.equal(
      fake.requests.filter((r) => r.includes('/services/')).length,
      serviceReads,
      'the Service is not even read',
    );
    // Outside a real cluster the name does not resolve: the gate says so, nothing was applied.
    assert.equal(j.steady_states.before?.steady_state_met, false, JSON.stringify(j.steady_states));
    assert.equal(j.faultline.faults.length, 0);
  });
});
