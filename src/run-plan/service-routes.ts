/**
 * The Services a plan's URLs name (`http://NAME.NAMESPACE.svc:PORT/…`), and where the run sends
 * their traffic instead. The plan is built before the run knows how it will reach them (in a
 * pod: as written; elsewhere: a port-forward on a port chosen when it opens), so the load and
 * the HTTP probes and actions read their URL through {@link ServiceRoutes.resolve} each time
 * they send, and the runner fills the routes in once it has opened the way (and clears them at
 * the end).
 */
import { serviceOfUrl, type ServiceRef } from '../backends/kubernetes/service-url.js';

export class ServiceRoutes {
  private readonly named = new Map<string, ServiceRef>();
  private routes = new Map<string, string>();

  /** Records the Service a URL names, if it names one; returns the URL unchanged. */
  note(url: string): string {
    const ref = serviceOfUrl(url);
    if (ref && !this.named.has(ref.origin)) this.named.set(ref.origin, ref);
    return url;
  }

  /** The Services noted, one per origin (scheme, host and port). */
  get services(): ServiceRef[] {
    return [...this.named.values()];
  }

  /** From now on, traffic to each origin (as written) goes to its replacement origin. */
  use(routes: ReadonlyMap<string, string>): void {
    this.routes = new Map(routes);
  }

  /** The URL to send to: a routed Service's URL rewritten to its local address, others as is. */
  resolve(url: string): string {
    const ref = serviceOfUrl(url);
    const to = ref && this.routes.get(ref.origin);
    if (!to) return url;
    const parsed = new URL(url);
    const target = new URL(to);
    parsed.protocol = target.protocol;
    parsed.host = target.host;
    return parsed.toString();
  }
}
