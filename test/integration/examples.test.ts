// The shipped examples: every scenario and Chaos Toolkit experiment validates; the Chaos
// Toolkit one runs as it is (chaostoolkit-toxiproxy's functions against a faultline proxy
// server, the demo's payment service behind it, the machine's PostgreSQL); the GitHub Actions
// workflow runs existing experiments whose safety rolls the fault back above 5 % errors.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { parse } from 'yaml';
import {
  SCHEMA_SQL,
  startPaymentService,
  type PaymentService,
} from '../../src/demo/payment-service.js';
import { ProxyCollection, startControlServer } from '../../src/index.js';
import { loadDocument, readPlan } from '../../src/run-plan/read-plan.js';
import { runExperiment } from '../../src/runner/runner.js';

const root = new URL('../../', import.meta.url).pathname;
const DATABASE_URL =
  process.env['FAULTLINE_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

function files(dir: string): string[] {
  return readdirSync(join(root, dir))
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .map((f) => join(dir, f));
}

describe('examples', () => {
  it('every scenario, fault family and Chaos Toolkit example validates, with no lint warning', () => {
    const all = [
      ...files('examples/scenarios'),
      ...files('examples/faults'),
      ...files('examples/chaostoolkit'),
    ];
    assert.ok(all.length >= 4, all.join(', '));
    for (const file of all) {
      const loaded = loadDocument(readFileSync(join(root, file), 'utf8'), file);
      assert.deepEqual(loaded.warnings, [], `${file}: ${loaded.warnings.join('; ')}`);
      if (file.includes('chaostoolkit')) assert.equal(loaded.format, 'chaostoolkit');
    }
  });

  it('the GitHub Actions chaos stage runs real experiments after the deploy and rolls back on failure', () => {
    const workflow = parse(
      readFileSync(join(root, 'examples/ci/github-actions-chaos.yml'), 'utf8'),
    ) as {
      jobs: Record<string, { needs?: string; if?: string; steps: { run?: string }[] }>;
    };
    const chaos = workflow.jobs['chaos']!;
    assert.equal(chaos.needs, 'deploy');
    const runs = chaos.steps.map((s) => s.run ?? '').filter((r) => r.includes('faultline run'));
    assert.ok(runs.length >= 1);
    for (const run of runs) {
      const file = /faultline run (\S+)/.exec(run)![1]!;
      assert.ok(existsSync(join(root, file)), `${file} exists`);
      const loaded = loadDocument(readFileSync(join(root, file), 'utf8'), file);
      assert.equal(loaded.format, 'faultline');
      if (loaded.format === 'faultline') {
        assert.ok(
          loaded.experiment.safety?.abortWhen.some((c) => /^error_rate > 5%/.test(c)),
          `${file} rolls the fault back above 5 % errors`,
        );
      }
    }
    assert.equal(workflow.jobs['rollback']?.needs, 'chaos');
    assert.equal(workflow.jobs['rollback']?.if, 'failure()');
  });

  describe('the Chaos Toolkit example runs as it is', () => {
    let dir: string;
    let collection: ProxyCollection;
    let api: Awaited<ReturnType<typeof startControlServer>>;
    let service: PaymentService;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'faultline-examples-'));
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(SCHEMA_SQL);
      await client.end();
      collection = new ProxyCollection();
      const db = new URL(DATABASE_URL);
      const proxy = await collection.create({
        name: 'payments-db',
        listen: '127.0.0.1:0',
        upstream: `${db.hostname}:${db.port || 5432}`,
      });
      api = await startControlServer({ collection, host: '127.0.0.1', port: 0 });
      const viaProxy = new URL(DATABASE_URL);
      viaProxy.port = String(proxy.port);
      const ledgerFile = join(dir, 'ledger.txt');
      await writeFile(ledgerFile, '');
      service = await startPaymentService({
        build: 'resilient',
        databaseUrl: viaProxy.toString(),
        ledgerFile,
      });
    });
    after(async () => {
      await service?.close();
      await api?.close();
      await collection?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it(
      'held, the toxic touched the database traffic and the rollback removed it',
      { timeout: 60_000 },
      async () => {
        const file = join(root, 'examples/chaostoolkit/payment-db-latency.json');
        const plan = await readPlan(file, {
          env: {},
          vars: { toxiproxy_url: api.url, payment_url: service.url },
        });
        const journal = await runExperiment(plan, { journalPath: join(dir, 'journal.json') });
        assert.ok(
          (journal.duration ?? 0) >= 2,
          `the 2 s pause after the fault was kept (${journal.duration} s)`,
        );
        assert.equal(journal.faultline.outcome, 'held', journal.faultline.reason);
        const [fault] = journal.faultline.faults;
        assert.equal(fault?.state, 'removed');
        assert.ok(
          (fault?.touched?.connections ?? 0) > 0,
          'the latency touched the service’s database connections',
        );
        assert.deepEqual(collection.get('payments-db').toxics, []);
      },
    );
  });
});
