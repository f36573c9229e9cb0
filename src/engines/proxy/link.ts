/**
 * One direction of a proxied connection.
 *
 * ```
 *   src socket ──'data'──▶ head ─▶ stage ─▶ stage ─▶ Link (sink) ──write──▶ dst socket
 *              ──'end'───▶                                      ──end()──▶ (half-close)
 * ```
 *
 * With no active toxic, `head` is the link itself: a chunk goes from the source's 'data'
 * event straight to `dst.write`, which is the whole fast path. Backpressure: the source is
 * paused while the destination's buffer is full (`write` returned false) or while stages hold
 * more than {@link HIGH_WATER_MARK} bytes, and resumed when both have drained. A slow reader
 * therefore never makes the proxy buffer without bound.
 */
import type { Socket } from 'node:net';
import { NULL_SINK } from './toxics/pass-stage.js';
import type { StageContext, StageSink, StreamDirection, ToxicStage } from './toxics/toxic.js';
import type { ToxicEntry } from './toxic-entry.js';
import type { Wiring } from './rewire-sweep.js';

/** Size of a link's reused read buffer (libuv's own read size: one read fills at most this). */
export const READ_BUFFER_SIZE = 64 * 1024;

/**
 * The read buffer a socket made with `onread` is handed before its link exists (Node asks for
 * one when the socket is created). Shared by every connection: a link copies whatever arrives
 * in a buffer that is not its own before the read callback returns, so nothing outlives a read.
 */
export const PARKING_READ_BUFFER: Uint8Array = Buffer.allocUnsafeSlow(READ_BUFFER_SIZE);

/** A read at least this large is bulk traffic: the link reads into a buffer of its own. */
const BULK_READ = 16 * 1024;

/**
 * Bulk reads one loop turn may carry (64 KiB each) before further links give way. libuv reads up
 * to 32 × 64 KiB from every readable socket per turn, so with a thousand saturated connections a
 * turn lasts a second and nothing else (the control API, timers, a stop condition) runs in the
 * meantime. Past this many bulk reads in a turn, a link that reads in bulk stops reading and
 * queues; at the end of the turn (setImmediate) the queue's oldest links resume, as many as the
 * budget allows, round-robin. One bulk stream (at most libuv's 32 reads per turn) never exceeds
 * the budget and pays nothing. 32 rather than 64 since issue #22: with a thousand saturated
 * connections a turn then carries ≈ 2 MiB, and the control API's p50 fell from ≈ 13 to ≈ 10 ms
 * (BENCHMARKS.md, run J) with one stream's throughput unchanged.
 */
const BULK_READS_PER_TURN = 32;

class TurnBudget {
  private reads = 0;
  private scheduled = false;
  private readonly waiting: Link[] = [];
  private head = 0;

  /** Counts a bulk read; false when the link must give way until its turn. */
  admit(link: Link): boolean {
    if (!this.scheduled) this.schedule();
    if (++this.reads <= BULK_READS_PER_TURN) return true;
    this.waiting.push(link);
    return false;
  }

  private schedule(): void {
    this.scheduled = true;
    setImmediate(this.endTurn);
  }

  private readonly endTurn = (): void => {
    this.scheduled = false;
    this.reads = 0;
    const until = Math.min(this.waiting.length, this.head + BULK_READS_PER_TURN);
    const resume = this.waiting.slice(this.head, until);
    this.head = until;
    if (this.head === this.waiting.length) {
      this.waiting.length = 0;
      this.head = 0;
    } else if (this.head > 4096) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    for (const link of resume) link.resumeTurn();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a resumed link may have scheduled the next turn
    if (this.waiting.length > this.head && !this.scheduled) this.schedule();
  };
}

const turns = new TurnBudget();

/**
 * The largest first write that Nagle's algorithm cannot hold back: one segment at the smallest
 * MSS TCP allows (RFC 9293: 536 bytes), on a connection with nothing in flight, is sent at once.
 */
const FIRST_SEGMENT = 536;

/** The wiring of a link made without one (tests): no toxics, ever. */
const NO_TOXICS: Wiring = { version: 0, toxics: [] };

/** Bytes stages may hold per link before the source is paused. */
export const HIGH_WATER_MARK = 1024 * 1024;
/** Bytes held below which a paused source is resumed. */
const LOW_WATER_MARK = HIGH_WATER_MARK / 2;

/** What a link needs from its connection. */
export interface LinkHost {
  close(): void;
  reset(): void;
  random(): number;
  /** Called once when this link has propagated EOF to its destination. */
  linkEnded(link: Link): void;
}

/** Live byte counters of one direction of a proxy, shared by all its connections. */
export interface DirectionCounters {
  /** Bytes read from the source. */
  received: number;
  /** Bytes written to the destination. */
  sent: number;
}

interface ActiveStage {
  toxic: ToxicEntry;
  stage: ToxicStage;
  attributesVersion: number;
}

interface Decision {
  toxicityVersion: number;
  active: boolean;
}

export class Link implements StageSink {
  readonly direction: StreamDirection;
  private readonly src: Socket;
  private readonly dst: Socket;
  private readonly host: LinkHost;
  private readonly counters: DirectionCounters;
  private head: StageSink = this;
  private stages: ActiveStage[] = [];
  /** Toxicity draws per toxic; created with the first toxic this link sees. */
  private decisions: Map<ToxicEntry, Decision> | undefined;
  private held = 0;
  private blocked = false;
  private paused = false;
  private ended = false;
  /** Reused read buffer of a source socket created with `onread` (see {@link onRead}). */
  private readBuffer: Buffer | undefined;
  /** Bytes of the last read (decides the next read's buffer: see {@link nextReadBuffer}). */
  private lastRead = 0;
  /** True while the current read buffer's bytes may still be referenced by a pending write. */
  private lent = false;
  /** The source delivers chunks through {@link onRead} instead of 'data' events. */
  private readonly userReads: boolean;
  /**
   * TCP_NODELAY is still to be set on the destination before it writes anything Nagle could
   * hold back (see {@link write}). A short-lived connection (connect, one request, one reply,
   * close) then never pays the two `setsockopt` calls a proxy otherwise makes per connection.
   */
  private noDelayPending: boolean;

  constructor(
    direction: StreamDirection,
    src: Socket,
    dst: Socket,
    host: LinkHost,
    counters: DirectionCounters,
    options: { userReads?: boolean; lazyNoDelay?: boolean; wiring?: Wiring } = {},
  ) {
    this.wiring = options.wiring ?? NO_TOXICS;
    this.userReads = options.userReads ?? false;
    this.noDelayPending = options.lazyNoDelay ?? false;
    this.direction = direction;
    this.counters = counters;
    this.src = src;
    this.dst = dst;
    this.host = host;
  }

  /** The toxics of this link's direction, and their version (see rewire-sweep.ts). */
  private readonly wiring: Wiring;
  /** The version of {@link wiring} this link's stages were built for. */
  private wiredVersion = -1;

  /**
   * Rewires the stage chain if the proxy's toxics changed since it was built. Called before
   * every chunk and EOF from the source, so a toxic acts on the next byte, and by the sweep.
   */
  sync(): void {
    if (this.wiredVersion === this.wiring.version) return;
    this.wiredVersion = this.wiring.version;
    this.rewire(this.wiring.toxics);
  }

  /** Starts moving data. Call after `sync` so the first chunk sees the current toxics. */
  start(): void {
    if (!this.userReads) {
      this.onData = (chunk: Buffer): void => {
        if (this.wiredVersion !== this.wiring.version) this.sync();
        this.counters.received += chunk.length;
        this.head.write(chunk);
      };
      this.src.on('data', this.onData);
    }
    this.src.on('end', this.onEnd);
    this.dst.on('drain', this.onDrain);
    this.src.resume();
  }

  /** The 'data' listener of a source without user reads (TLS), made when the link starts. */
  private onData: ((chunk: Buffer) => void) | undefined;

  /**
   * `onread.buffer` of a source socket made with `net.connect({ onread })`: the buffer the next
   * read fills. Node would otherwise allocate a fresh 64 KiB ArrayBuffer per read; those are
   * external memory that V8 counts against the old generation's limit until a scavenge frees
   * them (every 32 MiB), which in a process whose heap is past V8's 8 MB marking threshold (any
   * process that loads more than a few modules) starts a full mark-compact every few hundred
   * reads. Reusing one buffer per link makes the bulk path allocate nothing per read.
   */
  nextReadBuffer(): Uint8Array {
    // Small reads (requests, replies, an idle connection's first bytes) go into the shared
    // parking buffer and are copied, as Node itself would copy them: an idle connection then
    // holds no 64 KiB buffer of its own. A link gets its own buffer once reads come in bulk.
    if (this.lastRead < BULK_READ) {
      this.readBuffer = undefined;
      this.lent = false;
      return PARKING_READ_BUFFER;
    }
    if (!this.readBuffer || this.lent) {
      this.readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_SIZE);
      this.lent = false;
    }
    return this.readBuffer;
  }

  /**
   * `onread.callback`: `length` bytes were read into the reused buffer. On the fast path (no
   * stage, nothing queued on the destination) the bytes are written straight from it; if the
   * kernel does not take them all at once, the pending write still references the buffer, so
   * the next read gets a fresh one. Anything else (stages that may hold chunks, a write already
   * queued, the shared parking buffer of the first read) gets a copy, since the buffer is
   * overwritten by the next read.
   */
  onRead(length: number, buffer: Uint8Array): boolean {
    if (this.wiredVersion !== this.wiring.version) this.sync();
    this.counters.received += length;
    this.lastRead = length;
    const dst = this.dst;
    if (buffer === this.readBuffer && this.head === this && dst.writableLength === 0) {
      this.write(Buffer.from(buffer.buffer, buffer.byteOffset, length));
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the write above may leave bytes queued
      if (dst.writableLength > 0) this.lent = true;
    } else {
      this.head.write(Buffer.from(buffer.subarray(0, length)));
    }
    // Flow control is updateFlow's (pause/resume); `false` stops reading until the link's turn.
    // Only a read that filled the buffer counts against the turn: the socket has more waiting.
    return length < buffer.length || turns.admit(this);
  }

  /** The link's turn has come after it gave way to others (see {@link TurnBudget}). */
  resumeTurn(): void {
    if (!this.paused && !this.src.destroyed) this.src.resume();
  }

  private readonly onEnd = (): void => {
    if (this.wiredVersion !== this.wiring.version) this.sync();
    this.head.end();
  };

  private readonly onDrain = (): void => {
    this.blocked = false;
    this.updateFlow();
  };

  /** Sink: the end of the stage chain. */
  write(chunk: Buffer): void {
    if (this.ended || this.dst.destroyed) return;
    this.counters.sent += chunk.length;
    if (this.noDelayPending) this.beforeWrite(chunk);
    if (!this.dst.write(chunk) && !this.blocked) {
      this.blocked = true;
      this.updateFlow();
    }
  }

  /**
   * Nagle's algorithm holds a small segment back only while earlier data is unacknowledged, so
   * a first write that fits one minimal segment leaves at once without TCP_NODELAY; anything
   * after it (or a larger first write, whose last segment could wait for an ACK) gets the
   * option first, exactly as if it had been set at connect.
   */
  private beforeWrite(chunk: Buffer): void {
    if (this.firstWriteDone || chunk.length > FIRST_SEGMENT) {
      this.noDelayPending = false;
      this.dst.setNoDelay(true);
    }
    this.firstWriteDone = true;
  }

  private firstWriteDone = false;

  /**
   * Sink: EOF reached the end of the chain; half-close the destination. When the destination
   * has already sent its own EOF (read to the end) and nothing waits in its write queue, the
   * half-close is its last act, so it is closed at once: close() sends the same FIN after what
   * the kernel still holds, and saves the shutdown() and the second epoll removal that end()
   * and the close after it cost (2 of ≈ 25 system calls per short connection). TLS keeps end():
   * its close_notify is written there.
   */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.dst.destroyed) {
      if (this.dst.readableEnded && this.dst.writableLength === 0 && !isTls(this.dst))
        this.dst.destroy();
      else this.dst.end();
    }
    this.host.linkEnded(this);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  private updateFlow(): void {
    const shouldPause =
      this.blocked || this.held > (this.paused ? LOW_WATER_MARK : HIGH_WATER_MARK);
    if (shouldPause === this.paused) return;
    this.paused = shouldPause;
    if (shouldPause) this.src.pause();
    else if (!this.src.destroyed) this.src.resume();
  }

  private hold(bytes: number): void {
    this.held += bytes;
    if (!this.paused && this.held > HIGH_WATER_MARK) this.updateFlow();
  }

  private release(bytes: number): void {
    this.held -= bytes;
    if (this.paused && this.held <= LOW_WATER_MARK) this.updateFlow();
  }

  /**
   * Brings the stage chain in line with the proxy's toxics for this direction (in order).
   * New toxics get a stage, changed ones are updated (or replaced), removed ones drain what
   * they hold into their successor at once. Toxicity is drawn once per connection and toxic,
   * and drawn again only when that toxic's toxicity changes.
   */
  rewire(toxics: readonly ToxicEntry[]): void {
    // The common case at connection setup and on every other proxy's calls: nothing to do.
    if (toxics.length === 0 && this.stages.length === 0 && this.decisions === undefined) return;
    const previous = this.stages;
    const next: ActiveStage[] = [];
    let replaced: Map<ToxicStage, ToxicStage> | undefined;
    for (const toxic of toxics) {
      if (toxic.definition.phase !== 'stream' || !toxic.definition.createStage) continue;
      if (!this.isActive(toxic)) continue;
      const existing = previous.find((s) => s.toxic === toxic);
      if (!existing) {
        next.push(this.createStage(toxic));
      } else if (existing.attributesVersion === toxic.attributesVersion) {
        next.push(existing);
      } else if (existing.stage.update) {
        existing.stage.update(toxic.attributes);
        existing.attributesVersion = toxic.attributesVersion;
        next.push(existing);
      } else {
        const fresh = this.createStage(toxic);
        (replaced ??= new Map()).set(existing.stage, fresh.stage);
        next.push(fresh);
      }
    }
    for (let i = 0; i < next.length; i++) next[i]!.stage.next = next[i + 1]?.stage ?? this;
    this.head = next[0]?.stage ?? this;
    this.stages = next;
    if (replaced || previous.some((s) => !next.includes(s))) this.drainRemoved(previous, replaced);
    if (this.decisions) {
      // Deleting the entry being visited is safe in a Map iteration.
      for (const toxic of this.decisions.keys()) {
        if (!toxics.includes(toxic)) this.decisions.delete(toxic);
      }
    }
  }

  /**
   * Removed (or replaced) stages hand what they hold to whoever now follows them. A stage
   * nearer the sink holds older bytes than the stages before it, so drain from the tail
   * towards the head: when consecutive stages are removed, their common successor receives
   * the oldest bytes first and order is kept.
   */
  private drainRemoved(
    previous: readonly ActiveStage[],
    replaced: Map<ToxicStage, ToxicStage> | undefined,
  ): void {
    const kept = (stage: ToxicStage): boolean => this.stages.some((s) => s.stage === stage);
    for (let i = previous.length - 1; i >= 0; i--) {
      const old = previous[i]!.stage;
      if (kept(old)) continue;
      let successor: StageSink | undefined = replaced?.get(old);
      for (let j = i + 1; successor === undefined && j < previous.length; j++) {
        const candidate = previous[j]!.stage;
        if (kept(candidate)) successor = candidate;
        else if (replaced?.has(candidate)) successor = replaced.get(candidate);
      }
      old.next = successor ?? this;
      old.drain();
      old.dispose();
    }
  }

  private isActive(toxic: ToxicEntry): boolean {
    const decisions = (this.decisions ??= new Map<ToxicEntry, Decision>());
    let decision = decisions.get(toxic);
    if (!decision || decision.toxicityVersion !== toxic.toxicityVersion) {
      const active =
        toxic.toxicity >= 1 || (toxic.toxicity > 0 && this.host.random() < toxic.toxicity);
      decision = { toxicityVersion: toxic.toxicityVersion, active };
      decisions.set(toxic, decision);
    }
    return decision.active;
  }

  private createStage(toxic: ToxicEntry): ActiveStage {
    let touched = false;
    const ctx: StageContext = {
      direction: this.direction,
      close: () => this.host.close(),
      reset: () => this.host.reset(),
      hold: (bytes) => this.hold(bytes),
      release: (bytes) => this.release(bytes),
      touch: (bytes) => {
        toxic.stats.bytes += bytes;
        if (!touched) {
          touched = true;
          toxic.stats.connections++;
        }
      },
      random: () => this.host.random(),
    };
    const stage = toxic.definition.createStage!(toxic.attributes, ctx);
    stage.next = NULL_SINK;
    return { toxic, stage, attributesVersion: toxic.attributesVersion };
  }

  /** The connection is gone: stop every stage's timers. */
  dispose(): void {
    for (const { stage } of this.stages) stage.dispose();
    this.stages = [];
    this.head = NULL_SINK;
    if (this.onData) this.src.off('data', this.onData);
    this.src.off('end', this.onEnd);
    this.dst.off('drain', this.onDrain);
  }
}

/** A TLS socket (node:tls sets `encrypted` on its sockets). */
function isTls(socket: Socket): boolean {
  return (socket as Socket & { encrypted?: boolean }).encrypted === true;
}
