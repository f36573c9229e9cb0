/**
 * The demo stack: PostgreSQL (embedded or real), Redis when one can be had, the auth service,
 * and free loopback ports for the three fault proxies an experiment puts in front of them. It
 * starts payment-service builds against the proxies' addresses and runs a scenario on one,
 * returning the journal and what happened to the service process.
 *
 * `faultline demo` and the end-to-end tests share it, so what the suite proves is what the
 * demo shows.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { writeReports } from '../reporting/write-reports.js';
import { readPlan } from '../run-plan/read-plan.js';
import type { Journal } from '../journal/journal.js';
import type { RunPlan } from '../run-plan/plan.js';
import { runExperiment, type RunEvent } from '../runner/runner.js';
import { startAuthService, type AuthService } from './auth-service.js';
import { startDatabase, type DemoDatabase } from './database.js';
import { freePort } from './free-port.js';
import type { Build } from './payment-service.js';
import { reconcileLedger, type Reconciliation } from './payment-service.js';
import { startRedis, type DemoRedis } from './redis.js';
import { scenarioYaml, type ScenarioAddresses, type ScenarioName } from './scenarios.js';
import { startServiceProcess, type ServiceExit } from './service-process.js';

export interface StackOptions {
  /** A real PostgreSQL instead of the embedded one. */
  databaseUrl?: string | undefined;
  /** A real Redis; otherwise a private redis-server, the local one, or none. */
  redisUrl?: string | undefined;
  /** Where experiment files, ledgers and journals go. */
  workDir: string;
  signal?: AbortSignal | undefined;
  /** One line per step of the start-up. */
  log?: ((line: string) => void) | undefined;
}

export interface ScenarioRun {
  build: Build;
  scenario: ScenarioName;
  experimentFile: string;
  journalPath: string;
  /** The self-contained HTML report of the run. */
  reportPath: string;
  journal: Journal;
  /** Set when the service process exited during the run (a crash). */
  crashed: ServiceExit | undefined;
  /** Acknowledged payments (ledger) against the table, read directly, not through a proxy. */
  reconciliation: Reconciliation;
}

export interface RunScenarioOptions {
  build: Build;
  scenario: ScenarioName;
  onEvent?: ((event: RunEvent) => void) | undefined;
  /** Point the service at the real database instead of the proxy (the bypass mistake). */
  bypassProxy?: boolean | undefined;
  /** Called with the compiled plan just before the run starts. */
  onPlan?: ((plan: RunPlan) => void) | undefined;
  /** Called once the service is up (tests use it to watch it). */
  onService?: ((service: { url: string; pid: number }) => void) | undefined;
}

export class DemoStack {
  private runs = 0;

  private constructor(
    readonly options: StackOptions,
    readonly database: DemoDatabase,
    readonly redis: DemoRedis | undefined,
    /** Why there is no Redis, when there is none. */
    readonly redisSkipped: string | undefined,
    readonly auth: AuthService,
  ) {}

  static async start(options: StackOptions): Promise<DemoStack> {
    const log = options.log ?? (() => undefined);
    await mkdir(options.workDir, { recursive: true });
    const t0 = Date.now();
    log(
      options.databaseUrl
        ? 'connecting to PostgreSQL (DATABASE_URL)…'
        : 'starting an embedded PostgreSQL (PGlite)…',
    );
    const database = await startDatabase(options.databaseUrl);
    log(`  ${database.describe} (${Date.now() - t0} ms)`);
    let redis: DemoRedis | undefined;
    let redisSkipped: string | undefined;
    let auth: AuthService | undefined;
    try {
      const found = await startRedis(options.redisUrl, options.signal);
      if ('skipped' in found) redisSkipped = found.skipped;
      else redis = found;
      log(redis ? `  session cache: ${redis.describe}` : `  ${String(redisSkipped)}`);
      auth = await startAuthService();
      log(`  auth service on 127.0.0.1:${auth.port}`);
    } catch (err) {
      await redis?.close();
      await database.close();
      throw err;
    }
    return new DemoStack(options, database, redis, redisSkipped, auth);
  }

  /** Starts a build, runs a scenario on it through fresh proxies, stops the build. */
  async runScenario(options: RunScenarioOptions): Promise<ScenarioRun> {
    const n = ++this.runs;
    const dir = join(
      this.options.workDir,
      `${String(n).padStart(2, '0')}-${options.scenario}-${options.build}`,
    );
    await mkdir(dir, { recursive: true });
    const [dbPort, redisPort, authPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const ledgerFile = join(dir, 'ledger.txt');
    await writeFile(ledgerFile, '');
    const proxied = {
      database: {
        upstream: `${this.database.host}:${this.database.port}`,
        listen: `127.0.0.1:${dbPort}`,
      },
      redis: this.redis
        ? { upstream: `${this.redis.host}:${this.redis.port}`, listen: `127.0.0.1:${redisPort}` }
        : undefined,
      auth: { upstream: `127.0.0.1:${this.auth.port}`, listen: `127.0.0.1:${authPort}` },
    };
    const dbUrl = new URL(this.database.url);
    if (!options.bypassProxy) {
      dbUrl.hostname = '127.0.0.1';
      dbUrl.port = String(dbPort);
    }
    const service = await startServiceProcess({
      build: options.build,
      databaseUrl: dbUrl.toString(),
      ledgerFile,
      redisUrl: proxied.redis ? `redis://${proxied.redis.listen}` : undefined,
      authUrl: `http://${proxied.auth.listen}`,
      signal: this.options.signal,
    });
    try {
      options.onService?.({ url: service.url, pid: service.pid });
      const at: ScenarioAddresses = { service: service.url, ...proxied };
      const experimentFile = join(dir, 'experiment.yaml');
      await writeFile(experimentFile, scenarioYaml(options.scenario, at));
      const plan = await readPlan(experimentFile, { displayName: experimentFile, env: {} });
      options.onPlan?.(plan);
      const journalPath = join(dir, 'journal.json');
      const journal = await runExperiment(plan, {
        signal: this.options.signal,
        journalPath,
        onEvent: options.onEvent,
      });
      const crashed = service.exit;
      const reconciliation = await this.reconcile(ledgerFile);
      // The picture of the run: latency, throughput and errors over time with the fault shaded.
      const reportPath = join(dir, 'report.html');
      await writeReports(journal, { html: reportPath });
      return {
        build: options.build,
        scenario: options.scenario,
        experimentFile,
        journalPath,
        reportPath,
        journal,
        crashed,
        reconciliation,
      };
    } finally {
      await service.stop();
    }
  }

  /** The ledger against the table, over a direct connection (no proxy, no fault). */
  async reconcile(ledgerFile: string): Promise<Reconciliation> {
    const client = new pg.Client({
      connectionString: this.database.url,
      connectionTimeoutMillis: 5_000,
    });
    await client.connect();
    try {
      return await reconcileLedger(ledgerFile, (text, values) =>
        client.query<{ n: number }>(text, values),
      );
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.auth.close().catch(() => undefined);
    await this.redis?.close().catch(() => undefined);
    await this.database.close().catch(() => undefined);
  }
}
