/**
 * HTTP request toxics, for proxies in HTTP mode: the Istio/Envoy fault vocabulary without a
 * mesh. Each toxic applies to requests that match all of its matchers; `toxicity` is the
 * probability per matching request (Istio's `percentage`).
 *
 * - `http_abort` {status, body, content_type, …matchers}: answers the request itself with
 *   `status` and `body`; the upstream never sees it. The client connection stays usable
 *   (keep-alive).
 * - `http_delay` {delay ms, …matchers}: holds the request `delay` ms before forwarding it.
 *   Several matching delays add up; a delay is applied before an abort.
 *
 * Matchers: `method` (exact, case-insensitive), `path_prefix`, `path_regex` (JavaScript regular
 * expression over the path and query), `headers` (name → exact value, or `/regex/`). An empty
 * matcher matches everything.
 */
import { z } from 'zod';
import { attributeParser, duration } from './attributes.js';
import type { ToxicDefinition } from './toxic.js';

const regex = z.string().refine(
  (value) => {
    try {
      new RegExp(value);
      return true;
    } catch {
      return false;
    }
  },
  { error: 'expected a valid regular expression' },
);

const matchers = {
  method: z.string({ error: 'expected an HTTP method such as "GET"' }).default(''),
  path_prefix: z.string({ error: 'expected a path prefix such as "/payments"' }).default(''),
  path_regex: regex.default(''),
  headers: z
    .record(z.string(), z.string({ error: 'expected a header value or /regex/' }), {
      error: 'expected an object of header name → value',
    })
    .default({}),
};

/** The matcher attributes, shared by every HTTP toxic. */
export interface HttpMatchers {
  method: string;
  path_prefix: string;
  path_regex: string;
  headers: Record<string, string>;
}

export interface HttpAbortAttributes extends HttpMatchers {
  status: number;
  body: string;
  content_type: string;
}

export interface HttpDelayAttributes extends HttpMatchers {
  delay: number;
}

/** `http_abort` attributes: the answer, and the matchers. */
export const httpAbortAttributes = z.object({
  status: z
    .number({ error: 'expected an HTTP status code from 100 to 599' })
    .int({ error: 'expected an HTTP status code from 100 to 599' })
    .min(100, { error: 'expected an HTTP status code from 100 to 599' })
    .max(599, { error: 'expected an HTTP status code from 100 to 599' })
    .default(503),
  body: z.string({ error: 'expected a string' }).default('fault injected by faultline\n'),
  content_type: z.string({ error: 'expected a media type' }).default('text/plain'),
  ...matchers,
});

export const httpAbortToxic: ToxicDefinition = {
  type: 'http_abort',
  phase: 'request',
  summary: 'answers matching HTTP requests with status and body instead of forwarding them',
  parse: attributeParser(httpAbortAttributes),
};

/** `http_delay` attributes: `delay` in milliseconds, and the matchers. */
export const httpDelayAttributes = z.object({ delay: duration('milliseconds'), ...matchers });

export const httpDelayToxic: ToxicDefinition = {
  type: 'http_delay',
  phase: 'request',
  summary: 'holds matching HTTP requests delay milliseconds before forwarding them',
  parse: attributeParser(httpDelayAttributes),
};

/** Does a request match the toxic's matchers? */
export function matchesRequest(
  attrs: HttpMatchers,
  method: string,
  url: string,
  headers: Record<string, string | string[] | undefined>,
): boolean {
  if (attrs.method && attrs.method.toUpperCase() !== method.toUpperCase()) return false;
  if (attrs.path_prefix && !url.startsWith(attrs.path_prefix)) return false;
  if (attrs.path_regex && !new RegExp(attrs.path_regex).test(url)) return false;
  for (const [name, expected] of Object.entries(attrs.headers)) {
    const raw = headers[name.toLowerCase()];
    const value = Array.isArray(raw) ? raw.join(', ') : raw;
    if (value === undefined) return false;
    if (expected.length >= 2 && expected.startsWith('/') && expected.endsWith('/')) {
      if (!new RegExp(expected.slice(1, -1)).test(value)) return false;
    } else if (value !== expected) {
      return false;
    }
  }
  return true;
}
