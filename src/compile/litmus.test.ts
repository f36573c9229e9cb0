// faultline compile --platform litmus: one ChaosEngine per fault, valid against the real ChaosEngine
// CRD (test/fixtures/litmus/crds), golden-tested; probes mapped mode for mode; faults and probes
// Litmus cannot express are located errors that say what would work instead.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ValidationError } from '../errors.js';
import { loadCrdValidator } from '../../test/helpers/crd-validator.js';
import {
  assertGolden,
  compileFixture,
  compileText,
  litmusFixtures,
} from '../../test/helpers/golden.js';
import { toYaml } from './platform-compile.js';

type Engine = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: {
    engineState: string;
    selectors: { workloads: { kind: string; namespace: string; labels: string }[] };
    experiments: {
      name: string;
      spec: {
        components: { env: { name: string; value: string }[] };
        probe?: Record<string, unknown>[];
      };
    }[];
  };
};

const compile = (): { engines: Engine[]; notes: string[]; text: string } => {
  const out = compileFixture('litmus-faults.yaml', 'litmus', {}, litmusFixtures);
  return {
    engines: out.files.map((f) => f.document as Engine),
    notes: out.notes,
    text: toYaml(out.files.map((f) => f.document)),
  };
};
const envOf = (engine: Engine): Record<string, string> =>
  Object.fromEntries(engine.spec.experiments[0]!.spec.components.env.map((e) => [e.name, e.value]));

/** Problems of compiling `text`, as "path: message (hint)" lines. */
function problems(text: string): string[] {
  try {
    compileText(text, 'litmus');
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err));
    return err.issues.map(
      (i) => `${i.line ?? '?'}:${i.column ?? '?'} ${i.path}: ${i.message} (${i.hint ?? ''})`,
    );
  }
  assert.fail('expected problems');
}

const header = (target: string, extra = ''): string => `title: t
environment: staging
targets:
  api:
${target}
  db: { type: kubernetes, namespace: shop-staging, selector: { app: db } }
${extra}`;
const API =
  '    type: kubernetes\n    namespace: shop-staging\n    selector: { app: api }\n    port: 8080';

describe('Litmus compiler', () => {
  it('writes the ChaosEngines of golden/litmus-faults.yaml', () => {
    assertGolden('litmus-faults.yaml', compile().text, litmusFixtures);
  });

  it('every ChaosEngine validates against the real ChaosEngine CRD schema', () => {
    const crds = loadCrdValidator(join(litmusFixtures, 'crds'));
    const { engines } = compile();
    assert.equal(engines.length, 13);
    for (const engine of engines) assert.deepEqual(crds.validate(engine), [], engine.metadata.name);
  });

  it('names one Litmus experiment per fault, with its parameters as the env litmus-go reads', () => {
    const { engines, notes } = compile();
    assert.deepEqual(
      engines.map((e) => e.spec.experiments[0]!.name),
      [
        'pod-network-latency',
        'pod-network-loss',
        'pod-network-duplication',
        'pod-network-corruption',
        'pod-network-rate-limit',
        'pod-delete',
        'container-kill',
        'pod-cpu-hog',
        'pod-memory-hog',
        'pod-dns-error',
        'pod-http-latency',
        'pod-http-status-code',
        'pod-http-modify-body',
      ],
    );
    const [
      latency,
      loss,
      ,
      ,
      rate,
      podDelete,
      containerKill,
      cpu,
      memory,
      dns,
      httpLatency,
      status,
      body,
    ] = engines.map(envOf);
    assert.deepEqual(latency, {
      TOTAL_CHAOS_DURATION: '120',
      NETWORK_LATENCY: '300',
      JITTER: '50',
      DESTINATION_IPS: '10.0.12.7',
      DESTINATION_HOSTS: 'postgres.payments-staging.svc.cluster.local',
      PODS_AFFECTED_PERC: '25',
    });
    assert.equal(loss!['NETWORK_PACKET_LOSS_PERCENTAGE'], '10');
    assert.equal(loss!['CORRELATION'], '25');
    assert.equal(rate!['NETWORK_BANDWIDTH'], '8000kbit', '1 MB/s is 8000 kbit/s');
    // Killed once: the interval spans the duration; gracePeriod 0 (default) is a forced delete.
    assert.deepEqual(
      [podDelete!['CHAOS_INTERVAL'], podDelete!['TOTAL_CHAOS_DURATION'], podDelete!['FORCE']],
      ['30', '30', 'true'],
    );
    assert.deepEqual(
      [containerKill!['TARGET_CONTAINER'], containerKill!['SIGNAL']],
      ['app', 'SIGKILL'],
    );
    assert.deepEqual([cpu!['CPU_CORES'], cpu!['CPU_LOAD']], ['2', '80']);
    assert.deepEqual([memory!['MEMORY_CONSUMPTION'], memory!['NUMBER_OF_WORKERS']], ['256', '1']);
    assert.deepEqual(JSON.parse(dns!['TARGET_HOSTNAMES']!), [
      'auth-service.payments-staging.svc.cluster.local',
    ]);
    assert.deepEqual(
      [httpLatency!['LATENCY'], httpLatency!['TARGET_SERVICE_PORT']],
      ['1500', '8080'],
    );
    assert.deepEqual(
      [status!['STATUS_CODE'], status!['TOXICITY'], status!['MODIFY_RESPONSE_BODY']],
      ['503', '50', 'false'],
    );
    assert.equal(body!['RESPONSE_BODY'], '{}');
    // The ChaosExperiments to install are named.
    assert.ok(
      notes.some((n) =>
        /install the ChaosExperiments container-kill, pod-cpu-hog, .*pod-network-latency.* in namespace payments-staging/.test(
          n,
        ),
      ),
      notes.join('\n'),
    );
  });

  it("selects pods by one label of a workload kind, in the target namespace, labelled as faultline's", () => {
    const { engines } = compile();
    for (const engine of engines) {
      assert.equal(engine.apiVersion, 'litmuschaos.io/v1alpha1');
      assert.equal(engine.spec.engineState, 'active');
      assert.deepEqual(engine.spec.selectors, {
        workloads: [
          { kind: 'deployment', namespace: 'payments-staging', labels: 'app=payment-service' },
        ],
      });
      assert.equal(engine.metadata.namespace, 'payments-staging');
      assert.equal(engine.metadata.labels['app.kubernetes.io/managed-by'], 'faultline');
    }
    const statefulset = compileFixture(
      'litmus-faults.yaml',
      'litmus',
      { workloadKind: 'statefulset', namespace: 'litmus' },
      litmusFixtures,
    ).files[0]!.document as Engine;
    assert.equal(statefulset.spec.selectors.workloads[0]!.kind, 'statefulset');
    assert.equal(statefulset.metadata.namespace, 'litmus');
  });

  it('maps every steady-state probe to a Litmus probe with the same mode', () => {
    const probes = compile().engines[0]!.spec.experiments[0]!.spec.probe!;
    assert.deepEqual(
      probes.map((p) => [p['name'], p['type'], p['mode']]),
      [
        ['health-answers', 'httpProbe', 'Continuous'],
        ['payment-accepted', 'httpProbe', 'Edge'],
        ['ledger-reconciles', 'cmdProbe', 'EOT'],
        ['error-ratio', 'promProbe', 'OnChaos'],
        ['pods-ready', 'cmdProbe', 'SOT'],
      ],
    );
    const [health, payment, ledger, errors, ready] = probes;
    assert.deepEqual(health!['httpProbe/inputs'], {
      url: 'http://payment-service.payments-staging.svc:8080/health',
      method: { get: { criteria: '==', responseCode: '200' } },
    });
    // The response must arrive within expect.latency: Litmus's per-attempt probeTimeout.
    assert.deepEqual(health!['runProperties'], {
      probeTimeout: '2s',
      interval: '2s',
      attempt: 1,
      probePollingInterval: '2s',
    });
    assert.deepEqual(payment!['httpProbe/inputs'], {
      url: 'http://payment-service.payments-staging.svc:8080/payments',
      method: {
        post: {
          contentType: 'application/json',
          body: '{"amount":100,"currency":"EUR"}',
          criteria: 'oneOf',
          responseCode: '200,201',
        },
      },
    });
    assert.deepEqual(ledger!['cmdProbe/inputs'], {
      command:
        "psql -tAc 'select count(*) from missing_payments' postgres://ledger@postgres:5432/ledger",
      comparator: { type: 'string', criteria: 'equal', value: '0' },
    });
    assert.deepEqual(errors!['promProbe/inputs'], {
      endpoint: 'http://prometheus.monitoring.svc:9090',
      query: 'sum(rate(http_requests_total{code=~"5.."}[1m])) / sum(rate(http_requests_total[1m]))',
      comparator: { criteria: '<', value: '0.01' },
    });
    assert.deepEqual((ready!['cmdProbe/inputs'] as { comparator: unknown }).comparator, {
      type: 'string',
      criteria: 'matches',
      value: '^[1-9]',
    });
  });

  it('modes map one to one, and fail-fast stops the engine on a failed probe', () => {
    for (const mode of ['SOT', 'EOT', 'Edge', 'Continuous', 'OnChaos']) {
      const out = compileText(
        header(
          API,
          `runtime: { hypothesis: fail-fast }
steadyState: { probes: [{ name: p, mode: ${mode}, http: { url: "http://api:8080/" } }] }
method: [{ fault: pod-kill, target: api, duration: 30s }]`,
        ),
        'litmus',
      );
      const probe = (out.files[0]!.document as Engine).spec.experiments[0]!.spec.probe![0]!;
      assert.equal(probe['mode'], mode);
      assert.equal((probe['runProperties'] as { stopOnFailure?: boolean }).stopOnFailure, true);
      assert.equal(
        'probePollingInterval' in (probe['runProperties'] as object),
        mode === 'Continuous' || mode === 'OnChaos',
      );
    }
  });

  it('a multi-label selector is refused: Litmus would select pods matching any one label', () => {
    const found = problems(
      header(
        '    type: kubernetes\n    namespace: shop\n    selector: { app: api, environment: staging }',
        'method: [{ fault: pod-kill, target: api, duration: 30s }]',
      ),
    );
    assert.equal(found.length, 1, found.join('\n'));
    assert.match(
      found[0]!,
      /^7:\d+ targets\.api\.selector: target "api" selects pods by 2 labels .*ANY one of them.*\(give the target one label .*--platform chaos-mesh\)/,
    );
  });

  it('faults and probes Litmus cannot express: every one located, naming the fault or probe, the target and what would work', () => {
    const found = problems(
      header(
        API,
        `steadyState:
  probes:
    - { name: db port, tcp: { host: db, port: 5432 } }
    - { name: stale, http: { url: "http://api:8080/" }, expect: { status: 200, body: { contains: ok } } }
    - { name: exit, command: { run: "true" }, expect: { exitCode: 1 } }
method:
  - { fault: pod-failure, target: api, duration: 30s }
  - { fault: clock-skew, target: api, offset: -1h, duration: 30s }
  - { fault: io-latency, target: api, volumePath: /data, delay: 10ms, duration: 30s }
  - { fault: latency, target: api, delay: 10ms, peer: db, duration: 30s }
  - { fault: latency, target: api, delay: 10ms, percentage: 50%, duration: 30s }
  - { fault: http-abort, target: api, status: 418, duration: 30s }
  - { fault: http-delay, target: api, delay: 1s, match: { pathPrefix: /pay }, duration: 30s }
  - { fault: container-kill, target: api, containers: [app, sidecar], duration: 30s }
  - { fault: memory-stress, target: api, size: 25%, duration: 30s }
  - { fault: partition, target: api, duration: 30s }
  - { fault: dns-error, target: api, patterns: ["*.example.com"], duration: 30s }
  - wait: 10s
  - { fault: pod-kill, target: api, duration: 30s }`,
      ),
    );
    const expect: [RegExp, RegExp][] = [
      [/steadyState\.probes\[0\]\.tcp: probe "db port": Litmus has no tcp probe/, /nc -z/],
      [/steadyState\.probes\[1\]\.expect\.body: probe "stale": .*status code only/, /more lenient/],
      [/steadyState\.probes\[2\]\.expect\.exitCode: probe "exit"/, /exit 0/],
      [
        /method\[0\]: fault pod-failure on target "api": Litmus has no pod-failure/,
        /pod-kill .*--platform chaos-mesh/,
      ],
      [/method\[1\]: fault clock-skew on target "api"/, /TimeChaos/],
      [/method\[2\]: fault io-latency on target "api"/, /IOChaos/],
      [
        /method\[3\]\.peer: fault latency on target "api": .*not another target's pods \("db"\)/,
        /peerHosts/,
      ],
      [/method\[4\]\.percentage: fault latency on target "api"/, /mode and value/],
      [/method\[5\]\.status: fault http-abort on target "api": .*not 418/, /istio/],
      [/method\[6\]\.match: fault http-delay on target "api"/, /HTTPChaos/],
      [
        /method\[7\]\.containers: fault container-kill on target "api": .*one container/,
        /one fault per container/,
      ],
      [/method\[8\]\.size: fault memory-stress on target "api"/, /MB or GB/],
      [
        /method\[9\]\.target: fault partition on target "api": .*every pod with the label/,
        /mode: all/,
      ],
      [/method\[10\]\.patterns: fault dns-error on target "api"/, /DNSChaos/],
      [
        /method\[12\]: fault pod-kill on target "api" starts after a wait \(method\[11\]\)/,
        /Workflow/,
      ],
    ];
    assert.equal(found.length, expect.length, found.join('\n'));
    for (const [message, hint] of expect) {
      const line = found.find((f) => message.test(f));
      assert.ok(line, `${message} in:\n${found.join('\n')}`);
      assert.match(line, hint);
      assert.match(line, /^\d+:\d+ /, `located at line:column: ${line}`);
    }
  });

  it('blast radius: one pod is PODS_AFFECTED_PERC 0 (litmus-go\'s "one"), a fixed count other than 1 is refused', () => {
    const one = compileText(
      header(
        '    type: kubernetes\n    namespace: shop-staging\n    selector: { app: api }',
        'method: [{ fault: pod-kill, target: api, duration: 30s }]',
      ),
      'litmus',
    );
    assert.equal(envOf(one.files[0]!.document as Engine)['PODS_AFFECTED_PERC'], '0');
    const found = problems(
      header(
        '    type: kubernetes\n    namespace: shop-staging\n    selector: { app: api }\n    mode: fixed\n    value: "2"',
        'method: [{ fault: pod-kill, target: api, duration: 30s }]',
      ),
    );
    assert.equal(found.length, 1, found.join('\n'));
    assert.match(
      found[0]!,
      /targets\.api\.mode: mode fixed \(2 pods\) .*not a count \(use mode one, or fixed-percent/,
    );
  });
});
