/**
 * `${name}` substitution in experiment values, and configuration resolution.
 *
 * Only `${name}` is a placeholder (Chaos Toolkit also substitutes bare `$name`, which bites
 * shell snippets and prices); `$${` writes a literal `${`. A string that is exactly one
 * placeholder takes the value's own type (a number stays a number); elsewhere values are
 * stringified. An unknown name is left as written and reported by the caller.
 */
import { ValidationError, type ValidationIssue } from '../errors.js';

const PLACEHOLDER = /\$\$\{|\$\{([A-Za-z_][\w.-]*)\}/g;
const WHOLE = /^\$\{([A-Za-z_][\w.-]*)\}$/;

export type Variables = ReadonlyMap<string, unknown>;

/** Substitutes every `${name}` in a JSON-like value, recursively. Collects unknown names. */
export function substitute<T>(value: T, vars: Variables, unknown?: Set<string>): T {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) {
      if (vars.has(whole[1]!)) return vars.get(whole[1]!) as T;
      unknown?.add(whole[1]!);
      return value;
    }
    return value.replace(PLACEHOLDER, (match, name: string | undefined) => {
      if (name === undefined) return '${';
      if (!vars.has(name)) {
        unknown?.add(name);
        return match;
      }
      const v = vars.get(name);
      return typeof v === 'string' ? v : JSON.stringify(v);
    }) as T;
  }
  if (Array.isArray(value))
    return (value as unknown[]).map((v) => substitute(v, vars, unknown)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substitute(v, vars, unknown)]),
    ) as T;
  }
  return value;
}

/** A configuration or secret value as written in faultline's format. */
export type ConfigEntry =
  string | number | boolean | { env: string; default?: string | number | boolean | undefined };

/**
 * Resolves `configuration` and `secrets` against the environment and `--var` overrides
 * (which win). Every missing environment variable is reported at once, with its path.
 */
export function resolveVariables(
  sections: {
    configuration?: Record<string, ConfigEntry> | undefined;
    secrets?: Record<string, ConfigEntry> | undefined;
  },
  env: Readonly<Record<string, string | undefined>>,
  overrides: Readonly<Record<string, unknown>> = {},
  file?: string,
): Map<string, unknown> {
  const vars = new Map<string, unknown>();
  const issues: ValidationIssue[] = [];
  for (const section of ['configuration', 'secrets'] as const) {
    for (const [key, entry] of Object.entries(sections[section] ?? {})) {
      if (Object.hasOwn(overrides, key)) continue;
      if (typeof entry !== 'object') {
        vars.set(key, entry);
        continue;
      }
      const fromEnv = env[entry.env];
      if (fromEnv !== undefined) vars.set(key, coerceLike(fromEnv, entry.default));
      else if (entry.default !== undefined) vars.set(key, entry.default);
      else {
        issues.push({
          path: `${section}.${key}`,
          file,
          message: `environment variable ${entry.env} is not set and has no default`,
          hint: `export ${entry.env}=…, pass --var ${key}=…, or add a default`,
        });
      }
    }
  }
  for (const [key, value] of Object.entries(overrides)) vars.set(key, value);
  if (issues.length > 0) {
    throw new ValidationError(
      `${issues.length} configuration value${issues.length === 1 ? '' : 's'} missing`,
      issues,
    );
  }
  return vars;
}

/** An environment string takes the type of the default it replaces (`"3"` for default 1 → 3). */
function coerceLike(text: string, like: unknown): unknown {
  if (typeof like === 'number' && text.trim() !== '' && Number.isFinite(Number(text)))
    return Number(text);
  if (typeof like === 'boolean') return !['false', '0', 'no', ''].includes(text.toLowerCase());
  return text;
}

/** Parses `--var k=v` arguments. */
export function parseVarArgs(args: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0)
      throw new ValidationError(`--var ${arg}: expected name=value`, [
        { path: '--var', message: `"${arg}" is not name=value` },
      ]);
    const [name, type] = arg.slice(0, eq).split(':', 2) as [string, string | undefined];
    out[name] = typedVar(name, type, arg.slice(eq + 1));
  }
  return out;
}

/**
 * Chaos Toolkit's `--var name:type=value`: int, float, bytes and str (the default). A value that
 * is not of its type is refused rather than kept as a string under a name with a colon in it.
 */
function typedVar(name: string, type: string | undefined, raw: string): unknown {
  const bad = (expected: string): ValidationError =>
    new ValidationError(`--var ${name}:${type ?? ''}=${raw}: not ${expected}`, [
      {
        path: '--var',
        message: `"${raw}" is not ${expected}`,
        hint: `--var ${name}:${type ?? ''}=…`,
      },
    ]);
  switch (type) {
    case undefined:
    case 'str':
    case 'bytes':
      return raw;
    case 'int':
      if (!/^[+-]?\d+$/.test(raw.trim())) throw bad('an integer');
      return Number.parseInt(raw, 10);
    case 'float':
      if (raw.trim() === '' || !Number.isFinite(Number(raw))) throw bad('a number');
      return Number(raw);
    default:
      throw new ValidationError(`--var ${name}:${type}=…: unknown type ${type}`, [
        {
          path: '--var',
          message: `unknown type "${type}"`,
          hint: "int, float, bytes or str (Chaos Toolkit's --var types)",
        },
      ]);
  }
}

/**
 * Reads a `.env` var file (NAME=value per line, `#` comments, optional `export `, values
 * optionally quoted): environment variables for the run, as Chaos Toolkit loads them.
 */
export async function readEnvFile(path: string): Promise<Record<string, string>> {
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ValidationError(
      `--var-file ${path}: ${code === 'ENOENT' ? 'no such file' : 'unreadable'}`,
      [
        {
          path: '',
          file: path,
          message: code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? 'error'})`,
        },
      ],
    );
  }
  const out: Record<string, string> = {};
  const issues: ValidationIssue[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(trimmed);
    if (!m) {
      issues.push({
        path: '',
        file: path,
        line: i + 1,
        column: 1,
        message: 'expected NAME=value',
        hint: 'one NAME=value per line; # starts a comment',
      });
      return;
    }
    let value = m[2]!;
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[1] === '"' ? quoted[2]!.replace(/\\n/g, '\n') : quoted[2]!;
    else value = value.replace(/\s+#.*$/, '');
    out[m[1]!] = value;
  });
  if (issues.length > 0)
    throw new ValidationError(
      `${issues.length} problem${issues.length === 1 ? '' : 's'} in ${path}`,
      issues,
    );
  return out;
}

/**
 * Reads a `--var-file`: YAML or JSON, either a flat `name: value` map or Chaos Toolkit's shape
 * `{configuration: {...}, secrets: {scope: {...}}}` (secret scopes are flattened, as in
 * substitution). Values keep their types.
 */
export async function readVarFile(path: string): Promise<Record<string, unknown>> {
  const { readFile } = await import('node:fs/promises');
  const { parse } = await import('yaml');
  let data: unknown;
  try {
    data = parse(await readFile(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ValidationError(
      `--var-file ${path}: ${code === 'ENOENT' ? 'no such file' : 'not valid YAML or JSON'}`,
      [
        {
          path: '',
          file: path,
          message:
            code === 'ENOENT'
              ? 'no such file'
              : ((err as Error).message.split('\n')[0] ?? 'invalid'),
        },
      ],
    );
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ValidationError(`--var-file ${path}: expected a mapping of names to values`, [
      { path: '', file: path, message: 'expected a mapping of names to values' },
    ]);
  }
  const record = data as Record<string, unknown>;
  if ('configuration' in record || 'secrets' in record) {
    const out: Record<string, unknown> = {
      ...(record['configuration'] as Record<string, unknown> | undefined),
    };
    for (const scope of Object.values(
      (record['secrets'] as Record<string, unknown> | undefined) ?? {},
    )) {
      if (scope && typeof scope === 'object') Object.assign(out, scope);
    }
    return out;
  }
  return record;
}
