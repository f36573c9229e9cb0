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
import { parse } from 'yaml';
import { readDocument, validateExperiment } from '../../src/experiment/load.js';
import { ProxyCollection } from '../../src/faults/proxy/proxy-collection.js';
import { loadArchitectureFile } from '../../src/planner/architecture-load.js';
import { architectureJsonSchema } from '../../src/planner/architecture-schema.js';
import { composeDocument, proxiesConfig } from '../../src/planner/compose.js';
import { buildPlan, type Plan } from '../../src/planner/plan.js';
import { renderTable } from '../../src/planner/render.js';
import { loadDocument } from '../../src/runner/load-plan.js';
import { checkGuardrails } from '../../src/targets/kubernetes/guardrails.js';
import { compileForPlatform } from '../../src/targets/platform-compile.js';
import { runCli, type CliResult } from '../helpers/cli.js';

const root = new URL('../../', import.meta.url).pathname;
const fixtures = join(root, 'test/fixtures');
const goldenDir = join(fixtures, 'planner/golden/fintech');
const FINTECH = join(root, 'examples/architectures/fintech.yaml');
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

function assertGolden(relative: string, actual: string): void {
  const path = join(goldenDir, relative);
  if (process.env['UPDATE_GOLDEN'] === '1' || (!existsSync(path) && process.env['CI'] !== 'true')) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  assert.ok(existsSync(path), `golden file ${relative} is missing (run with UPDATE_GOLDEN=1 and commit it)`);
  assert.equal(actual, readFileSync(path, 'utf8'), `${relative} differs from its golden file (UPDATE_GOLDEN=1 rewrites it after review)`);
}

const cli = (argv: string[], cwd = root): Promise<CliResult> => runCli(argv, { cwd });

describe('faultline plan on the fintech architecture', () => {
  let plan: Plan;
  before(async () => {
    plan = buildPlan(await loadArchitectureFile(FINTECH, 'examples/architectures/fintech.yaml'), { top: 10, dir: 'chaos' });
  });

  it('ranks payment-service → PostgreSQL timeout first and the Redis outage second', () => {
    assert.equal(plan.catalogue[0]!.title, 'payment-service → postgresql timeout');
    assert.equal(plan.catalogue[1]!.title, 'redis outage');
    assert.deepEqual(plan.catalogue[0]!.brokenPaths, ['payment']);
    assert.match(plan.catalogue[0]!.businessImpact, /direct revenue loss/);
    assert.deepEqual(plan.catalogue[1]!.brokenPaths, ['login', 'payment', 'transfer']);
  });

  it('matches the golden outputs: table, catalogue, experiments, compose, proxies, workflow', () => {
    assertGolden('table.txt', renderTable(plan.catalogue, 10));
    const expected = new Set<string>();
    for (const file of plan.files) {
      assertGolden(file.path, file.text);
      expected.add(file.path);
    }
    // No stale golden file left behind by an earlier ranking.
    const walk = (dir: string, prefix = ''): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name), `${prefix}${d.name}/`) : [`${prefix}${d.name}`]));
    const stale = walk(goldenDir).filter((f) => f !== 'table.txt' && !expected.has(f));
    assert.deepEqual(stale, []);
  });

  it('writes hypotheses with numbers from the SLOs and baselines', () => {
    const first = plan.top[0]!;
    const expressions = first.hypotheses.filter((h) => h.expression).map((h) => h.expression);
    assert.deepEqual(expressions, ['p99 < 2s', 'error_rate < 1%', 'error_rate > 5% for 5s']);
    assert.match(first.hypotheses[0]!.derivedFrom, /SLO p99 2s \(baseline 340ms\)/);
    assert.ok(first.hypotheses.some((h) => h.check === 'probe' && /no payment-service transaction is lost/.test(h.statement)));
  });

  it('generates experiments that faultline validate accepts, for local proxies and Kubernetes', () => {
    const experiments = plan.top.flatMap((p) => p.experiments).filter((e) => e.file !== undefined);
    assert.equal(experiments.length, 20);
    for (const e of experiments) {
      const text = e.text!;
      const loaded = loadDocument(text, e.file!);
      assert.equal(loaded.format, 'faultline', e.file);
      if (loaded.format !== 'faultline') continue;
      const targets = Object.values(loaded.experiment.targets).map((t) => t.type);
      assert.ok(targets.length > 0, e.file);
      assert.ok(targets.every((t) => t === (e.variant === 'local' ? 'remote-proxy' : 'kubernetes')), `${e.file}: ${targets.join(', ')}`);
      assert.ok(loaded.experiment.steadyState?.thresholds.length, e.file);
      assert.ok(loaded.experiment.safety?.abortWhen.length, e.file);
      if (e.variant === 'kubernetes') {
        assert.deepEqual(checkGuardrails(loaded.experiment), [], e.file);
        for (const t of Object.values(loaded.experiment.targets)) if (t.type === 'kubernetes') assert.equal(t.mode, 'one');
        const read = readDocument(text, e.file!);
        const out = compileForPlatform(validateExperiment(read, e.file!), read, 'chaos-mesh', { file: e.file!, env: { TOKEN: 'test-token' } });
        assert.ok(out.files.length > 0, `${e.file} compiles to Chaos Mesh`);
      }
    }
  });

  it('writes a docker-compose file that the Compose Specification schema accepts', () => {
    const schema = JSON.parse(readFileSync(join(fixtures, 'compose/compose-spec.json'), 'utf8')) as Record<string, unknown>;
    // The schema names draft-07 by an https URL ajv does not know; its own keywords are draft-07's.
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    const compose = parse(plan.files.find((f) => f.path === 'docker-compose.chaos.yaml')!.text) as Record<string, any>;
    assert.ok(validate(compose), JSON.stringify(validate.errors, null, 2));
    // The schema check has teeth: a misspelt key is refused.
    assert.equal(validate({ services: { a: { imagee: 'x' } } }), false);
    // Every caller reaches each dependency with a local address through the proxy.
    assert.equal(compose['services']['payment-service'].environment.POSTGRESQL_ADDR.startsWith('faultline-proxy:'), true);
    assert.match(compose['services']['faultline-proxy'].command.join(' '), /proxy serve .*--config \/faultline\/proxies\.json/);
    assert.deepEqual(compose['services']['faultline-proxy'].ports, ['127.0.0.1:8474:8474']);
  });

  it('writes a compose file the schema accepts for a minimal architecture (unknown engine, no images)', async () => {
    const schema = JSON.parse(readFileSync(join(fixtures, 'compose/compose-spec.json'), 'utf8')) as Record<string, unknown>;
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    const minimal = await loadArchitectureFile(join(fixtures, 'planner/minimal.yaml'), 'minimal.yaml');
    assert.ok(validate(composeDocument(minimal)), JSON.stringify(validate.errors));
  });

  it('plans an architecture with nothing optional: local experiments validate, kubernetes ones say why they are missing', async () => {
    const minimal = await loadArchitectureFile(join(fixtures, 'planner/minimal.yaml'), 'minimal.yaml');
    const small = buildPlan(minimal, { top: 100 });
    assert.equal(small.top.length, small.catalogue.length);
    let local = 0;
    for (const p of small.top) {
      for (const e of p.experiments) {
        if (e.variant === 'kubernetes') assert.ok('skipped' in e && /kubernetes placement/.test(e.skipped), `${p.scenario.id}: ${JSON.stringify(e)}`);
        else if (e.file) {
          local++;
          assert.equal(loadDocument(e.text, e.file).format, 'faultline');
        } else assert.ok('skipped' in e && e.skipped.length > 0);
      }
    }
    assert.ok(local >= 5, `${local} local experiments`);
  });

  it('gives the proxy server a config it accepts (Toxiproxy populate format)', async () => {
    const architecture = await loadArchitectureFile(FINTECH);
    const config = proxiesConfig(architecture);
    assert.equal(new Set(config.map((p) => p.name)).size, config.length);
    // Same names, upstreams and listen host as generated; port 0 so the test binds free ports.
    const collection = new ProxyCollection({ allowRemoteListen: true });
    try {
      await collection.populate(config.map((p) => ({ ...p, listen: p.listen.replace(/:\d+$/, ':0') })));
      assert.deepEqual(collection.list().map((p) => p.name).sort(), config.map((p) => p.name).sort());
    } finally {
      await collection.close();
    }
  });

  it('writes a CI workflow whose chaos steps run the local experiments it generated', () => {
    const workflow = parse(plan.files.find((f) => f.path === '.github/workflows/chaos.yml')!.text) as { jobs: { chaos: { steps: Array<{ run?: string; if?: string; env?: Record<string, string> }> } } };
    const runs = workflow.jobs.chaos.steps.filter((s) => s.run?.startsWith('npx faultline run'));
    assert.equal(runs.length, plan.top.flatMap((p) => p.experiments).filter((e) => e.variant === 'local' && e.file).length);
    for (const step of runs) {
      const path = /faultline run (\S+)/.exec(step.run!)![1]!;
      assert.ok(plan.files.some((f) => `chaos/${f.path}` === path), path);
      assert.equal(step.if, '${{ !cancelled() }}');
    }
    assert.ok(workflow.jobs.chaos.steps.some((s) => s.run === 'docker compose -f chaos/docker-compose.chaos.yaml up -d --wait'));
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
    const { code, stdout, stderr } = await cli(['plan', 'examples/architectures/fintech.yaml', '--top', '3', '-o', join(dir, 'out')]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /impact reach likely missing/);
    assert.match(stdout, /1\s+83\.1\s+payment-service → postgresql timeout\s+40\.0\s+4\.1\s+14\.0\s+25\.0/);
    assert.match(stdout, /why: breaks the payment path/);
    for (const file of ['catalogue.md', 'catalogue.json', 'docker-compose.chaos.yaml', 'proxies.json', '.github/workflows/chaos.yml', 'experiments/01-dependency-timeout-payment-service-postgresql.local.yaml']) {
      assert.ok(existsSync(join(dir, 'out', file)), file);
    }
    // The written experiments pass `faultline validate` itself.
    const experiments = readdirSync(join(dir, 'out/experiments')).map((f) => join(dir, 'out/experiments', f));
    const validate = await cli(['validate', ...experiments]);
    assert.equal(validate.code, 0, validate.stderr);
  });

  it('prints Markdown and JSON', async () => {
    const md = await cli(['plan', 'examples/architectures/fintech.yaml', '--format', 'md', '--top', '2']);
    assert.equal(md.code, 0);
    assert.match(md.stdout, /^# Failure catalogue: fintech/);
    assert.match(md.stdout, /\*\*Why it ranks here\*\*/);
    const json = await cli(['plan', 'examples/architectures/fintech.yaml', '--format', 'json', '--top', '2']);
    const data = JSON.parse(json.stdout) as { scenarios: Array<{ id: string; parts: Record<string, { points: number }> }>; top: unknown[] };
    assert.equal(data.scenarios[0]!.id, 'dependency-timeout:payment-service->postgresql');
    assert.equal(data.top.length, 2);
  });

  for (const [file, count] of [['many-problems.yaml', 11], ['cycle.yaml', 2], ['not-an-architecture.yaml', 3], ['syntax.yaml', 1]] as const) {
    it(`exits 2 on ${file} with every problem located, no stack trace`, async () => {
      const { code, stdout, stderr } = await cli(['plan', `test/fixtures/planner/bad/${file}`]);
      assert.equal(code, 2);
      assert.equal(stdout, '');
      const located = stderr.split('\n').filter((l) => new RegExp(`test/fixtures/planner/bad/${file.replace('.', '\\.')}:\\d+:\\d+`).test(l));
      assert.equal(located.length, count, stderr);
      assert.doesNotMatch(stderr, /\n\s+at /);
    });
  }

  it('refuses a bad --top or --format with exit 2', async () => {
    assert.equal((await cli(['plan', 'examples/architectures/fintech.yaml', '--top', 'x'])).code, 2);
    assert.equal((await cli(['plan', 'examples/architectures/fintech.yaml', '--format', 'html'])).code, 2);
  });

  it('prints the architecture JSON Schema, kept in schema/architecture.json', async () => {
    const { code, stdout } = await cli(['schema', '--architecture']);
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(stdout), architectureJsonSchema());
    assert.deepEqual(JSON.parse(readFileSync(join(root, 'schema/architecture.json'), 'utf8')), architectureJsonSchema(), 'schema/architecture.json is stale: regenerate it with faultline schema --architecture');
  });
});
