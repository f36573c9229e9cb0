// `faultline compile` through the CLI entry (in process): output on stdout or one file per
// document, notes on stderr, exit 2 with every problem located, and usage errors.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { chaosMeshFixtures, litmusFixtures } from '../helpers/golden.js';
import { runCli, type CliResult } from '../helpers/cli.js';

const cli = (argv: string[]): Promise<CliResult> => runCli(argv);

const fixture = (name: string): string => join(chaosMeshFixtures, 'experiments', name);

describe('faultline compile (CLI)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-compile-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('prints one YAML document per fault on stdout', async () => {
    const result = await cli(['compile', fixture('pod-faults.yaml'), '--platform', 'chaos-mesh']);
    assert.equal(result.code, 0, result.stderr);
    const docs = parseAllDocuments(result.stdout).map((d) => d.toJS() as { kind: string });
    assert.deepEqual(
      docs.map((d) => d.kind),
      ['PodChaos', 'PodChaos', 'PodChaos'],
    );
  });

  it('writes one file per document with -o, and notes what changed meaning on stderr', async () => {
    const out = join(dir, 'http');
    const result = await cli([
      'compile',
      fixture('http.yaml'),
      '--platform',
      'chaos-mesh',
      '--out-dir',
      out,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const files = (await readdir(out)).sort();
    assert.equal(files.length, 3);
    assert.ok(
      files.every((f) => f.startsWith('httpchaos-') && f.endsWith('.yaml')),
      files.join(', '),
    );
    assert.match(result.stderr, /note: .*the request still reaches the service/);
    assert.match(
      await readFile(join(out, files[0]!), 'utf8'),
      /^apiVersion: chaos-mesh\.org\/v1alpha1/,
    );
  });

  it('writes the FIS template as JSON', async () => {
    const result = await cli([
      'compile',
      fixture('fis.yaml'),
      '--platform',
      'aws-fis',
      '--role-arn',
      'arn:aws:iam::1:role/r',
      '--cluster-arn',
      'arn:aws:eks:eu-west-1:1:cluster/c',
      '--stop-alarm',
      'arn:aws:cloudwatch:eu-west-1:1:alarm:a',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      (JSON.parse(result.stdout) as { stopConditions: { source: string }[] }).stopConditions[0]!
        .source,
      'aws:cloudwatch:alarm',
    );
  });

  it('writes Litmus ChaosEngines, names the ChaosExperiments to install, and refuses a bad --workload-kind', async () => {
    const file = join(litmusFixtures, 'experiments', 'litmus-faults.yaml');
    const result = await cli([
      'compile',
      file,
      '--platform',
      'litmus',
      '--workload-kind',
      'rollout',
      '--chaos-service-account',
      'payments-chaos',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const docs = parseAllDocuments(result.stdout).map(
      (d) =>
        d.toJS() as {
          kind: string;
          spec: { chaosServiceAccount: string; selectors: { workloads: { kind: string }[] } };
        },
    );
    assert.equal(docs.length, 13);
    assert.ok(
      docs.every(
        (d) =>
          d.kind === 'ChaosEngine' &&
          d.spec.chaosServiceAccount === 'payments-chaos' &&
          d.spec.selectors.workloads[0]!.kind === 'rollout',
      ),
    );
    assert.match(
      result.stderr,
      /note: install the ChaosExperiments .*pod-delete.* with service account payments-chaos; pods are selected by rollout/,
    );
    const bad = await cli(['compile', file, '--platform', 'litmus', '--workload-kind', 'job']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--workload-kind job is not a workload kind Litmus selects by/);
  });

  it('exits 2 with every guardrail problem located, and writes nothing', async () => {
    const file = join(dir, 'wide.yaml');
    await writeFile(
      file,
      (await readFile(fixture('network-latency.yaml'), 'utf8'))
        .replace('environment: staging\n', 'environment: production\n')
        .replace(
          'selector: { app: payment-service, environment: staging }',
          'selector: { app: payment-service }\n    mode: all',
        ),
    );
    const out = join(dir, 'none');
    const result = await cli(['compile', file, '--platform', 'chaos-mesh', '--out-dir', out]);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /wide\.yaml: \d+ problems; nothing compiled/);
    assert.match(
      result.stderr,
      /wide\.yaml:3:\d+: environment: environment "production" is production/,
    );
    assert.match(result.stderr, /wide\.yaml:\d+:\d+: targets\.payment-service\.mode: mode all/);
    assert.match(
      result.stderr,
      /targets\.payment-service\.selector: the selector of "payment-service" has no environment qualifier/,
    );
    assert.match(result.stderr, /hint: production is refused unless --allow-production/);
    await assert.rejects(readdir(out), 'nothing written');
    const allowed = await cli([
      'compile',
      file,
      '--platform',
      'chaos-mesh',
      '--allow-production',
      '--allow-wide-blast',
    ]);
    assert.equal(allowed.code, 2, 'the missing qualifier has no escape');
    assert.doesNotMatch(allowed.stderr, /mode all|is production/);
  });

  it('names the fault, the target and the alternative when the platform cannot express it', async () => {
    const result = await cli(['compile', fixture('network-latency.yaml'), '--platform', 'istio']);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /network-latency\.yaml:\d+:\d+: method\[0\]\.fault: latency on "payment-service" cannot be expressed as an Istio fault/,
    );
    assert.match(result.stderr, /hint: compile with --platform chaos-mesh/);
  });

  it('refuses an unknown platform and kubernetes (which is for run) with a hint', async () => {
    const result = await cli(['compile', fixture('pod-faults.yaml'), '--platform', 'kubernetes']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /kubernetes is for faultline run/);
  });
});
