/**
 * The dns fault family (src/backends/local/family.ts): a `dns` target is a fault-injecting
 * resolver ({@link FaultResolver}) that the runner starts in its own process at `prepare()` and
 * closes at `dispose()`; the service under test must use it as its resolver. `dns-error` and
 * `dns-delay` become rules of that resolver, each with the fault's lease.
 *
 * Where the lease lives: the resolver is part of the runner's process, so a SIGKILLed runner
 * takes the resolver and every rule with it (the service's lookups then fail like a dead DNS
 * server, which the run's own end is anyway); a live runner removes the rule at removal, and
 * the resolver itself drops it at the deadline. `faultline recover` therefore has nothing left
 * to remove unless the resolver still runs in the recovering process.
 */
import { UsageError } from '../../errors.js';
import { parseDuration } from '../../experiment/duration.js';
import type { Target } from '../../experiment/schema.js';
import type { Touched } from '../driver.js';
import type { DnsLocation } from '../location.js';
import type { LocalFamily } from '../local/family.js';
import type { DriverContext } from '../backend.js';
import { LocalFaultDriver, type LocalApply } from '../local/local-driver.js';
import { FaultResolver } from '../../engines/dns/resolver.js';

/** Resolvers running in this process, by listen address: how `recover` finds a live one. */
const running = new Map<string, FaultResolver>();

type DnsTarget = Extract<Target, { type: 'dns' }>;

/** Where the rule lives: the resolver's listen address (in the runner's process) and the rule's id. */
export interface DnsHandle {
  listen?: string | undefined;
  rule?: string | undefined;
}

export class DnsDriver extends LocalFaultDriver<'dns', DnsHandle> {
  protected newHandle(): DnsHandle {
    return {};
  }

  private resolver: FaultResolver | undefined;

  constructor(
    target: string,
    private readonly spec: DnsTarget,
    context: DriverContext,
  ) {
    super(target, dnsFamily, context, 'dns');
  }

  get description(): string {
    const listen = this.resolver?.listen ?? this.spec.listen ?? '127.0.0.1:<free port>';
    const upstream = this.resolver
      ? (this.resolver.upstream ?? 'no upstream')
      : (this.spec.upstream ?? 'the nameserver of /etc/resolv.conf');
    return `in-process DNS resolver ${listen} (UDP and TCP) → ${upstream}`;
  }

  /** The running resolver (after prepare). */
  get running(): FaultResolver | undefined {
    return this.resolver;
  }

  override async prepare(): Promise<void> {
    const resolver = new FaultResolver({ listen: this.spec.listen, upstream: this.spec.upstream });
    await resolver.start();
    this.resolver = resolver;
    running.set(resolver.listen, resolver);
  }

  protected async applyFault({
    fault,
    tag,
    leaseSeconds,
    location,
    save,
  }: LocalApply<DnsLocation>): Promise<void> {
    const resolver = this.resolver;
    if (!resolver) throw new UsageError(`target ${this.target} was not prepared`);
    location.handle = { listen: resolver.listen, rule: tag };
    save();
    if (fault.fault === 'dns-error')
      resolver.addRule({
        id: tag,
        kind: 'error',
        rcode: fault.rcode ?? 'servfail',
        patterns: fault.patterns,
        expiresIn: leaseSeconds,
      });
    else if (fault.fault === 'dns-delay')
      resolver.addRule({
        id: tag,
        kind: 'delay',
        delayMs: parseDuration(fault.delay) ?? 0,
        patterns: fault.patterns,
        expiresIn: leaseSeconds,
      });
    else
      throw new UsageError(`a dns target cannot take ${fault.fault}`, {
        hint: 'dns targets take dns-error and dns-delay',
      });
  }

  override async touched(location: DnsLocation): Promise<Touched | undefined> {
    // Counts survive the rule's removal or expiry: the lease may have ended it first.
    const queries = this.resolver?.queriesOf(ruleId(location));
    return queries === undefined ? undefined : { connections: 0, bytes: 0, requests: queries };
  }

  override async isGone(location: DnsLocation): Promise<boolean> {
    return !this.resolver || this.resolver.rule(ruleId(location)) === undefined;
  }

  override async dispose(): Promise<void> {
    const resolver = this.resolver;
    this.resolver = undefined;
    if (!resolver) return;
    if (running.get(resolver.listen) === resolver) running.delete(resolver.listen);
    await resolver.close();
  }
}

function ruleId(location: DnsLocation): string {
  return location.handle.rule ?? location.tag;
}

export const dnsFamily: LocalFamily<DnsLocation> = {
  async recover(location) {
    const listen = location.handle.listen;
    // The resolver lives in the runner's process: when that process is gone, so is the rule.
    const resolver = listen === undefined ? undefined : running.get(listen);
    resolver?.removeRule(ruleId(location));
  },
};
