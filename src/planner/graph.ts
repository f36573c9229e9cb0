/**
 * The architecture as a dependency graph: who calls what, who would be hurt when something
 * fails, which critical paths break, and the cycles that make a plan meaningless.
 *
 * ```
 *   api-gateway ──sync──▶ auth-service ──sync──▶ redis
 *        │                                  ▲
 *        └──sync──▶ payment-service ──sync──┘
 *                        │ └──async──▶ rabbitmq ◀──async (consumes)── ledger-service
 *                        └──sync──▶ postgresql
 * ```
 *
 * An edge points from the caller to what it depends on. A failure spreads *against* the
 * edges: a caller that waits for a failed dependency (sync) and has no fallback fails too; one
 * with a fallback is degraded; one that only queues work (async) is delayed. Everything here is
 * pure and deterministic: nodes and edges are visited in sorted order.
 */
import type {
  Architecture,
  CriticalPath,
  Dependency,
  Resource,
  Service,
} from './architecture-schema.js';

/** `service`: one the team runs; `external`: a dependency of kind service (someone else's). */
export type NodeKind = 'service' | 'external' | Exclude<Resource['kind'], 'service'>;

/** A service or a dependency. */
export interface GraphNode {
  name: string;
  kind: NodeKind;
  service?: Service | undefined;
  resource?: Resource | undefined;
}

/** One edge, from the caller to what it depends on. */
export interface GraphEdge {
  from: string;
  to: string;
  dependency: Dependency;
  /** Declared through the dependency's `usedBy`, not the service's `dependsOn`. */
  implicit: boolean;
  /** Index in the caller's dependsOn (explicit edges), for locating errors. */
  index?: number | undefined;
}

/** What a failure does to the services. */
export interface Impairment {
  /** Services that stop working (they wait for something failed, with no fallback). */
  broken: Set<string>;
  /** Services that keep working on a fallback. */
  degraded: Set<string>;
  /** Services whose queued work is delayed (async dependency). */
  delayed: Set<string>;
}

/** A failure to spread: whole nodes, or single edges (a timeout between two things). */
export interface FailureSeed {
  nodes?: readonly string[];
  edges?: readonly GraphEdge[];
}

/** The architecture's dependency graph. */
export class DependencyGraph {
  readonly nodes = new Map<string, GraphNode>();
  readonly edges: GraphEdge[] = [];

  constructor(readonly architecture: Architecture) {
    for (const name of Object.keys(architecture.services).sort()) {
      this.nodes.set(name, { name, kind: 'service', service: architecture.services[name] });
    }
    for (const name of Object.keys(architecture.dependencies).sort()) {
      const resource = architecture.dependencies[name]!;
      if (!this.nodes.has(name))
        this.nodes.set(name, {
          name,
          kind: resource.kind === 'service' ? 'external' : resource.kind,
          resource,
        });
    }
    for (const [from, service] of sortedEntries(architecture.services)) {
      service.dependsOn.forEach((dependency, index) =>
        this.edges.push({ from, to: dependency.on, dependency, implicit: false, index }),
      );
    }
    for (const [to, resource] of sortedEntries(architecture.dependencies)) {
      if (!resource.usedBy) continue;
      const users =
        resource.usedBy === 'all'
          ? Object.keys(architecture.services).sort()
          : [...resource.usedBy].sort();
      for (const from of users) {
        if (this.edges.some((e) => e.from === from && e.to === to)) continue;
        this.edges.push({ from, to, dependency: implicitDependency(to), implicit: true });
      }
    }
  }

  /** The services, sorted by name. */
  get serviceNames(): string[] {
    return [...this.nodes.values()].filter((n) => n.kind === 'service').map((n) => n.name);
  }

  /** Edges leaving a node (what it depends on). */
  dependenciesOf(name: string): GraphEdge[] {
    return this.edges.filter((e) => e.from === name);
  }

  /** Edges arriving at a node (who depends on it). */
  dependentsOf(name: string): GraphEdge[] {
    return this.edges.filter((e) => e.to === name);
  }

  /**
   * Services that depend on `name` directly or through others, by sync edges (fallbacks or
   * not): the fan-in. A service counts itself.
   */
  transitiveDependents(names: readonly string[]): Set<string> {
    const out = new Set<string>(names.filter((n) => this.nodes.get(n)?.kind === 'service'));
    const queue = [...names];
    const seen = new Set(names);
    while (queue.length > 0) {
      const current = queue.shift()!;
      for (const edge of this.dependentsOf(current)) {
        if (edge.dependency.mode !== 'sync' || seen.has(edge.from)) continue;
        seen.add(edge.from);
        out.add(edge.from);
        queue.push(edge.from);
      }
    }
    return out;
  }

  /** Spreads a failure from its seeds to the services (see the module comment for the rules). */
  impair(seed: FailureSeed): Impairment {
    const result: Impairment = { broken: new Set(), degraded: new Set(), delayed: new Set() };
    const failed = new Set<string>();
    const queue: string[] = [];
    const fail = (name: string): void => {
      if (failed.has(name)) return;
      failed.add(name);
      if (this.nodes.get(name)?.kind === 'service') result.broken.add(name);
      queue.push(name);
    };
    const spread = (edge: GraphEdge): void => {
      if (edge.dependency.mode === 'async') result.delayed.add(edge.from);
      else if (edge.dependency.fallback) result.degraded.add(edge.from);
      else fail(edge.from);
    };
    for (const name of seed.nodes ?? []) fail(name);
    for (const edge of seed.edges ?? []) spread(edge);
    while (queue.length > 0) {
      const current = queue.shift()!;
      for (const edge of this.dependentsOf(current)) spread(edge);
    }
    for (const name of result.broken) {
      result.degraded.delete(name);
      result.delayed.delete(name);
    }
    for (const name of result.degraded) result.delayed.delete(name);
    return result;
  }

  /**
   * The critical paths a failure breaks, and how: `on` when a failed node or edge is part of
   * the path itself, `through` when a step after the entry breaks because of something the path
   * does not list (a side dependency). The entry (a gateway, usually) breaking through another
   * of its dependencies only loses that route, so it does not break every path through it.
   */
  brokenPaths(
    seed: FailureSeed,
    impairment: Impairment,
  ): Array<{ path: CriticalPath; how: 'on' | 'through' }> {
    const out: Array<{ path: CriticalPath; how: 'on' | 'through' }> = [];
    for (const path of this.architecture.criticalPaths) {
      const hops = this.hops(path);
      const on =
        (seed.nodes ?? []).some((n) => path.steps.includes(n)) ||
        (seed.edges ?? []).some((e) => hops.some((h) => h.from === e.from && h.to === e.to));
      if (on) out.push({ path, how: 'on' });
      else if (path.steps.slice(1).some((s) => impairment.broken.has(s)))
        out.push({ path, how: 'through' });
    }
    return out;
  }

  /**
   * The edges a path's request travels: each step after the first is called by the nearest
   * earlier step that depends on it (`api-gateway → payment-service`, `payment-service →
   * postgresql`).
   */
  hops(path: CriticalPath): Array<{ from: string; to: string }> {
    const hops: Array<{ from: string; to: string }> = [];
    path.steps.forEach((to, j) => {
      for (let i = j - 1; i >= 0; i--) {
        const from = path.steps[i]!;
        if (this.edges.some((e) => e.from === from && e.to === to)) {
          hops.push({ from, to });
          return;
        }
      }
    });
    return hops;
  }

  /** Paths that only degrade (a step on it keeps working on a fallback or is delayed). */
  degradedPaths(
    impairment: Impairment,
    broken: ReadonlyArray<{ path: CriticalPath }>,
  ): CriticalPath[] {
    return this.architecture.criticalPaths.filter(
      (path) =>
        !broken.some((b) => b.path === path) &&
        path.steps.slice(1).some((s) => impairment.degraded.has(s) || impairment.delayed.has(s)),
    );
  }

  /** The critical paths a node or edge is part of. */
  pathsThrough(name: string): CriticalPath[] {
    return this.architecture.criticalPaths.filter((p) => p.steps.includes(name));
  }

  /**
   * Elementary cycles through sync edges, each once (see {@link findCycles}). Async edges
   * (queues, fire-and-forget) do not wait, so they make no deadlock and are left out.
   */
  syncCycles(): Array<{ cycle: string[]; edge: GraphEdge }> {
    const adjacency = new Map<string, GraphEdge[]>();
    for (const edge of this.edges) {
      if (edge.dependency.mode !== 'sync' || !this.nodes.has(edge.to)) continue;
      adjacency.set(edge.from, [...(adjacency.get(edge.from) ?? []), edge]);
    }
    return findCycles(adjacency);
  }
}

/**
 * Elementary cycles of a directed graph found by depth-first search, each reported once (with
 * the edge that closes it) as names with the first repeated at the end: `a → b → a`. Visits
 * nodes and edges in sorted order, so the same graph always gives the same cycles.
 */
export function findCycles<E extends { from: string; to: string }>(
  adjacency: ReadonlyMap<string, readonly E[]>,
): Array<{ cycle: string[]; edge: E }> {
  const found: Array<{ cycle: string[]; edge: E }> = [];
  const seen = new Set<string>();
  const color = new Map<string, 'grey' | 'black'>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    color.set(name, 'grey');
    stack.push(name);
    const out = [...(adjacency.get(name) ?? [])].sort((a, b) => a.to.localeCompare(b.to));
    for (const edge of out) {
      const state = color.get(edge.to);
      if (state === 'grey') {
        const cycle = [...stack.slice(stack.indexOf(edge.to)), edge.to];
        const key = canonical(cycle);
        if (!seen.has(key)) {
          seen.add(key);
          found.push({ cycle, edge });
        }
      } else if (state === undefined) {
        visit(edge.to);
      }
    }
    stack.pop();
    color.set(name, 'black');
  };
  for (const name of [...adjacency.keys()].sort()) if (!color.has(name)) visit(name);
  return found;
}

/** The edge of a usedBy dependency: sync, nothing declared. */
function implicitDependency(to: string): Dependency {
  return {
    on: to,
    mode: 'sync',
    circuitBreaker: false,
    consumes: false,
    idempotent: false,
    mtls: false,
  };
}

function sortedEntries<T>(record: Record<string, T>): Array<[string, T]> {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}

/** A cycle's rotation-independent key (a → b → a is b → a → b). */
function canonical(cycle: string[]): string {
  const ring = cycle.slice(0, -1);
  let best = '';
  for (let i = 0; i < ring.length; i++) {
    const key = [...ring.slice(i), ...ring.slice(0, i)].join('>');
    if (best === '' || key < best) best = key;
  }
  return best;
}
