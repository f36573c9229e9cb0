/**
 * `limit_data`: forwards up to `bytes` bytes in this direction (truncating the chunk that
 * crosses the limit), then closes the connection with FIN. The count is per connection and
 * survives attribute updates, as in Toxiproxy.
 */
import { z } from 'zod';
import { attributeParser, nonNegativeInt } from './attributes.js';
import { NULL_SINK, PassStage } from './pass-stage.js';
import type { StageContext, StageSink, ToxicDefinition } from './toxic.js';

class LimitDataStage extends PassStage {
  private limit: number;
  private transmitted = 0;
  private closed = false;

  constructor(limit: number, next: StageSink, ctx: StageContext) {
    super(next, ctx);
    this.limit = limit;
  }

  override write(chunk: Buffer): void {
    if (this.closed) return;
    const room = this.limit - this.transmitted;
    if (chunk.length < room) {
      this.transmitted += chunk.length;
      this.next.write(chunk);
      return;
    }
    if (room > 0) this.next.write(chunk.subarray(0, room));
    this.transmitted += Math.max(0, room);
    this.ctx.touch(chunk.length - Math.max(0, room));
    this.closed = true;
    this.ctx.close();
  }

  update(attributes: Record<string, unknown>): void {
    this.limit = attributes['bytes'] as number;
  }
}

/** `limit_data` attributes: `bytes`. */
export const limitDataAttributes = z.object({ bytes: nonNegativeInt('bytes') });

export const limitDataToxic: ToxicDefinition = {
  type: 'limit_data',
  phase: 'stream',
  summary: 'closes the connection after bytes bytes have been transmitted',
  parse: attributeParser(limitDataAttributes),
  createStage: (attributes, ctx) =>
    new LimitDataStage(attributes['bytes'] as number, NULL_SINK, ctx),
};
