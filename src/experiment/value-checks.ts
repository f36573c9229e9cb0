/**
 * Checks of single values that `run` would otherwise trip on only when it uses them — a regex
 * that does not compile, a URL that is not one, a port above 65535, a method with a space, a
 * status of 99999, a JSONPath that matches nothing because it cannot, a duration no timer can
 * hold. Each was reported by `run` as "the system was unhealthy before any fault" (or fired at
 * once), which blames the system for a typo; here each is a problem of the file, with what was
 * expected and a hint, so `faultline validate` refuses it first.
 *
 * Pure and zod-free: the schema (./schema.ts) and the Chaos Toolkit validator both call these.
 * A value holding a `${variable}` is not checked here: it is known only at run time, and
 * checked again then (src/run-plan/from-experiment.ts).
 */
import { MAX_TIMER_MS } from '../shared/timer-bounds.js';
import { jsonPathProblem } from '../shared/json-path.js';

/** What is wrong with a value: the message, and a hint saying what would be right. */
export interface ValueProblem {
  message: string;
  hint?: string | undefined;
}

/** `${name}` anywhere in the text: the value is known only once the variables are substituted. */
export const hasPlaceholder = (text: string): boolean => /\$\{[^}]+\}/.test(text);

/** A JavaScript regular expression, compiled the way the runner compiles it (`new RegExp(text)`). */
export function regexProblem(text: string): ValueProblem | undefined {
  try {
    new RegExp(text);
    return undefined;
  } catch (err) {
    const why =
      err instanceof Error ? err.message.replace(/^Invalid regular expression: /, '') : '';
    return {
      message: `not a valid regular expression: ${why}`,
      hint: 'JavaScript syntax; escape a literal ( [ { * + ? . \\ with a backslash',
    };
  }
}

/** URL schemes by what the URL is for. */
export const URL_SCHEMES = {
  http: ['http:', 'https:'],
  postgres: ['postgres:', 'postgresql:'],
  redis: ['redis:', 'rediss:'],
  amqp: ['amqp:', 'amqps:'],
} as const;

export type UrlKind = keyof typeof URL_SCHEMES;

const URL_EXAMPLES: Record<UrlKind, string> = {
  http: 'http://127.0.0.1:3000/health',
  postgres: 'postgres://postgres@127.0.0.1:5432/app',
  redis: 'redis://127.0.0.1:6379',
  amqp: 'amqp://guest:guest@127.0.0.1:5672',
};

/**
 * An absolute URL of the given kind, with a port in range. `scheme: false` when another check
 * already refuses a wrong scheme (a target's backend: src/backends/<type>/checks.ts), so a URL
 * with the wrong scheme is reported once.
 */
export function urlProblem(
  text: string,
  kind: UrlKind,
  { scheme = true }: { scheme?: boolean } = {},
): ValueProblem | undefined {
  const example = URL_EXAMPLES[kind];
  const schemes: readonly string[] = URL_SCHEMES[kind];
  if (!scheme && !schemes.some((s) => text.startsWith(`${s}//`))) return undefined;
  // Redis also takes a unix socket path (ioredis).
  if (kind === 'redis' && text.startsWith('/')) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // The value is not echoed: once substituted it may hold a secret (the column shows it).
    return { message: 'not a URL', hint: `write a full URL such as ${example}` };
  }
  if (!schemes.includes(url.protocol)) {
    return {
      message: `a ${kind === 'http' ? 'HTTP' : kind} URL starts with ${schemes.map((s) => `${s}//`).join(' or ')}, not ${url.protocol}//`,
      hint: `e.g. ${example}`,
    };
  }
  if (kind === 'http' && url.hostname === '')
    return { message: 'a URL without a host', hint: `e.g. ${example}` };
  // WHATWG URL parsing already refuses a port above 65535; port 0 is accepted by it.
  if (url.port === '0') return { message: 'port 0 in a URL', hint: 'a port is 1 to 65535' };
  return undefined;
}

/** `host:port` (`[v6]:port`), port 1–65535. */
export function hostPortProblem(text: string): ValueProblem | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s]*):(\d{1,5})$/.exec(text);
  if (!match) {
    return {
      message: 'expected a host:port address such as "127.0.0.1:5432"',
      hint: 'an IPv6 host is written in brackets: "[::1]:5432"',
    };
  }
  const port = Number(match[2]);
  if (port < 1 || port > 65535) {
    return {
      message: `port ${match[2]!} is out of range`,
      hint: 'a port is 1 to 65535',
    };
  }
  return undefined;
}

/** An HTTP token (RFC 9110 §5.6.2): what Node accepts as a method or a header name. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Methods fetch refuses to send (the probes send with fetch). */
const FORBIDDEN_METHODS = ['CONNECT', 'TRACE', 'TRACK'];

/** `sendable: false` for a method that is only matched (an HTTP fault's `match.method`). */
export function methodProblem(
  text: string,
  { sendable = true }: { sendable?: boolean } = {},
): ValueProblem | undefined {
  if (!TOKEN.test(text)) {
    return {
      message: `"${text}" is not an HTTP method`,
      hint: 'a method is one word of letters, such as GET, POST, PUT, PATCH or DELETE',
    };
  }
  if (sendable && FORBIDDEN_METHODS.includes(text.toUpperCase()))
    return {
      message: `${text.toUpperCase()} cannot be sent by faultline's HTTP client`,
      hint: 'use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS',
    };
  return undefined;
}

export function headerNameProblem(name: string): ValueProblem | undefined {
  if (TOKEN.test(name)) return undefined;
  return {
    message: `"${name}" is not a valid header name`,
    hint: 'a header name is one word of letters, digits and - (e.g. X-Request-Id)',
  };
}

export function headerValueProblem(value: string): ValueProblem | undefined {
  // What Node refuses to send: control characters other than tab (a line break above all).
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (!/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) return undefined;
  return {
    message: 'a header value with a line break or a control character',
    hint: 'one line of text; a YAML block scalar (|) adds a line break at the end: use a quoted string',
  };
}

/** An HTTP status code as a server can send it. */
export function statusProblem(status: number): ValueProblem | undefined {
  if (Number.isInteger(status) && status >= 100 && status <= 599) return undefined;
  return { message: `${status} is not an HTTP status`, hint: 'a status is 100 to 599' };
}

/**
 * A path into a JSON body as faultline's expectations read it (`$.a.b[0]`, or `a.b.0`): keys
 * after dots, indexes in brackets. Wildcards, filters and recursive descent select many values
 * and are refused (an expectation compares one value).
 */
export function valuePathProblem(path: string): ValueProblem | undefined {
  const hint = 'one value: $.key.nested[0] (keys after dots, indexes in brackets)';
  if (path === '') return { message: 'an empty JSONPath', hint: 'e.g. $.status' };
  if (/\*|\.\.|\[\?/.test(path))
    return { message: `"${path}" selects many values (a wildcard or ..)`, hint };
  const rest = path.startsWith('$') ? path.slice(1) : /^[.[]/.test(path) ? path : `.${path}`;
  if (rest !== '' && !/^(?:\.[^.[\]]+|\[\d+\])+$/.test(rest))
    return { message: `"${path}" is not a JSONPath`, hint };
  return undefined;
}

/** A JSONPath as Chaos Toolkit tolerances use it (src/shared/json-path.ts). */
export function toleranceJsonPathProblem(path: string): ValueProblem | undefined {
  const problem = jsonPathProblem(path);
  return problem === undefined
    ? undefined
    : { message: `not a JSONPath: ${problem}`, hint: 'e.g. $.status, $.items[0].id or $..id' };
}

/** Milliseconds as the longest words: `2147483647` → "2147483647ms (about 596h, 24.8 days)". */
const MAX_TIMER_TEXT = `${MAX_TIMER_MS}ms (about ${Math.floor(MAX_TIMER_MS / 3_600_000)}h, ${(MAX_TIMER_MS / 86_400_000).toFixed(1)} days)`;

/**
 * A duration a timer can hold: Node fires a longer one at once (TimeoutOverflowWarning), so a
 * `timeout` fault `after: 700h` would reset every connection at once.
 */
export function timerProblem(ms: number, written: string): ValueProblem | undefined {
  if (ms <= MAX_TIMER_MS) return undefined;
  return {
    message: `${written} is longer than a timer can hold`,
    hint: `at most ${MAX_TIMER_TEXT}`,
  };
}

/** A number of seconds (Chaos Toolkit's pauses and timeouts) a timer can hold. */
export function secondsProblem(seconds: number): ValueProblem | undefined {
  if (!Number.isFinite(seconds) || seconds < 0)
    return { message: `${seconds} is not a number of seconds`, hint: 'a number from 0' };
  return seconds * 1000 <= MAX_TIMER_MS
    ? undefined
    : {
        message: `${seconds} seconds is longer than a timer can hold`,
        hint: `at most ${Math.floor(MAX_TIMER_MS / 1000)} seconds (${MAX_TIMER_TEXT})`,
      };
}
