/**
 * The JSONPath subset Chaos Toolkit experiments use in `jsonpath` tolerances: `$`, `.key`,
 * `['key']` / `["key"]`, `[n]`, `[*]`, `.*` and `..key` (recursive descent). Returns every
 * match, in document order. Throws on a path it cannot parse (reported as "not met").
 */
type Step =
  | { kind: 'key'; key: string }
  | { kind: 'index'; index: number }
  | { kind: 'wild' }
  | { kind: 'descend'; key: string | undefined };

function parse(path: string): Step[] {
  if (!path.startsWith('$')) throw new Error(`a JSONPath starts with $: ${path}`);
  const steps: Step[] = [];
  let i = 1;
  const name = /^[A-Za-z_$][\w$-]*/;
  while (i < path.length) {
    const rest = path.slice(i);
    if (rest.startsWith('..')) {
      const m = name.exec(rest.slice(2));
      if (rest.slice(2).startsWith('*')) {
        steps.push({ kind: 'descend', key: undefined });
        i += 3;
      } else if (m) {
        steps.push({ kind: 'descend', key: m[0] });
        i += 2 + m[0].length;
      } else throw new Error(`bad JSONPath near ${rest}`);
    } else if (rest.startsWith('.*')) {
      steps.push({ kind: 'wild' });
      i += 2;
    } else if (rest.startsWith('.')) {
      const m = name.exec(rest.slice(1));
      if (!m) throw new Error(`bad JSONPath near ${rest}`);
      steps.push({ kind: 'key', key: m[0] });
      i += 1 + m[0].length;
    } else if (rest.startsWith('[*]')) {
      steps.push({ kind: 'wild' });
      i += 3;
    } else {
      const m = /^\[(?:(\d+)|'([^']*)'|"([^"]*)")\]/.exec(rest);
      if (!m) throw new Error(`bad JSONPath near ${rest}`);
      if (m[1] !== undefined) steps.push({ kind: 'index', index: Number(m[1]) });
      else steps.push({ kind: 'key', key: (m[2] ?? m[3])! });
      i += m[0].length;
    }
  }
  return steps;
}

/** Why `path` cannot be parsed, or undefined when it can (so validation refuses it before a run). */
export function jsonPathProblem(path: string): string | undefined {
  try {
    parse(path);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function children(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (value && typeof value === 'object') return Object.values(value);
  return [];
}

function descendants(value: unknown): unknown[] {
  const out: unknown[] = [value];
  for (const child of children(value)) out.push(...descendants(child));
  return out;
}

export function jsonPath(value: unknown, path: string): unknown[] {
  let current: unknown[] = [value];
  for (const step of parse(path)) {
    const next: unknown[] = [];
    for (const v of current) {
      if (step.kind === 'key') {
        if (v && typeof v === 'object' && !Array.isArray(v) && Object.hasOwn(v, step.key))
          next.push((v as Record<string, unknown>)[step.key]);
      } else if (step.kind === 'index') {
        if (Array.isArray(v) && step.index < v.length) next.push(v[step.index]);
      } else if (step.kind === 'wild') {
        next.push(...children(v));
      } else {
        for (const d of descendants(v)) {
          if (step.key === undefined) next.push(...children(d));
          else if (d && typeof d === 'object' && !Array.isArray(d) && Object.hasOwn(d, step.key))
            next.push((d as Record<string, unknown>)[step.key]);
        }
      }
    }
    current = next;
  }
  return current;
}

/** Reads `$.a.b[0]` / `a.b.0` style paths. */
export function getPath(value: unknown, path: string): { found: boolean; value?: unknown } {
  const pieces = path
    .replace(/^\$\.?/, '')
    // The capture group is undefined in the pieces split at a dot.
    .split(/\.|\[(\d+)\]/) as (string | undefined)[];
  const parts = pieces.filter((p): p is string => p !== undefined && p !== '');
  let current: unknown = value;
  for (const part of parts) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, part))
      return { found: false };
    current = (current as Record<string, unknown>)[part];
  }
  return { found: true, value: current };
}
