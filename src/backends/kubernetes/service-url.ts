/**
 * A URL that names a Kubernetes Service by its cluster DNS name:
 * `http://payment-service.shop.svc:8080/pay` (or `….svc.cluster.local`). An experiment writes
 * the address its service has on the cluster, the same whether faultline runs in a pod (where
 * the name resolves) or on a laptop (where faultline port-forwards to a pod behind it), so one
 * file works in both places (./service-reach.ts decides which).
 */

export interface ServiceRef {
  /** The Service's name. */
  name: string;
  namespace: string;
  /** The Service port the URL names (default 80 for http, 443 for https). */
  port: number;
  /** `scheme://host:port` as written, what a reach replaces. */
  origin: string;
}

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const SERVICE_HOST = new RegExp(`^(${LABEL})\\.(${LABEL})\\.svc(\\.cluster\\.local)?\\.?$`);

/** The Service a URL names, or undefined for any other URL (or text that is not a URL). */
export function serviceOfUrl(text: string): ServiceRef | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const m = SERVICE_HOST.exec(url.hostname);
  if (!m) return undefined;
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return {
    name: m[1]!,
    namespace: m[3]!,
    port,
    origin: `${url.protocol}//${url.host}`,
  };
}

/** `name.namespace:port`, as messages and the journal name a Service. */
export function serviceLabel(ref: Pick<ServiceRef, 'name' | 'namespace' | 'port'>): string {
  return `${ref.name}.${ref.namespace}:${ref.port}`;
}
