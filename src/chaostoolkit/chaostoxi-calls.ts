/**
 * chaostoolkit-toxiproxy's proxy functions that are not faults: `create_proxy`, `modify_proxy`,
 * `delete_proxy`, `proxy_exist` and `get_proxy_attribute`, as calls to the Toxiproxy API
 * (faultline's own `proxy serve`, or a team's Toxiproxy) with chaostoxi's argument names and
 * return values. Toxics and `disable_proxy` are faults instead (./to-run-plan.ts), so they are
 * removed whatever happens.
 *
 * Differences from chaostoxi, on purpose: `create_proxy` listens on 127.0.0.1 unless
 * `listen_host` says otherwise (chaostoxi's default is 0.0.0.0, every interface), and the
 * `<proxy>_PORT` configuration key it sets cannot feed later `${…}` substitutions, which
 * faultline resolves before the run.
 */
import { httpRequest } from '../probes/http-request.js';
import { ProbeError } from '../probes/probe-error.js';

type Obj = Record<string, unknown>;

/** The chaostoxi functions this file runs. */
export const CHAOSTOXI_CALLS: ReadonlySet<string> = new Set([
  'create_proxy',
  'modify_proxy',
  'delete_proxy',
  'proxy_exist',
  'get_proxy_attribute',
]);

const TIMEOUT_MS = 30_000;

/** chaostoxi reads `env:NAME` arguments from the environment. */
function fromEnv(value: unknown): unknown {
  if (typeof value === 'string' && value.startsWith('env:')) {
    const v = process.env[value.slice(4)];
    if (v === undefined)
      throw new ProbeError(`environment variable ${value.slice(4)} is not set`, {
        hint: `export ${value.slice(4)}=…`,
      });
    return v;
  }
  return value;
}

/** One chaostoxi proxy function against the Toxiproxy API at `server`. */
export async function chaostoxiCall(
  server: string,
  func: string,
  args: Obj,
  signal: AbortSignal,
): Promise<unknown> {
  const name = String(args['proxy_name'] ?? '');
  const proxyUrl = `${server}/proxies/${encodeURIComponent(name)}`;
  const call = (method: string, url: string, body?: Obj) =>
    httpRequest({ url, method, body, timeoutMs: TIMEOUT_MS }, signal);
  const failed = (what: string, status: number, body: unknown): ProbeError =>
    new ProbeError(
      `${func}: ${what} (HTTP ${status}${typeof body === 'object' && body && 'error' in body ? `: ${String((body as Obj)['error'])}` : ''})`,
    );
  switch (func) {
    case 'create_proxy': {
      const listen = `${String(args['listen_host'] ?? '127.0.0.1')}:${String(args['listen_port'] ?? 0)}`;
      const upstream = `${String(fromEnv(args['upstream_host']))}:${String(fromEnv(args['upstream_port']))}`;
      const res = await call('POST', `${server}/proxies`, {
        name,
        listen,
        upstream,
        enabled: args['enabled'] ?? true,
      });
      if (res.status >= 300) throw failed(`proxy ${name} was not created`, res.status, res.body);
      return true;
    }
    case 'modify_proxy': {
      const body: Obj = {};
      if (args['listen_address'] != null) body['listen'] = args['listen_address'];
      if (args['upstream_address'] != null) body['upstream'] = args['upstream_address'];
      if (args['enabled'] != null) body['enabled'] = args['enabled'];
      const res = await call('POST', proxyUrl, body);
      if (res.status >= 300) throw failed(`proxy ${name} was not modified`, res.status, res.body);
      return true;
    }
    case 'delete_proxy': {
      // chaostoxi only logs a failed delete; the journal keeps the status instead.
      const res = await call('DELETE', proxyUrl);
      return res.status < 300 ? null : { status: res.status, body: res.body };
    }
    case 'proxy_exist': {
      const res = await call('GET', proxyUrl);
      return res.status < 300 && (res.body as Obj | null)?.['name'] === name;
    }
    case 'get_proxy_attribute': {
      const res = await call('GET', proxyUrl);
      if (res.status >= 300) return null;
      const attribute = String(args['attribute'] ?? '');
      const proxy = res.body as Obj;
      if (!(attribute in proxy))
        throw new ProbeError(`get_proxy_attribute: proxy ${name} has no attribute ${attribute}`, {
          hint: `one of ${Object.keys(proxy).join(', ')}`,
        });
      return proxy[attribute];
    }
    default:
      throw new ProbeError(`chaostoxi function ${func} is not supported`);
  }
}
