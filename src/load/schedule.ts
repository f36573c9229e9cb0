/**
 * Arrival schedules for the open model: when each request is due, whatever the responses.
 *
 * A schedule is a list of stages; within a stage the rate goes linearly from `from` to `to`
 * requests per second (equal for a constant rate). The i-th arrival is the time t at which
 * the cumulative count N(t) = ∫ rate reaches i: for a linear stage
 * N(t) = r0·t + (r1 − r0)·t² / (2·D), solved for t. Times are milliseconds from the start.
 */

export interface RateStage {
  durationMs: number;
  /** Requests per second at the start of the stage. */
  from: number;
  /** Requests per second at the end of the stage (default: `from`). */
  to?: number | undefined;
}

export class ArrivalSchedule {
  private readonly stages: Required<RateStage>[];
  private stage = 0;
  private stageStartMs = 0;
  /** Arrivals before the current stage. */
  private countBefore = 0;
  /** Arrivals emitted so far. */
  private emitted = 0;

  constructor(stages: readonly RateStage[]) {
    this.stages = stages.map((s) => ({
      durationMs: s.durationMs,
      from: s.from,
      to: s.to ?? s.from,
    }));
  }

  /** Total duration of the schedule in milliseconds. */
  get durationMs(): number {
    return this.stages.reduce((sum, s) => sum + s.durationMs, 0);
  }

  /** Arrivals the whole schedule holds (may be fractional at the end; floored). */
  get expected(): number {
    return Math.floor(
      this.stages.reduce((sum, s) => sum + ((s.from + s.to) / 2) * (s.durationMs / 1000), 0) + 1e-9,
    );
  }

  /** Offset (ms) of the next arrival, or undefined when the schedule is over. */
  next(): number | undefined {
    for (;;) {
      const s = this.stages[this.stage];
      if (!s) return undefined;
      const D = s.durationMs / 1000;
      const inStage = (D * (s.from + s.to)) / 2;
      const k = this.emitted - this.countBefore; // 0-based index within the stage
      if (k < inStage - 1e-9) {
        const t = solve(s.from, s.to, D, k);
        if (t !== undefined && t <= D + 1e-9) {
          this.emitted++;
          return this.stageStartMs + t * 1000;
        }
      }
      // Carry the fractional remainder of this stage's arrivals into the next one.
      this.countBefore += inStage;
      this.stageStartMs += s.durationMs;
      this.stage++;
    }
  }
}

/** Smallest t in [0, D] with r0·t + (r1 − r0)·t²/(2D) = k. */
function solve(r0: number, r1: number, D: number, k: number): number | undefined {
  if (k <= 0) return 0;
  const a = (r1 - r0) / (2 * D);
  if (Math.abs(a) < 1e-12) return r0 > 0 ? k / r0 : undefined;
  const disc = r0 * r0 + 4 * a * k;
  if (disc < 0) return undefined;
  return (-r0 + Math.sqrt(disc)) / (2 * a);
}
