/**
 * `withFault()`: one toxic on one proxy for the duration of a test, removed whatever happens.
 *
 * Three layers of removal, because a test can end in three ways:
 *
 * 1. the test ends (passes, fails, throws): `await using fault = await withFault(…)` disposes
 *    it at the end of the block, the callback form removes it in a `finally`, and `.remove()` is
 *    there for `afterEach`;
 * 2. the test times out: the framework abandons the body, so no `finally` runs — pass the test's
 *    signal (`t.signal` in node:test, `signal` of vitest's test context), which the framework
 *    aborts on timeout, and the fault is removed when it aborts;
 * 3. the test process dies (SIGKILL, an OOM, a CI runner cancelled): the toxic carries a lease
 *    (`expires_in`), and the proxy removes it by itself when the lease runs out. An in-process
 *    proxy dies with the process anyway; a `faultline proxy serve` server honours the lease; a
 *    Toxiproxy server ignores it (`leased` is false then, and only 1 and 2 hold).
 *
 * It reuses the proxy engine (an in-process {@link FaultProxy}) and the remote proxy client
 * ({@link ProxyApiClient}); the toxic is checked by the same parser the API uses.
 */
import { randomUUID } from 'node:crypto';
import { BadRequestError, isFaultlineError } from '../errors.js';
import { ProxyApiClient } from '../engines/proxy/api/client.js';
import { FaultProxy } from '../engines/proxy/proxy.js';
import type { ToxicSpec, UntypedToxicSpec } from '../engines/proxy/toxic-entry.js';
import { parseDuration } from '../experiment/duration.js';

/** A proxy on a server: `faultline proxy serve` (default http://127.0.0.1:8474) or Toxiproxy. */
export interface RemoteProxyRef {
  /** The server's base URL, or a client already configured (token, timeout). */
  server: string | ProxyApiClient;
  /** The proxy's name on that server. */
  name: string;
  /** Bearer token, when `server` is a URL and the server requires one. */
  token?: string | undefined;
}

/** A {@link ToxicSpec} without `expires_in` (the lease is `lease`), still exact per type. */
export type ToxicWithoutLease = ToxicSpec extends infer S
  ? S extends ToxicSpec
    ? Omit<S, 'expires_in'>
    : never
  : never;

export interface FaultSpec {
  /** An in-process proxy (from a {@link ProxyCollection}), or a proxy on a server. */
  proxy: FaultProxy | RemoteProxyRef;
  /** The toxic, as Toxiproxy's API takes it; its name defaults to a unique one. */
  toxic: ToxicWithoutLease;
  /**
   * How long the fault may outlive this process at most: seconds, or a duration such as `'30s'`
   * (default 120 s). Longer than the test, shorter than what you can afford to leave behind.
   */
  lease?: number | string | undefined;
  /** The test's signal: when it aborts (a timeout, a cancelled run) the fault is removed. */
  signal?: AbortSignal | undefined;
}

/** A fault in place. Removing it twice, or after its lease ran out, is not an error. */
export interface AppliedFault extends AsyncDisposable {
  /** The proxy's name. */
  readonly proxy: string;
  /** The toxic's name on that proxy. */
  readonly toxic: string;
  /** When the proxy removes it by itself (ms since the epoch). */
  readonly expiresAt: number;
  /** False when the server ignored the lease (a Toxiproxy server). */
  readonly leased: boolean;
  readonly removed: boolean;
  remove(): Promise<void>;
}

const DEFAULT_LEASE_SECONDS = 120;

/**
 * Applies a fault and returns a handle to remove it (`await using` disposes it at the end of
 * the block).
 */
export function withFault(spec: FaultSpec): Promise<AppliedFault>;
/** Applies a fault, runs `body`, and removes the fault however `body` ends. */
export function withFault<T>(
  spec: FaultSpec,
  body: (fault: AppliedFault) => T | Promise<T>,
): Promise<T>;
export async function withFault<T>(
  spec: FaultSpec,
  body?: (fault: AppliedFault) => T | Promise<T>,
): Promise<AppliedFault | T> {
  const fault = await applyFault(spec);
  if (!body) return fault;
  let result: T;
  try {
    result = await body(fault);
  } catch (err) {
    try {
      await fault.remove();
    } catch (removal) {
      throw new AggregateError(
        [err, removal],
        'the test failed, and its fault could not be removed',
      );
    }
    throw err;
  }
  await fault.remove();
  return result;
}

function leaseSeconds(lease: number | string | undefined): number {
  if (lease === undefined) return DEFAULT_LEASE_SECONDS;
  const seconds = typeof lease === 'number' ? lease : (parseDuration(lease) ?? NaN) / 1000;
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new BadRequestError(`withFault: lease ${String(lease)} is not a positive duration`, {
      hint: "seconds (60) or a duration ('30s', '2m'): how long the fault may outlive the test",
    });
  return seconds;
}

/** Where the toxic goes: the same three calls on an in-process proxy or over the API. */
interface Site {
  proxy: string;
  add(spec: UntypedToxicSpec): Promise<{ expiresAt: string | undefined }>;
  remove(name: string): Promise<void>;
}

function siteOf(proxy: FaultProxy | RemoteProxyRef): Site {
  if (proxy instanceof FaultProxy) {
    return {
      proxy: proxy.name,
      // async: the engine throws synchronously, and removal handles a rejection.
      add: async (spec) => ({ expiresAt: proxy.addToxicJson(spec).expiresAt?.toISOString() }),
      remove: async (name) => proxy.removeToxic(name),
    };
  }
  const client =
    typeof proxy.server === 'string'
      ? new ProxyApiClient({ url: proxy.server, token: proxy.token })
      : proxy.server;
  return {
    proxy: proxy.name,
    add: async (spec) => ({
      expiresAt: (await client.addToxicJson(proxy.name, spec)).expires_at,
    }),
    // Its own deadline: removal must not hang on the test's (possibly aborted) signal.
    remove: (name) => client.removeToxic(proxy.name, name, { signal: AbortSignal.timeout(10_000) }),
  };
}

async function applyFault(spec: FaultSpec): Promise<AppliedFault> {
  spec.signal?.throwIfAborted();
  const seconds = leaseSeconds(spec.lease);
  const site = siteOf(spec.proxy);
  const stream = spec.toxic.stream ?? 'downstream';
  const name = spec.toxic.name ?? `${spec.toxic.type}_${stream}_${randomUUID().slice(0, 8)}`;
  const added = await site.add({ ...spec.toxic, name, stream, expires_in: seconds });
  const expiresAt = added.expiresAt ? Date.parse(added.expiresAt) : Date.now() + seconds * 1000;

  let removal: Promise<void> | undefined;
  let removed = false;
  const onAbort = (): void => void remove().catch(() => undefined);
  function remove(): Promise<void> {
    spec.signal?.removeEventListener('abort', onAbort);
    removal ??= site.remove(name).then(
      () => {
        removed = true;
      },
      (err: unknown) => {
        // Gone already (its lease ran out, a reset): what removal wanted.
        if (isFaultlineError(err) && (err.code === 'E_NOT_FOUND' || err.status === 404)) {
          removed = true;
          return;
        }
        removal = undefined; // a later call may try again
        throw err;
      },
    );
    return removal;
  }
  spec.signal?.addEventListener('abort', onAbort, { once: true });
  // Aborted while the toxic was being added: remove it at once.
  if (spec.signal?.aborted) onAbort();

  return {
    proxy: site.proxy,
    toxic: name,
    expiresAt,
    leased: added.expiresAt !== undefined,
    get removed() {
      return removed;
    },
    remove,
    [Symbol.asyncDispose]: remove,
  };
}
