/**
 * faultline's expectations (`expect:` in the experiment format) judged against probe outputs.
 * Every unmet part is reported, not only the first, in words a user understands.
 */
import type { Verdict } from '../run-plan/plan.js';
import type { CommandOutput } from './run-command.js';
import type { HttpOutput } from './http-request.js';
import type { TcpOutput } from './tcp-check.js';
import { getPath } from '../shared/json-path.js';

export type TextMatch = { equals: string } | { contains: string } | { regex: string };

export interface HttpExpectation {
  status?: number | number[] | undefined;
  body?: TextMatch | undefined;
  json?:
    | {
        path: string;
        equals?: unknown;
        below?: number | undefined;
        above?: number | undefined;
        atMost?: number | undefined;
        atLeast?: number | undefined;
      }
    | undefined;
  header?: Record<string, TextMatch> | undefined;
  latencyMs?: number | undefined;
  /** The answer must take at least this long (a latency fault's stated effect). */
  slowerThanMs?: number | undefined;
  fresh?: { header: string; path?: string | undefined; maxAgeMs: number } | undefined;
  increases?: { path: string } | undefined;
}

export interface CommandExpectation {
  exitCode?: number | number[] | undefined;
  stdout?: TextMatch | undefined;
  stderr?: TextMatch | undefined;
}

function verdict(reasons: string[]): Verdict {
  return reasons.length === 0 ? { met: true } : { met: false, reason: reasons.join('; ') };
}

export function matchText(text: string, match: TextMatch): boolean {
  if ('equals' in match) return text === match.equals;
  if ('contains' in match) return text.includes(match.contains);
  return new RegExp(match.regex).test(text);
}

function describeMatch(match: TextMatch): string {
  if ('equals' in match) return `equal to ${JSON.stringify(match.equals)}`;
  if ('contains' in match) return `containing ${JSON.stringify(match.contains)}`;
  return `matching /${match.regex}/`;
}

function short(text: string): string {
  return text.length > 80 ? `${JSON.stringify(text.slice(0, 77))}…` : JSON.stringify(text);
}

export function checkHttp(output: HttpOutput, expect: HttpExpectation): Verdict {
  const reasons: string[] = [];
  if (expect.status !== undefined) {
    const allowed = Array.isArray(expect.status) ? expect.status : [expect.status];
    if (!allowed.includes(output.status))
      reasons.push(`status ${output.status}, expected ${allowed.join(' or ')}`);
  }
  const bodyText = typeof output.body === 'string' ? output.body : JSON.stringify(output.body);
  if (expect.body && !matchText(bodyText, expect.body))
    reasons.push(`body ${short(bodyText)}, expected ${describeMatch(expect.body)}`);
  if (expect.json) {
    const found = getPath(output.body, expect.json.path);
    if (!found.found) reasons.push(`no value at ${expect.json.path} in the JSON body`);
    else {
      const { path, ...bounds } = expect.json;
      const judged = checkValue(found.value, 0, bounds);
      if (!judged.met) reasons.push(`${path}: ${String(judged.reason)}`);
    }
  }
  for (const [name, match] of Object.entries(expect.header ?? {})) {
    const value = output.headers[name.toLowerCase()];
    if (value === undefined) reasons.push(`no ${name} header`);
    else if (!matchText(value, match))
      reasons.push(`header ${name} ${short(value)}, expected ${describeMatch(match)}`);
  }
  if (expect.latencyMs !== undefined && output.elapsedMs > expect.latencyMs) {
    reasons.push(
      `answered in ${Math.round(output.elapsedMs)} ms, expected within ${expect.latencyMs} ms`,
    );
  }
  if (expect.slowerThanMs !== undefined && output.elapsedMs < expect.slowerThanMs)
    reasons.push(
      `answered in ${Math.round(output.elapsedMs)} ms, expected to take at least ${expect.slowerThanMs} ms`,
    );
  if (expect.fresh) {
    const { path, header, maxAgeMs } = expect.fresh;
    const where = path === undefined ? `the ${header} header` : `the body at ${path}`;
    const what = path === undefined ? header : where;
    const date =
      path === undefined
        ? dateOf(output.headers[header.toLowerCase()])
        : dateOf(getPath(output.body, path).value);
    if (Number.isNaN(date)) reasons.push(`no date in ${where}: freshness cannot be checked`);
    else if (Date.now() - date > maxAgeMs) {
      reasons.push(
        `stale: ${what} is ${Math.round((Date.now() - date) / 1000)} s old, expected at most ${Math.round(maxAgeMs / 1000)} s`,
      );
    }
  }
  return verdict(reasons);
}

/** A check that the JSON value at a path grows between calls (state kept in the closure). */
export function monotonic(path: string): (body: unknown) => string | undefined {
  let previous: number | undefined;
  return (body) => {
    const found = getPath(body, path);
    const n = found.found ? Number(found.value) : NaN;
    if (!Number.isFinite(n)) return `no number at ${path}`;
    const before = previous;
    previous = n;
    if (before !== undefined && n <= before)
      return `${path} did not grow: ${n} after ${before} (stale or lost writes)`;
    return undefined;
  };
}

export function checkCommand(output: CommandOutput, expect: CommandExpectation): Verdict {
  const reasons: string[] = [];
  if (expect.exitCode !== undefined) {
    const allowed = Array.isArray(expect.exitCode) ? expect.exitCode : [expect.exitCode];
    if (!allowed.includes(output.status))
      reasons.push(`exit code ${output.status}, expected ${allowed.join(' or ')}`);
  }
  if (expect.stdout && !matchText(output.stdout, expect.stdout))
    reasons.push(`stdout ${short(output.stdout)}, expected ${describeMatch(expect.stdout)}`);
  if (expect.stderr && !matchText(output.stderr, expect.stderr))
    reasons.push(`stderr ${short(output.stderr)}, expected ${describeMatch(expect.stderr)}`);
  return verdict(reasons);
}

export function checkTcp(output: TcpOutput, open: boolean): Verdict {
  if (output.open === open) return { met: true };
  return {
    met: false,
    reason: open ? `port closed (${output.error ?? 'no answer'})` : 'port open, expected closed',
  };
}

/** What a single value (a SQL result, a Redis reply, a Prometheus sample) must satisfy. */
export interface ValueExpectation {
  equals?: unknown;
  below?: number | undefined;
  above?: number | undefined;
  atMost?: number | undefined;
  atLeast?: number | undefined;
  contains?: string | undefined;
  regex?: string | undefined;
  latencyMs?: number | undefined;
  /** The answer must take at least this long (a latency fault's stated effect). */
  slowerThanMs?: number | undefined;
  increases?: boolean | undefined;
}

export function checkValue(value: unknown, elapsedMs: number, expect: ValueExpectation): Verdict {
  const reasons: string[] = [];
  const shown = typeof value === 'string' ? short(value) : JSON.stringify(value);
  // Numbers arrive as strings from PostgreSQL (bigint, numeric): compare them as numbers.
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))
        ? Number(value)
        : undefined;
  if ('equals' in expect && expect.equals !== undefined) {
    const same =
      typeof expect.equals === 'number' && n !== undefined
        ? n === expect.equals
        : JSON.stringify(value) === JSON.stringify(expect.equals);
    if (!same) reasons.push(`value ${shown}, expected ${JSON.stringify(expect.equals)}`);
  }
  const numeric: [keyof ValueExpectation, string, (a: number, b: number) => boolean][] = [
    ['below', 'below', (a, b) => a < b],
    ['above', 'above', (a, b) => a > b],
    ['atMost', 'at most', (a, b) => a <= b],
    ['atLeast', 'at least', (a, b) => a >= b],
  ];
  for (const [key, words, ok] of numeric) {
    const bound = expect[key] as number | undefined;
    if (bound === undefined) continue;
    if (n === undefined || !ok(n, bound))
      reasons.push(`value ${shown}, expected ${words} ${bound}`);
  }
  const text =
    typeof value === 'string' ? value : ((JSON.stringify(value) as string | undefined) ?? '');
  if (expect.contains !== undefined && !text.includes(expect.contains))
    reasons.push(`value ${shown}, expected to contain ${JSON.stringify(expect.contains)}`);
  if (expect.regex !== undefined && !new RegExp(expect.regex).test(text))
    reasons.push(`value ${shown}, expected to match /${expect.regex}/`);
  if (expect.latencyMs !== undefined && elapsedMs > expect.latencyMs)
    reasons.push(`answered in ${Math.round(elapsedMs)} ms, expected within ${expect.latencyMs} ms`);
  if (expect.slowerThanMs !== undefined && elapsedMs < expect.slowerThanMs)
    reasons.push(
      `answered in ${Math.round(elapsedMs)} ms, expected to take at least ${expect.slowerThanMs} ms`,
    );
  return verdict(reasons);
}

/**
 * A timestamp as services write them: an ISO or HTTP date, or epoch seconds or milliseconds
 * (a number below 1e12 is taken as seconds). NaN when it is none.
 */
export function dateOf(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value))
    return value < 1e12 ? value * 1000 : value;
  if (typeof value === 'string') {
    if (/^\d+(\.\d+)?$/.test(value.trim())) return dateOf(Number(value));
    return Date.parse(value);
  }
  return NaN;
}
