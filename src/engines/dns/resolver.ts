/**
 * A small fault-injecting DNS resolver (UDP and TCP on one port): the local analogue of Chaos
 * Mesh's DNSChaos. A service pointed at it gets NXDOMAIN, SERVFAIL, REFUSED, no answer at all
 * or a late answer for the names a rule matches; every other query is answered from fixed
 * records or forwarded to an upstream resolver unchanged.
 *
 * ```
 *   service ──query──▶ FaultResolver ──[rules: error / delay]──▶ fixed records | upstream
 * ```
 *
 * Rules are leases: each carries a deadline and the resolver removes it by itself, so a
 * `faultline dns serve` whose controller died still ends the fault in time. Wire format is
 * dns-packet's (encode/decode, RFC 1035 TCP framing), never hand-written parsing.
 */
import { MAX_TIMER_MS } from '../../shared/timer-bounds.js';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIP, connect, createServer, type Server, type Socket } from 'node:net';
import dnsPacket from 'dns-packet';
import { BadRequestError, ConflictError, ListenError } from '../../errors.js';
import { formatHostPort, parseListen, parseUpstream, type HostPort } from '../proxy/address.js';
import { compilePatterns, normalizeName } from './pattern.js';

/** What an error rule answers: an rcode, or `timeout` (no answer at all). */
export type DnsErrorCode = 'nxdomain' | 'servfail' | 'refused' | 'timeout';

const RCODE: Record<Exclude<DnsErrorCode, 'timeout'>, number> = {
  servfail: 2,
  nxdomain: 3,
  refused: 5,
};

export interface DnsRuleSpec {
  /** Unique among the resolver's rules (the runner uses the fault's tag). */
  id: string;
  kind: 'error' | 'delay';
  /** `error` rules: the answer (default servfail). */
  rcode?: DnsErrorCode | undefined;
  /** `delay` rules: how late matching answers arrive, in ms. */
  delayMs?: number | undefined;
  /** Names the rule applies to (`*`, `?` wildcards); all names when empty. */
  patterns?: readonly string[] | undefined;
  /** The lease: the resolver removes the rule by itself after this many seconds (> 0). */
  expiresIn: number;
}

/** A rule as the control API shows it. */
export interface DnsRuleJson {
  id: string;
  kind: 'error' | 'delay';
  rcode?: DnsErrorCode;
  delay_ms?: number;
  patterns: string[];
  expires_at: string;
  /** Queries this rule acted on. */
  queries: number;
}

class DnsRule {
  queries = 0;
  readonly matches: (name: string) => boolean;
  timer: NodeJS.Timeout | undefined;
  constructor(
    readonly spec: DnsRuleSpec,
    readonly expiresAt: Date,
  ) {
    this.matches = compilePatterns(spec.patterns);
  }
  toJSON(): DnsRuleJson {
    return {
      id: this.spec.id,
      kind: this.spec.kind,
      ...(this.spec.kind === 'error'
        ? { rcode: this.spec.rcode ?? 'servfail' }
        : { delay_ms: this.spec.delayMs ?? 0 }),
      patterns: [...(this.spec.patterns ?? [])],
      expires_at: this.expiresAt.toISOString(),
      queries: this.queries,
    };
  }
}

export interface FaultResolverOptions {
  /** `host:port` (port 0: a free one, the same for UDP and TCP). Default 127.0.0.1:0. */
  listen?: string | undefined;
  /**
   * Where queries no rule stops and no fixed record answers go; default the first nameserver of
   * /etc/resolv.conf. `false`: none (a stub serving its records alone; other names get SERVFAIL).
   */
  upstream?: string | false | undefined;
  /** Fixed answers: name → IPv4/IPv6 addresses (A/AAAA records), served authoritatively. */
  records?: Readonly<Record<string, readonly string[]>> | undefined;
  /** How long to wait for the upstream before answering SERVFAIL (default 4 s). */
  upstreamTimeoutMs?: number | undefined;
  /** Called when a rule's lease ran out and the resolver removed it. */
  onLeaseExpired?: ((rule: DnsRuleJson) => void) | undefined;
}

/** Counters of a resolver, since it started. */
export interface ResolverStats {
  queries: number;
  /** Queries that some rule acted on. */
  faulted: number;
  answeredLocally: number;
  forwarded: number;
  /** Queries never answered (timeout rules, malformed packets, upstream gone on TCP). */
  unanswered: number;
}

/** The first `nameserver` of /etc/resolv.conf, as host:53; undefined when there is none. */
export function systemUpstream(file = '/etc/resolv.conf'): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const match = /^\s*nameserver\s+(\S+)/m.exec(text);
  if (!match?.[1]) return undefined;
  const host = match[1].replace(/%.*$/, '');
  return isIP(host) === 6 ? `[${host}]:53` : `${host}:53`;
}

export class FaultResolver {
  private readonly requested: HostPort;
  private bound: HostPort | undefined;
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly pending = new Set<NodeJS.Timeout>();
  private readonly rulesById = new Map<string, DnsRule>();
  private readonly records = new Map<string, string[]>();
  /** Final query counts of rules that ended, so what a fault touched survives its removal. */
  private readonly ended = new Map<string, number>();
  readonly upstream: string | undefined;
  private readonly upstreamAddress: HostPort | undefined;
  private readonly upstreamTimeoutMs: number;
  private readonly onLeaseExpired: FaultResolverOptions['onLeaseExpired'];
  private closed = false;
  readonly stats: ResolverStats = {
    queries: 0,
    faulted: 0,
    answeredLocally: 0,
    forwarded: 0,
    unanswered: 0,
  };

  constructor(options: FaultResolverOptions = {}) {
    this.requested = parseListen(options.listen ?? '127.0.0.1:0');
    this.upstream = options.upstream === false ? undefined : (options.upstream ?? systemUpstream());
    this.upstreamAddress = this.upstream ? parseUpstream(this.upstream) : undefined;
    this.upstreamTimeoutMs = options.upstreamTimeoutMs ?? 4000;
    this.onLeaseExpired = options.onLeaseExpired;
    for (const [name, addresses] of Object.entries(options.records ?? {})) {
      for (const address of addresses) {
        if (!isIP(address))
          throw new BadRequestError(`record ${name}=${address}: not an IP address`, {
            hint: 'write name=IPv4 or name=IPv6, e.g. db.internal=10.0.0.5',
          });
      }
      this.records.set(normalizeName(name), [...addresses]);
    }
  }

  /** The bound address (after start). */
  get address(): HostPort {
    return this.bound ?? this.requested;
  }

  /** `host:port` it listens on, for a service's resolver setting. */
  get listen(): string {
    return formatHostPort(this.address.host, this.address.port);
  }

  /** Binds UDP and TCP on the same port (a free one when the port is 0). */
  async start(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const tcp = createServer({ noDelay: true }, (socket) => this.acceptTcp(socket));
      await listen(tcp, this.requested);
      const port = (tcp.address() as { port: number }).port;
      const udp = createSocket({ type: isIP(this.requested.host) === 6 ? 'udp6' : 'udp4' });
      try {
        await bindUdp(udp, this.requested.host, port);
      } catch (err) {
        await new Promise<void>((resolve) => tcp.close(() => resolve()));
        // A free TCP port whose UDP twin is taken: try another free port.
        if (
          this.requested.port === 0 &&
          attempt < 10 &&
          (err as NodeJS.ErrnoException).code === 'EADDRINUSE'
        )
          continue;
        throw bindError(err, formatHostPort(this.requested.host, port), 'udp');
      }
      udp.on('message', (message, peer) => {
        void this.answer(message, 'udp').then((reply) => {
          if (reply && !this.closed) udp.send(reply, peer.port, peer.address);
        });
      });
      this.tcp = tcp;
      this.udp = udp;
      this.bound = { host: this.requested.host, port };
      return;
    }
  }

  // --- rules ----------------------------------------------------------------------------------

  get rules(): DnsRuleJson[] {
    return [...this.rulesById.values()].map((r) => r.toJSON());
  }

  rule(id: string): DnsRuleJson | undefined {
    return this.rulesById.get(id)?.toJSON();
  }

  /** Queries a rule acted on, active or ended (removed or expired); undefined for an unknown id. */
  queriesOf(id: string): number | undefined {
    return this.rulesById.get(id)?.queries ?? this.ended.get(id);
  }

  /** Adds a rule with its lease; it acts on the next query. */
  addRule(spec: DnsRuleSpec): DnsRuleJson {
    if (this.rulesById.has(spec.id))
      throw new ConflictError(`a rule named "${spec.id}" already exists`, {
        hint: 'remove it first, or choose another id',
      });
    if (!(spec.expiresIn > 0) || !Number.isFinite(spec.expiresIn))
      throw new BadRequestError('a DNS fault needs a lease: expires_in > 0 seconds', {
        hint: 'every fault has a deadline; e.g. "expires_in": 60',
      });
    if (spec.kind === 'delay' && !(typeof spec.delayMs === 'number' && spec.delayMs >= 0))
      throw new BadRequestError('a delay rule needs delay_ms >= 0');
    if (
      spec.kind === 'error' &&
      spec.rcode !== undefined &&
      !['nxdomain', 'servfail', 'refused', 'timeout'].includes(spec.rcode)
    ) {
      throw new BadRequestError(
        `rcode "${spec.rcode}" is not one of nxdomain, servfail, refused, timeout`,
      );
    }
    const rule = new DnsRule(spec, new Date(Date.now() + spec.expiresIn * 1000));
    this.rulesById.set(spec.id, rule);
    this.arm(rule);
    return rule.toJSON();
  }

  private arm(rule: DnsRule): void {
    const remaining = rule.expiresAt.getTime() - Date.now();
    rule.timer = setTimeout(
      () => {
        if (rule.expiresAt.getTime() > Date.now()) return this.arm(rule);
        if (this.rulesById.get(rule.spec.id) !== rule) return;
        this.rulesById.delete(rule.spec.id);
        this.ended.set(rule.spec.id, rule.queries);
        this.onLeaseExpired?.(rule.toJSON());
      },
      Math.max(0, Math.min(remaining, MAX_TIMER_MS)),
    );
    rule.timer.unref();
  }

  /** Removes a rule; false when there was none of that id (already gone). */
  removeRule(id: string): boolean {
    const rule = this.rulesById.get(id);
    if (!rule) return false;
    clearTimeout(rule.timer);
    this.rulesById.delete(id);
    this.ended.set(id, rule.queries);
    return true;
  }

  clearRules(): void {
    for (const id of [...this.rulesById.keys()]) this.removeRule(id);
  }

  // --- queries --------------------------------------------------------------------------------

  /** The reply to one query message, or undefined for none at all. */
  async answer(message: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    this.stats.queries++;
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(message);
    } catch {
      this.stats.unanswered++;
      return undefined;
    }
    const question = query.questions?.[0];
    if (query.type !== 'query' || !question) return this.reply(query, 1 /* FORMERR */);
    const matching = [...this.rulesById.values()].filter((r) => r.matches(question.name));
    for (const rule of matching) rule.queries++;
    if (matching.length > 0) this.stats.faulted++;
    const error = matching.find((r) => r.spec.kind === 'error');
    if (error && (error.spec.rcode ?? 'servfail') === 'timeout') {
      this.stats.unanswered++;
      return undefined;
    }
    const delay = Math.max(
      0,
      ...matching.filter((r) => r.spec.kind === 'delay').map((r) => r.spec.delayMs ?? 0),
    );
    if (delay > 0 && !(await this.sleep(delay))) return undefined;
    if (error)
      return this.reply(
        query,
        RCODE[(error.spec.rcode ?? 'servfail') as Exclude<DnsErrorCode, 'timeout'>],
      );
    const fixed = this.records.get(normalizeName(question.name));
    if (fixed) {
      this.stats.answeredLocally++;
      const type = question.type === 'A' ? 4 : question.type === 'AAAA' ? 6 : 0;
      const answers = fixed
        .filter((ip) => isIP(ip) === type)
        .map((ip) => ({
          type: question.type as 'A' | 'AAAA',
          name: question.name,
          class: 'IN' as const,
          ttl: 5,
          data: ip,
        }));
      return this.reply(query, 0, answers, true);
    }
    if (!this.upstreamAddress) return this.reply(query, 2);
    this.stats.forwarded++;
    try {
      return await (transport === 'udp'
        ? forwardUdp(message, this.upstreamAddress, this.upstreamTimeoutMs)
        : forwardTcp(message, this.upstreamAddress, this.upstreamTimeoutMs));
    } catch {
      return this.reply(query, 2);
    }
  }

  private reply(
    query: dnsPacket.Packet,
    rcode: number,
    answers: dnsPacket.Answer[] = [],
    authoritative = false,
  ): Buffer {
    const rd = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
    return dnsPacket.encode({
      id: query.id ?? 0,
      type: 'response',
      flags:
        rd |
        dnsPacket.RECURSION_AVAILABLE |
        (authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) |
        rcode,
      questions: query.questions ?? [],
      answers,
    });
  }

  /** Waits `ms`; false when the resolver closed meanwhile. */
  private sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        resolve(!this.closed);
      }, ms);
      this.pending.add(timer);
    });
  }

  private acceptTcp(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const length = buffered.readUInt16BE(0);
        const message = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        void this.answer(Buffer.from(message), 'tcp').then((reply) => {
          if (!reply || socket.destroyed) return;
          const frame = Buffer.alloc(2 + reply.length);
          frame.writeUInt16BE(reply.length, 0);
          reply.copy(frame, 2);
          socket.write(frame);
        });
      }
    });
  }

  /** Stops answering, drops every rule and pending answer. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearRules();
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
    for (const socket of this.sockets) socket.destroy();
    const tcp = this.tcp;
    const udp = this.udp;
    await Promise.all([
      tcp ? new Promise<void>((resolve) => tcp.close(() => resolve())) : undefined,
      udp ? new Promise<void>((resolve) => udp.close(() => resolve())) : undefined,
    ]);
  }
}

function listen(server: Server, at: HostPort): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(bindError(err, formatHostPort(at.host, at.port), 'tcp')));
    server.listen({ host: at.host, port: at.port }, () => resolve());
  });
}

function bindUdp(socket: UdpSocket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

function bindError(err: unknown, at: string, protocol: string): ListenError {
  const code = (err as NodeJS.ErrnoException).code;
  const reason =
    code === 'EADDRINUSE'
      ? 'address already in use'
      : code === 'EACCES'
        ? 'permission denied'
        : (err as Error).message;
  return new ListenError(`listen ${protocol} ${at}: ${reason}`, {
    cause: err,
    hint:
      code === 'EADDRINUSE'
        ? 'choose another port, or 0 for any free port'
        : code === 'EACCES'
          ? 'ports below 1024 need root; use e.g. 5353'
          : undefined,
  });
}

/** Sends the query as it is to the upstream over UDP; the reply with the same id, or a rejection at the timeout. */
function forwardUdp(message: Buffer, upstream: HostPort, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIP(upstream.host) === 6 ? 'udp6' : 'udp4');
    const id = message.readUInt16BE(0);
    const done = (err: Error | undefined, reply?: Buffer): void => {
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(() => done(new Error('upstream timeout')), timeoutMs);
    socket.on('error', (err) => done(err));
    socket.on('message', (reply) => {
      if (reply.length >= 2 && reply.readUInt16BE(0) === id) done(undefined, reply);
    });
    socket.send(message, upstream.port, upstream.host);
  });
}

/** The same over TCP (two-byte length framing, RFC 1035 §4.2.2). */
function forwardTcp(message: Buffer, upstream: HostPort, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: upstream.host, port: upstream.port });
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error('upstream timeout')), timeoutMs);
    const finish = (err: Error | undefined, reply?: Buffer): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error('upstream closed the connection')));
    socket.on('connect', () => {
      const frame = Buffer.alloc(2 + message.length);
      frame.writeUInt16BE(message.length, 0);
      message.copy(frame, 2);
      socket.write(frame);
    });
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0))
        finish(undefined, Buffer.from(buffered.subarray(2, 2 + buffered.readUInt16BE(0))));
    });
  });
}
