/**
 * The demo's payment service: the system under test of `faultline demo` and of the end-to-end
 * suite. It is a real HTTP service with a real PostgreSQL data path (the ordinary `pg` driver),
 * an optional Redis session cache (ioredis) and an optional auth service it calls over HTTP.
 *
 * It comes in builds that differ only in how they treat their dependencies, so one experiment
 * tells them apart:
 *
 * - **fragile** — what many services look like before their first chaos experiment: a tiny pool
 *   with a 3 s wait for a connection (the driver's usual snippet), no retries, and request
 *   handlers that let a dependency error escape (an unhandled rejection kills a Node process).
 *   Under database latency the 4 connections are busy, the next request's wait times out, and
 *   the process exits on that first timeout — the brief's first finding: "no retry logic, crashes
 *   on the first timeout".
 * - **resilient** — the same service after the fix, built on cockatiel (a well-kept resilience
 *   library, not hand-rolled policies): per-attempt timeouts, bounded retries with exponential
 *   backoff and jitter over idempotent writes, circuit breakers, a bulkhead (a pool with a
 *   bounded queue), a warm pool, a database fallback for the session cache and a 60 s cache of
 *   verified tokens for when the auth service is slow.
 * - **pool-refactor** — the resilient build after a "connection-pool refactor" that shrank the
 *   pool and dropped the bulkhead's queue: under database latency it rejects requests instead of
 *   queueing them (the brief's later finding, which the CI chaos stage must catch).
 *
 * Every payment is written with an id chosen before the first attempt and `ON CONFLICT DO
 * NOTHING`, so a retry after a timeout never writes twice; every acknowledged payment is
 * appended to a ledger file before the answer leaves, and `GET /reconcile` compares the ledger
 * with the table: the "no transaction lost" hypothesis.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  bulkhead,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  isBrokenCircuitError,
  isBulkheadRejectedError,
  isTaskCancelledError,
  retry,
  timeout,
  TimeoutStrategy,
  wrap,
  type CircuitBreakerPolicy,
  type IPolicy,
} from 'cockatiel';
import { Redis } from 'ioredis';
import pg from 'pg';

export const BUILDS = ['fragile', 'resilient', 'pool-refactor'] as const;
export type Build = (typeof BUILDS)[number];

export interface PaymentServiceConfig {
  build: Build;
  /** PostgreSQL URL: the fault proxy's address when an experiment runs. */
  databaseUrl: string;
  redisUrl?: string | undefined;
  /** Base URL of the auth service (POST /verify). */
  authUrl?: string | undefined;
  /** Append-only file of acknowledged payment ids. */
  ledgerFile: string;
  port?: number | undefined;
  host?: string | undefined;
}

/** Table names, prefixed so the demo never touches a user's own tables on a real server. */
export const TABLES = {
  payments: 'faultline_demo_payments',
  sessions: 'faultline_demo_sessions',
} as const;

/** The schema the demo creates before it starts the service (directly, not through the proxy). */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS ${TABLES.payments} (
  id uuid PRIMARY KEY,
  amount_cents integer NOT NULL CHECK (amount_cents > 0),
  currency text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ${TABLES.sessions} (
  id text PRIMARY KEY,
  user_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO ${TABLES.sessions} (id, user_id) VALUES ('demo-session', 'user-42') ON CONFLICT (id) DO NOTHING;
`;

export interface Reconciliation {
  acknowledged: number;
  stored: number;
  missing: number;
}

/**
 * "No transaction lost": every payment id in the ledger (appended before each 201 left) against
 * the table, through whatever query function the caller has (the service's pool, or a direct
 * connection that no fault touches).
 */
export async function reconcileLedger(
  ledgerFile: string,
  query: (text: string, values: unknown[]) => Promise<{ rows: { n: number }[] }>,
): Promise<Reconciliation> {
  let ids: string[];
  try {
    ids = readFileSync(ledgerFile, 'utf8').split('\n').filter(Boolean);
  } catch {
    ids = [];
  }
  const result = await query(
    `SELECT count(*)::int AS n FROM ${TABLES.payments} WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  const stored = result.rows[0]?.n ?? 0;
  return { acknowledged: ids.length, stored, missing: ids.length - stored };
}

const SESSION_KEY = (id: string): string => `faultline-demo:session:${id}`;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** A running payment service (in this process). */
export interface PaymentService {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Policies of the resilient builds: one shared instance per dependency, as cockatiel requires. */
interface Policies {
  db: IPolicy;
  dbBreaker: CircuitBreakerPolicy;
  redisBreaker: CircuitBreakerPolicy;
  authBreaker: CircuitBreakerPolicy;
}

/** Errors worth a retry: timeouts and connection trouble, never a constraint violation. */
function transient(err: unknown): boolean {
  if (isTaskCancelledError(err)) return true;
  const e = err as { code?: string; message?: string } | null | undefined;
  if (
    typeof e?.code === 'string' &&
    /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|57P01|57P03|08\d\d\d)$/.test(e.code)
  )
    return true;
  return /timeout|terminated|Connection|ECONNRESET/i.test(e?.message ?? '');
}

function makePolicies(build: Build): Policies {
  // pool-refactor: the refactor sized the pool down and dropped the queue: excess load is rejected.
  const limit = build === 'pool-refactor' ? 4 : 32;
  const queue = build === 'pool-refactor' ? 0 : 64;
  const dbBreaker = circuitBreaker(handleWhen(transient), {
    halfOpenAfter: 5_000,
    breaker: new ConsecutiveBreaker(10),
  });
  const db = wrap(
    bulkhead(limit, queue),
    dbBreaker,
    retry(handleWhen(transient), {
      maxAttempts: 2,
      backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 400 }),
    }),
    timeout(1_500, TimeoutStrategy.Aggressive),
  );
  return {
    db,
    dbBreaker,
    redisBreaker: circuitBreaker(
      handleWhen(() => true),
      { halfOpenAfter: 3_000, breaker: new ConsecutiveBreaker(3) },
    ),
    authBreaker: circuitBreaker(
      handleWhen(() => true),
      { halfOpenAfter: 5_000, breaker: new ConsecutiveBreaker(3) },
    ),
  };
}

/** Starts the service in this process. Used by the child-process entry and by tests. */
export async function startPaymentService(config: PaymentServiceConfig): Promise<PaymentService> {
  const fragile = config.build === 'fragile';
  const poolSize = config.build === 'pool-refactor' ? 4 : fragile ? 4 : 32;
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    max: poolSize,
    // fragile: a 3 s wait for a pool connection and nothing else — no query timeout, no retry,
    // no handler: the first wait that times out rejects a request handler and kills the process
    // (without it, the fragile build only queued under latency, where the brief's service
    // crashed). 3 s is the demo load's own request timeout: a request that waits that long
    // without any fault (a machine far too loaded) has failed whatever the build, so the crash
    // adds no failure of its own to the baseline. Under the demo's latency (4 connections ×
    // 500 ms against 25 payments/s) the queue grows by 17 requests a second and the first wait
    // times out about 4 s into the fault, before the stop condition (errors > 5 % for 3 s, from
    // the first client timeouts at about 4 s) removes it.
    ...(fragile
      ? { connectionTimeoutMillis: 3_000 }
      : { idleTimeoutMillis: 0, connectionTimeoutMillis: 3_000, query_timeout: 1_400 }),
  });
  if (!fragile) pool.on('error', () => undefined); // an idle client's error is not a crash
  const policies = fragile ? undefined : makePolicies(config.build);

  const redis = config.redisUrl
    ? new Redis(
        config.redisUrl,
        fragile
          ? { lazyConnect: true } // defaults: an offline queue that waits, 20 retries per command
          : {
              lazyConnect: true,
              commandTimeout: 200,
              enableOfflineQueue: false,
              maxRetriesPerRequest: 0,
              retryStrategy: (n) => Math.min(n * 100, 1_000),
            },
      )
    : undefined;
  if (redis && !fragile) redis.on('error', () => undefined);
  if (redis) redis.connect().catch(() => undefined);

  const stats = {
    acknowledged: 0,
    rejected: 0,
    sessionRecreations: [] as number[],
    sessionFallbacks: 0,
    authCacheServed: 0,
    authFirstFailureAt: undefined as number | undefined,
    authTrippedAfterMs: undefined as number | undefined,
  };
  const tokenCache = new Map<string, { user: string; at: number }>();
  let warming: Promise<void> | undefined;

  /** Opens the pool's connections once, so latency later does not also pay for handshakes. */
  function warm(): Promise<void> {
    warming ??= (async () => {
      const clients = await Promise.allSettled(
        Array.from({ length: poolSize }, () => pool.connect()),
      );
      for (const c of clients) if (c.status === 'fulfilled') c.value.release();
    })();
    return warming;
  }

  async function query<T extends pg.QueryResultRow>(
    text: string,
    values: unknown[] = [],
  ): Promise<pg.QueryResult<T>> {
    if (!policies) return pool.query<T>(text, values);
    void warm();
    return policies.db.execute(() => pool.query<T>(text, values));
  }

  async function session(id: string): Promise<string> {
    if (!redis) return 'anonymous';
    if (fragile) {
      const cached = await redis.get(SESSION_KEY(id));
      if (cached) return cached;
      const row = await pool.query<{ user_id: string }>(
        `SELECT user_id FROM ${TABLES.sessions} WHERE id = $1`,
        [id],
      );
      if (!row.rows[0]) throw new HttpError(401, 'unknown session');
      await redis.set(SESSION_KEY(id), row.rows[0].user_id, 'EX', 300);
      stats.sessionRecreations.push(Date.now());
      return row.rows[0].user_id;
    }
    try {
      const cached = await policies!.redisBreaker.execute(() => redis.get(SESSION_KEY(id)));
      if (cached) return cached;
    } catch {
      // Redis is down or the breaker is open: the database is the source of truth.
      stats.sessionFallbacks++;
      const row = await query<{ user_id: string }>(
        `SELECT user_id FROM ${TABLES.sessions} WHERE id = $1`,
        [id],
      );
      if (!row.rows[0]) throw new HttpError(401, 'unknown session');
      return row.rows[0].user_id;
    }
    const row = await query<{ user_id: string }>(
      `SELECT user_id FROM ${TABLES.sessions} WHERE id = $1`,
      [id],
    );
    if (!row.rows[0]) throw new HttpError(401, 'unknown session');
    // Re-create the cache entry, best effort: a failing Redis must not fail the payment.
    await policies!.redisBreaker
      .execute(() => redis.set(SESSION_KEY(id), row.rows[0]!.user_id, 'EX', 300))
      .catch(() => undefined);
    stats.sessionRecreations.push(Date.now());
    return row.rows[0].user_id;
  }

  async function verifyToken(token: string): Promise<string> {
    if (!config.authUrl) return 'anonymous';
    const call = async (signal?: AbortSignal): Promise<string> => {
      const res = await fetch(new URL('/verify', config.authUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
        ...(signal ? { signal } : {}),
      });
      if (res.status === 401) throw new HttpError(401, 'invalid token');
      if (!res.ok) throw new Error(`auth service answered ${res.status}`);
      return ((await res.json()) as { user: string }).user;
    };
    if (fragile) return call();
    const cached = tokenCache.get(token);
    try {
      const user = await policies!.authBreaker.execute(() => call(AbortSignal.timeout(1_000)));
      tokenCache.set(token, { user, at: Date.now() });
      stats.authFirstFailureAt = undefined;
      return user;
    } catch (err) {
      if (err instanceof HttpError) throw err;
      stats.authFirstFailureAt ??= Date.now();
      if (
        policies!.authBreaker.state === CircuitState.Open &&
        stats.authTrippedAfterMs === undefined
      ) {
        stats.authTrippedAfterMs = Date.now() - stats.authFirstFailureAt;
      }
      // Serve a token verified in the last 60 s rather than fail the payment.
      if (cached && Date.now() - cached.at <= 60_000) {
        stats.authCacheServed++;
        return cached.user;
      }
      throw new HttpError(503, 'auth service unavailable', 2);
    }
  }

  async function createPayment(req: IncomingMessage): Promise<{ id: string }> {
    const body = JSON.parse((await readBody(req)) || '{}') as {
      amount?: unknown;
      currency?: unknown;
    };
    const amount = Math.round(Number(body.amount) * 100);
    const currency = typeof body.currency === 'string' ? body.currency : '';
    if (!Number.isFinite(amount) || amount <= 0 || !/^[A-Z]{3}$/.test(currency))
      throw new HttpError(400, 'expected {"amount": > 0, "currency": "EUR"}');
    await session(String(req.headers['x-session'] ?? 'demo-session'));
    await verifyToken((req.headers['authorization'] ?? '').replace(/^Bearer\s+/i, ''));
    const id = randomUUID(); // chosen before the first attempt: retries are idempotent
    await query(
      `INSERT INTO ${TABLES.payments} (id, amount_cents, currency) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`,
      [id, amount, currency],
    );
    appendFileSync(config.ledgerFile, `${id}\n`);
    stats.acknowledged++;
    return { id };
  }

  const reconcile = (): Promise<Reconciliation> => reconcileLedger(config.ledgerFile, query);

  /** No corruption: the cached session, if any, is the database's. */
  async function checkSession(
    id: string,
  ): Promise<{ consistent: boolean; cached: string | null; stored: string | null }> {
    const row = await query<{ user_id: string }>(
      `SELECT user_id FROM ${TABLES.sessions} WHERE id = $1`,
      [id],
    );
    const stored = row.rows[0]?.user_id ?? null;
    if (!redis) return { consistent: true, cached: null, stored };
    const cached = await redis.get(SESSION_KEY(id));
    return { consistent: cached === null || cached === stored, cached, stored };
  }

  function statsBody(): Record<string, unknown> {
    const minuteAgo = Date.now() - 60_000;
    stats.sessionRecreations = stats.sessionRecreations.filter((t) => t >= minuteAgo);
    return {
      build: config.build,
      acknowledged: stats.acknowledged,
      rejected: stats.rejected,
      sessions: {
        recreatedLastMinute: stats.sessionRecreations.length,
        fallbacks: stats.sessionFallbacks,
      },
      auth: {
        cacheServed: stats.authCacheServed,
        trippedAfterMs: stats.authTrippedAfterMs ?? null,
      },
      breakers: policies
        ? {
            db: CircuitState[policies.dbBreaker.state],
            redis: CircuitState[policies.redisBreaker.state],
            auth: CircuitState[policies.authBreaker.state],
          }
        : null,
      pool: { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount },
    };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/health') {
      send(res, 200, { status: 'ok', build: config.build });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/stats') {
      send(res, 200, statsBody());
      return;
    }
    if (req.method === 'GET' && url.pathname === '/reconcile') {
      send(res, 200, await reconcile());
      return;
    }
    if (req.method === 'POST' && url.pathname === '/payments') {
      send(res, 201, await createPayment(req));
      return;
    }
    const check = /^\/sessions\/([\w-]+)\/check$/.exec(url.pathname);
    if (req.method === 'GET' && check) {
      send(res, 200, await checkSession(check[1]!));
      return;
    }
    const m = /^\/payments\/([0-9a-f-]{36})$/.exec(url.pathname);
    if (req.method === 'GET' && m) {
      const row = await query(
        `SELECT id, amount_cents, currency, created_at FROM ${TABLES.payments} WHERE id = $1`,
        [m[1]],
      );
      if (row.rows[0]) send(res, 200, row.rows[0]);
      else send(res, 404, { error: 'no such payment' });
      return;
    }
    send(res, 404, { error: 'not found' });
  }

  const server: Server = createServer(
    fragile
      ? // The fragile build's handler: any dependency error escapes as an unhandled rejection.
        async (req, res) => {
          await route(req, res);
        }
      : (req, res) => {
          route(req, res).catch((err: unknown) => {
            if (err instanceof HttpError)
              return send(res, err.status, { error: err.message }, err.retryAfter);
            stats.rejected++;
            const why = isBrokenCircuitError(err)
              ? 'circuit open'
              : isBulkheadRejectedError(err)
                ? 'overloaded'
                : isTaskCancelledError(err)
                  ? 'timeout'
                  : 'dependency error';
            send(res, 503, { error: why }, 1);
          });
        },
  );
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port ?? 0, config.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      redis?.disconnect();
      await pool.end().catch(() => undefined);
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown, retryAfter?: number): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...(retryAfter ? { 'retry-after': String(retryAfter) } : {}),
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
