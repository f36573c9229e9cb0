/**
 * One HTTP request for a probe or an action: what Chaos Toolkit's http provider and faultline's
 * `http:` steps both need. Never throws for an HTTP status (a 500 is an answer, judged by the
 * expectation); throws a {@link ProbeError} when there is no answer (refused, timed out, bad URL).
 */
import { request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import { ProbeError } from './probe-error.js';

export interface HttpRequestSpec {
  url: string;
  method?: string | undefined;
  headers?: Record<string, string> | undefined;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  timeoutMs: number;
  /**
   * false: an https URL's certificate is not checked (Chaos Toolkit's `verify_tls: false`, and
   * `--no-verify-tls`), for staging services behind a self-signed certificate.
   */
  verifyTls?: boolean | undefined;
}

export interface HttpOutput {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON for any `application/json` or `+json` answer, else text. */
  body: unknown;
  /** From sending the request to the end of the body. */
  elapsedMs: number;
}

export async function httpRequest(
  spec: HttpRequestSpec,
  signal?: AbortSignal,
): Promise<HttpOutput> {
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch {
    throw new ProbeError(`"${spec.url}" is not a URL`, {
      hint: 'write a full URL such as http://127.0.0.1:3000/health',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ProbeError(`unsupported URL scheme "${url.protocol}" in ${spec.url}`, {
      hint: 'use http:// or https://',
    });
  }
  const timeout = AbortSignal.timeout(spec.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const headers: Record<string, string> = { ...spec.headers };
  let body: string | undefined;
  if (spec.body !== undefined && spec.body !== null) {
    if (typeof spec.body === 'string') body = spec.body;
    else {
      body = JSON.stringify(spec.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
        headers['content-type'] = 'application/json';
    }
  }
  const start = performance.now();
  try {
    if (spec.verifyTls === false && url.protocol === 'https:') {
      const answer = await insecureHttps(url, spec.method ?? 'GET', headers, body, combined);
      return { ...answer, elapsedMs: performance.now() - start };
    }
    const response = await fetch(url, {
      method: (spec.method ?? 'GET').toUpperCase(),
      headers,
      body,
      signal: combined,
    });
    const text = await response.text();
    const parsed = parseBody(text, response.headers.get('content-type') ?? '');
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers.entries()),
      body: parsed,
      elapsedMs: performance.now() - start,
    };
  } catch (err) {
    if (signal?.aborted) throw signal.reason ?? err;
    if (timeout.aborted)
      throw new ProbeError(
        `${spec.method ?? 'GET'} ${spec.url}: no answer within ${spec.timeoutMs} ms`,
      );
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new ProbeError(
      `${spec.method ?? 'GET'} ${spec.url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
    );
  }
}

/** Parsed JSON for a JSON content type, else the text. */
function parseBody(text: string, contentType: string): unknown {
  if (/^application\/([\w.+-]+\+)?json\b/i.test(contentType) && text.length > 0) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/**
 * An https request without certificate checks. fetch() takes no per-request TLS option without
 * undici's dispatcher, which Node does not expose, so this one case goes through node:https.
 */
function insecureHttps(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal,
): Promise<Omit<HttpOutput, 'elapsedMs'>> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method: method.toUpperCase(), headers, rejectUnauthorized: false, signal },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const responseHeaders: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) responseHeaders[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({
            status: res.statusCode ?? 0,
            headers: responseHeaders,
            body: parseBody(
              Buffer.concat(chunks).toString('utf8'),
              res.headers['content-type'] ?? '',
            ),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
