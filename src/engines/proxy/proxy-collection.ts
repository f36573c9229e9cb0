/**
 * The set of proxies one faultline process runs: what `faultline proxy serve` exposes over
 * Toxiproxy's HTTP API, and what tests and the runner use in-process.
 *
 * @example
 * ```ts
 * const proxies = new ProxyCollection();
 * const pg = await proxies.create({ name: 'pg', listen: '127.0.0.1:0', upstream: '127.0.0.1:5432' });
 * pg.addToxic({ type: 'latency', attributes: { latency: 3000 }, expires_in: 30 });
 * // … point the service at pg.port, call it, expect the cached answer …
 * await proxies.close();
 * ```
 */
import { EventEmitter } from 'node:events';
import {
  BadRequestError,
  ConflictError,
  NotFoundError,
  ValidationError,
  isFaultlineError,
  type ValidationIssue,
} from '../../errors.js';
import { isLoopbackHost, parseListen, parseUpstream } from './address.js';
import { PATH_NAME_HINT, pathNameProblem } from './path-name.js';
import { FaultProxy, type ProxyMode, type ProxyTls } from './proxy.js';
import { randomSeed, seededRandom, type RandomSource } from './random.js';
import { parseToxicSpec, type ToxicSpec } from './toxic-entry.js';

/** What it takes to create a proxy (Toxiproxy's body, plus `mode` and `toxics`). */
export interface ProxySpec {
  name: string;
  /** `host:port`; empty or omitted means 127.0.0.1 on a free port. */
  listen?: string | undefined;
  upstream: string;
  /** Defaults to true. */
  enabled?: boolean | undefined;
  /** Defaults to `tcp`. */
  mode?: ProxyMode | undefined;
  /** Toxics to add at creation: an extension Toxiproxy users ask for (its issues #447, #510). */
  toxics?: ToxicSpec[] | undefined;
  /** TLS toward the client (tcp mode; set from code, not over the API): see {@link ProxyTls}. */
  tls?: ProxyTls | undefined;
}

/** What can change on an existing proxy. */
export interface ProxyPatch {
  listen?: string | undefined;
  upstream?: string | undefined;
  enabled?: boolean | undefined;
  /** With `enabled: false`: re-enable by itself after this many seconds. */
  expires_in?: number | undefined;
}

export interface ProxyCollectionOptions {
  /**
   * Allow proxies to listen on non-loopback addresses. Off by default: a fault proxy reachable
   * from the network is a way for others to reach the upstream.
   */
  allowRemoteListen?: boolean | undefined;
  /** Seed for toxicity and jitter draws; random when omitted. */
  seed?: number | undefined;
}

export interface ProxyCollectionEvents {
  /** A lease ran out and the proxy removed a fault by itself. */
  'lease-expired': [proxy: string, what: string];
  /** A proxy was created (observers such as a run's metrics keep it after it is removed). */
  created: [proxy: FaultProxy];
}

export class ProxyCollection extends EventEmitter<ProxyCollectionEvents> {
  private readonly proxies = new Map<string, FaultProxy>();
  private readonly allowRemoteListen: boolean;
  readonly seed: number;
  private readonly random: RandomSource;

  constructor(options: ProxyCollectionOptions = {}) {
    super();
    this.allowRemoteListen = options.allowRemoteListen ?? false;
    this.seed = options.seed ?? randomSeed();
    this.random = seededRandom(this.seed);
  }

  /** Every proxy, in creation order. */
  list(): FaultProxy[] {
    return [...this.proxies.values()];
  }

  get(name: string): FaultProxy {
    const proxy = this.proxies.get(name);
    if (!proxy) throw new NotFoundError('proxy not found', { hint: `no proxy is named "${name}"` });
    return proxy;
  }

  has(name: string): boolean {
    return this.proxies.has(name);
  }

  /**
   * Creates a proxy and, when enabled (the default), starts listening. Rejects with a
   * {@link ConflictError} for a duplicate name, a {@link ValidationError} for a bad body and a
   * {@link ListenError} when the address cannot be bound.
   */
  async create(spec: ProxySpec): Promise<FaultProxy> {
    return this.createJson(spec);
  }

  /** {@link create} for untyped JSON (the API's body): checked all the same. */
  async createJson(spec: unknown): Promise<FaultProxy> {
    const checked = this.checkSpec(spec);
    if (this.proxies.has(checked.name)) {
      throw new ConflictError('proxy already exists', {
        hint: `a proxy named "${checked.name}" exists; update or delete it`,
      });
    }
    const proxy = this.build(checked);
    this.proxies.set(checked.name, proxy);
    try {
      for (const toxic of checked.toxics) proxy.addToxicJson(toxic);
      if (checked.enabled) await proxy.start();
    } catch (err) {
      this.proxies.delete(checked.name);
      await proxy.dispose();
      throw err;
    }
    this.emit('created', proxy);
    return proxy;
  }

  /**
   * Toxiproxy's `/populate`: validates the whole list first (nothing is created on a bad
   * item), keeps proxies whose name, listen and upstream are unchanged (toxics kept), replaces
   * the others. On a later failure (a bind error), the proxies created so far are returned
   * with the error in `partial`.
   */
  async populate(specs: unknown): Promise<FaultProxy[]> {
    if (!Array.isArray(specs)) {
      throw new BadRequestError('bad request body: expected a JSON array of proxies');
    }
    const issues: ValidationIssue[] = [];
    const checked: CheckedSpec[] = [];
    specs.forEach((spec, index) => {
      try {
        checked.push(this.checkSpec(spec, `[${index}]`));
      } catch (err) {
        if (err instanceof ValidationError) issues.push(...err.issues);
        else if (isFaultlineError(err)) issues.push({ path: `[${index}]`, message: err.message });
        else throw err;
      }
    });
    if (issues.length > 0) {
      throw new ValidationError(issueSummary(issues), issues, { hint: issues[0]?.hint });
    }
    const result: FaultProxy[] = [];
    for (const spec of checked) {
      try {
        const existing = this.proxies.get(spec.name);
        if (existing && this.isSame(existing, spec)) {
          result.push(existing);
          continue;
        }
        if (existing) await this.remove(spec.name);
        result.push(await this.createJson(spec.raw));
      } catch (err) {
        throw new PopulateError(err, result);
      }
    }
    return result;
  }

  private isSame(proxy: FaultProxy, spec: CheckedSpec): boolean {
    const wanted = parseListen(spec.listen);
    const current = proxy.listenTarget;
    const listenSame =
      (wanted.host === current.host || (isWildcard(wanted.host) && isWildcard(current.host))) &&
      wanted.port === current.port;
    return listenSame && proxy.upstream === spec.upstream && proxy.mode === spec.mode;
  }

  /** Updates listen, upstream and enabled; fields left out keep their values. */
  async update(name: string, patch: ProxyPatch): Promise<FaultProxy> {
    return this.updateJson(name, patch);
  }

  /** {@link update} for untyped JSON (the API's body): checked all the same. */
  async updateJson(name: string, patch: unknown): Promise<FaultProxy> {
    const proxy = this.get(name);
    const body = patch as Record<string, unknown>;
    const issues: ValidationIssue[] = [];
    const listen = optionalString(body, 'listen', issues);
    const upstream = optionalString(body, 'upstream', issues);
    const enabled = body['enabled'];
    if (enabled !== undefined && typeof enabled !== 'boolean') {
      issues.push({ path: 'enabled', message: 'expected true or false' });
    }
    const expiresIn = body['expires_in'];
    if (expiresIn !== undefined && (typeof expiresIn !== 'number' || !(expiresIn > 0))) {
      issues.push({ path: 'expires_in', message: 'expected a positive number of seconds' });
    }
    if (listen !== undefined) this.checkListen(listen, 'listen', issues);
    if (upstream !== undefined) collect(issues, 'upstream', () => parseUpstream(upstream));
    if (issues.length > 0)
      throw new ValidationError(issueSummary(issues), issues, { hint: issues[0]?.hint });
    await proxy.reconfigure(listen, upstream);
    if (enabled === false) await proxy.disable(expiresIn as number | undefined);
    else if (enabled === true) await proxy.start();
    return proxy;
  }

  /** Deletes a proxy: its listener closes and its connections are closed. */
  async remove(name: string): Promise<void> {
    const proxy = this.get(name);
    this.proxies.delete(name);
    await proxy.dispose();
  }

  /** Toxiproxy's `/reset`: every proxy enabled again and every toxic removed. */
  async reset(): Promise<void> {
    for (const proxy of this.proxies.values()) {
      proxy.removeAllToxics();
      await proxy.start();
    }
  }

  /** Removes every fault of every proxy at once (the kill switch), keeping the proxies. */
  async removeAllFaults(): Promise<void> {
    await this.reset();
  }

  /** Stops every proxy and forgets them. */
  async close(): Promise<void> {
    const all = [...this.proxies.values()];
    this.proxies.clear();
    await Promise.all(all.map((proxy) => proxy.dispose()));
  }

  private build(spec: CheckedSpec): FaultProxy {
    // TLS material comes from code (the runner's TLS proxy targets), never from the API's JSON.
    const raw = (spec.raw as { tls?: ProxyTls }).tls;
    const tls =
      raw &&
      typeof raw === 'object' &&
      typeof raw.key === 'string' &&
      typeof raw.cert === 'string' &&
      spec.mode === 'tcp'
        ? raw
        : undefined;
    return new FaultProxy({
      name: spec.name,
      listen: spec.listen,
      upstream: spec.upstream,
      mode: spec.mode,
      ...(tls ? { tls } : {}),
      random: this.random,
      onLeaseExpired: (proxy, what) => this.emit('lease-expired', proxy.name, what),
    });
  }

  private checkListen(listen: string, path: string, issues: ValidationIssue[]): void {
    const parsed = collect(issues, path, () => parseListen(listen));
    if (parsed && !this.allowRemoteListen && !isLoopbackHost(parsed.host)) {
      issues.push({
        path,
        message: `listen address ${listen} is not a loopback address`,
        hint: 'faultline binds proxies to 127.0.0.1 unless started with --allow-remote-listen',
      });
    }
  }

  private checkSpec(raw: unknown, path = ''): CheckedSpec {
    const at = (key: string): string => (path ? `${path}.${key}` : key);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new ValidationError('bad request body: expected a JSON object describing a proxy', [
        { path: path || '', message: 'expected a JSON object describing a proxy' },
      ]);
    }
    const body = raw as Record<string, unknown>;
    const issues: ValidationIssue[] = [];
    const name = body['name'];
    const itemSuffix = path ? ` at proxy ${Number(path.slice(1, -1)) + 1}` : '';
    if (typeof name !== 'string' || name === '') {
      issues.push({
        path: at('name'),
        message: `missing required field: name${itemSuffix}`,
        hint: `every proxy needs a name; ${PATH_NAME_HINT}`,
      });
    } else {
      const problem = pathNameProblem(name);
      if (problem) {
        issues.push({
          path: at('name'),
          message: `proxy name ${problem}`,
          hint: PATH_NAME_HINT,
        });
      }
    }
    const upstream = body['upstream'];
    if (typeof upstream !== 'string' || upstream === '') {
      issues.push({
        path: at('upstream'),
        message: `missing required field: upstream${itemSuffix}`,
      });
    } else {
      collect(issues, at('upstream'), () => parseUpstream(upstream));
    }
    const listen = body['listen'] ?? '';
    if (typeof listen !== 'string')
      issues.push({ path: at('listen'), message: 'expected a host:port string' });
    else this.checkListen(listen, at('listen'), issues);
    const enabled = body['enabled'] ?? true;
    if (typeof enabled !== 'boolean')
      issues.push({ path: at('enabled'), message: 'expected true or false' });
    const mode = body['mode'] ?? 'tcp';
    if (mode !== 'tcp' && mode !== 'http') {
      issues.push({
        path: at('mode'),
        message: 'expected "tcp" or "http"',
        hint: 'http mode injects per-request HTTP faults',
      });
    }
    const toxics = body['toxics'] ?? [];
    if (!Array.isArray(toxics)) {
      issues.push({ path: at('toxics'), message: 'expected an array of toxics' });
    } else {
      toxics.forEach((toxic, index) => {
        try {
          parseToxicSpec(toxic, at(`toxics[${index}]`));
        } catch (err) {
          if (err instanceof ValidationError) issues.push(...err.issues);
          else if (isFaultlineError(err))
            issues.push({ path: at(`toxics[${index}]`), message: err.message });
          else throw err;
        }
      });
    }
    if (issues.length > 0)
      throw new ValidationError(issueSummary(issues), issues, { hint: issues[0]?.hint });
    return {
      raw: body,
      name: name as string,
      listen: listen as string,
      upstream: upstream as string,
      enabled: enabled as boolean,
      mode: mode as ProxyMode,
      toxics: toxics as unknown[],
    };
  }
}

/** A `/populate` that failed part-way: `created` lists the proxies that exist. */
export class PopulateError extends Error {
  readonly created: FaultProxy[];
  constructor(cause: unknown, created: FaultProxy[]) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.created = created;
  }
}

interface CheckedSpec {
  raw: Record<string, unknown>;
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  mode: ProxyMode;
  toxics: unknown[];
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

function optionalString(
  body: Record<string, unknown>,
  key: string,
  issues: ValidationIssue[],
): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    issues.push({ path: key, message: 'expected a host:port string' });
    return undefined;
  }
  return value;
}

function collect<T>(issues: ValidationIssue[], path: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (isFaultlineError(err)) {
      issues.push({ path, message: err.message, hint: err.hint });
      return undefined;
    }
    throw err;
  }
}

/**
 * The `error` text of a bad body: the first problem alone, in Toxiproxy's words where it has
 * them ("missing required field: name"), so clients and tests that compare Toxiproxy's text
 * keep working; every problem is in the error's `issues`.
 */
function issueSummary(issues: readonly ValidationIssue[]): string {
  const first = issues[0]!;
  return first.message.startsWith('missing required field')
    ? first.message
    : `${first.path}: ${first.message}`;
}
