/**
 * Listen and upstream addresses as `host:port` strings, the way Toxiproxy writes them.
 */
import { isIP } from 'node:net';
import { BadRequestError } from '../../errors.js';

export interface HostPort {
  host: string;
  port: number;
}

/**
 * Parses a listen address. An empty address or an empty host means loopback (Toxiproxy listens
 * on every interface there; faultline binds 127.0.0.1 unless told otherwise). `localhost` is
 * bound as 127.0.0.1, as Toxiproxy reports it.
 */
export function parseListen(listen: string): HostPort {
  if (listen.trim() === '') return { host: '127.0.0.1', port: 0 };
  const parsed = splitHostPort(listen, 'listen');
  let host = parsed.host === '' || parsed.host === 'localhost' ? '127.0.0.1' : parsed.host;
  if (host === '::' || host === '[::]') host = '::';
  return { host, port: parsed.port };
}

/** Parses an upstream address; host and port are both required. */
export function parseUpstream(upstream: string): HostPort {
  const parsed = splitHostPort(upstream, 'upstream');
  if (parsed.host === '') {
    throw new BadRequestError(`upstream "${upstream}" has no host`, {
      hint: 'write it as host:port, e.g. 127.0.0.1:5432',
    });
  }
  if (parsed.port === 0) {
    throw new BadRequestError(`upstream "${upstream}" needs a port from 1 to 65535`, {
      hint: 'write it as host:port, e.g. 127.0.0.1:5432',
    });
  }
  return parsed;
}

function splitHostPort(value: string, field: string): HostPort {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(value.trim());
  if (!match) {
    throw new BadRequestError(`${field} "${value}" is not a host:port address`, {
      hint: 'write it as host:port, e.g. 127.0.0.1:5432 or [::1]:5432',
    });
  }
  const host = match[1] ?? match[2] ?? '';
  const port = Number(match[3]);
  if (port > 65535) {
    throw new BadRequestError(`${field} "${value}" has port ${port}, above 65535`);
  }
  if (match[1] !== undefined && isIP(host) !== 6) {
    throw new BadRequestError(`${field} "${value}" has brackets around a non-IPv6 host`);
  }
  return { host, port };
}

/** `host:port`, with brackets around IPv6 hosts. */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** True when two listen addresses bind the same thing (`0.0.0.0:P` and `[::]:P` are one). */
export function sameListen(a: HostPort, b: HostPort): boolean {
  const wildcard = (h: string): string => (h === '0.0.0.0' || h === '::' ? '*' : h);
  return wildcard(a.host) === wildcard(b.host) && a.port === b.port;
}
