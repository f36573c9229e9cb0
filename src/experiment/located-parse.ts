/**
 * Located validation for faultline's other YAML files (architectures, game day plans, schedules): the
 * experiment loader's `readDocument` (YAML syntax located, unsafe tags refused), a zod schema,
 * then checks of meaning — every problem in one {@link ValidationError} with file:line:column,
 * what was expected and a hint, sorted by position, so the CLI exits 2 with all of them.
 */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../errors.js';
import { dedupe, formatPath, issueHint, readDocument, type ReadDocument } from './read.js';
import { suggest } from '../shared/suggest.js';

/** A problem found by a check of meaning: its JSON path, located afterwards. */
export type PathIssue = Omit<ValidationIssue, 'file' | 'line' | 'column'>;

export interface LocatedParseOptions<T> {
  /** What the file is, for "the file is empty" and similar ("a game day plan"). */
  what: string;
  /** Keys the format knows, for "did you mean". */
  knownKeys: readonly string[];
  /**
   * Discriminated unions of the format: discriminator key → its values, so a missing or unknown
   * one reads `unknown kind "cach"` (did you mean "cache"?) instead of zod's "Invalid input".
   */
  discriminators?: Readonly<Record<string, readonly string[]>> | undefined;
  /** Checks of meaning, on the raw data (so they run even when the schema failed) and the parsed value when it passed. */
  check?: ((data: unknown, parsed: T | undefined) => PathIssue[]) | undefined;
}

/** Reads a file; a missing or unreadable file is a located error too. */
export async function readLocatedFile(path: string, file = path): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT' ? 'no such file' : `cannot read the file (${code ?? 'error'})`;
    throw new ValidationError(`cannot read ${file}: ${message}`, [{ path: '', file, message }]);
  }
}

/** Parses and validates YAML/JSON text against `schema`; throws every problem at once. */
export function parseLocated<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  options: LocatedParseOptions<z.output<S>>,
): z.output<S> {
  const read = readDocument(text, file);
  const issues: ValidationIssue[] = [];
  const result = schema.safeParse(read.data);
  if (!result.success)
    for (const issue of flatten(result.error.issues)) issues.push(toIssue(issue, read, options));
  for (const issue of options.check?.(read.data, result.success ? result.data : undefined) ?? [])
    issues.push({ ...issue, ...read.locatePath(issue.path) });
  if (issues.length > 0 || !result.success) {
    const unique = dedupe(issues).sort(
      (a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
    );
    const first = unique[0];
    const summary =
      unique.length === 1 && first
        ? `${file}${first.line ? `:${first.line}:${String(first.column)}` : ''}: ${first.path ? `${first.path}: ` : ''}${first.message}`
        : `${file}: ${unique.length} problems in ${options.what}`;
    throw new ValidationError(summary, unique, {
      hint: unique.length === 1 ? first?.hint : undefined,
    });
  }
  return result.data;
}

type ZodIssue = z.core.$ZodIssue;

function flatten(issues: readonly ZodIssue[], prefix: PropertyKey[] = []): ZodIssue[] {
  const out: ZodIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    // Unions report every branch: keep the closest (fewest problems). A discriminated union's
    // branches say nothing useful about a wrong discriminator: it is reported as such.
    if (
      issue.code === 'invalid_union' &&
      issue.errors.length > 0 &&
      !(issue as { discriminator?: string }).discriminator
    ) {
      const best = [...issue.errors].sort((a, b) => a.length - b.length)[0]!;
      out.push(...flatten(best, path));
    } else if (issue.code === 'unrecognized_keys' && issue.keys.length > 1) {
      for (const key of issue.keys) out.push({ ...issue, keys: [key], path });
    } else out.push({ ...issue, path });
  }
  return out;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = data;
  for (const part of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, part))
      return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

function toIssue(
  issue: ZodIssue,
  read: ReadDocument,
  options: Pick<LocatedParseOptions<unknown>, 'knownKeys' | 'discriminators'>,
): ValidationIssue {
  const path = [...issue.path] as (string | number)[];
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    const hint = suggest(
      key,
      options.knownKeys.filter((k) => k !== key),
    );
    const at = formatPath([...path, key]);
    return {
      path: at,
      message: `unknown key "${key}"`,
      hint: hint?.startsWith('did you mean')
        ? hint
        : 'remove it, or check the spelling and the indentation',
      ...read.locatePath(at),
    };
  }
  const discriminator =
    issue.code === 'invalid_union'
      ? (issue as { discriminator?: string }).discriminator
      : undefined;
  if (discriminator !== undefined) {
    if (path[path.length - 1] === discriminator) path.pop();
    const value = valueAt(read.data, [...path, discriminator]);
    const values = options.discriminators?.[discriminator] ?? [];
    const at = formatPath([...path, discriminator]);
    return {
      path: at,
      message:
        value === undefined
          ? `missing "${discriminator}"`
          : `unknown ${discriminator} "${String(value)}"`,
      hint:
        value === undefined
          ? values.length
            ? `one of ${values.join(', ')}`
            : undefined
          : suggest(String(value), [...values]),
      ...read.locatePath(at),
    };
  }
  const at = formatPath(path);
  if (issue.code === 'invalid_type' && valueAt(read.data, path) === undefined) {
    return {
      path: at,
      message: `missing required key "${String(path[path.length - 1] ?? '')}"`,
      hint: issue.message,
      ...read.locatePath(at),
    };
  }
  return { path: at, message: issue.message, hint: issueHint(issue), ...read.locatePath(at) };
}
