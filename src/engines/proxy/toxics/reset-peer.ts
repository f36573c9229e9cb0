/**
 * `reset_peer`: on the first chunk (or EOF) in this direction, the chunk is dropped and,
 * `timeout` milliseconds later, the connection is aborted with RST on both sides. Idle
 * connections are never reset.
 *
 * Differences from Toxiproxy (its issue #603): the RST is sent exactly on the connections where
 * the toxic is active, whether they were opened before or after the toxic was added; connections
 * where toxicity spared it close normally.
 */
import { z } from 'zod';
import { attributeParser, duration } from './attributes.js';
import { NULL_SINK } from './pass-stage.js';
import type { StageContext, StageSink, ToxicDefinition, ToxicStage } from './toxic.js';

class ResetPeerStage implements ToxicStage {
  next: StageSink = NULL_SINK;
  private readonly ctx: StageContext;
  private timeout: number;
  private timer: NodeJS.Timeout | undefined;
  private triggered = false;
  private passthrough = false;

  constructor(timeout: number, ctx: StageContext) {
    this.ctx = ctx;
    this.timeout = timeout;
  }

  write(chunk: Buffer): void {
    if (this.passthrough) {
      this.next.write(chunk);
      return;
    }
    this.trigger(chunk.length);
  }

  end(): void {
    if (this.passthrough) {
      this.next.end();
      return;
    }
    this.trigger(0);
  }

  private trigger(bytes: number): void {
    this.ctx.touch(bytes);
    if (this.triggered) return;
    this.triggered = true;
    if (this.timeout === 0) {
      this.ctx.reset();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.ctx.reset();
    }, this.timeout);
  }

  drain(): void {
    // Once triggered, data has been dropped: the stream is corrupt, so the reset happens now.
    if (this.triggered) {
      this.dispose();
      this.ctx.reset();
      return;
    }
    this.passthrough = true;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  update(attributes: Record<string, unknown>): void {
    this.timeout = attributes['timeout'] as number;
  }
}

/** `reset_peer` attributes: `timeout` in milliseconds. */
export const resetPeerAttributes = z.object({ timeout: duration('milliseconds') });

export const resetPeerToxic: ToxicDefinition = {
  type: 'reset_peer',
  phase: 'stream',
  summary: 'on the first data, waits timeout ms and resets the connection (TCP RST)',
  parse: attributeParser(resetPeerAttributes),
  createStage: (attributes, ctx) => new ResetPeerStage(attributes['timeout'] as number, ctx),
};
