/**
 * Durations, percentages and rates as people write them in experiment files.
 *
 * Grammar (whitespace not allowed inside a literal):
 * ```
 *   duration   = number unit            ; "500ms", "30s", "2m", "1.5h"
 *   unit       = "ms" | "s" | "m" | "h"
 *   percentage = number "%"             ; "5%", "0.5%", "100%"
 *   rate       = number rate-unit       ; "100KB/s", "10MB/s", "512B/s"
 *   rate-unit  = ("B" | "KB" | "MB" | "GB") "/s"   ; decimal: 1 KB = 1000 B, as Toxiproxy
 *   number     = digit+ [ "." digit+ ]
 * ```
 */

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const PERCENTAGE = /^(\d+(?:\.\d+)?)%$/;
const RATE = /^(\d+(?:\.\d+)?)(B|KB|MB|GB)\/s$/;

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const RATE_BYTES: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9 };

/** Milliseconds in a duration literal, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * DURATION_MS[match[2]!]!;
}

/** A fraction from 0 to 1 for a percentage literal (`"5%"` → 0.05), or undefined. */
export function parsePercentage(text: string): number | undefined {
  const match = PERCENTAGE.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]) / 100;
  return value <= 1 ? value : undefined;
}

/** Bytes per second in a rate literal (`"100KB/s"` → 100000), or undefined. */
export function parseRate(text: string): number | undefined {
  const match = RATE.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * RATE_BYTES[match[2]!]!;
}

/** Renders milliseconds back as the shortest exact literal (`120000` → `"2m"`). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
