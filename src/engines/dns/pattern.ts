/**
 * Domain patterns of DNS faults, as Chaos Mesh's DNSChaos writes them: a name matches itself,
 * `?` stands for one character and `*` for any run of characters (Chaos Mesh only accepts `*`
 * at the end; the local resolver takes it anywhere, the Kubernetes compile refuses the rest).
 * Matching ignores case and a trailing dot, as DNS does.
 */

/** Lower case, without the trailing dot. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** A matcher for a list of patterns; no patterns (or an empty list) matches every name. */
export function compilePatterns(
  patterns: readonly string[] | undefined,
): (name: string) => boolean {
  if (!patterns || patterns.length === 0) return () => true;
  const regexes = patterns.map((pattern) => {
    const body = normalizeName(pattern)
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
      .join('');
    return new RegExp(`^${body}$`);
  });
  return (name) => {
    const normalized = normalizeName(name);
    return regexes.some((r) => r.test(normalized));
  };
}
