// faultline run --target kubernetes and recover --kubernetes, against a FAKE Kubernetes API.
//
// No cluster can run on this machine, so test/helpers/fake-kubernetes.ts stands in for one: a
// local HTTP server implementing the custom-object and pod REST paths faultline uses (create,
// get, list by label, delete, 404/409 Status objects) and a small controller that plays Chaos
// Mesh (finalizer, injected status, recovery on deletion). @kubernetes/client-node talks to it
// through a generated kubeconfig, exactly as it would to a cluster. The opt-in test against a
// real cluster is test/integration/kubernetes-cluster.test.ts (set KUBECONFIG).
//
// What is proven here: the client maps the API's answers; a run applies a labelled Chaos Mesh
// object, waits for injection, and leaves zero chaos objects whether the hypothesis holds,
// deviates, the run is interrupted or injection never comes; guardrails refuse before any
// request; --dry-run lists the pods from the cluster; a killed run's objects are deleted by
// `faultline recover --kubernetes`, from its journal and by the label sweep.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { ConflictError, NotFoundError } from '../../src/errors.js';
import type { Journal } from '../../src/journal/journal.js';
import { KubernetesClient } from '../../src/backends/kubernetes/client.js';
import { startFakeKubernetes, type FakeKubernetes } from '../helpers/fake-kubernetes.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { clusterAt } from '../helpers/locations.js';
import { waitFor } from '../helpers/wait-for.js';
import { entryArgs } from '../helpers/entry.js';

const cli = (
  argv: string[],
  env: Record<string, string>,
  signal = new AbortController().signal,
): Promise<CliResult> => runCli(argv, { env, signal });

/** Resolves when a live journal in `stateDir` records an applied fault (the runner saw it injected). */
async function waitForApplied(stateDir: string): Promise<void> {
  await waitFor(
    `a live journal in ${stateDir} to record an applied fault`,
    async () => {
      const names = await readdir(stateDir).catch(() => [] as string[]);
      for (const name of names.filter((n) => n.endsWith('.json'))) {
        const text = await readFile(join(stateDir, name), 'utf8').catch(() => '');
        if (
          text &&
          (JSON.parse(text) as Journal).faultline.faults.some((f) => f.state === 'applied')
        )
          return true;
      }
      return false;
    },
    { timeoutMs: 20_000 },
  );
}

describe('Kubernetes client against the fake API server (stands in for a cluster)', () => {
  let fake: FakeKubernetes;
  before(async () => {
    fake = await startFakeKubernetes();
  });
  after(() => fake.close());

  it('creates, gets, lists by label and deletes custom objects; 404 and 409 become typed errors', async () => {
    const client = KubernetesClient.connect({ kubeconfig: fake.kubeconfig });
    assert.equal(client.context, 'fake');
    const body = {
      apiVersion: 'chaos-mesh.org/v1alpha1',
      kind: 'PodChaos',
      metadata: { name: 'a', namespace: 'ns', labels: { team: 'x' } },
      spec: { action: 'pod-failure', mode: 'one', selector: {} },
    };
    const created = await client.create({ plural: 'podchaos', namespace: 'ns' }, body);
    assert.equal(created.metadata.name, 'a');
    await assert.rejects(
      client.create({ plural: 'podchaos', namespace: 'ns' }, body),
      (e: unknown) => e instanceof ConflictError && /already exists/.test(e.message),
    );
    assert.equal(
      (await client.get({ plural: 'podchaos', namespace: 'ns', name: 'a' }))?.metadata.name,
      'a',
    );
    assert.equal(
      await client.get({ plural: 'podchaos', namespace: 'ns', name: 'missing' }),
      undefined,
    );
    assert.deepEqual(
      (await client.list('podchaos', 'ns', 'team=x')).map((o) => o.metadata.name),
      ['a'],
    );
    assert.deepEqual(await client.list('podchaos', 'ns', 'team=y'), []);
    assert.deepEqual(
      (await client.list('podchaos', undefined, 'team')).map((o) => o.metadata.name),
      ['a'],
    );
    assert.equal(
      await client.delete({ plural: 'podchaos', namespace: 'ns', name: 'a' }),
      'deleted',
    );
    assert.equal(
      await client.delete({ plural: 'podchaos', namespace: 'ns', name: 'never-was' }),
      'gone',
    );
    await assert.rejects(
      client.list('nosuchkind', 'ns', ''),
      (e: unknown) => e instanceof NotFoundError || (e as { status?: number }).status === 404,
    );
  });

  it('lists pods by label selector', async () => {
    fake.addPod({
      namespace: 'shop',
      name: 'api-1',
      labels: { app: 'api', environment: 'staging' },
    });
    fake.addPod({
      namespace: 'shop',
      name: 'web-1',
      labels: { app: 'web', environment: 'staging' },
    });
    const client = KubernetesClient.connect({ kubeconfig: fake.kubeconfig });
    assert.deepEqual(
      (await client.listPods('shop', 'app=api,environment=staging')).map((p) => [p.name, p.ready]),
      [['api-1', true]],
    );
  });

  it('passes the AbortSignal into the request', async () => {
    const client = KubernetesClient.connect({ kubeconfig: fake.kubeconfig });
    await assert.rejects(client.listPods('shop', '', AbortSignal.abort()), /aborted/);
  });

  it('refuses an unknown context with the known ones as a hint', () => {
    assert.throws(
      () => KubernetesClient.connect({ kubeconfig: fake.kubeconfig, context: 'prod' }),
      (e: unknown) =>
        /no context "prod"/.test(String(e)) && (e as { hint?: string }).hint === 'one of fake',
    );
  });
});

describe('faultline run --target kubernetes against the fake API server (stands in for a cluster)', () => {
  let fake: FakeKubernetes;
  let dir: string;
  let service: Server;
  let serviceUrl: string;
  /** When set, the service answers 500 while a chaos object exists (the "finding"). */
  let fragile = false;

  before(async () => {
    fake = await startFakeKubernetes({ injectDelayMs: 50, recoverDelayMs: 50 });
    fake.addPod({
      namespace: 'payments',
      name: 'payment-service-7d9f-abcde',
      labels: { app: 'payment-service', environment: 'staging' },
    });
    fake.addPod({
      namespace: 'payments',
      name: 'payment-service-7d9f-fghij',
      labels: { app: 'payment-service', environment: 'staging' },
    });
    dir = await mkdtemp(join(tmpdir(), 'faultline-k8s-'));
    service = createServer((_req, res) => {
      const broken = fragile && fake.objects().length > 0;
      res.writeHead(broken ? 500 : 200, { 'content-type': 'text/plain' });
      res.end(broken ? 'db timeout' : 'ok');
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
  });
  after(async () => {
    service.closeAllConnections();
    await new Promise<void>((resolve) => service.close(() => resolve()));
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    fragile = false;
    fake.behaviour.inject = true;
    fake.behaviour.stuckFinalizer = false;
  });

  let files = 0;
  async function experimentFile(
    overrides: Record<string, unknown> = {},
    target: Record<string, unknown> = {},
  ): Promise<string> {
    const file = join(dir, `experiment-${++files}.yaml`);
    await writeFile(
      file,
      stringify({
        title: 'Payments survive a pod failure',
        environment: 'staging',
        targets: {
          payments: {
            type: 'kubernetes',
            namespace: 'payments',
            selector: { app: 'payment-service', environment: 'staging' },
            ...target,
          },
        },
        steadyState: {
          probes: [
            {
              name: 'health',
              http: { url: `${serviceUrl}/health`, timeout: '1s' },
              expect: { status: 200, body: { contains: 'ok' } },
            },
          ],
        },
        method: [
          { fault: 'pod-failure', name: 'payments-down', target: 'payments', duration: '1s' },
        ],
        runtime: { hypothesisFrequency: '100ms' },
        safety: { maxDuration: '30s' },
        ...overrides,
      }),
    );
    return file;
  }
  const env = (): Record<string, string> => ({ FAULTLINE_STATE_DIR: join(dir, 'state') });
  const k8s = (): string[] => ['--target', 'kubernetes', '--kubeconfig', fake.kubeconfig];
  async function journal(file: string): Promise<Journal> {
    return JSON.parse(await readFile(file, 'utf8')) as Journal;
  }

  it('applies a labelled chaos object, waits until it is injected, deletes it: held, nothing left', async () => {
    const created = fake.waitForObject(() => true);
    const journalPath = join(dir, 'held.json');
    const result = await cli(
      ['run', await experimentFile(), ...k8s(), '--journal', journalPath, '--quiet'],
      env(),
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const object = await created;
    assert.equal(object.kind, 'PodChaos');
    assert.equal(object.spec['action'], 'pod-failure');
    assert.equal(object.spec['mode'], 'one');
    assert.equal(object.spec['duration'], '1s');
    const j = await journal(journalPath);
    assert.deepEqual(object.metadata.labels, {
      'app.kubernetes.io/managed-by': 'faultline',
      'faultline.dev/experiment': 'payments-survive-a-pod-failure',
      'faultline.dev/run-id': j.faultline.run_id,
    });
    const fault = j.faultline.faults[0]!;
    assert.equal(fault.state, 'removed');
    assert.deepEqual(clusterAt(fault.location).resource, {
      apiVersion: 'chaos-mesh.org/v1alpha1',
      kind: 'PodChaos',
      plural: 'podchaos',
      namespace: 'payments',
      name: object.metadata.name,
      context: 'fake',
    });
    assert.ok(fault.applied_at && fault.removed_at, 'the journal records creation and removal');
    assert.deepEqual(j.faultline.verification, [{ fault: 'payments-down', gone: true }]);
    assert.deepEqual(fake.objects(), [], 'no chaos object left on the cluster');
    // Injection was awaited: the object was read after creation until its status said so.
    assert.ok(
      fake.requests.some((r) =>
        r.startsWith(
          `GET /apis/chaos-mesh.org/v1alpha1/namespaces/payments/podchaos/${object.metadata.name}`,
        ),
      ),
    );
  });

  it('deviates when the service breaks under the fault, and still leaves nothing behind (exit 1)', async () => {
    fragile = true;
    const result = await cli(
      ['run', await experimentFile(), ...k8s(), '--journal', join(dir, 'deviated.json'), '--quiet'],
      env(),
    );
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const j = await journal(join(dir, 'deviated.json'));
    assert.equal(j.deviated, true);
    assert.equal(j.faultline.faults[0]!.state, 'removed');
    assert.deepEqual(fake.objects(), []);
  });

  it('a stop condition on the service (HTTP): the chaos object is deleted on the breach (exit 3), nothing left', async () => {
    fragile = true; // the service answers 500 while a chaos object exists
    const journalPath = join(dir, 'stopped.json');
    const result = await cli(
      [
        'run',
        await experimentFile({
          // Load on the service, so the fault is shown to reach it (else: inconclusive).
          steadyState: {
            probes: [],
            load: { url: `${serviceUrl}/health`, rate: '20/s', baseline: '300ms' },
          },
          method: [
            { fault: 'pod-failure', name: 'payments-down', target: 'payments', duration: '20s' },
          ],
          safety: {
            maxDuration: '30s',
            stopWhen: [
              {
                name: 'payments health',
                http: { url: `${serviceUrl}/health` },
                expect: { status: 200 },
                for: '1s', // long enough for the load to show the fault's errors
                every: '200ms',
              },
            ],
          },
        }),
        ...k8s(),
        '--journal',
        journalPath,
        '--quiet',
      ],
      env(),
    );
    assert.equal(result.code, 3, result.stdout + result.stderr);
    const j = await journal(journalPath);
    assert.equal(j.faultline.stop?.condition, 'payments health');
    assert.equal(j.faultline.stop?.kind, 'http');
    assert.match(j.faultline.stop?.value ?? '', /status 500, expected 200/);
    assert.ok(j.faultline.stop?.faults_removed_at, 'the stop recorded when every fault was gone');
    // Timed to the object being gone from the (fake) cluster; the bound itself is asserted in
    // test/serial/stop-conditions.test.ts, on a quiet machine.
    assert.ok(
      (j.faultline.stop?.reaction_ms ?? 9999) < 2000,
      `${j.faultline.stop?.reaction_ms} ms`,
    );
    assert.equal(j.faultline.faults[0]!.state, 'removed');
    assert.deepEqual(j.faultline.verification, [{ fault: 'payments-down', gone: true }]);
    assert.deepEqual(fake.objects(), [], 'no chaos object left on the cluster');
    assert.ok((j.duration ?? 99) < 15, 'stopped long before the 20 s fault would have ended');
  });

  it('interrupted while the fault is injected: deleted, exit 130, nothing left', async () => {
    const controller = new AbortController();
    const file = await experimentFile({
      method: [{ fault: 'pod-failure', name: 'long', target: 'payments', duration: '20s' }],
    });
    // Interrupt once the run's live journal says the fault is applied (Chaos Mesh reported it injected).
    const stateDir = join(dir, 'state-interrupt');
    void waitForApplied(stateDir).then(() => controller.abort(new Error('SIGINT')));
    const result = await cli(
      ['run', file, ...k8s(), '--journal', join(dir, 'interrupted.json'), '--quiet'],
      { FAULTLINE_STATE_DIR: stateDir },
      controller.signal,
    );
    assert.equal(result.code, 130, result.stdout + result.stderr);
    assert.equal(
      (await journal(join(dir, 'interrupted.json'))).faultline.faults[0]!.state,
      'removed',
    );
    assert.deepEqual(fake.objects(), []);
  });

  it('a fault Chaos Mesh never reports injected fails the apply and is deleted (inconclusive, exit 4)', async () => {
    fake.behaviour.inject = false;
    const file = await experimentFile();
    // A short injection timeout through the library options is not a CLI flag; use the runner.
    const { readPlan } = await import('../../src/run-plan/read-plan.js');
    const { runExperiment } = await import('../../src/runner/runner.js');
    const plan = await readPlan(file, { env: {} });
    const j = await runExperiment(plan, {
      journalPath: join(dir, 'timeout.json'),
      kubernetes: { kubeconfig: fake.kubeconfig, injectTimeoutMs: 300, pollMs: 50 },
    });
    assert.equal(j.faultline.outcome, 'inconclusive');
    assert.match(j.faultline.faults[0]!.error ?? '', /not reported injected within/);
    assert.ok(j.faultline.faults[0]!.removed_at, 'the object it created was deleted');
    assert.deepEqual(fake.objects(), []);
  });

  it('an object whose deletion never completes is residue (exit 5), named with its finalizer', async () => {
    fake.behaviour.stuckFinalizer = true;
    const { readPlan } = await import('../../src/run-plan/read-plan.js');
    const { runExperiment } = await import('../../src/runner/runner.js');
    const plan = await readPlan(await experimentFile(), { env: {} });
    const j = await runExperiment(plan, {
      journalPath: join(dir, 'residue.json'),
      kubernetes: { kubeconfig: fake.kubeconfig, removeTimeoutMs: 300, pollMs: 50 },
    });
    assert.equal(j.faultline.outcome, 'residue');
    assert.equal(j.faultline.exit_code, 5);
    assert.match(j.faultline.faults[0]!.error ?? '', /still on the cluster .*chaos-mesh\/records/);
    // Clean the fake for the next tests: the "controller" comes back.
    fake.behaviour.stuckFinalizer = false;
    const client = KubernetesClient.connect({ kubeconfig: fake.kubeconfig });
    for (const o of fake.objects()) {
      o.metadata.deletionTimestamp = undefined;
      await client.delete({
        plural: 'podchaos',
        namespace: o.metadata.namespace,
        name: o.metadata.name,
      });
    }
    await waitFor(
      'the fake controller to finish the deletions',
      () => fake.objects().length === 0,
      { timeoutMs: 10_000, intervalMs: 20 },
    );
  });

  it('refuses before any request: mode all, no environment qualifier (exit 2, every problem)', async () => {
    const before = fake.requests.length;
    const file = await experimentFile({}, { mode: 'all', selector: { app: 'payment-service' } });
    const result = await cli(['run', file, ...k8s()], env());
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /targets\.payments\.mode: mode all/);
    assert.match(result.stderr, /no environment qualifier/);
    assert.equal(fake.requests.length, before, 'nothing was sent to the cluster');
  });

  it('run-time guardrail problems are located at file:line:column in the experiment file, in source order', async () => {
    const before = fake.requests.length;
    const file = join(dir, 'located.yaml');
    // Line numbers matter here: the file is written as it is.
    await writeFile(
      file,
      [
        'title: Located guardrails', //                                   1
        'environment: staging', //                                        2
        'targets:', //                                                    3
        '  payments:', //                                                 4
        '    type: kubernetes', //                                        5
        '    namespace: payments', //                                     6
        '    selector: { app: payment-service, environment: staging }', // 7
        '    mode: all', //                                               8
        'method:', //                                                     9
        '  - { fault: pod-failure, target: payments, duration: 2m }', //  10
        'safety:', //                                                     11
        '  maxDuration: 30s', //                                          12
        '',
      ].join('\n'),
    );
    const result = await cli(['run', file, ...k8s()], env());
    assert.equal(result.code, 2, result.stdout + result.stderr);
    const mode = result.stderr.indexOf('located.yaml:8:11');
    const duration = result.stderr.indexOf('located.yaml:10:');
    assert.ok(mode >= 0, `mode all located at line 8, column 11:\n${result.stderr}`);
    assert.ok(
      duration > mode,
      `the fault's duration located at line 10, after line 8:\n${result.stderr}`,
    );
    assert.match(result.stderr, /located\.yaml:8:11.*mode all/);
    assert.match(
      result.stderr,
      /located\.yaml:10:\d+.*lasts 2m, longer than the experiment's maximum/,
    );
    assert.equal(fake.requests.length, before, 'nothing was sent to the cluster');
  });

  it('refuses a cluster fault without --target kubernetes', async () => {
    const before = fake.requests.length;
    const result = await cli(['run', await experimentFile()], env());
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--target kubernetes/);
    assert.equal(fake.requests.length, before);
  });

  it('--dry-run lists, from the cluster, the pods the selector would hit, and creates nothing', async () => {
    const before = fake.requests.length;
    const result = await cli(['run', await experimentFile(), ...k8s(), '--dry-run'], env());
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /2 pod\(s\) match app=payment-service,environment=staging in payments; mode one hits 1/,
    );
    assert.match(result.stdout, /payment-service-7d9f-abcde \(Running, ready\)/);
    assert.ok(
      fake.requests.slice(before).every((r) => r.startsWith('GET ')),
      'only reads',
    );
    assert.deepEqual(fake.objects(), []);
  });

  it('a selector that matches no pod is refused before anything is created', async () => {
    const file = await experimentFile({}, { selector: { app: 'nothing', environment: 'staging' } });
    const result = await cli(
      ['run', file, ...k8s(), '--journal', join(dir, 'empty.json'), '--quiet'],
      env(),
    );
    assert.equal(result.code, 4, result.stdout + result.stderr);
    assert.match(
      (await journal(join(dir, 'empty.json'))).faultline.reason ?? '',
      /no pod matches app=nothing/,
    );
    assert.deepEqual(fake.objects(), []);
  });

  it('recover --kubernetes deletes what a killed run left (journal), orphans without a journal (labels), and spares live runs', async () => {
    const stateDir = join(dir, 'state-kill');
    const file = await experimentFile({
      method: [{ fault: 'pod-failure', name: 'left-behind', target: 'payments', duration: '5m' }],
      safety: { maxDuration: '10m' },
    });
    const child = spawn(
      process.execPath,
      // Its journal in the test's directory: the default (faultline-journal.json in the current
      // directory) would land in the repository.
      entryArgs(
        'cli/main',
        'run',
        file,
        ...k8s(),
        '--quiet',
        '--journal',
        join(dir, 'killed.json'),
      ),
      { env: { ...process.env, FAULTLINE_STATE_DIR: stateDir }, stdio: 'ignore', cwd: dir },
    );
    const object = await fake.waitForObject(
      (o) => o.metadata.annotations?.['faultline.dev/fault'] === 'left-behind',
    );
    // Killed once Chaos Mesh reports the fault injected (the journal says "applied").
    await waitForApplied(stateDir);
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.equal(fake.objects().length, 1, 'the killed run left its object');

    // An orphan whose journal is gone, and an object of a run that is still alive.
    const seed = (name: string, runId: string): void =>
      fake.seed('networkchaos', {
        apiVersion: 'chaos-mesh.org/v1alpha1',
        kind: 'NetworkChaos',
        metadata: {
          name,
          namespace: 'payments',
          labels: {
            'app.kubernetes.io/managed-by': 'faultline',
            'faultline.dev/run-id': runId,
            'faultline.dev/experiment': 'x',
          },
        },
        spec: {},
      });
    seed('orphan-no-journal', 'dead-run-0000');
    seed('live-run-object', 'live-run-1111');
    await writeFile(
      join(stateDir, 'live.json'),
      JSON.stringify({
        status: 'running',
        faultline: { run_id: 'live-run-1111', pid: process.pid, faults: [] },
      }),
    );
    // And one applied by hand from `faultline compile` (no run id): never swept.
    fake.seed('podchaos', {
      apiVersion: 'chaos-mesh.org/v1alpha1',
      kind: 'PodChaos',
      metadata: {
        name: 'applied-by-hand',
        namespace: 'payments',
        labels: { 'app.kubernetes.io/managed-by': 'faultline' },
      },
      spec: {},
    });

    const plain = await cli(['recover', '--state-dir', stateDir], {});
    assert.equal(
      plain.code,
      70,
      'without --kubernetes a cluster fault is reported, not silently skipped',
    );
    assert.match(plain.stdout, /NOT removed: .*run faultline recover --kubernetes/);

    const result = await cli(
      ['recover', '--state-dir', stateDir, '--kubernetes', '--kubeconfig', fake.kubeconfig],
      {},
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /fault left-behind on payments .*: removed/);
    assert.match(result.stdout, /orphan NetworkChaos payments\/orphan-no-journal .*: deleted/);
    assert.match(result.stdout, /orphan NetworkChaos payments\/live-run-object .*: left alone/);
    assert.deepEqual(
      fake
        .objects()
        .map((o) => o.metadata.name)
        .sort(),
      ['applied-by-hand', 'live-run-object'],
    );
    assert.ok(!fake.objects().some((o) => o.metadata.name === object.metadata.name));
    const names = (await readdir(stateDir)).filter((n) => n.endsWith('.json') && n !== 'live.json');
    const recovered = JSON.parse(await readFile(join(stateDir, names[0]!), 'utf8')) as Journal;
    assert.equal(recovered.faultline.faults[0]!.state, 'removed');
    assert.ok(recovered.faultline.recovered_at);
    // leave the fake clean
    const client = KubernetesClient.connect({ kubeconfig: fake.kubeconfig });
    await client.delete({ plural: 'networkchaos', namespace: 'payments', name: 'live-run-object' });
    await client.delete({ plural: 'podchaos', namespace: 'payments', name: 'applied-by-hand' });
  });
});
