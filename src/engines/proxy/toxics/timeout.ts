/**
 * `timeout`: the connection goes silent. Every byte in this direction is read and discarded (the
 * sender never blocks), EOF is swallowed, and if `timeout` > 0 the whole connection is closed
 * `timeout` milliseconds after the toxic started on it, whether or not data flowed.
 * `timeout` 0 never closes.
 *
 * Removing the toxic closes the connections on which it dropped bytes, because the stream they
 * carry is corrupt. Connections on which it dropped nothing carry on unharmed (Toxiproxy closes
 * those too).
 */
import { z } from 'zod';
import { attributeParser, duration } from './attributes.js';
import { NULL_SINK } from './pass-stage.js';
import type { StageContext, StageSink, ToxicDefinition, ToxicStage } from './toxic.js';

class TimeoutStage implements ToxicStage {
  next: StageSink = NULL_SINK;
  private readonly ctx: StageContext;
  private timer: NodeJS.Timeout | undefined;
  private dropped = false;
  private passthrough = false;

  constructor(timeout: number, ctx: StageContext) {
    this.ctx = ctx;
    if (timeout > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.ctx.touch(0);
        this.ctx.close();
      }, timeout);
    }
  }

  write(chunk: Buffer): void {
    if (this.passthrough) {
      this.next.write(chunk);
      return;
    }
    this.dropped = true;
    this.ctx.touch(chunk.length);
  }

  end(): void {
    if (this.passthrough) {
      this.next.end();
      return;
    }
    this.dropped = true;
    this.ctx.touch(0);
  }

  drain(): void {
    this.dispose();
    this.passthrough = true;
    if (this.dropped) this.ctx.close();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** `timeout` attributes: `timeout` in milliseconds. */
export const timeoutAttributes = z.object({ timeout: duration('milliseconds') });

export const timeoutToxic: ToxicDefinition = {
  type: 'timeout',
  phase: 'stream',
  summary: 'drops all data and closes the connection after timeout ms (0: never closes)',
  parse: attributeParser(timeoutAttributes),
  createStage: (attributes, ctx) => new TimeoutStage(attributes['timeout'] as number, ctx),
};
