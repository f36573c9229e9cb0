/**
 * The checks a control API runs on every request before any handler: is this a browser acting
 * for a web page (403), does it carry the bearer token (401), is its body one a page could have
 * sent without asking (403). Pure functions of the request's headers, so each rule is tested on
 * its own; `json-api-server.ts` runs them in that order.
 *
 * Why these rules, and why not stricter ones:
 *
 * - A control API on 127.0.0.1 is still reachable from every page the user's browser opens: a
 *   page can `fetch('http://127.0.0.1:8474/reset', {method: 'POST', mode: 'no-cors'})` or submit
 *   a form there. Such a "simple" request needs no CORS preflight, so refusing it before any
 *   handler runs is the only defence (the answer being unreadable does not matter: the fault is
 *   already in place).
 * - `Origin`: browsers send it on every cross-origin request except a plain GET navigation, and
 *   on every POST/PUT/PATCH/DELETE; command-line clients never do. A value not on the
 *   allow-list (empty by default; `--allow-origin`) is refused, `null` included.
 * - `Sec-Fetch-Site`: only browsers send it. `none` (the user typed the URL) and `same-origin`
 *   (a page served by the API itself, which serves none; a rebound name is caught by the Host
 *   rule) pass; `same-site` and `cross-site` are a page acting on its own, refused unless its
 *   Origin is allowed. The other fetch metadata (`-Mode`, `-Dest`, `-User`) is not checked:
 *   browsers send it only together with `Sec-Fetch-Site`, and Node's own `fetch` (undici, under
 *   toxiproxy-node-client) sends `Sec-Fetch-Mode: cors` on every request.
 * - DNS rebinding: a page on `evil.example` whose name later resolves to 127.0.0.1 is
 *   same-origin with the API, so no Origin or fetch metadata need appear; but its `Host` header
 *   says `evil.example`. So the Host must name the address the server listens on:
 *   `127.0.0.1`, `localhost` and `[::1]`, the bound address (every interface address for a
 *   wildcard bind), and the names configured with `--allow-host` (a name a client reaches the
 *   server by). Any port: a rebinding attacker controls the name, not the port, and a browser
 *   always sends the port it connected to, so only a forwarder in between (`docker run -p
 *   18474:8474`, `kubectl port-forward`, `ssh -L`, a relay) makes the two differ — and a
 *   forwarder is no browser. A request without Host (HTTP/1.0) passes: no browser sends one.
 * - Toxiproxy's rule, a User-Agent starting with `Mozilla/` (403 `User agent not allowed`), is
 *   kept with Toxiproxy's text for compatibility, but it is no longer the guard: a User-Agent is
 *   just a header some embedders (old Opera, WebViews, Electron apps) do not start with
 *   `Mozilla/`. A request from an allowed Origin skips it (every browser sends `Mozilla/`).
 * - Content type: a page can send a body without a preflight only as `text/plain`,
 *   `application/x-www-form-urlencoded` or `multipart/form-data`. Refusing those outright would
 *   break real clients: the Toxiproxy Go client (and so toxiproxy-cli) sent `text/plain` for
 *   `POST /reset` and proxy updates until 2.5.0, the Ruby and Python clients send JSON with no or
 *   a form type, `curl -d` sends `application/x-www-form-urlencoded` (Toxiproxy's and
 *   faultline's own README examples), and Node's `fetch` with a string body sends
 *   `text/plain;charset=UTF-8`. A page's cross-origin simple request always carries `Origin`
 *   (refused above), so the Origin and fetch-metadata rules are the guard; on top, such a body
 *   is refused when it carries a browser marker: `Referer`, `Cookie`, `Upgrade-Insecure-Requests`
 *   or an `Accept` naming `text/html` (a form post's). Whatever the type, a body that is present
 *   must be JSON (400 otherwise, in json-api-server.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { ForbiddenError, UnauthorizedError, type FaultlineError } from '../errors.js';

/** Toxiproxy's refusal text for a browser User-Agent (its `http.Error` adds the newline). */
export const USER_AGENT_REFUSAL = 'User agent not allowed\n';

/** Why a request was refused as a browser's; `user-agent` answers in Toxiproxy's text. */
export type BrowserRefusal = { kind: 'user-agent' } | { kind: 'header'; error: FaultlineError };

/** What the browser refusal allows beyond a command-line client. */
export interface BrowserPolicy {
  /** Origins whose pages may call the API (`scheme://host[:port]`); default none. */
  allowOrigins?: readonly string[] | undefined;
  /** Is this Host header one the server is addressed by? (see {@link hostMatcher}) */
  hostAllowed?: ((host: string) => boolean) | undefined;
}

const browserHint =
  'the control API refuses browsers; use curl, a Toxiproxy client or faultline (or allow the page with --allow-origin)';

/** Normalises an Origin for comparison: lower case, no trailing slash. */
export function normalizeOrigin(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, '');
}

/** True when the request carries an Origin on the allow-list. */
export function isAllowedOrigin(headers: IncomingHttpHeaders, policy: BrowserPolicy): boolean {
  const origin = headers.origin;
  if (origin === undefined || !policy.allowOrigins?.length) return false;
  return policy.allowOrigins.some((o) => normalizeOrigin(o) === normalizeOrigin(origin));
}

/** The browser refusal: undefined when the request may be a command-line client's. */
export function refuseBrowser(
  headers: IncomingHttpHeaders,
  policy: BrowserPolicy = {},
): BrowserRefusal | undefined {
  const refuse = (why: string, hint = browserHint): BrowserRefusal => ({
    kind: 'header',
    error: new ForbiddenError(`request refused: ${why}`, { hint }),
  });
  const host = headers.host;
  if (host !== undefined && policy.hostAllowed && !policy.hostAllowed(host)) {
    return refuse(
      `Host ${host} is not an address this server listens on`,
      'address the API as 127.0.0.1:PORT, localhost:PORT or [::1]:PORT, or allow the name with --allow-host',
    );
  }
  const allowedOrigin = isAllowedOrigin(headers, policy);
  if (headers.origin !== undefined && !allowedOrigin) {
    return refuse(`Origin ${headers.origin} is not allowed`);
  }
  const site = headers['sec-fetch-site'];
  if (site !== undefined && !allowedOrigin) {
    const value = site.trim().toLowerCase();
    if (value !== 'none' && value !== 'same-origin')
      return refuse(`it carries sec-fetch-site: ${site}`);
  }
  const userAgent = headers['user-agent'] ?? '';
  if (!allowedOrigin && userAgent.startsWith('Mozilla/')) return { kind: 'user-agent' };
  return undefined;
}

/** `[name, port]` of a Host header (or a `--allow-host` entry); port undefined when absent. */
export function splitHost(host: string): [string, number | undefined] | undefined {
  const value = host.trim().toLowerCase();
  const match = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9._-]+))(?::(\d{1,5}))?$/.exec(value);
  if (!match) {
    // A bare IPv6 literal (an --allow-host entry written without brackets).
    return isIP(value) === 6 ? [value, undefined] : undefined;
  }
  const name = match[1] ?? match[2]!;
  return [name, match[3] === undefined ? undefined : Number(match[3])];
}

/**
 * The Host rule of a server bound to `address:port`: the Host must name 127.0.0.1, localhost,
 * ::1 or the bound address (any interface address for a wildcard bind), at any port (see the
 * DNS-rebinding rule above), or be one of `extra` (`name`: any port; `name:port`: that port,
 * 80 when the Host has none).
 */
export function hostMatcher(
  address: string,
  extra: readonly string[] = [],
): (host: string) => boolean {
  const names = new Set(['127.0.0.1', 'localhost', '::1', address.toLowerCase()]);
  if (address === '0.0.0.0' || address === '::') {
    for (const list of Object.values(networkInterfaces())) {
      for (const info of list ?? []) names.add(info.address.toLowerCase());
    }
  }
  const configured = extra.map(splitHost).filter((e) => e !== undefined);
  return (host) => {
    const parsed = splitHost(host);
    if (!parsed) return false;
    const [name, hostPort = 80] = parsed;
    if (names.has(name)) return true;
    return configured.some(([n, p]) => n === name && (p === undefined || p === hostPort));
  };
}

/**
 * The bearer-token check: undefined when `token` is unset or the request carries it. Both sides
 * are hashed first so timingSafeEqual compares equal-length buffers and the token's length
 * does not leak through timing either.
 */
export function refuseToken(
  headers: IncomingHttpHeaders,
  token: string | undefined,
): FaultlineError | undefined {
  if (token === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(headers.authorization ?? '');
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  if (match && timingSafeEqual(digest(match[1]!), digest(token))) return undefined;
  return new UnauthorizedError(
    headers.authorization === undefined ? 'missing bearer token' : 'wrong bearer token',
    { hint: 'send Authorization: Bearer <token>' },
  );
}

/** Media types a page can send without a CORS preflight. */
const SIMPLE_TYPES = new Set([
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
]);

/**
 * The content-type check: refuses a body of a preflight-free type when the request also carries
 * a browser marker the browser refusal does not cover (see the module comment for why a simple
 * type alone passes).
 */
export function refuseContentType(headers: IncomingHttpHeaders): FaultlineError | undefined {
  const hasBody =
    headers['transfer-encoding'] !== undefined ||
    (headers['content-length'] !== undefined && headers['content-length'] !== '0');
  if (!hasBody) return undefined;
  const type = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (!SIMPLE_TYPES.has(type)) return undefined;
  const marker = ['referer', 'cookie', 'upgrade-insecure-requests'].find(
    (name) => headers[name] !== undefined,
  );
  const htmlAccept = /\btext\/html\b/i.test(headers.accept ?? '');
  if (marker === undefined && !htmlAccept) return undefined;
  return new ForbiddenError(
    `request refused: a ${type} body with a browser's ${marker ?? 'accept'} header`,
    { hint: 'send the body as Content-Type: application/json from a non-browser client' },
  );
}
