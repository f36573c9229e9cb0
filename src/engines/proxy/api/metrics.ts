/**
 * Prometheus metrics of a proxy collection, read live at scrape time (Toxiproxy counts bytes
 * only when a connection closes). Toxiproxy's two byte counters keep their names and labels so
 * existing dashboards keep working; faultline adds connections, requests and, per toxic, what
 * it touched.
 */
import type { Counter, Gauge, Registry } from 'prom-client';
import { promClient } from '../../../shared/prom-client.js';
import type { ProxyCollection } from '../proxy-collection.js';
import type { FaultProxy } from '../proxy.js';

/** Where the metrics read their proxies from at scrape time: a collection, or {@link retainProxies}. */
export interface ProxySource {
  list(): FaultProxy[];
}

/**
 * A view of a collection that keeps every proxy it ever held, with its last counters, after the
 * proxy is removed. A run removes its proxies at its end; without this their bytes and
 * connections would vanish from /metrics before Prometheus could scrape the final values
 * (`faultline run --metrics-linger`). A proxy re-created under the same name replaces the old one.
 */
export function retainProxies(collection: ProxyCollection): ProxySource {
  const seen = new Map<string, FaultProxy>();
  for (const p of collection.list()) seen.set(p.name, p);
  collection.on('created', (p) => seen.set(p.name, p));
  return {
    list() {
      for (const p of collection.list()) seen.set(p.name, p);
      return [...seen.values()];
    },
  };
}

/**
 * A private registry (never prom-client's global one) bound to one collection. `faultline proxy
 * serve` and `faultline run --metrics-port` (its in-process proxies) export the same names, so
 * one dashboard (examples/grafana/faultline-dashboard.json) serves both.
 */
export function createMetricsRegistry(collection: ProxySource): Registry {
  const { Counter, Gauge, Registry } = promClient();
  const registry = new Registry();
  const proxyLabels = ['proxy', 'listener', 'upstream'] as const;
  const bytesLabels = ['direction', 'listener', 'proxy', 'upstream'] as const;
  const toxicLabels = ['proxy', 'toxic', 'type', 'stream'] as const;

  const bytes = (
    name: string,
    help: string,
    field: 'received' | 'sent',
  ): Counter<(typeof bytesLabels)[number]> =>
    new Counter({
      name,
      help,
      labelNames: bytesLabels,
      registers: [registry],
      collect() {
        this.reset();
        // Labels in the order Toxiproxy's /metrics shows them (client_golang sorts them by
        // name): prom-client writes them in the order of this object's keys, and grep-based
        // checks written against Toxiproxy's output compare the text.
        for (const p of collection.list()) {
          const labels = (direction: string) => ({
            direction,
            listener: p.listen,
            proxy: p.name,
            upstream: p.upstream,
          });
          this.inc(labels('upstream'), p.upstreamCounters[field]);
          this.inc(labels('downstream'), p.downstreamCounters[field]);
        }
      },
    });
  bytes(
    'toxiproxy_proxy_received_bytes_total',
    'Bytes read by the proxy from the source of each direction.',
    'received',
  );
  bytes(
    'toxiproxy_proxy_sent_bytes_total',
    'Bytes written by the proxy to the destination of each direction.',
    'sent',
  );

  const perProxy = (
    name: string,
    help: string,
    value: (s: ReturnType<typeof statsOf>) => number,
    kind: 'counter' | 'gauge',
  ): void => {
    const options = {
      name,
      help,
      labelNames: proxyLabels,
      registers: [registry],
      collect(this: Counter<(typeof proxyLabels)[number]> | Gauge<(typeof proxyLabels)[number]>) {
        this.reset();
        for (const p of collection.list()) {
          const labels = { proxy: p.name, listener: p.listen, upstream: p.upstream };
          if (this instanceof Gauge) this.set(labels, value(statsOf(p)));
          else this.inc(labels, value(statsOf(p)));
        }
      },
    };
    if (kind === 'counter') new Counter(options);
    else new Gauge(options);
  };
  perProxy(
    'faultline_proxy_connections_total',
    'Connections accepted.',
    (s) => s.connections_total,
    'counter',
  );
  perProxy(
    'faultline_proxy_connections_active',
    'Connections open now.',
    (s) => s.connections_active,
    'gauge',
  );
  perProxy(
    'faultline_proxy_requests_total',
    'HTTP requests seen (HTTP mode).',
    (s) => s.requests,
    'counter',
  );
  perProxy(
    'faultline_proxy_enabled',
    '1 when the proxy accepts connections.',
    (s) => s.enabled,
    'gauge',
  );

  const perToxic = (
    name: string,
    help: string,
    value: (t: { connections: number; bytes: number; requests: number }) => number,
  ): void => {
    new Gauge({
      name,
      help,
      labelNames: toxicLabels,
      registers: [registry],
      collect() {
        this.reset();
        for (const p of collection.list()) {
          for (const t of p.toxics)
            this.set(
              { proxy: p.name, toxic: t.name, type: t.type, stream: t.stream },
              value(t.stats),
            );
        }
      },
    });
  };
  perToxic('faultline_toxic_active', '1 for each toxic configured now.', () => 1);
  perToxic(
    'faultline_toxic_touched_connections',
    'Connections the toxic acted on.',
    (s) => s.connections,
  );
  perToxic(
    'faultline_toxic_touched_bytes',
    'Bytes the toxic delayed, throttled, dropped or cut.',
    (s) => s.bytes,
  );
  perToxic(
    'faultline_toxic_touched_requests',
    'HTTP requests the toxic acted on.',
    (s) => s.requests,
  );
  return registry;
}

function statsOf(proxy: FaultProxy): FaultProxy['stats'] & { enabled: number } {
  return { ...proxy.stats, enabled: proxy.enabled ? 1 : 0 };
}
