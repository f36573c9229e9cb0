/**
 * A small seeded pseudo-random generator (mulberry32). Toxicity draws and jitter come from it,
 * so a proxy started with a seed makes the same decisions for the same sequence of connections
 * (Toxiproxy's `-seed` flag is a no-op; its issue #274).
 */
export type RandomSource = () => number;

export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed from the clock and Math.random, for when the user gave none. */
export function randomSeed(): number {
  return (Math.floor(Math.random() * 0xffffffff) ^ Date.now()) >>> 0;
}
