/**
 * `slow_close`: data passes untouched; when the source ends, the end is held back `delay`
 * milliseconds before it is propagated. faultline propagates half-close, so what is delayed is
 * the FIN of this direction (Toxiproxy delays the close of the whole connection).
 */
import { z } from 'zod';
import { attributeParser, duration } from './attributes.js';
import { NULL_SINK, PassStage } from './pass-stage.js';
import type { StageContext, StageSink, ToxicDefinition } from './toxic.js';

class SlowCloseStage extends PassStage {
  private delay: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(delay: number, next: StageSink, ctx: StageContext) {
    super(next, ctx);
    this.delay = delay;
  }

  override end(): void {
    this.ctx.touch(0);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.next.end();
    }, this.delay);
  }

  override drain(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.next.end();
    }
  }

  override dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  update(attributes: Record<string, unknown>): void {
    this.delay = attributes['delay'] as number;
  }
}

/** `slow_close` attributes: `delay` in milliseconds. */
export const slowCloseAttributes = z.object({ delay: duration('milliseconds') });

export const slowCloseToxic: ToxicDefinition = {
  type: 'slow_close',
  phase: 'stream',
  summary: 'delays the propagation of a close (FIN) by delay milliseconds',
  parse: attributeParser(slowCloseAttributes),
  createStage: (attributes, ctx) =>
    new SlowCloseStage(attributes['delay'] as number, NULL_SINK, ctx),
};
