// "Crash during a transaction": examples/faults/payment-crash-mid-transaction.yaml run as it is
// against the demo's payment service (a `service` target the run starts) and the machine's
// PostgreSQL (through a proxy the run starts), in a schema of its own created and dropped here.
// PostgreSQL's replies are held 1 s, so payments are in flight when the service is SIGKILLed;
// it is kept down, started again by the run; then the ledger of acknowledged payments is
// reconciled with the table independently of the service.
//
// What is true of both builds (and asserted): no acknowledged payment is lost and none is
// half-written — each payment is one INSERT committed before its id enters the ledger and
// before the 201 leaves. What the crash does cost is measured and asserted too: requests in
// flight fail, and some payments may be stored without ever being acknowledged (the client saw
// an error; a client that retries with a new id would pay twice — the idempotency-key problem).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { SCHEMA_SQL, TABLES } from '../../src/demo/payment-service.js';
import { readPlan } from '../../src/run-plan/read-plan.js';
import type { Journal } from '../../src/journal/journal.js';
import { runExperiment, type RunEvent } from '../../src/runner/runner.js';
import { freePort } from '../helpers/services.js';
import { localAt } from '../helpers/locations.js';
import { entryCommand } from '../helpers/entry.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(root, 'examples/faults/payment-crash-mid-transaction.yaml');
const DATABASE_URL =
  process.env['FAULTLINE_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('crash during a transaction (payment service, real PostgreSQL)', () => {
  let dir: string;
  let admin: pg.Client;
  const schema = `fl_crash_${randomUUID().slice(0, 8)}`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-crash-'));
    admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(`SET search_path TO ${schema}`);
    await admin.query(SCHEMA_SQL);
  });
  after(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  });

  for (const build of ['fragile', 'resilient'] as const) {
    it(
      `${build} build: SIGKILLed under load, restarted, nothing acknowledged is lost or half-written`,
      { timeout: 120_000 },
      async () => {
        const port = await freePort();
        const ledgerFile = join(dir, `${build}-ledger.txt`);
        await writeFile(ledgerFile, '');
        await admin.query(`TRUNCATE ${TABLES.payments}`);
        const dbProxy = await freePort();
        const url = new URL(DATABASE_URL);
        const upstream = `${url.hostname}:${url.port || 5432}`;
        url.port = String(dbProxy);
        url.searchParams.set('options', `-c search_path=${schema}`);
        const events: RunEvent[] = [];
        const plan = await readPlan(EXAMPLE, {
          env: {
            PAYMENT_PORT: String(port),
            PAYMENT_BUILD: build,
            DATABASE_URL: url.toString(),
            DB_PROXY: `127.0.0.1:${dbProxy}`,
            POSTGRES_UPSTREAM: upstream,
            LEDGER_FILE: ledgerFile,
            PAYMENT_COMMAND: `exec ${entryCommand('demo/payment-service-main')}`,
          },
        });
        let acknowledgedAtKill = 0;
        const journal: Journal = await runExperiment(plan, {
          journalPath: join(dir, `${build}.json`),
          onEvent: (event) => {
            events.push(event);
            if (event.type === 'fault-applied' && event.fault.name === 'crash')
              void readFile(ledgerFile, 'utf8').then(
                (t) => (acknowledgedAtKill = t.split('\n').filter(Boolean).length),
              );
          },
        });

        assert.deepEqual(
          journal.faultline.faults.map((f) => [f.name, f.state]),
          [
            ['latency-1', 'removed'],
            ['crash', 'removed'],
          ],
          journal.faultline.reason,
        );
        const fault = journal.faultline.faults[1]!;
        assert.deepEqual(
          journal.faultline.verification?.find((v) => v.fault === 'crash'),
          { fault: 'crash', gone: true },
          `the service was back at the end of the method (${journal.faultline.reason})`,
        );
        const killed = (localAt(fault.location).handle?.['processes'] as { pid: number }[])[0]!.pid;
        const restarted = (localAt(fault.location).handle?.['restarted'] as { pid: number }[])[0]!
          .pid;
        assert.notEqual(restarted, killed, 'a new process served after the crash');

        // The crash cut requests in flight and the service was down: load saw errors then.
        const phases = journal.faultline.load?.phases as
          | Record<'before' | 'method' | 'after', { completed: number; errors: number } | undefined>
          | undefined;
        assert.ok(phases?.before && phases.method && phases.after, JSON.stringify(phases));
        const seen = `${JSON.stringify(phases)}; ${journal.faultline.reason}`;
        assert.equal(phases.before.errors, 0, `a healthy baseline: ${seen}`);
        assert.ok(
          phases.method.errors > 0,
          `requests failed while the service was killed: ${seen}`,
        );
        assert.ok(
          phases.after.completed - phases.after.errors > 0,
          `payments succeeded again after the restart: ${seen}`,
        );

        // The reconciliation probe, run by the service before the crash and after the restart.
        const probes = [journal.steady_states.before, journal.steady_states.after].map(
          (s) => s?.probes[0],
        );
        for (const probe of probes)
          assert.equal(probe?.tolerance_met, true, JSON.stringify(probe?.output));
        assert.equal(journal.faultline.outcome, 'held', journal.faultline.reason);

        // And independently of the service: the ledger against the table.
        const ledger = (await readFile(ledgerFile, 'utf8')).split('\n').filter(Boolean);
        assert.ok(
          ledger.length > acknowledgedAtKill && acknowledgedAtKill > 0,
          `payments acknowledged before (${acknowledgedAtKill}) and after the crash (${ledger.length})`,
        );
        assert.equal(new Set(ledger).size, ledger.length, 'no id acknowledged twice');
        const stored = await admin.query<{ id: string; amount_cents: number; currency: string }>(
          `SELECT id, amount_cents, currency FROM ${TABLES.payments} WHERE id = ANY($1::uuid[])`,
          [ledger],
        );
        assert.equal(
          stored.rowCount,
          ledger.length,
          'every acknowledged payment is in the database (none lost)',
        );
        for (const row of stored.rows)
          assert.deepEqual(
            [row.amount_cents, row.currency],
            [1250, 'EUR'],
            `payment ${row.id} is whole`,
          );
        const total = await admin.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${TABLES.payments}`,
        );
        const orphans = total.rows[0]!.n - ledger.length;
        assert.ok(
          orphans > 0,
          `the kill cut transactions in flight: committed, never acknowledged (${total.rows[0]!.n} stored, ${ledger.length} acknowledged)`,
        );
        process.stdout.write(
          `# ${build}: ${ledger.length} payments acknowledged, all stored; ${orphans} stored but never acknowledged (in flight at the kill); ${phases.method.errors} requests failed during the fault\n`,
        );
        assert.ok(events.some((e) => e.type === 'fault-removed'));
      },
    );
  }
});
