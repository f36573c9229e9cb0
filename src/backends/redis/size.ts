/**
 * redis-maxmemory's limit: a size (`64MB`, binary units as Redis's own `mb`) or a percentage of
 * the memory Redis uses now (`50%`: half of used_memory — below it, a noeviction server refuses
 * every write at once). Never 0, which Redis reads as "no limit" and would silently undo the fault.
 */
const UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

export function maxmemoryBytes(size: string, usedMemory: number): number {
  const m = /^(\d+(?:\.\d+)?)(B|KB|MB|GB|%)$/.exec(size);
  if (!m) throw new Error(`expected a size such as "64MB" or "50%", got "${size}"`);
  const value = Number(m[1]);
  const bytes = m[2] === '%' ? (usedMemory * value) / 100 : value * UNITS[m[2]!]!;
  return Math.max(1, Math.floor(bytes));
}
