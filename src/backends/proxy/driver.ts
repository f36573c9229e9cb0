/**
 * The driver of `proxy` targets: a fault proxy the runner starts in its own process for the run
 * (src/engines/proxy/), with toxics, a disabled proxy and bad TLS certificates as faults. Its
 * faults die with the runner's process; a toxic also carries the proxy's own lease.
 */
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import type { ProxyCollection } from '../../engines/proxy/proxy-collection.js';
import type { FaultProxy, ProxyTls } from '../../engines/proxy/proxy.js';
import type { CertificateProblem, CertificateSet } from '../../engines/proxy/certificates.js';
import type { Target } from '../../experiment/schema.js';
import type { Touched } from '../../journal/touched.js';
import type { FaultDriver } from '../driver.js';
import type { ProxyLocation } from '../location.js';
import type { PlannedFault } from '../planned-fault.js';

/** A proxy the runner starts in its own process for the run (target type `proxy`). */
export class LocalProxyDriver implements FaultDriver<ProxyLocation> {
  readonly target: string;
  private proxy: FaultProxy | undefined;
  /** TLS proxies: the good and bad certificates, and the CA file the service trusts. */
  private tls: { set: CertificateSet; caFile: string } | undefined;
  /** The certificate fault in force: its name, lease timer and the TLS connections before it. */
  private badCertificate:
    { fault: string; timer: NodeJS.Timeout; connectionsBefore: number } | undefined;
  private readonly certificateTouched = new Map<string, number>();
  /** A disable fault: the live connections it cut. */
  private cut: number | undefined;

  constructor(
    target: string,
    private readonly spec: Extract<Target, { type: 'proxy' }>,
    private readonly collection: ProxyCollection,
  ) {
    this.target = target;
  }

  get description(): string {
    const listen = this.proxy?.listen ?? this.spec.listen ?? '127.0.0.1:<free port>';
    const tls = this.spec.tls
      ? ` (TLS for ${this.spec.tls.hostname}, CA ${this.caFile}${this.spec.tls.upstream === 'tls' ? ', TLS upstream' : ''})`
      : '';
    return `in-process ${this.spec.mode} proxy ${listen} → ${this.spec.upstream}${tls}`;
  }

  /** Where the run's CA certificate is written for the service to trust. */
  get caFile(): string {
    return (
      this.spec.tls?.caFile ??
      join(tmpdir(), 'faultline-tls', `${this.target.replace(/[^A-Za-z0-9_.-]/g, '_')}-ca.pem`)
    );
  }

  /** The running proxy (after prepare). */
  get running(): FaultProxy | undefined {
    return this.proxy;
  }

  async prepare(): Promise<void> {
    let tls: ProxyTls | undefined;
    if (this.spec.tls) {
      const caFile = this.caFile;
      // Loaded here, not at import: node-forge (≈ 2 MB of heap) only for a TLS proxy.
      const { certificateSet, loadOrCreateCa } =
        await import('../../engines/proxy/certificates.js');
      const set = certificateSet(await loadOrCreateCa(caFile), this.spec.tls.hostname);
      this.tls = { set, caFile };
      const upstreamCa = this.spec.tls.upstreamCaFile
        ? await readFile(this.spec.tls.upstreamCaFile, 'utf8').catch(() => {
            throw new UsageError(
              `target ${this.target}: cannot read tls.upstreamCaFile ${String(this.spec.tls?.upstreamCaFile)}`,
            );
          })
        : undefined;
      tls = {
        ...set.good,
        ...(this.spec.tls.upstream === 'tls'
          ? { upstream: { servername: this.spec.tls.upstreamServername, ca: upstreamCa } }
          : {}),
      };
    }
    this.proxy = await this.collection.create({
      name: this.target,
      listen: this.spec.listen,
      upstream: this.spec.upstream,
      mode: this.spec.mode,
      ...(tls ? { tls } : {}),
    });
  }

  locate(fault: PlannedFault): ProxyLocation {
    const kind = fault.effect.type;
    if (kind !== 'toxic' && kind !== 'disable' && kind !== 'certificate')
      throw new UsageError(`a proxy target cannot take ${kind}`);
    return {
      target: this.target,
      backend: 'proxy',
      proxy: this.target,
      kind,
      toxic:
        fault.effect.type === 'toxic'
          ? fault.effect.toxic.name
          : fault.effect.type === 'certificate'
            ? fault.name
            : undefined,
    };
  }

  private need(): FaultProxy {
    if (!this.proxy) throw new UsageError(`target ${this.target} was not prepared`);
    return this.proxy;
  }

  async apply(fault: PlannedFault, leaseSeconds: number): Promise<void> {
    const proxy = this.need();
    if (fault.effect.type === 'disable') {
      // The connections the outage cuts; the ones refused while it lasts never reach a listener.
      this.cut = proxy.stats.connections_active;
      await proxy.disable(leaseSeconds);
    } else if (fault.effect.type === 'toxic')
      proxy.addToxicJson({ ...fault.effect.toxic, expires_in: leaseSeconds });
    else if (fault.effect.type === 'certificate')
      this.presentBadCertificate(proxy, fault.name, fault.effect.problem, leaseSeconds);
    else throw new UsageError(`a proxy target cannot take ${fault.effect.type}`);
  }

  /**
   * The certificate fault: new connections get the bad certificate until removal or the lease
   * (a timer in this process; the proxy itself dies with the runner, so nothing outlives it).
   */
  private presentBadCertificate(
    proxy: FaultProxy,
    name: string,
    problem: CertificateProblem,
    leaseSeconds: number,
  ): void {
    if (!this.tls)
      throw new UsageError(`target ${this.target} does not terminate TLS`, {
        hint: `add tls: { hostname } to targets.${this.target}`,
      });
    if (this.badCertificate)
      throw new UsageError(
        `target ${this.target} already presents a bad certificate (fault "${this.badCertificate.fault}")`,
        { hint: 'one certificate fault at a time per TLS proxy' },
      );
    const timer = setTimeout(() => this.restoreCertificate(name), leaseSeconds * 1000);
    timer.unref();
    this.badCertificate = { fault: name, timer, connectionsBefore: proxy.tlsStats.connections };
    proxy.setCertificate(this.tls.set.bad[problem]);
  }

  private restoreCertificate(name: string | undefined): void {
    const bad = this.badCertificate;
    if (!bad || (name !== undefined && bad.fault !== name) || !this.proxy || !this.tls) return;
    clearTimeout(bad.timer);
    this.certificateTouched.set(bad.fault, this.proxy.tlsStats.connections - bad.connectionsBefore);
    this.badCertificate = undefined;
    this.proxy.setCertificate(this.tls.set.good);
  }

  async touched(location: ProxyLocation): Promise<Touched | undefined> {
    if (location.kind === 'certificate') {
      const bad = this.badCertificate;
      // New TLS connections that were presented the bad certificate.
      const connections =
        bad && bad.fault === location.toxic && this.proxy
          ? this.proxy.tlsStats.connections - bad.connectionsBefore
          : this.certificateTouched.get(location.toxic ?? '');
      return connections === undefined ? undefined : { connections, bytes: 0, requests: 0 };
    }
    if (location.kind === 'disable') {
      return this.cut === undefined
        ? undefined
        : { connections: this.cut, bytes: 0, requests: 0, partial: true };
    }
    if (!location.toxic) return undefined;
    const toxic = this.proxy?.toxics.find((t) => t.name === location.toxic);
    return toxic ? { ...toxic.stats } : undefined;
  }

  trafficAddress(): string | undefined {
    return this.proxy?.listen;
  }

  /** The proxy runs only for this run: anything on it after the clean-up was left behind. */
  async leftovers(): Promise<string[]> {
    const proxy = this.proxy;
    if (!proxy) return [];
    const left = proxy.toxics.map(
      (t) => `toxic ${t.name} (${t.type}) still on proxy ${this.target}`,
    );
    if (!proxy.enabled) left.push(`proxy ${this.target} still disabled`);
    if (this.badCertificate) left.push(`proxy ${this.target} still presents a bad certificate`);
    return left;
  }

  async remove(location: ProxyLocation): Promise<void> {
    const proxy = this.proxy;
    if (!proxy) return;
    if (location.kind === 'disable') await proxy.start();
    else if (location.kind === 'certificate') this.restoreCertificate(location.toxic);
    else if (proxy.toxics.some((t) => t.name === location.toxic))
      proxy.removeToxic(location.toxic!);
  }

  async isGone(location: ProxyLocation): Promise<boolean> {
    const proxy = this.proxy;
    if (!proxy) return true;
    if (location.kind === 'certificate')
      return (
        this.badCertificate?.fault !== location.toxic &&
        (!this.tls || proxy.presentedCertificate === this.tls.set.good.cert)
      );
    return location.kind === 'disable'
      ? proxy.enabled
      : !proxy.toxics.some((t) => t.name === location.toxic);
  }

  async dispose(): Promise<void> {
    if (this.badCertificate) clearTimeout(this.badCertificate.timer);
    this.badCertificate = undefined;
    if (this.proxy) await this.collection.remove(this.target).catch(() => undefined);
    this.proxy = undefined;
  }
}
