/**
 * The simplest stage: forwards every chunk and EOF unchanged. Toxics whose effect is not on the
 * bytes themselves (slow_close, limit_data, …) extend it and override one hook.
 */
import type { StageContext, StageSink, ToxicStage } from './toxic.js';

/** Placeholder `next` until the link wires a new stage in. */
export const NULL_SINK: StageSink = { write(): void {}, end(): void {} };

export class PassStage implements ToxicStage {
  next: StageSink;
  protected readonly ctx: StageContext;

  constructor(next: StageSink, ctx: StageContext) {
    this.next = next;
    this.ctx = ctx;
  }

  write(chunk: Buffer): void {
    this.next.write(chunk);
  }

  end(): void {
    this.next.end();
  }

  drain(): void {}

  dispose(): void {}
}
