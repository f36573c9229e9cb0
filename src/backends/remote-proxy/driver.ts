/**
 * The driver of `remote-proxy` targets: a proxy on a faultline or Toxiproxy server, reached
 * through its HTTP API. Its faults outlive the runner (the server's lease ends them), so
 * `faultline recover` and `faultline halt` remove them through the same API.
 */
import { isFaultlineError, UsageError } from '../../errors.js';
import { ProxyApiClient } from '../../engines/proxy/api/client.js';
import type { Target } from '../../experiment/schema.js';
import type { Touched } from '../../journal/touched.js';
import type { FaultDriver } from '../driver.js';
import type { RemoteProxyLocation } from '../location.js';
import type { PlannedFault } from '../planned-fault.js';

/** A proxy on a faultline or Toxiproxy server (target type `remote-proxy`). */
export class RemoteProxyDriver implements FaultDriver<RemoteProxyLocation> {
  readonly target: string;
  private readonly client: ProxyApiClient;

  constructor(
    target: string,
    private readonly spec: Extract<Target, { type: 'remote-proxy' }>,
  ) {
    this.target = target;
    this.client = new ProxyApiClient({ url: spec.url, token: spec.token });
  }

  get description(): string {
    return `proxy "${this.spec.proxy}" on ${this.spec.url}`;
  }

  /** The proxy as the run found it: its listen address, toxics and whether it was enabled. */
  private before: { listen: string; toxics: Set<string>; enabled: boolean } | undefined;
  /** A disable fault: the live connections it cut (faultline servers count them; Toxiproxy does not). */
  private cut: number | undefined;

  async prepare(signal: AbortSignal): Promise<void> {
    const proxy = await this.client.getProxy(this.spec.proxy, { signal });
    this.before = {
      listen: proxy.listen,
      toxics: new Set(proxy.toxics.map((t) => t.name)),
      enabled: proxy.enabled,
    };
  }

  trafficAddress(): string | undefined {
    return this.before?.listen;
  }

  /** What is on the proxy now that was not when the run prepared it. */
  async leftovers(signal: AbortSignal): Promise<string[]> {
    const before = this.before;
    if (!before) return [];
    const proxy = await this.client.getProxy(this.spec.proxy, { signal });
    const left = proxy.toxics
      .filter((t) => !before.toxics.has(t.name))
      .map(
        (t) => `toxic ${t.name} (${t.type}) left on proxy ${this.spec.proxy} at ${this.spec.url}`,
      );
    if (before.enabled && !proxy.enabled)
      left.push(`proxy ${this.spec.proxy} at ${this.spec.url} still disabled`);
    return left;
  }

  locate(fault: PlannedFault): RemoteProxyLocation {
    const kind = fault.effect.type;
    if (kind !== 'toxic' && kind !== 'disable')
      throw new UsageError(`a remote proxy cannot take ${kind}`);
    return {
      target: this.target,
      backend: 'remote-proxy',
      server: this.spec.url,
      proxy: this.spec.proxy,
      kind,
      toxic: fault.effect.type === 'toxic' ? fault.effect.toxic.name : undefined,
    };
  }

  async apply(fault: PlannedFault, leaseSeconds: number, signal: AbortSignal): Promise<void> {
    if (fault.effect.type === 'disable') {
      const stats = (
        (await this.client.getProxy(this.spec.proxy, { signal })) as {
          stats?: { connections_active?: number };
        }
      ).stats;
      this.cut = stats?.connections_active;
      await this.client.updateProxy(
        this.spec.proxy,
        { enabled: false, expires_in: leaseSeconds },
        { signal },
      );
    } else if (fault.effect.type === 'toxic') {
      await this.client.addToxicJson(
        this.spec.proxy,
        { ...fault.effect.toxic, expires_in: leaseSeconds },
        { signal },
      );
    } else {
      throw new UsageError(`a proxy target cannot take ${fault.effect.type}`);
    }
  }

  async touched(location: RemoteProxyLocation, signal: AbortSignal): Promise<Touched | undefined> {
    if (location.kind === 'disable') {
      return this.cut === undefined
        ? undefined
        : { connections: this.cut, bytes: 0, requests: 0, partial: true };
    }
    if (!location.toxic) return undefined;
    try {
      const toxic = await this.client.getToxic(location.proxy, location.toxic, { signal });
      const stats = (toxic as { stats?: Touched }).stats; // absent on a Toxiproxy server
      return stats
        ? { connections: stats.connections, bytes: stats.bytes, requests: stats.requests }
        : undefined;
    } catch (err) {
      if (isFaultlineError(err) && err.code === 'E_NOT_FOUND') return undefined;
      throw err;
    }
  }

  async remove(location: RemoteProxyLocation, signal: AbortSignal): Promise<void> {
    await removeRemoteFault(
      new ProxyApiClient({ url: location.server, token: this.spec.token }),
      location,
      signal,
    );
  }

  async isGone(location: RemoteProxyLocation, signal: AbortSignal): Promise<boolean> {
    const proxy = await this.client.getProxy(location.proxy, { signal });
    return location.kind === 'disable'
      ? proxy.enabled
      : !proxy.toxics.some((t) => t.name === location.toxic);
  }

  async dispose(): Promise<void> {}
}

/** Removes a fault from a remote server; a missing proxy or toxic counts as removed. */
export async function removeRemoteFault(
  client: ProxyApiClient,
  location: RemoteProxyLocation,
  signal?: AbortSignal,
): Promise<void> {
  try {
    if (location.kind === 'disable')
      await client.updateProxy(location.proxy, { enabled: true }, { signal });
    else if (location.toxic) await client.removeToxic(location.proxy, location.toxic, { signal });
  } catch (err) {
    if (isFaultlineError(err) && err.code === 'E_NOT_FOUND') return;
    throw err;
  }
}
