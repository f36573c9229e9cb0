/**
 * The driver of `redis` targets: redis-pause, redis-kill-clients, redis-maxmemory.
 *
 * Deadlines: a WRITE pause is CLIENT PAUSE with the lease as its timeout, so Redis itself lifts
 * it even if every faultline process dies; an ALL pause is chained in short slices by an agent
 * (./pause-agent.ts), so it ends within a slice of the agent's end or death; a memory limit is held by an agent
 * (./maxmemory-agent.ts) that restores the journaled originals at the lease; repeated client
 * kills (`every`) run in the runner's own process and stop with it — a dead runner kills nothing
 * more, and a killed connection is not something to undo.
 */
import { FaultError } from '../../errors.js';
import type { Target } from '../../experiment/schema.js';
import type { Touched } from '../driver.js';
import type { RedisLocation } from '../location.js';
import { findAgents, startAgent } from '../local/agent.js';
import { faultTag, type LocalFamily } from '../local/family.js';
import type { DriverContext } from '../backend.js';
import { LocalFaultDriver, type LocalApply } from '../local/local-driver.js';
import { parseClientList, selectClients, type ClientMatch } from './clients.js';
import { info, OWN_NAME_PREFIX, withRedis } from './connection.js';
import { isRestored, readMaxmemory, type MaxmemorySetting } from './maxmemory.js';
import { maxmemoryBytes } from './size.js';
import { redact } from '../../shared/redact.js';

type RedisTarget = Extract<Target, { type: 'redis' }>;

/** What each fault journals in its location's handle (JSON). */
export interface RedisHandle {
  url?: string;
  /** redis-pause: the mode, and when Redis lifts the pause by itself (epoch ms). */
  mode?: 'ALL' | 'WRITE';
  until?: number;
  /** redis-pause ALL: the length of each slice the agent chains (the most a removal waits). */
  sliceMs?: number;
  /** redis-pause: the application's clients connected when it began. */
  clients?: number;
  /** redis-kill-clients: the connections killed so far (`id addr name`). */
  killed?: string[];
  /** redis-maxmemory: the values to restore, journaled before anything is changed. */
  original?: MaxmemorySetting;
  maxmemory?: number;
  policy?: string;
  /** redis-maxmemory: the OOM rejections and evictions counted when it began. */
  baseline?: { oom: number; evicted: number };
  agent?: number;
}

/** Redis 6.2 brought CLIENT PAUSE WRITE and CLIENT UNPAUSE. */
const MIN_PAUSE_VERSION = [6, 2];
/** redis-pause ALL: each CLIENT PAUSE the agent chains lasts this long. */
export const PAUSE_SLICE_MS = 500;
/** Repeated kills: never more often than this. */
const MIN_EVERY_MS = 100;

export class RedisFaultDriver extends LocalFaultDriver<'redis', RedisHandle> {
  protected newHandle(): RedisHandle {
    return {};
  }

  constructor(
    target: string,
    private readonly spec: RedisTarget,
    family: LocalFamily<RedisLocation>,
    context: DriverContext,
  ) {
    super(target, family, context, 'redis');
  }

  get description(): string {
    return `Redis ${redact(this.spec.url)}`;
  }

  private faults(): string[] {
    return this.context.faults.flatMap((s) =>
      s.target === this.target && s.effect.type === 'local' ? [s.effect.fault.fault] : [],
    );
  }

  /** Before the gate: Redis answers, is recent enough, and lets us use CONFIG when needed. */
  override async prepare(signal: AbortSignal): Promise<void> {
    const faults = this.faults();
    const tag = faultTag(this.context.runId, `${this.target}-check`);
    await withRedis(
      this.spec.url,
      tag,
      async (client) => {
        const version = (await info(client, 'server')).get('redis_version') ?? '0';
        const [major = 0, minor = 0] = version.split('.').map(Number);
        if (
          faults.includes('redis-pause') &&
          (major < MIN_PAUSE_VERSION[0]! ||
            (major === MIN_PAUSE_VERSION[0] && minor < MIN_PAUSE_VERSION[1]!))
        ) {
          throw new FaultError(
            `target "${this.target}": redis-pause needs Redis 6.2 or later (CLIENT PAUSE WRITE, CLIENT UNPAUSE); this server is ${version}`,
          );
        }
        if (faults.includes('redis-maxmemory')) {
          try {
            await client.call('CONFIG', 'GET', 'maxmemory');
          } catch (err) {
            throw new FaultError(
              `target "${this.target}": redis-maxmemory needs CONFIG GET/SET: ${(err as Error).message}`,
            );
          }
        }
      },
      { signal },
    );
  }

  // eslint-disable-next-line max-lines-per-function -- one case per fault type of this backend
  protected async applyFault({
    fault,
    tag,
    leaseSeconds,
    signal,
    location,
    save,
  }: LocalApply<RedisLocation>): Promise<void> {
    const handle = location.handle;
    const url = this.spec.url;
    handle.url = url;
    switch (fault.fault) {
      case 'redis-pause': {
        handle.mode = fault.mode === 'write' ? 'WRITE' : 'ALL';
        const ms = leaseSeconds * 1000;
        handle.until = Date.now() + ms;
        if (handle.mode === 'ALL') handle.sliceMs = PAUSE_SLICE_MS;
        save(); // on disk before the pause exists
        handle.clients = await withRedis(
          url,
          tag,
          async (client) =>
            selectClients(
              parseClientList((await client.call('CLIENT', 'LIST')) as string),
              undefined,
              OWN_NAME_PREFIX,
            ).length,
          { signal },
        );
        if (handle.mode === 'WRITE') {
          // Redis lifts the pause by itself at the lease: no faultline process has to survive.
          await withRedis(
            url,
            tag,
            (client) => client.call('CLIENT', 'PAUSE', String(ms), 'WRITE'),
            { signal },
          );
        } else {
          // PAUSE ALL cannot be lifted by CLIENT UNPAUSE: an agent holds it in slices (./pause-agent.ts).
          const agent = await startAgent(
            { kind: 'redis/pause', tag, leaseSeconds, params: { url, sliceMs: PAUSE_SLICE_MS } },
            signal,
          );
          handle.agent = agent.pid;
        }
        save();
        return;
      }
      case 'redis-kill-clients': {
        handle.killed = [];
        save();
        const match = fault.match;
        await this.killOnce(url, tag, match, handle, signal);
        save();
        this.repeats.start(
          tag,
          { every: fault.every, minMs: MIN_EVERY_MS, until: Date.now() + leaseSeconds * 1000 },
          async () => {
            await this.killOnce(url, tag, match, handle);
            save();
          },
        );
        return;
      }
      case 'redis-maxmemory': {
        handle.original = await readMaxmemory(url, tag, signal);
        const used = await withRedis(
          url,
          tag,
          async (client) => Number((await info(client, 'memory')).get('used_memory') ?? 0),
          { signal },
        );
        handle.maxmemory = maxmemoryBytes(fault.maxmemory, used);
        handle.policy = fault.policy ?? 'noeviction';
        handle.baseline = await this.pressureCounts(url, tag, signal);
        save(); // the originals are on disk before anything changes
        const agent = await startAgent(
          {
            kind: 'redis/maxmemory',
            tag,
            leaseSeconds,
            params: {
              url,
              maxmemory: handle.maxmemory,
              policy: handle.policy,
              original: handle.original,
            },
          },
          signal,
        );
        handle.agent = agent.pid;
        save();
        return;
      }
      default:
        throw new FaultError(`${fault.fault} cannot act on redis target "${this.target}"`);
    }
  }

  private async killOnce(
    url: string,
    tag: string,
    match: ClientMatch | undefined,
    handle: RedisHandle,
    signal?: AbortSignal,
  ): Promise<void> {
    await withRedis(
      url,
      tag,
      async (client) => {
        const list = parseClientList((await client.call('CLIENT', 'LIST')) as string);
        for (const victim of selectClients(list, match, OWN_NAME_PREFIX)) {
          // By ID: an address may be reused by a new connection between LIST and KILL.
          const n = Number(await client.call('CLIENT', 'KILL', 'ID', victim.id));
          if (n > 0)
            handle.killed!.push(
              `${victim.id} ${victim.addr}${victim.name ? ` ${victim.name}` : ''}`,
            );
        }
      },
      { signal },
    );
  }

  /** OOM rejections (INFO errorstats) and evicted keys (INFO stats) so far. */
  private async pressureCounts(
    url: string,
    tag: string,
    signal?: AbortSignal,
  ): Promise<{ oom: number; evicted: number }> {
    return withRedis(
      url,
      tag,
      async (client) => {
        const errors = await info(client, 'errorstats');
        const oom = Number(/count=(\d+)/.exec(errors.get('errorstat_OOM') ?? '')?.[1] ?? 0);
        const evicted = Number((await info(client, 'stats')).get('evicted_keys') ?? 0);
        return { oom, evicted };
      },
      { signal },
    );
  }

  /**
   * pause: the application's clients connected when it began; kill: the connections killed;
   * maxmemory: writes refused with OOM plus keys evicted since it began (as requests).
   */
  override async touched(
    location: RedisLocation,
    signal: AbortSignal,
  ): Promise<Touched | undefined> {
    const handle = location.handle;
    switch (location.fault) {
      case 'redis-pause':
        return handle.clients === undefined
          ? undefined
          : { connections: handle.clients, bytes: 0, requests: 0 };
      case 'redis-kill-clients':
        return { connections: handle.killed?.length ?? 0, bytes: 0, requests: 0 };
      case 'redis-maxmemory': {
        if (!handle.url || !handle.baseline) return undefined;
        // The tag comes from a journal: one written by another version may carry none.
        const tag = location.tag as string | undefined;
        const now = await this.pressureCounts(handle.url, tag ?? 'fl-touched', signal);
        return {
          connections: 0,
          bytes: 0,
          requests: now.oom - handle.baseline.oom + (now.evicted - handle.baseline.evicted),
        };
      }
      default:
        return undefined;
    }
  }

  /**
   * pause: a PUBLISH (blocked by both pause modes, and harmless: to a channel nobody listens
   * on) is answered within 2 s; maxmemory: no agent and the originals back; kill: no repeat left
   * (the base's check).
   */
  override async isGone(location: RedisLocation, signal: AbortSignal): Promise<boolean> {
    const handle = location.handle;
    // From a journal: one written by another version may carry no tag.
    const tag = (location.tag as string | undefined) ?? 'fl-check';
    switch (location.fault) {
      case 'redis-pause':
        if ((await findAgents(tag)).length > 0) return false;
        if (!handle.url || (handle.until !== undefined && Date.now() > handle.until)) return true;
        return withRedis(
          handle.url,
          tag,
          async (client) => {
            try {
              await client.publish(tag, '');
              return true;
            } catch {
              return false;
            }
          },
          { signal, timeoutMs: 2_000 },
        );
      case 'redis-maxmemory':
        if ((await findAgents(tag)).length > 0) return false;
        return (
          !handle.url ||
          !handle.original ||
          (await isRestored(handle.url, tag, handle.original, signal))
        );
      default:
        return super.isGone(location, signal);
    }
  }
}
