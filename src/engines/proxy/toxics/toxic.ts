/**
 * The toxic contract: what a fault looks like to the proxy's data path.
 *
 * ```
 *   source socket ──data──▶ [stage] ──▶ [stage] ──▶ … ──▶ sink ──write──▶ destination socket
 *                  ──end───▶                                    ──end()──▶ (half-close)
 * ```
 *
 * A toxic is stateless configuration (type, attributes, toxicity). For every connection and
 * direction on which the toxic is active, the proxy asks its definition for a {@link ToxicStage}:
 * the per-connection state machine that receives chunks and EOF from the previous stage and
 * hands what it lets through to `next`.
 *
 * Contract every stage keeps (the equivalent of Toxiproxy's CREATING_TOXICS.md):
 * - Bytes are never dropped, duplicated or reordered unless dropping is the toxic's purpose
 *   (`timeout`, `reset_peer`, `limit_data`, `blackhole`).
 * - `end()` (EOF from the source) is forwarded after every byte the stage still holds.
 * - `drain()` is called when the toxic is removed from a live connection: the stage forwards
 *   everything it holds to `next` at once and becomes a pass-through. It never waits.
 * - `dispose()` is called when the connection is torn down: cancel timers, drop buffers.
 * - Bytes held in a stage are reported with `ctx.hold`/`ctx.release`, so the link can pause
 *   the source and memory stays bounded whatever the reader does.
 * - `ctx.touch(bytes)` records that this toxic affected traffic: the runner uses it to tell a
 *   fault that bit from one that traffic bypassed.
 */

/** Which way data flows: `upstream` is client → server, `downstream` server → client. */
export type StreamDirection = 'upstream' | 'downstream';

/** Where a stage sends what it lets through. */
export interface StageSink {
  write(chunk: Buffer): void;
  end(): void;
}

/** What a stage may do to the connection it lives on. */
export interface StageContext {
  readonly direction: StreamDirection;
  /** Close the whole connection with FIN on both sides. */
  close(): void;
  /** Abort the whole connection with RST on both sides. */
  reset(): void;
  /** Bytes the stage now holds (backpressure accounting). */
  hold(bytes: number): void;
  /** Bytes the stage no longer holds. */
  release(bytes: number): void;
  /** Record that this toxic affected `bytes` bytes (0 for a non-data effect such as a close). */
  touch(bytes: number): void;
  /** Uniform random number in [0, 1) from the proxy's seeded generator. */
  random(): number;
}

/** Per-connection, per-direction state of an active toxic. */
export interface ToxicStage extends StageSink {
  /** Where this stage forwards to; rewired by the link when toxics change. */
  next: StageSink;
  /** The toxic was removed: forward everything held to `next` now and pass data through. */
  drain(): void;
  /** The connection is gone: cancel timers and drop state. */
  dispose(): void;
  /** Attributes changed on a live connection; stages without it are replaced instead. */
  update?(attributes: Record<string, unknown>): void;
}

/** Which part of a connection a toxic acts on. */
export type ToxicPhase =
  /** Data in flight on a TCP connection (latency, bandwidth, …). */
  | 'stream'
  /** The opening of a TCP connection (connect_delay, refuse, blackhole). */
  | 'connect'
  /** Individual HTTP requests on an HTTP-mode proxy (http_abort, http_delay). */
  | 'request';

/** Live counters of one toxic: how much traffic it actually touched. */
export interface ToxicStats {
  /** Connections on which the toxic was active and acted at least once. */
  connections: number;
  /** Bytes the toxic delayed, throttled, dropped or cut. */
  bytes: number;
  /** HTTP requests the toxic acted on (HTTP mode only). */
  requests: number;
}

/** A toxic type: its attributes with their defaults, their validation, and its stage factory. */
export interface ToxicDefinition {
  readonly type: string;
  readonly phase: ToxicPhase;
  /** One-line description for docs and `--help`. */
  readonly summary: string;
  /**
   * Validates and completes attributes: every known attribute is returned (zero defaults for
   * missing ones, as Toxiproxy echoes them), an unknown one is a problem (a typo would
   * otherwise create a toxic that does nothing). Returns problems as `{path, message, hint?}`
   * with paths relative to `attributes`.
   */
  parse(raw: unknown): { attributes: Record<string, unknown> } | { issues: AttributeIssue[] };
  /** Creates the per-connection stage (stream toxics only). */
  createStage?(attributes: Record<string, unknown>, ctx: StageContext): ToxicStage;
}

export interface AttributeIssue {
  path: string;
  message: string;
  /** What to do instead: the nearest known attribute, the largest value a timer holds. */
  hint?: string | undefined;
}
