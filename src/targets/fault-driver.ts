/**
 * Fault drivers: how a planned fault reaches its target. One driver per target; the runner
 * only speaks this interface, so the same method runs against an in-process proxy on a laptop,
 * a remote faultline/Toxiproxy server in CI, or (with the Kubernetes issue) a cluster.
 *
 * Every removal is idempotent: a fault that is already gone (its lease ran out, someone reset
 * the server) counts as removed. That is what lets rollback, signal handling and `faultline
 * recover` all try to remove the same fault without coordinating.
 */
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFaultlineError, UsageError } from '../errors.js';
import { ProxyApiClient } from '../faults/control-api/client.js';
import type { ProxyCollection } from '../faults/proxy/proxy-collection.js';
import type { FaultProxy, ProxyTls } from '../faults/proxy/proxy.js';
import type { CertificateProblem, CertificateSet } from '../faults/proxy/certificates.js';
import type { Target } from '../experiment/schema.js';
import type { PlannedFault } from '../runner/plan.js';

/** Where an applied fault lives: enough for any process to remove it later. */
export interface FaultLocation {
  target: string;
  /**
   * `local`: a proxy inside the runner's own process (it dies with the runner); `remote`: a
   * server at `server`; `process`: a local process `pid` paused by a run of an older faultline,
   * with a watchdog process `watchdog` that resumes it at the lease deadline (still recovered;
   * process faults are now `local-fault`s of the process family, src/faults/process/); `kubernetes`: a chaos object on a cluster, `resource`.
   */
  where: 'local' | 'remote' | 'process' | 'kubernetes' | 'local-fault';
  server?: string | undefined;
  proxy: string;
  kind: 'toxic' | 'disable' | 'pause-process' | 'kubernetes' | 'local' | 'certificate';
  toxic?: string | undefined;
  pid?: number | undefined;
  watchdog?: number | undefined;
  /** The chaos object (where `kubernetes`): enough for `faultline recover --kubernetes` to delete it. */
  resource?: KubernetesResourceRef | undefined;
  /** Where `local-fault`: the family that realises it (src/faults/local/families.ts). */
  family?: string | undefined;
  /** Where `local-fault`: the fault type (`pg-lock`, `disk-fill`, …). */
  fault?: string | undefined;
  /**
   * Where `local-fault`: a name unique to this fault of this run, carried by everything the
   * fault creates (agent processes' command lines, PostgreSQL application_name, Redis client
   * names, iptables comments, file names), so removal and `faultline recover` find exactly
   * faultline's own even when the runner died before it could journal a pid.
   */
  tag?: string | undefined;
  /** Where `local-fault`: what the family needs to remove the fault with no runner state (JSON). */
  handle?: Record<string, unknown> | undefined;
}

/** The journal record of a fault being applied: a driver may add to its location and save it. */
export interface ApplyRecord {
  location: FaultLocation;
  /** Writes the journal now (so a handle is on disk before the step that needs it is taken). */
  save(): void;
}

/** A namespaced custom object on a cluster, and which kubeconfig context reached it. */
export interface KubernetesResourceRef {
  apiVersion: string;
  kind: string;
  /** Lower-case plural, as in the REST path (`networkchaos`). */
  plural: string;
  namespace: string;
  name: string;
  /** The kubeconfig context used (undefined: the default one, or in-cluster). */
  context?: string | undefined;
}

/** What a fault actually touched: traffic it acted on, and (local faults) the things themselves. */
export interface Touched {
  connections: number;
  bytes: number;
  requests: number;
  /**
   * What the fault acted on, in words, for faults that touch things rather than traffic:
   * `pid 4242 (node server.js)`, `session 1234 app@10.0.0.7/shop`, a fill file.
   */
  items?: string[] | undefined;
}

/** True when a fault is known to have touched nothing at all (no traffic, no item). */
export function touchedNothing(t: Touched | undefined): boolean {
  return t !== undefined && t.connections + t.bytes + t.requests === 0 && (t.items?.length ?? 0) === 0;
}

/** One line: "3 connection(s), 12.0 KB, 5 request(s)", or the items when there is no traffic. */
export function describeTouched(t: Touched | undefined, bytes: (n: number) => string = (n) => `${n} B`): string {
  if (!t) return 'not counted';
  const traffic = t.connections + t.bytes + t.requests > 0 || !t.items?.length;
  const parts = traffic ? [`${t.connections} connection(s)`, bytes(t.bytes), ...(t.requests ? [`${t.requests} request(s)`] : [])] : [];
  if (t.items?.length) parts.push(t.items.length > 5 ? `${t.items.slice(0, 5).join(', ')} and ${t.items.length - 5} more` : t.items.join(', '));
  return parts.join(', ');
}

export interface FaultDriver {
  readonly target: string;
  /** One line for the plan: what this target is. */
  readonly description: string;
  /** Starts the in-process proxy, or checks the remote one exists. */
  prepare(signal: AbortSignal): Promise<void>;
  /** Where `fault` will live once applied (known before applying, so it can be journaled first). */
  locate(fault: PlannedFault): FaultLocation;
  /**
   * Applies the fault with a lease: the target (or an agent the driver leaves behind) removes it
   * by itself at `leaseSeconds` even if this process dies. `record` is the fault's journal entry:
   * a driver that learns more about where the fault lives (an agent's pid, an original value to
   * restore) puts it in `record.location.handle` and saves.
   */
  apply(fault: PlannedFault, leaseSeconds: number, signal: AbortSignal, record?: ApplyRecord): Promise<void>;
  /** What the fault touched so far; undefined when the target cannot tell. */
  touched(location: FaultLocation, signal: AbortSignal): Promise<Touched | undefined>;
  /** Removes the fault; already gone is fine. */
  remove(location: FaultLocation, signal: AbortSignal): Promise<void>;
  /** True when the target shows no trace of the fault. */
  isGone(location: FaultLocation, signal: AbortSignal): Promise<boolean>;
  dispose(): Promise<void>;
}

/** A proxy the runner starts in its own process for the run (target type `proxy`). */
export class LocalProxyDriver implements FaultDriver {
  readonly target: string;
  private proxy: FaultProxy | undefined;
  /** TLS proxies: the good and bad certificates, and the CA file the service trusts. */
  private tls: { set: CertificateSet; caFile: string } | undefined;
  /** The certificate fault in force: its name, lease timer and the TLS connections before it. */
  private badCertificate: { fault: string; timer: NodeJS.Timeout; connectionsBefore: number } | undefined;
  private readonly certificateTouched = new Map<string, number>();

  constructor(
    target: string,
    private readonly spec: Extract<Target, { type: 'proxy' }>,
    private readonly collection: ProxyCollection,
  ) {
    this.target = target;
  }

  get description(): string {
    const listen = this.proxy?.listen ?? this.spec.listen ?? '127.0.0.1:<free port>';
    const tls = this.spec.tls ? ` (TLS for ${this.spec.tls.hostname}, CA ${this.caFile}${this.spec.tls.upstream === 'tls' ? ', TLS upstream' : ''})` : '';
    return `in-process ${this.spec.mode} proxy ${listen} → ${this.spec.upstream}${tls}`;
  }

  /** Where the run's CA certificate is written for the service to trust. */
  get caFile(): string {
    return this.spec.tls?.caFile ?? join(tmpdir(), 'faultline-tls', `${this.target.replace(/[^A-Za-z0-9_.-]/g, '_')}-ca.pem`);
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
      const { certificateSet, loadOrCreateCa } = await import('../faults/proxy/certificates.js');
      const set = certificateSet(await loadOrCreateCa(caFile), this.spec.tls.hostname);
      this.tls = { set, caFile };
      const upstreamCa = this.spec.tls.upstreamCaFile ? await readFile(this.spec.tls.upstreamCaFile, 'utf8').catch(() => {
        throw new UsageError(`target ${this.target}: cannot read tls.upstreamCaFile ${this.spec.tls?.upstreamCaFile}`);
      }) : undefined;
      tls = {
        ...set.good,
        ...(this.spec.tls.upstream === 'tls' ? { upstream: { servername: this.spec.tls.upstreamServername, ca: upstreamCa } } : {}),
      };
    }
    this.proxy = await this.collection.create({ name: this.target, listen: this.spec.listen, upstream: this.spec.upstream, mode: this.spec.mode, ...(tls ? { tls } : {}) });
  }

  locate(fault: PlannedFault): FaultLocation {
    return {
      target: this.target,
      where: 'local',
      proxy: this.target,
      kind: fault.effect.type,
      toxic: fault.effect.type === 'toxic' ? fault.effect.toxic.name : fault.effect.type === 'certificate' ? fault.name : undefined,
    };
  }

  private need(): FaultProxy {
    if (!this.proxy) throw new UsageError(`target ${this.target} was not prepared`);
    return this.proxy;
  }

  async apply(fault: PlannedFault, leaseSeconds: number): Promise<void> {
    const proxy = this.need();
    if (fault.effect.type === 'disable') await proxy.disable(leaseSeconds);
    else if (fault.effect.type === 'toxic') proxy.addToxic({ ...fault.effect.toxic, expires_in: leaseSeconds });
    else if (fault.effect.type === 'certificate') this.presentBadCertificate(proxy, fault.name, fault.effect.problem, leaseSeconds);
    else throw new UsageError(`a proxy target cannot take ${fault.effect.type}`);
  }

  /**
   * The certificate fault: new connections get the bad certificate until removal or the lease
   * (a timer in this process; the proxy itself dies with the runner, so nothing outlives it).
   */
  private presentBadCertificate(proxy: FaultProxy, name: string, problem: CertificateProblem, leaseSeconds: number): void {
    if (!this.tls) throw new UsageError(`target ${this.target} does not terminate TLS`, { hint: `add tls: { hostname } to targets.${this.target}` });
    if (this.badCertificate) throw new UsageError(`target ${this.target} already presents a bad certificate (fault "${this.badCertificate.fault}")`, { hint: 'one certificate fault at a time per TLS proxy' });
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

  async touched(location: FaultLocation): Promise<Touched | undefined> {
    if (location.kind === 'certificate') {
      const bad = this.badCertificate;
      // New TLS connections that were presented the bad certificate.
      const connections = bad && bad.fault === location.toxic && this.proxy ? this.proxy.tlsStats.connections - bad.connectionsBefore : this.certificateTouched.get(location.toxic ?? '');
      return connections === undefined ? undefined : { connections, bytes: 0, requests: 0 };
    }
    if (location.kind !== 'toxic' || !location.toxic) return undefined;
    const toxic = this.proxy?.toxics.find((t) => t.name === location.toxic);
    return toxic ? { ...toxic.stats } : undefined;
  }

  async remove(location: FaultLocation): Promise<void> {
    const proxy = this.proxy;
    if (!proxy) return;
    if (location.kind === 'disable') await proxy.start();
    else if (location.kind === 'certificate') this.restoreCertificate(location.toxic);
    else if (proxy.toxics.some((t) => t.name === location.toxic)) proxy.removeToxic(location.toxic!);
  }

  async isGone(location: FaultLocation): Promise<boolean> {
    const proxy = this.proxy;
    if (!proxy) return true;
    if (location.kind === 'certificate') return this.badCertificate?.fault !== location.toxic && (!this.tls || proxy.presentedCertificate === this.tls.set.good.cert);
    return location.kind === 'disable' ? proxy.enabled : !proxy.toxics.some((t) => t.name === location.toxic);
  }

  async dispose(): Promise<void> {
    if (this.badCertificate) clearTimeout(this.badCertificate.timer);
    this.badCertificate = undefined;
    if (this.proxy) await this.collection.remove(this.target).catch(() => undefined);
    this.proxy = undefined;
  }
}

/** A proxy on a faultline or Toxiproxy server (target type `remote-proxy`). */
export class RemoteProxyDriver implements FaultDriver {
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

  async prepare(signal: AbortSignal): Promise<void> {
    await this.client.getProxy(this.spec.proxy, { signal });
  }

  locate(fault: PlannedFault): FaultLocation {
    return {
      target: this.target,
      where: 'remote',
      server: this.spec.url,
      proxy: this.spec.proxy,
      kind: fault.effect.type,
      toxic: fault.effect.type === 'toxic' ? fault.effect.toxic.name : undefined,
    };
  }

  async apply(fault: PlannedFault, leaseSeconds: number, signal: AbortSignal): Promise<void> {
    if (fault.effect.type === 'disable') {
      await this.client.updateProxy(this.spec.proxy, { enabled: false, expires_in: leaseSeconds }, { signal });
    } else if (fault.effect.type === 'toxic') {
      await this.client.addToxic(this.spec.proxy, { ...fault.effect.toxic, expires_in: leaseSeconds }, { signal });
    } else {
      throw new UsageError(`a proxy target cannot take ${fault.effect.type}`);
    }
  }

  async touched(location: FaultLocation, signal: AbortSignal): Promise<Touched | undefined> {
    if (location.kind !== 'toxic' || !location.toxic) return undefined;
    try {
      const toxic = await this.client.getToxic(location.proxy, location.toxic, { signal });
      const stats = (toxic as { stats?: Touched }).stats; // absent on a Toxiproxy server
      return stats ? { connections: stats.connections, bytes: stats.bytes, requests: stats.requests } : undefined;
    } catch (err) {
      if (isFaultlineError(err) && err.code === 'E_NOT_FOUND') return undefined;
      throw err;
    }
  }

  async remove(location: FaultLocation, signal: AbortSignal): Promise<void> {
    await removeRemoteFault(new ProxyApiClient({ url: location.server ?? this.spec.url, token: this.spec.token }), location, signal);
  }

  async isGone(location: FaultLocation, signal: AbortSignal): Promise<boolean> {
    const proxy = await this.client.getProxy(location.proxy, { signal });
    return location.kind === 'disable' ? proxy.enabled : !proxy.toxics.some((t) => t.name === location.toxic);
  }

  async dispose(): Promise<void> {}
}

/** Resumes a paused process and stops its watchdog; a process that is gone counts as resumed. */
export function resumeProcess(location: FaultLocation): void {
  if (location.watchdog !== undefined) {
    try {
      process.kill(-location.watchdog, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (location.pid === undefined) return;
  try {
    process.kill(location.pid, 'SIGCONT');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Removes a fault from a remote server; a missing proxy or toxic counts as removed. */
export async function removeRemoteFault(client: ProxyApiClient, location: FaultLocation, signal?: AbortSignal): Promise<void> {
  try {
    if (location.kind === 'disable') await client.updateProxy(location.proxy, { enabled: true }, { signal });
    else if (location.toxic) await client.removeToxic(location.proxy, location.toxic, { signal });
  } catch (err) {
    if (isFaultlineError(err) && err.code === 'E_NOT_FOUND') return;
    throw err;
  }
}
