/**
 * A typed client for a remote fault proxy server: `faultline proxy serve`, or Toxiproxy itself
 * (the routes and bodies are Toxiproxy's; faultline's extensions — `expires_in`, `mode`, stats —
 * are simply absent from a Toxiproxy server's answers).
 *
 * The runner uses it for `remote-proxy` targets; application tests can use it the way they use
 * toxiproxy-node-client. Every call takes an optional `AbortSignal` and a per-request timeout,
 * and every failure is a {@link RemoteError} with the server's stable code, so a caller can tell
 * "no such proxy" (`E_NOT_FOUND`) from "server unreachable" (`E_IO`).
 */
import { errorCodes, RemoteError, type ErrorCode, type ValidationIssue } from '../../../errors.js';
import type { ProxyJson } from '../proxy.js';
import type { ProxyPatch, ProxySpec } from '../proxy-collection.js';
import type { ToxicJson, ToxicPatch, ToxicSpec, UntypedToxicSpec } from '../toxic-entry.js';

export interface ProxyApiClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:8474`. */
  url: string;
  /** Bearer token, when the server requires one. */
  token?: string | undefined;
  /** Per-request timeout in milliseconds (default 10 s). */
  timeoutMs?: number | undefined;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

export class ProxyApiClient {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: ProxyApiClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** The server's version string (`faultline`'s or Toxiproxy's). */
  async version(options?: CallOptions): Promise<string> {
    const body = await this.call<{ version?: unknown } | string>(
      'GET',
      '/version',
      undefined,
      options,
    );
    return typeof body === 'string' ? body.trim() : String(body.version ?? '');
  }

  async listProxies(options?: CallOptions): Promise<Record<string, ProxyJson>> {
    return this.call('GET', '/proxies', undefined, options);
  }

  async getProxy(name: string, options?: CallOptions): Promise<ProxyJson> {
    return this.call('GET', `/proxies/${encodeURIComponent(name)}`, undefined, options);
  }

  async createProxy(spec: ProxySpec, options?: CallOptions): Promise<ProxyJson> {
    return this.call('POST', '/proxies', spec, options);
  }

  async updateProxy(name: string, patch: ProxyPatch, options?: CallOptions): Promise<ProxyJson> {
    return this.call('POST', `/proxies/${encodeURIComponent(name)}`, patch, options);
  }

  async deleteProxy(name: string, options?: CallOptions): Promise<void> {
    await this.call('DELETE', `/proxies/${encodeURIComponent(name)}`, undefined, options);
  }

  /** Creates or replaces proxies in one call (Toxiproxy's `/populate`). */
  async populate(specs: ProxySpec[], options?: CallOptions): Promise<ProxyJson[]> {
    const body = await this.call<{ proxies: ProxyJson[] }>('POST', '/populate', specs, options);
    return body.proxies;
  }

  /** Re-enables every proxy and removes every toxic. */
  async reset(options?: CallOptions): Promise<void> {
    await this.call('POST', '/reset', undefined, options);
  }

  async listToxics(proxy: string, options?: CallOptions): Promise<ToxicJson[]> {
    return this.call('GET', `/proxies/${encodeURIComponent(proxy)}/toxics`, undefined, options);
  }

  async getToxic(proxy: string, toxic: string, options?: CallOptions): Promise<ToxicJson> {
    return this.call('GET', this.toxicPath(proxy, toxic), undefined, options);
  }

  /** Adds a toxic; `spec` is typed exactly per toxic type (see {@link ToxicSpec}). */
  async addToxic(proxy: string, spec: ToxicSpec, options?: CallOptions): Promise<ToxicJson> {
    return this.addToxicJson(proxy, spec, options);
  }

  /** {@link addToxic} for a body whose type is known only at run time; the server checks it. */
  async addToxicJson(
    proxy: string,
    spec: UntypedToxicSpec,
    options?: CallOptions,
  ): Promise<ToxicJson> {
    return this.call('POST', `/proxies/${encodeURIComponent(proxy)}/toxics`, spec, options);
  }

  async updateToxic(
    proxy: string,
    toxic: string,
    patch: ToxicPatch,
    options?: CallOptions,
  ): Promise<ToxicJson> {
    return this.updateToxicJson(proxy, toxic, patch, options);
  }

  /** {@link updateToxic} with attributes known only at run time; the server checks them. */
  async updateToxicJson(
    proxy: string,
    toxic: string,
    patch: {
      attributes?: Record<string, unknown> | undefined;
      toxicity?: number | undefined;
      expires_in?: number | undefined;
    },
    options?: CallOptions,
  ): Promise<ToxicJson> {
    return this.call('POST', this.toxicPath(proxy, toxic), patch, options);
  }

  async removeToxic(proxy: string, toxic: string, options?: CallOptions): Promise<void> {
    await this.call('DELETE', this.toxicPath(proxy, toxic), undefined, options);
  }

  /** Prometheus text exposition of the server's counters. */
  async metrics(options?: CallOptions): Promise<string> {
    return this.call('GET', '/metrics', undefined, options);
  }

  private toxicPath(proxy: string, toxic: string): string {
    return `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(toxic)}`;
  }

  private async call<T>(
    method: string,
    path: string,
    body: unknown,
    options: CallOptions = {},
  ): Promise<T> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers['authorization'] = `Bearer ${this.token}`;
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason ?? err;
      const reason = timeout.aborted
        ? `no answer within ${this.timeoutMs} ms`
        : describeFetchError(err);
      throw new RemoteError('E_IO', `${method} ${this.url}${path}: ${reason}`, 502, {
        hint: 'is the proxy server running (faultline proxy serve, or toxiproxy-server) at that address?',
        cause: err,
      });
    }
    const text = await response.text();
    if (!response.ok) throw errorFromResponse(method, `${this.url}${path}`, response.status, text);
    if (response.status === 204 || text === '') return undefined as T;
    const type = response.headers.get('content-type') ?? '';
    if (!type.includes('json')) return text as T;
    return JSON.parse(text) as T;
  }
}

function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

function errorFromResponse(method: string, url: string, status: number, text: string): RemoteError {
  let body: { error?: unknown; code?: unknown; hint?: unknown; issues?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = { error: text.trim() };
  }
  const code: ErrorCode =
    typeof body.code === 'string' && (errorCodes as readonly string[]).includes(body.code)
      ? (body.code as ErrorCode)
      : codeForStatus(status);
  const message = typeof body.error === 'string' && body.error ? body.error : `HTTP ${status}`;
  return new RemoteError(code, `${method} ${url}: ${message}`, status, {
    hint: typeof body.hint === 'string' ? body.hint : undefined,
    issues: Array.isArray(body.issues) ? (body.issues as ValidationIssue[]) : undefined,
  });
}

/** A Toxiproxy server sends no code: infer it from the status. */
function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'E_BAD_REQUEST';
    case 401:
      return 'E_UNAUTHORIZED';
    case 403:
      return 'E_FORBIDDEN';
    case 404:
      return 'E_NOT_FOUND';
    case 409:
      return 'E_CONFLICT';
    default:
      return 'E_INTERNAL';
  }
}
