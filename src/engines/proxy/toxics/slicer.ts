/**
 * `slicer`: cuts each chunk into pieces of `average_size` ± `size_variation` bytes and sends
 * them `delay` microseconds apart. Useful to find parsers that assume a message arrives in one
 * read. Pieces leave in order; the whole chunk's bytes are preserved.
 */
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { attributeParser, duration, nonNegativeInt } from './attributes.js';
import { NULL_SINK } from './pass-stage.js';
import { TimedQueueStage } from './timed-queue.js';
import type { StageContext, StageSink, ToxicDefinition } from './toxic.js';

interface SlicerAttributes {
  average_size: number;
  size_variation: number;
  delay: number;
}

class SlicerStage extends TimedQueueStage {
  private attrs: SlicerAttributes;

  constructor(attrs: SlicerAttributes, next: StageSink, ctx: StageContext) {
    super(next, ctx);
    this.attrs = attrs;
  }

  protected schedule(chunk: Buffer): void {
    const { average_size: average, size_variation: variation, delay } = this.attrs;
    const gap = delay / 1000;
    let due = Math.max(performance.now(), this.lastDue);
    let offset = 0;
    let first = true;
    while (offset < chunk.length) {
      let size = average;
      if (variation > 0) size += Math.floor(this.ctx.random() * (2 * variation + 1)) - variation;
      size = Math.max(1, size);
      if (!first) due += gap;
      first = false;
      this.enqueue(chunk.subarray(offset, offset + size), due);
      offset += size;
    }
  }

  update(attributes: Record<string, unknown>): void {
    this.attrs = attributes as unknown as SlicerAttributes;
  }
}

/** `slicer` attributes: sizes in bytes, `delay` in microseconds. */
export const slicerAttributes = z.object({
  average_size: nonNegativeInt('bytes'),
  size_variation: nonNegativeInt('bytes'),
  delay: duration('microseconds'),
});

export const slicerToxic: ToxicDefinition = {
  type: 'slicer',
  phase: 'stream',
  summary: 'slices data into average_size ± size_variation byte pieces, delay µs apart',
  parse: attributeParser(slicerAttributes),
  createStage: (attributes, ctx) =>
    new SlicerStage(attributes as unknown as SlicerAttributes, NULL_SINK, ctx),
};
