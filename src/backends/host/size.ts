/**
 * Sizes of the resources family: `256MB`, `1GB`, `25%` (binary units, as Redis and StressChaos
 * read them), and the safety floor of disk-fill.
 */

const UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

/** A parsed size: bytes, or a fraction of some whole that is only known on the machine. */
export type Size = { bytes: number } | { fraction: number };

export function parseSize(text: string): Size | undefined {
  const m = /^(\d+(?:\.\d+)?)(B|KB|MB|GB|%)$/.exec(text);
  if (!m) return undefined;
  const value = Number(m[1]);
  return m[2] === '%' ? { fraction: value / 100 } : { bytes: Math.floor(value * UNITS[m[2]!]!) };
}

/** Bytes of a size, a percentage read against `whole` (the memory or the file system size). */
export function sizeBytes(text: string, whole: number): number {
  const size = parseSize(text);
  if (!size) throw new Error(`expected a size such as "256MB" or "25%", got "${text}"`);
  return 'bytes' in size ? size.bytes : Math.floor(whole * size.fraction);
}

/**
 * disk-fill never leaves less free space than this, whatever `remaining` says: below it, the
 * machine's own logs, journals and package manager start failing, which is an outage of the
 * machine rather than the rehearsal of one.
 */
export const DISK_FLOOR_BYTES = 64 * 1024 ** 2;
/** …nor a percentage below this share of the file system. */
export const DISK_FLOOR_FRACTION = 0.01;

/** memory-stress never takes more than this share of the memory available when it starts. */
export const MEMORY_CEILING_FRACTION = 0.9;

export function formatBytes(bytes: number): string {
  const abs = Math.abs(bytes);
  if (abs >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
  if (abs >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  if (abs >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} B`;
}
