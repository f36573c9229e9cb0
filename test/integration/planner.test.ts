// faultline plan on the shipped fintech architecture: the ranking and every output against golden
// files (UPDATE_GOLDEN=1 rewrites them), every generated experiment through the loader that
// `faultline validate` uses (and the kubernetes ones through the guardrails and the Chaos Mesh
// compiler), the docker-compose file against the real Compose Specification schema, its proxy
// config through a real proxy collection, and the CLI: files written, bad files exit 2 with
// every problem located and no stack trace.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse, stringify } from 'yaml';
import { readDocument, validateExperiment } from '../../src/run-plan/read-experiment.js';
import { ProxyCollection } from '../../src/engines/proxy/proxy-collection.js';
import { readArchitectureFile } from '../../src/planner/architecture-read.js';
import { architectureJsonSchema } from '../../src/planner/architecture-schema.js';
import { composeDocument, proxiesConfig } from '../../src/planner/compose.js';
import { planArchitecture, type ArchitecturePlan } from '../../src/planner/planner.js';
import { renderTable } from '../../src/planner/render.js';
import { loadDocument } from '../../src/run-plan/read-plan.js';
import { checkGuardrails } from '../../src/backends/kubernetes/guardrails.js';
import { compileForPlatform } from '../../src/compile/platform-compile.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { loadCrdValidator } from '../helpers/crd-validator.js';
import { parseArchitecture } from '../../src/planner/architecture-read.js';
import { MEDIA_YAML, SHOP_YAML } from '../helpers/planner-architectures.js';
import { PLATFORMS } from '../../src/compile/platforms.js';
import { ValidationError } from '../../src/errors.js';

const root = new URL('../../', import.meta.url).pathname;

/** The parts of a generated docker-compose file these tests read. */
interface ComposeFile {
  services: Record<
    string,
    { environment: Record<string, string>; command: string[]; ports: string[] }
  >;
}
const fixtures = join(root, 'test/fixtures');
const goldenDir = join(fixtures, 'planner/golden/fintech');
const FINTECH = join(root, 'examples/architectures/fintech.yaml');
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as (ajv: Ajv) => Ajv;

/** ajv on the Compose Specification's JSON Schema (test/fixtures/compose/PROVENANCE.md). */
function composeValidator(): ReturnType<Ajv['compile']> {
  const schema = JSON.parse(
    readFileSync(join(fixtures, 'compose/compose-spec.json'), 'utf8'),
  ) as Record<string, unknown>;
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

function assertGolden(relative: string, actual: string): void {
  const path = join(goldenDir, relative);
  if (process.env['UPDATE_GOLDEN'] === '1' || (!existsSync(path) && process.env['CI'] !== 'true')) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  assert.ok(
    existsSync(path),
    `golden file ${relative} is missing (run with UPDATE_GOLDEN=1 and commit it)`,
  );
  assert.equal(
    actual,
    readFileSync(path, 'utf8'),
    `${relative} differs from its golden file (UPDATE_GOLDEN=1 rewrites it after review)`,
  );
}

const cli = (argv: string[], cwd = root): Promise<CliResult> => runCli(argv, { cwd });

describe('faultline plan on the fintech architecture', () => {
  let plan: ArchitecturePlan;
  before(async () => {
    plan = planArchitecture(
      await readArchitectureFile(FINTECH, 'examples/architectures/fintech.yaml'),
      { top: 10, dir: 'chaos' },
    );
  });

  it('ranks payment-service → PostgreSQL timeout first and the Redis outage second', () => {
    assert.equal(plan.catalogue[0]!.title, 'payment-service → postgresql timeout');
    assert.equal(plan.catalogue[1]!.title, 'redis outage');
    assert.deepEqual(plan.catalogue[0]!.brokenPaths, ['payment']);
    assert.match(plan.catalogue[0]!.businessImpact, /direct revenue loss/);
    assert.deepEqual(plan.catalogue[1]!.brokenPaths, ['login', 'payment', 'transfer']);
  });

  it('matches the golden outputs: table, catalogue, experiments, compose, proxies, workflow', () => {
    assertGolden(
      'table.txt',
      renderTable(plan.catalogue, plan.top, { passedOver: plan.passedOver }),
    );
    const expected = new Set<string>();
    for (const file of plan.files) {
      assertGolden(file.path, file.text);
      expected.add(file.path);
    }
    // No stale golden file left behind by an earlier ranking.
    const walk = (dir: string, prefix = ''): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
        d.isDirectory() ? walk(join(dir, d.name), `${prefix}${d.name}/`) : [`${prefix}${d.name}`],
      );
    const stale = walk(goldenDir).filter((f) => f !== 'table.txt' && !expected.has(f));
    assert.deepEqual(stale, []);
  });

  it('writes hypotheses with numbers from the SLOs and baselines', () => {
    const first = plan.top[0]!;
    const expressions = first.hypotheses.filter((h) => h.expression).map((h) => h.expression);
    assert.deepEqual(expressions, ['p99 < 2s', 'error_rate < 1%', 'error_rate > 5% for 5s']);
    assert.match(first.hypotheses[0]!.derivedFrom, /SLO p99 2s \(baseline 340ms\)/);
    assert.ok(
      first.hypotheses.some(
        (h) => h.check === 'probe' && /no payment-service transaction is lost/.test(h.statement),
      ),
    );
  });

  it('generates experiments that faultline validate accepts, for local proxies and Kubernetes', () => {
    const experiments = plan.top.flatMap((p) => p.experiments).filter((e) => e.file !== undefined);
    // Ten on the cluster, nine locally: memory pressure needs the pod itself.
    assert.equal(experiments.filter((e) => e.variant === 'kubernetes').length, 10);
    assert.deepEqual(
      plan.top.flatMap((p) => p.experiments.filter((e) => e.variant === 'local' && !e.file)),
      [
        {
          variant: 'local',
          skipped:
            'memory pressure needs the pod itself (StressChaos): see the kubernetes experiment',
        },
      ],
    );
    for (const e of experiments) {
      const text = e.text!;
      const loaded = loadDocument(text, e.file!);
      assert.equal(loaded.format, 'faultline', e.file);
      if (loaded.format !== 'faultline') continue;
      const targets = Object.values(loaded.experiment.targets).map((t) => t.type);
      assert.ok(targets.length > 0, e.file);
      assert.ok(
        targets.every((t) => t === (e.variant === 'local' ? 'remote-proxy' : 'kubernetes')),
        `${e.file}: ${targets.join(', ')}`,
      );
      assert.ok(loaded.experiment.steadyState?.thresholds.length, e.file);
      assert.ok(loaded.experiment.safety?.abortWhen.length, e.file);
      if (e.variant === 'kubernetes') {
        assert.deepEqual(checkGuardrails(loaded.experiment), [], e.file);
        for (const t of Object.values(loaded.experiment.targets))
          if (t.type === 'kubernetes') assert.equal(t.mode, 'one');
        const read = readDocument(text, e.file!);
        const out = compileForPlatform(validateExperiment(read, e.file!), read, 'chaos-mesh', {
          file: e.file!,
          env: { TOKEN: 'test-token' },
        });
        assert.ok(out.files.length > 0, `${e.file} compiles to Chaos Mesh`);
      }
    }
  });

  it('writes a docker-compose file that the Compose Specification schema accepts', () => {
    const schema = JSON.parse(
      readFileSync(join(fixtures, 'compose/compose-spec.json'), 'utf8'),
    ) as Record<string, unknown>;
    // The schema names draft-07 by an https URL ajv does not know; its own keywords are draft-07's.
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    const compose = parse(
      plan.files.find((f) => f.path === 'docker-compose.chaos.yaml')!.text,
    ) as ComposeFile;
    assert.ok(validate(compose), JSON.stringify(validate.errors, null, 2));
    // The schema check has teeth: a misspelt key is refused.
    assert.equal(validate({ services: { a: { imagee: 'x' } } }), false);
    // Every caller reaches each dependency with a local address through the proxy.
    assert.equal(
      compose.services['payment-service']!.environment['POSTGRESQL_ADDR']!.startsWith(
        'faultline-proxy:',
      ),
      true,
    );
    assert.match(
      compose.services['faultline-proxy']!.command.join(' '),
      /proxy serve .*--config \/faultline\/proxies\.json/,
    );
    assert.deepEqual(compose.services['faultline-proxy']!.ports, ['127.0.0.1:8474:8474']);
  });

  it('writes a compose file that runs: a built proxy image, healthchecks, service_healthy, URLs', async () => {
    const validate = composeValidator();
    for (const [name, text] of [
      ['fintech', readFileSync(FINTECH, 'utf8')],
      ['shop', SHOP_YAML],
      ['media', MEDIA_YAML],
    ] as const) {
      const architecture = parseArchitecture(text, `${name}.yaml`);
      const file = planArchitecture(architecture, { dir: 'chaos' }).files.find(
        (f) => f.path === 'docker-compose.chaos.yaml',
      )!;
      const compose = parse(file.text) as {
        services: Record<
          string,
          {
            image: string;
            build?: { context: string; dockerfile: string };
            command?: string[];
            healthcheck?: { test: string[] };
            depends_on?: Record<string, { condition: string }>;
            environment?: Record<string, string>;
          }
        >;
      };
      assert.ok(validate(compose), `${name}: ${JSON.stringify(validate.errors, null, 2)}`);
      const proxy = compose.services['faultline-proxy']!;
      // No package fetched at start-up: the image is built from the Dockerfile shipped here.
      assert.doesNotMatch(JSON.stringify(proxy), /npx/);
      assert.equal(proxy.build!.context, '${FAULTLINE_BUILD_CONTEXT:-../node_modules/faultline}');
      assert.equal(proxy.build!.dockerfile, 'Dockerfile');
      assert.ok(existsSync(join(root, proxy.build!.dockerfile)), 'the Dockerfile is in the repo');
      assert.ok(
        (
          JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[] }
        ).files.includes('Dockerfile'),
        'and in the npm package',
      );
      for (const [service, entry] of Object.entries(compose.services)) {
        const known = !/_IMAGE:\?/.test(entry.image);
        if (known) assert.ok(entry.healthcheck, `${name}: ${service} has a healthcheck`);
        for (const [dependency, { condition }] of Object.entries(entry.depends_on ?? {}))
          assert.equal(
            condition,
            compose.services[dependency]!.healthcheck ? 'service_healthy' : 'service_started',
            `${name}: ${service} → ${dependency}`,
          );
      }
    }
    // URLs in the form the clients expect, through the proxy.
    const fintech = parse(
      plan.files.find((f) => f.path === 'docker-compose.chaos.yaml')!.text,
    ) as ComposeFile;
    const payment = fintech.services['payment-service']!.environment;
    assert.match(payment['DATABASE_URL']!, /^postgres:\/\/postgres@faultline-proxy:\d+\/postgres$/);
    assert.match(payment['REDIS_URL']!, /^redis:\/\/faultline-proxy:\d+$/);
    assert.match(
      fintech.services['api-gateway']!.environment['AUTH_SERVICE_URL']!,
      /^http:\/\/faultline-proxy:\d+$/,
    );
    // Configurable per edge in the architecture.
    const doc = parse(readFileSync(FINTECH, 'utf8')) as {
      services: Record<string, { dependsOn: Array<Record<string, unknown>> }>;
    };
    Object.assign(doc.services['payment-service']!.dependsOn[0]!, {
      urlEnv: 'PAYMENTS_DB',
      url: 'postgres://app:secret@{host}:{port}/payments',
    });
    const edited = composeDocument(
      parseArchitecture(stringify(doc), 'edited.yaml'),
    ) as unknown as ComposeFile;
    assert.match(
      edited.services['payment-service']!.environment['PAYMENTS_DB']!,
      /^postgres:\/\/app:secret@faultline-proxy:\d+\/payments$/,
    );
  });

  it('writes a compose file the schema accepts for a minimal architecture (unknown engine, no images)', async () => {
    const schema = JSON.parse(
      readFileSync(join(fixtures, 'compose/compose-spec.json'), 'utf8'),
    ) as Record<string, unknown>;
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    const minimal = await readArchitectureFile(
      join(fixtures, 'planner/minimal.yaml'),
      'minimal.yaml',
    );
    assert.ok(validate(composeDocument(minimal)), JSON.stringify(validate.errors));
  });

  it('plans an architecture with nothing optional: local experiments validate, kubernetes ones say why they are missing', async () => {
    const minimal = await readArchitectureFile(
      join(fixtures, 'planner/minimal.yaml'),
      'minimal.yaml',
    );
    const small = planArchitecture(minimal, { top: 100 });
    assert.equal(small.top.length, small.catalogue.length);
    let local = 0;
    for (const p of small.top) {
      for (const e of p.experiments) {
        if (e.variant === 'kubernetes')
          assert.ok(
            'skipped' in e && /kubernetes placement/.test(e.skipped),
            `${p.scenario.id}: ${JSON.stringify(e)}`,
          );
        else if (e.file) {
          local++;
          assert.equal(loadDocument(e.text, e.file).format, 'faultline');
        } else assert.ok('skipped' in e && e.skipped.length > 0);
      }
    }
    assert.ok(local >= 5, `${local} local experiments`);
  });

  it('gives the proxy server a config it accepts (Toxiproxy populate format)', async () => {
    const architecture = await readArchitectureFile(FINTECH);
    const config = proxiesConfig(architecture);
    assert.equal(new Set(config.map((p) => p.name)).size, config.length);
    // Same names, upstreams and listen host as generated; port 0 so the test binds free ports.
    const collection = new ProxyCollection({ allowRemoteListen: true });
    try {
      await collection.populate(
        config.map((p) => ({ ...p, listen: p.listen.replace(/:\d+$/, ':0') })),
      );
      assert.deepEqual(
        collection
          .list()
          .map((p) => p.name)
          .sort(),
        config.map((p) => p.name).sort(),
      );
    } finally {
      await collection.close();
    }
  });

  it('writes a CI workflow whose chaos steps run the local experiments it generated', () => {
    const workflow = parse(
      plan.files.find((f) => f.path === '.github/workflows/chaos.yml')!.text,
    ) as {
      jobs: {
        chaos: { steps: Array<{ run?: string; if?: string; env?: Record<string, string> }> };
      };
    };
    const runs = workflow.jobs.chaos.steps.filter((s) => s.run?.startsWith('npx faultline run'));
    // The top 3 after each deploy, in the top's order.
    assert.deepEqual(
      runs.map((r) => /experiments\/(\S+)\.local\.yaml/.exec(r.run!)![1]),
      [
        '01-dependency-timeout-payment-service-postgresql',
        '02-dependency-outage-redis',
        '03-latency-spike-auth-service',
      ],
    );
    for (const step of runs) {
      const path = /faultline run (\S+)/.exec(step.run!)![1]!;
      assert.ok(
        plan.files.some((f) => `chaos/${f.path}` === path),
        path,
      );
      assert.equal(step.if, '${{ !cancelled() }}');
    }
    const steps = workflow.jobs.chaos.steps as Array<{
      run?: string;
      if?: string;
      uses?: string;
      with?: Record<string, unknown>;
    }>;
    assert.ok(
      steps.some(
        (s) => s.run === 'docker compose -f chaos/docker-compose.chaos.yaml up -d --build --wait',
      ),
    );
    const doc = parse(plan.files.find((f) => f.path === '.github/workflows/chaos.yml')!.text) as {
      on: { workflow_run?: { workflows: string[]; types: string[] } };
      jobs: { chaos: { if: string } };
    };
    assert.deepEqual(doc.on.workflow_run?.types, ['completed']);
    assert.match(doc.jobs.chaos.if, /workflow_run\.conclusion == 'success'/);
    assert.deepEqual(steps.find((s) => s.uses === 'actions/setup-node@v4')!.with, {
      'node-version': 'lts/*',
    });
    // After the experiments: the rollback of whatever is left, then the JUnit upload.
    const last = runs.at(-1)!;
    const after = steps.slice(steps.indexOf(last) + 1);
    assert.deepEqual(
      after.find((s) => s.run === 'npx faultline recover'),
      { name: 'roll back every fault left', if: '${{ always() }}', run: 'npx faultline recover' },
    );
    assert.ok(
      after.some(
        (s) =>
          s.uses === 'actions/upload-artifact@v4' && s.with?.['path'] === 'chaos-results/*.xml',
      ),
    );
    // No path leaves the repository.
    assert.doesNotMatch(
      plan.files.find((f) => f.path === '.github/workflows/chaos.yml')!.text,
      /\.\.\//,
    );
  });

  it('fixes the workflow paths, with a warning, when -o is outside the repository', async () => {
    const outside = planArchitecture(
      await readArchitectureFile(FINTECH, 'examples/architectures/fintech.yaml'),
      { dir: '../../tmp/plan' },
    );
    assert.match(
      outside.warnings[0]!,
      /outside the repository: the CI workflow's paths say chaos\//,
    );
    const text = outside.files.find((f) => f.path === '.github/workflows/chaos.yml')!.text;
    assert.doesNotMatch(text, /\.\.\//);
    assert.match(text, /npx faultline run chaos\/experiments\/01-/);
  });
});

describe('faultline plan (CLI)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-plan-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the table with the score parts and writes every file with -o', async () => {
    const { code, stdout, stderr } = await cli([
      'plan',
      'examples/architectures/fintech.yaml',
      '--top',
      '3',
      '--out-dir',
      join(dir, 'out'),
    ]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /impact reach likely missing/);
    assert.match(
      stdout,
      /1\s+83\.1\s+payment-service → postgresql timeout\s+40\.0\s+4\.1\s+14\.0\s+25\.0/,
    );
    assert.match(stdout, /why: breaks the payment path/);
    for (const file of [
      'catalogue.md',
      'catalogue.json',
      'docker-compose.chaos.yaml',
      'proxies.json',
      '.github/workflows/chaos.yml',
      'experiments/01-dependency-timeout-payment-service-postgresql.local.yaml',
    ]) {
      assert.ok(existsSync(join(dir, 'out', file)), file);
    }
    // The written experiments pass `faultline validate` itself.
    const experiments = readdirSync(join(dir, 'out/experiments')).map((f) =>
      join(dir, 'out/experiments', f),
    );
    const validate = await cli(['validate', ...experiments]);
    assert.equal(validate.code, 0, validate.stderr);
  });

  it('prints Markdown and JSON', async () => {
    const md = await cli([
      'plan',
      'examples/architectures/fintech.yaml',
      '--format',
      'md',
      '--top',
      '2',
    ]);
    assert.equal(md.code, 0);
    assert.match(md.stdout, /^# Failure catalogue: fintech/);
    assert.match(md.stdout, /\*\*Why it ranks here\*\*/);
    const json = await cli([
      'plan',
      'examples/architectures/fintech.yaml',
      '--format',
      'json',
      '--top',
      '2',
    ]);
    const data = JSON.parse(json.stdout) as {
      scenarios: Array<{ id: string; parts: Record<string, { points: number }> }>;
      top: unknown[];
    };
    assert.equal(data.scenarios[0]!.id, 'slow-dependency:payment-service->postgresql');
    assert.equal(data.top.length, 2);
    // The full list stays in the JSON, one row per failure mode and component.
    const full = await cli(['plan', 'examples/architectures/fintech.yaml', '--format', 'json']);
    const rows = (JSON.parse(full.stdout) as { scenarios: unknown[] }).scenarios;
    assert.equal(rows.length, 59);
  });

  for (const [file, count] of [
    ['many-problems.yaml', 11],
    ['cycle.yaml', 2],
    ['not-an-architecture.yaml', 3],
    ['syntax.yaml', 1],
  ] as const) {
    it(`exits 2 on ${file} with every problem located, no stack trace`, async () => {
      const { code, stdout, stderr } = await cli(['plan', `test/fixtures/planner/bad/${file}`]);
      assert.equal(code, 2);
      assert.equal(stdout, '');
      const located = stderr
        .split('\n')
        .filter((l) =>
          new RegExp(`test/fixtures/planner/bad/${file.replace('.', '\\.')}:\\d+:\\d+`).test(l),
        );
      assert.equal(located.length, count, stderr);
      assert.doesNotMatch(stderr, /\n\s+at /);
    });
  }

  it('prints every row with --all, the top marked by its place', async () => {
    const { code, stdout } = await cli(['plan', 'examples/architectures/fintech.yaml', '--all']);
    assert.equal(code, 0);
    const rows = stdout.split('\n').filter((l) => /^\s*\d*\s+\d+\s+\d+\.\d/.test(l));
    assert.equal(rows.length, 59);
    const marked = rows.filter((l) => /^\s*\d+\s+\d+\s+\d+\.\d/.test(l));
    assert.equal(marked.length, 10);
    assert.match(rows[30]!, /^\s+31\s+46\.4\s+api-gateway memory pressure/);
  });

  it('refuses a bad --top or --format with exit 2', async () => {
    assert.equal(
      (await cli(['plan', 'examples/architectures/fintech.yaml', '--top', 'x'])).code,
      2,
    );
    assert.equal(
      (await cli(['plan', 'examples/architectures/fintech.yaml', '--format', 'html'])).code,
      2,
    );
  });

  it('prints the architecture JSON Schema, kept in schema/architecture.json', async () => {
    const { code, stdout } = await cli(['schema', '--architecture']);
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(stdout), architectureJsonSchema());
    assert.deepEqual(
      JSON.parse(readFileSync(join(root, 'schema/architecture.json'), 'utf8')),
      architectureJsonSchema(),
      'schema/architecture.json is stale: regenerate it with faultline schema --architecture',
    );
  });
});

describe('faultline plan: every kubernetes experiment compiles where it can be expressed', () => {
  const chaosMesh = loadCrdValidator(join(fixtures, 'chaos-mesh/crds'));
  const litmus = loadCrdValidator(join(fixtures, 'litmus/crds'));
  const architectures = {
    fintech: readFileSync(FINTECH, 'utf8'),
    shop: SHOP_YAML,
    media: MEDIA_YAML,
  };
  for (const [name, text] of Object.entries(architectures)) {
    it(`${name}: Chaos Mesh always, Istio for HTTP faults, Litmus unless a fault or probe has no Litmus form`, () => {
      const architecture = parseArchitecture(text, `${name}.yaml`);
      const plan = planArchitecture(architecture, { top: 10 });
      const compiled: Record<string, string[]> = { 'chaos-mesh': [], istio: [], litmus: [] };
      for (const p of plan.top) {
        for (const e of p.experiments) {
          if (e.variant !== 'kubernetes' || !e.file) continue;
          const read = readDocument(e.text, e.file);
          const experiment = validateExperiment(read, e.file);
          for (const platform of PLATFORMS.filter((x) => x !== 'aws-fis')) {
            let out;
            try {
              out = compileForPlatform(experiment, read, platform, {
                file: e.file,
                env: { TOKEN: 'test-token' },
              });
            } catch (err) {
              assert.ok(err instanceof ValidationError, `${e.file} ${platform}: ${String(err)}`);
              // Refused for what the platform has no form for (a fault, a probe), never for a
              // selector the planner could have written otherwise (a primary's labels excepted).
              for (const issue of err.issues)
                if (/selects pods by \d+ labels/.test(issue.message))
                  assert.match(issue.message, /role=primary/, `${e.file} ${platform}`);
              continue;
            }
            compiled[platform]!.push(p.scenario.family);
            for (const f of out.files) {
              const doc = f.document as { kind: string; spec: Record<string, unknown> };
              if (platform === 'chaos-mesh') {
                assert.deepEqual(chaosMesh.validate(doc), [], `${e.file} ${f.name}`);
                // A network fault is limited to the peer it is about: kubelet and DNS traffic spared.
                if (doc.kind === 'NetworkChaos')
                  assert.ok(
                    doc.spec['target'] !== undefined || doc.spec['externalTargets'] !== undefined,
                    `${e.file}: NetworkChaos without a peer`,
                  );
              }
              if (platform === 'litmus') assert.deepEqual(litmus.validate(doc), [], f.name);
            }
          }
        }
      }
      const placed = plan.top.some((p) =>
        p.experiments.some((e) => e.variant === 'kubernetes' && e.file),
      );
      if (!placed) {
        assert.equal(name, 'media', 'only the media file places nothing on Kubernetes');
        return;
      }
      assert.equal(
        compiled['chaos-mesh']!.length,
        plan.top.filter((p) => p.experiments.some((e) => e.variant === 'kubernetes' && e.file))
          .length,
      );
      // The latency spike is an HTTP delay on the service: Istio and HTTPChaos take it.
      assert.ok(compiled['istio']!.includes('latency-spike'), JSON.stringify(compiled));
      assert.ok(compiled['litmus']!.includes('latency-spike'), JSON.stringify(compiled));
    });
  }

  it('selects the declared primary of a replicated database, and says so when none is declared', () => {
    const plan = planArchitecture(parseArchitecture(readFileSync(FINTECH, 'utf8'), 'fintech.yaml'));
    const disk = plan.top.find((p) => p.scenario.id === 'disk-pressure:postgresql')!;
    const k8s = disk.experiments.find((e) => e.variant === 'kubernetes' && e.file)!;
    const targets = (k8s as { experiment: { targets: Record<string, { selector: unknown }> } })
      .experiment.targets;
    assert.deepEqual(targets['postgresql']!.selector, {
      environment: 'staging',
      app: 'postgresql',
      role: 'primary',
    });
    // A service in a namespace named after the environment: one label, which Litmus takes.
    const spike = plan.top.find((p) => p.scenario.id === 'latency-spike:auth-service')!;
    const spikeK8s = spike.experiments.find((e) => e.variant === 'kubernetes' && e.file)!;
    assert.deepEqual(
      (spikeK8s as { experiment: { targets: Record<string, unknown> } }).experiment.targets[
        'auth-service'
      ],
      {
        type: 'kubernetes',
        namespace: 'payments-staging',
        selector: { app: 'auth-service' },
        mode: 'one',
        port: 4000,
        service: 'auth-service',
      },
    );
    // Every cluster file names its Services by their cluster DNS names and says how they are
    // reached: in-cluster from a pod, else the port-forward faultline opens.
    for (const p of plan.top)
      for (const e of p.experiments)
        if (e.variant === 'kubernetes' && e.file) {
          assert.match(
            e.text,
            /# Reaching the services: [A-Z_]+_URL \(default http:\/\/[a-z-]+\.payments-staging\.svc:\d+\)/,
            e.file,
          );
          assert.match(e.text, /in-cluster\);\n# elsewhere it opens a port-forward/, e.file);
          const config = (
            e as { experiment: { configuration: Record<string, { default?: string }> } }
          ).experiment.configuration;
          const urls = Object.entries(config).filter(
            ([k]) => k.endsWith('Url') && !k.endsWith('DatabaseUrl'),
          );
          assert.ok(
            urls.length > 0 &&
              urls.every(([, v]) =>
                /^http:\/\/[a-z-]+\.payments-staging\.svc:\d+$/.test(v.default ?? ''),
              ),
            e.file,
          );
        }
    const shop = planArchitecture(parseArchitecture(SHOP_YAML, 'shop.yaml'));
    const outage = shop.top.find((p) => p.scenario.id === 'dependency-outage:orders-db')!;
    const text = outage.experiments.find((e) => e.variant === 'kubernetes' && e.file)!;
    assert.match(
      (text as { text: string }).text,
      /orders-db has 2 replicas and no kubernetes.primaryLabels: mode one may pick a standby/,
    );
  });
});
