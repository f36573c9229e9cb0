/**
 * `bandwidth`: caps throughput at `rate` KB/s (1 KB = 1000 bytes), per connection and direction.
 *
 * Each chunk is cut into slices of at most 100 ms worth of bytes; every slice is due when a
 * virtual clock, advanced by `slice / rate`, says the link could have sent it. The clock only
 * restarts from "now" when the queue was empty (the sender was slower than the cap), so timer
 * lateness never accumulates into a lower rate. `rate` 0 stalls the stream completely, as in
 * Toxiproxy; removing the toxic releases everything at once and never hangs.
 */
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { attributeParser, nonNegativeInt } from './attributes.js';
import { NULL_SINK } from './pass-stage.js';
import { TimedQueueStage } from './timed-queue.js';
import type { StageContext, StageSink, ToxicDefinition } from './toxic.js';

class BandwidthStage extends TimedQueueStage {
  /** Bytes per millisecond (KB/s numerically). */
  private rate: number;
  private clock = 0;

  constructor(rate: number, next: StageSink, ctx: StageContext) {
    super(next, ctx);
    this.rate = rate;
  }

  protected schedule(chunk: Buffer): void {
    if (this.rate <= 0) {
      // Stalled: hold everything (still bounded: the link pauses the source).
      this.enqueueStalled(chunk);
      return;
    }
    const now = performance.now();
    if (this.pending === 0 && this.clock < now) this.clock = now;
    const slice = Math.max(1, Math.floor(this.rate * 100));
    for (let offset = 0; offset < chunk.length; offset += slice) {
      const piece =
        offset === 0 && chunk.length <= slice ? chunk : chunk.subarray(offset, offset + slice);
      this.clock += piece.length / this.rate;
      this.enqueue(piece, this.clock);
    }
  }

  private enqueueStalled(chunk: Buffer): void {
    this.enqueue(chunk, Number.POSITIVE_INFINITY);
    this.cancel();
  }

  override end(): void {
    if (!this.passthrough && this.rate <= 0) {
      this.enqueue(null, Number.POSITIVE_INFINITY);
      this.cancel();
      return;
    }
    super.end();
  }

  update(attributes: Record<string, unknown>): void {
    this.rate = attributes['rate'] as number;
    const rate = this.rate;
    if (rate <= 0) {
      this.retime(() => Number.POSITIVE_INFINITY);
      this.cancel();
      return;
    }
    const now = performance.now();
    this.clock = now;
    this.retime((entry) => {
      if (entry.chunk) this.clock += entry.chunk.length / rate;
      return this.clock;
    });
  }
}

/** `bandwidth` attributes: `rate` in KB/s. */
export const bandwidthAttributes = z.object({ rate: nonNegativeInt('KB/s') });

export const bandwidthToxic: ToxicDefinition = {
  type: 'bandwidth',
  phase: 'stream',
  summary: 'limits throughput to rate KB/s (1 KB = 1000 bytes); rate 0 stalls the stream',
  parse: attributeParser(bandwidthAttributes),
  createStage: (attributes, ctx) =>
    new BandwidthStage(attributes['rate'] as number, NULL_SINK, ctx),
};
