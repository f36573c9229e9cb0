/**
 * The driver of `postgres` targets: pg-slow-queries, pg-pool-exhaustion, pg-lock and
 * pg-terminate.
 *
 * The sessions a fault opens are held by an agent process (./slow-agent.ts, ./pool-agent.ts,
 * ./lock-agent.ts) named with the fault's tag, both as a process (`--faultline-agent=TAG`) and
 * in PostgreSQL (`application_name = TAG`): removal stops the agent and terminates any session
 * still carrying the tag, and a dead runner's faults end at the agent's lease, or at once when
 * the agent itself dies (its sockets close; the server's own timeouts back that up).
 * pg-terminate runs in the runner's own process (once, or `every` interval until the lease): a
 * dead runner terminates nothing more, and a terminated session is not something to undo.
 */
import type pg from 'pg';
import { FaultError } from '../../errors.js';
import type { Target } from '../../experiment/schema.js';
import type { Touched } from '../driver.js';
import type { PostgresLocation } from '../location.js';
import { startAgent } from '../local/agent.js';
import type { LocalFamily } from '../local/family.js';
import type { DriverContext } from '../backend.js';
import { LocalFaultDriver, type LocalApply } from '../local/local-driver.js';
import {
  openPg,
  CONTROL_NAME,
  OWN_NAME_PREFIX,
  resolveTable,
  slotFigures,
  taggedSessions,
  withPg,
} from './connection.js';
import { missingTable } from './lock-agent.js';
import { describeSession, matchingSessionsQuery, type SessionMatch } from './sessions.js';
import { redact } from '../../shared/redact.js';

type PostgresTarget = Extract<Target, { type: 'postgres' }>;

/** What each fault journals in its location's handle (JSON). */
export interface PostgresHandle {
  /** The administrative URL (needed by recover; never printed with its password). */
  url?: string;
  /** When the fault ends by itself (epoch ms). */
  until?: number;
  agent?: number;
  /** What the agent reported: the sessions it holds, the table it locked… */
  info?: Record<string, unknown>;
  /** pg-terminate: the sessions terminated so far (`pid user@address/database application`). */
  terminated?: string[];
}

/** Repeated terminations: never more often than this. */
const MIN_EVERY_MS = 100;
/** How often the driver looks at who the fault is affecting (slow queries, locks). */
const WATCH_MS = 250;

export class PostgresFaultDriver extends LocalFaultDriver<'postgres', PostgresHandle> {
  protected newHandle(): PostgresHandle {
    return {};
  }

  private readonly watches = new Map<string, Watch>();

  constructor(
    target: string,
    private readonly spec: PostgresTarget,
    family: LocalFamily<PostgresLocation>,
    context: DriverContext,
  ) {
    super(target, family, context, 'postgres');
  }

  get description(): string {
    return `PostgreSQL ${redact(this.spec.url)}`;
  }

  private faults() {
    return this.context.faults.flatMap((s) =>
      s.target === this.target && s.effect.type === 'local'
        ? [{ name: s.name, fault: s.effect.fault }]
        : [],
    );
  }

  /** Before the gate: the server answers, the tables named exist, a pool count can fit at all. */
  override async prepare(signal: AbortSignal): Promise<void> {
    await withPg(
      this.spec.url,
      async (client) => {
        for (const { name, fault } of this.faults()) {
          const table =
            fault.fault === 'pg-lock'
              ? fault.table
              : fault.fault === 'pg-slow-queries'
                ? fault.table
                : undefined;
          if (table !== undefined && !(await resolveTable(client, table))) {
            throw new FaultError(
              `fault "${name}" (${fault.fault}) on target "${this.target}": ${await missingTable(client, table)}`,
            );
          }
          if (fault.fault === 'pg-pool-exhaustion' && fault.connections !== undefined) {
            const figures = await slotFigures(client);
            const most = figures.maxConnections - figures.reserved;
            if (fault.connections > most) {
              throw new FaultError(
                `fault "${name}" (pg-pool-exhaustion) on target "${this.target}": ${fault.connections} connections can never fit: max_connections is ${figures.maxConnections} with ${figures.reserved} reserved for superusers; hint: at most ${most - figures.inUse} are free now, or use leave: N`,
              );
            }
          }
        }
      },
      { signal },
    );
  }

  protected async applyFault({
    fault,
    tag,
    leaseSeconds,
    signal,
    location,
    save,
  }: LocalApply<PostgresLocation>): Promise<void> {
    const handle = location.handle;
    const url = this.spec.url;
    handle.url = url;
    handle.until = Date.now() + leaseSeconds * 1000;
    save(); // the URL and tag are on disk before any session exists
    const hold = async (kind: string, params: Record<string, unknown>): Promise<void> => {
      const agent = await startAgent(
        { kind, tag, leaseSeconds, params: { url, ...params } },
        signal,
      );
      handle.agent = agent.pid;
      handle.info = (agent.info ?? {}) as Record<string, unknown>;
      save();
    };
    switch (fault.fault) {
      case 'pg-slow-queries':
        await hold('postgres/slow', {
          sessions: fault.sessions,
          table: fault.table,
          statement: fault.statement,
        });
        this.watch(tag, url, 'active', handle.until);
        return;
      case 'pg-pool-exhaustion':
        await hold('postgres/pool', { connections: fault.connections, leave: fault.leave });
        return;
      case 'pg-lock':
        await hold('postgres/lock', { table: fault.table, mode: fault.mode });
        this.watch(tag, url, 'blocked', handle.until, Number(handle.info?.['pid']));
        return;
      case 'pg-terminate': {
        handle.terminated = [];
        save();
        const match = fault.match;
        await this.terminateOnce(url, match, handle, signal);
        save();
        this.repeats.start(
          tag,
          { every: fault.every, minMs: MIN_EVERY_MS, until: handle.until },
          async () => {
            await this.terminateOnce(url, match, handle);
            save();
          },
        );
        return;
      }
      default:
        throw new FaultError(`${fault.fault} cannot act on postgres target "${this.target}"`);
    }
  }

  private async terminateOnce(
    url: string,
    match: SessionMatch,
    handle: PostgresHandle,
    signal?: AbortSignal,
  ): Promise<void> {
    await withPg(
      url,
      async (client) => {
        const query = matchingSessionsQuery(match);
        const { rows } = await client.query<{
          pid: number;
          user: string | null;
          address: string | null;
          database: string | null;
          application: string | null;
        }>(query.text, query.values);
        for (const row of rows) {
          // One by one: a session we may not terminate (another superuser's) does not stop the rest.
          const ok = await client
            .query<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [row.pid])
            .then(
              (r) => r.rows[0]?.ok === true,
              () => false,
            );
          if (ok) handle.terminated!.push(describeSession(row));
        }
      },
      { signal },
    );
  }

  /** Watches, while the fault holds, which of the application's sessions it affects. */
  private watch(
    tag: string,
    url: string,
    what: 'active' | 'blocked',
    until: number,
    lockPid?: number,
  ): void {
    const watch = new Watch(url, what, until, lockPid);
    this.watches.set(tag, watch);
    watch.start();
  }

  /**
   * slow queries: the application's sessions that ran statements while the fault held; lock:
   * the sessions that waited on the lock; terminate: the sessions terminated; pool exhaustion:
   * unknown (a refused connection leaves no trace the server shows).
   */
  override async touched(
    location: PostgresLocation,
    _signal: AbortSignal,
  ): Promise<Touched | undefined> {
    const handle = location.handle;
    switch (location.fault) {
      case 'pg-terminate':
        return { connections: handle.terminated?.length ?? 0, bytes: 0, requests: 0 };
      case 'pg-slow-queries':
      case 'pg-lock': {
        const watch = location.tag ? this.watches.get(location.tag) : undefined;
        if (!watch) return undefined;
        await watch.once().catch(() => undefined);
        return { connections: watch.seen.size, bytes: 0, requests: 0 };
      }
      default:
        return undefined;
    }
  }

  override async remove(location: PostgresLocation, signal: AbortSignal): Promise<void> {
    if (location.tag) {
      await this.watches.get(location.tag)?.stop();
      this.watches.delete(location.tag);
    }
    await super.remove(location, signal);
  }

  /** No agent, no repeat, and no session named with the tag in pg_stat_activity. */
  override async isGone(location: PostgresLocation, signal: AbortSignal): Promise<boolean> {
    const handle = location.handle;
    const tag = location.tag;
    if (!tag) return true;
    if (!(await super.isGone(location, signal))) return false; // an agent or a repeat left
    if (!handle.url) return true;
    try {
      return (
        (
          await withPg(handle.url, (client) => taggedSessions(client, tag), {
            signal,
            timeoutMs: 5_000,
          })
        ).length === 0
      );
    } catch (err) {
      if (handle.until !== undefined && Date.now() > handle.until + 10_000) return true; // past every server-side deadline
      throw err;
    }
  }

  override async dispose(): Promise<void> {
    await super.dispose();
    for (const watch of this.watches.values()) await watch.stop();
    this.watches.clear();
  }
}

/**
 * One control session that looks, every {@link WATCH_MS}, for the application's sessions the
 * fault affects: `active` (ran a statement since the fault began, other than faultline's) or
 * `blocked` (waiting on the lock held by `lockPid`).
 */
class Watch {
  readonly seen = new Set<number>();
  private client: Promise<pg.Client> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** The server's clock when watching began (not ours: the server may be elsewhere). */
  private since: Date | undefined;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly what: 'active' | 'blocked',
    private readonly until: number,
    private readonly lockPid?: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      if (Date.now() > this.until) return void this.stop();
      this.running = this.once()
        .catch(() => undefined)
        .finally(() => (this.running = undefined));
    }, WATCH_MS);
    this.timer.unref();
    this.running = this.once()
      .catch(() => undefined)
      .finally(() => (this.running = undefined));
  }

  async once(): Promise<void> {
    if (this.stopped) return;
    this.client ??= openPg(this.url, CONTROL_NAME, { timeoutMs: 5_000 });
    const client = await this.client;
    this.since ??= (await client.query<{ now: Date }>('SELECT now() AS now')).rows[0]!.now;
    const { rows } =
      this.what === 'blocked'
        ? await client.query<{ pid: number }>(
            'SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
            [this.lockPid],
          )
        : await client.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
             AND application_name NOT LIKE $1 AND (state = 'active' OR state_change >= $2)`,
            [`${OWN_NAME_PREFIX}%`, this.since],
          );
    for (const row of rows) this.seen.add(row.pid);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.client?.then((c) => c.end()).catch(() => undefined);
    this.client = undefined;
  }
}
