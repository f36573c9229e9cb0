/**
 * `latency`: delays every chunk by `latency` ± `jitter` milliseconds.
 *
 * The delay is measured from the moment the chunk was read, not from when the previous chunk
 * left, so a latency toxic delays a stream without capping its throughput (Toxiproxy does the
 * same with its buffered stage). Chunks never overtake each other: with jitter, a chunk whose
 * draw would make it leave before its predecessor waits for it. Stacked latency toxics add up.
 * EOF leaves right after the last chunk.
 */
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { attributeParser, duration } from './attributes.js';
import { NULL_SINK } from './pass-stage.js';
import { TimedQueueStage } from './timed-queue.js';
import type { StageContext, StageSink, ToxicDefinition } from './toxic.js';

interface LatencyAttributes {
  latency: number;
  jitter: number;
}

class LatencyStage extends TimedQueueStage {
  private attrs: LatencyAttributes;

  constructor(attrs: LatencyAttributes, next: StageSink, ctx: StageContext) {
    super(next, ctx);
    this.attrs = attrs;
  }

  protected schedule(chunk: Buffer): void {
    const { latency, jitter } = this.attrs;
    const delay = latency + (jitter > 0 ? (this.ctx.random() * 2 - 1) * jitter : 0);
    this.enqueue(chunk, performance.now() + Math.max(0, delay));
  }

  update(attributes: Record<string, unknown>): void {
    // New values apply to chunks read from now on; chunks already waiting keep their times.
    this.attrs = attributes as unknown as LatencyAttributes;
  }
}

/** `latency` attributes, in milliseconds. */
export const latencyAttributes = z.object({
  latency: duration('milliseconds'),
  jitter: duration('milliseconds'),
});

export const latencyToxic: ToxicDefinition = {
  type: 'latency',
  phase: 'stream',
  summary: 'delays each chunk by latency ± jitter milliseconds',
  parse: attributeParser(latencyAttributes),
  createStage: (attributes, ctx) =>
    new LatencyStage(attributes as unknown as LatencyAttributes, NULL_SINK, ctx),
};
