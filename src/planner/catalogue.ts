/**
 * The failure catalogue: every failure scenario the architecture admits, across the field's
 * failure families, each scored and explained.
 *
 * ```
 *   architecture ──▶ graph ──▶ families (candidates) ──▶ impair() ──▶ score parts ──▶ ranking
 * ```
 *
 * Score (0–100) = 40·impact + 15·reach + 20·likelihood + 25·exposure, each factor from 0 to 1:
 *
 * - impact: the business weight of what breaks (the critical paths broken, else the services)
 *   times the family's severity;
 * - reach: the share of services that depend on the failed part, directly or through others;
 * - likelihood: the family's base rate, adjusted by what the file declares (replicas,
 *   failover, rotation, pool size against traffic);
 * - exposure: the share of the relevant mitigations that are missing.
 *
 * Each part is rounded to 0.1 point and the score is their sum, so the parts a user sees add up
 * to the score. Ties break on impact, then on the scenario id: the same file always gives the
 * same ranking. docs/planner.md documents every number here.
 */
import { parseDuration, formatDuration } from '../experiment/duration.js';
import type {
  Architecture,
  CriticalityLevel,
  CriticalPath,
  Dependency,
  RevenueImpactLevel,
  Service,
} from './architecture-schema.js';
import { DependencyGraph, type FailureSeed, type GraphEdge, type Impairment } from './graph.js';

/** The failure families of the field that the planner knows. */
export const FAILURE_FAMILIES = [
  'dependency-timeout',
  'dependency-outage',
  'latency-spike',
  'network-partition',
  'pod-crash',
  'memory-pressure',
  'disk-pressure',
  'dns-failure',
  'certificate-expiry',
  'queue-partition',
  'pool-exhaustion',
  'retry-storm',
] as const;
export type FailureFamily = (typeof FAILURE_FAMILIES)[number];

/**
 * The failure mode of each family: one row of the catalogue is a (mode, component). A slow
 * dependency seen as a hang, an exhausted pool or a retry storm is one failure of one edge that
 * a team tests once; listing the three as rows filled a top 10 with near-variants of one edge.
 */
export const FAILURE_MODE = {
  'dependency-timeout': 'slow-dependency',
  'pool-exhaustion': 'slow-dependency',
  'retry-storm': 'slow-dependency',
  'dependency-outage': 'dependency-outage',
  'latency-spike': 'latency-spike',
  'network-partition': 'network-partition',
  'pod-crash': 'pod-crash',
  'memory-pressure': 'memory-pressure',
  'disk-pressure': 'disk-pressure',
  'dns-failure': 'dns-failure',
  'certificate-expiry': 'certificate-expiry',
  'queue-partition': 'queue-partition',
} as const satisfies Record<FailureFamily, string>;
export type FailureMode = (typeof FAILURE_MODE)[FailureFamily];

/** Weights of the four factors, in points; they add up to 100. */
export const WEIGHTS = { impact: 40, reach: 15, likelihood: 20, exposure: 25 } as const;
export type Factor = keyof typeof WEIGHTS;

/** Business weight of a criticality level. */
export const CRITICALITY_WEIGHT: Record<CriticalityLevel, number> = {
  critical: 1,
  high: 0.75,
  medium: 0.5,
  low: 0.25,
};
/** Multiplier of a revenue impact. */
export const REVENUE_WEIGHT: Record<RevenueImpactLevel, number> = {
  direct: 1,
  indirect: 0.85,
  none: 0.7,
};
/**
 * What counts less than a path broken by a failure on it: a path broken through a side
 * dependency of one of its steps, a broken service on no critical path, a degraded path, a
 * degraded (or delayed) service; each multiplies the weight of the path or service.
 */
export const OFF_PATH = {
  throughSide: 0.8,
  brokenService: 0.8,
  degradedPath: 0.5,
  degradedService: 0.4,
} as const;

/** A mitigation that would blunt the scenario, and whether the file declares it. */
export interface Mitigation {
  name: string;
  present: boolean;
}

/** One factor of the score: its value (0–1), its weight, its points, and why. */
export interface ScorePart {
  value: number;
  weight: number;
  points: number;
  why: string;
}

/** One family's take on a row's failure, scored on its own. */
export interface ScenarioVariant {
  id: string;
  family: FailureFamily;
  title: string;
  effect: string;
  score: number;
  parts: Record<Factor, ScorePart>;
  mitigations: Mitigation[];
}

/**
 * One row of the catalogue: a failure mode on one component, scored and explained by its
 * highest-scoring variant (whose family the experiments use); `variants` holds every family's
 * score for it, the lead first.
 */
export interface Scenario {
  rank: number;
  /** `mode:component`: stable whichever variant leads. */
  id: string;
  mode: FailureMode;
  /** The leading variant's family. */
  family: FailureFamily;
  variants: ScenarioVariant[];
  title: string;
  /** The failed part: a node name, or `from -> to` for an edge. */
  component: string;
  /** The edge's ends when the scenario is about one edge (or the edges into a node). */
  edges: Array<{ from: string; to: string }>;
  /** The failed nodes, when the scenario fails whole nodes. */
  nodes: string[];
  /** What happens, in a sentence. */
  effect: string;
  /** What it costs the business, in a sentence. */
  businessImpact: string;
  brokenPaths: string[];
  degradedPaths: string[];
  broken: string[];
  degraded: string[];
  delayed: string[];
  /** Services that depend on the failed part (the reach). */
  dependents: string[];
  mitigations: Mitigation[];
  score: number;
  parts: Record<Factor, ScorePart>;
}

/** What a family proposes before scoring. */
interface Candidate {
  id: string;
  title: string;
  component: string;
  seed: FailureSeed;
  /** Nodes whose dependents make the reach (default: the seed's nodes and edge callers). */
  reachFrom?: string[];
  /** An impairment built by the family (queue duplication marks consumers broken itself). */
  impairment?: Impairment;
  effect: string;
  likelihood: { value: number; why: string };
  mitigations: Mitigation[];
}

interface FamilySpec {
  /** How much of the function the failure takes away, 0–1. */
  severity: number;
  severityWhy: string;
  candidates(ctx: Context): Candidate[];
}

type BrokenPath = { path: CriticalPath; how: 'on' | 'through' };

interface Context {
  graph: DependencyGraph;
  architecture: Architecture;
}

// --- helpers ---------------------------------------------------------------------------------

const DEFAULT_SLO_P99_MS = 2000;
const arrow = (e: { from: string; to: string }): string => `${e.from} → ${e.to}`;
const ms = (text: string | undefined): number | undefined =>
  text === undefined ? undefined : parseDuration(text);

function sloP99(service: Service | undefined): number {
  return ms(service?.slo?.p99) ?? DEFAULT_SLO_P99_MS;
}

/** Share of traffic a replica count keeps when one instance goes: 1 → 1.0, 2 → 0.6, ≥ 3 → 0.4. */
function replicaFactor(replicas: number): number {
  return replicas >= 3 ? 0.4 : replicas === 2 ? 0.6 : 1;
}

function timeoutWithin(dependency: Dependency, limitMs: number): boolean {
  const timeout = ms(dependency.timeout);
  return timeout !== undefined && timeout <= limitMs;
}

function retriesSafe(dependency: Dependency): boolean {
  const r = dependency.retries;
  return !r || r.attempts === 0 || (r.backoff === 'exponential' && r.attempts <= 3);
}

function syncEdgesInto(ctx: Context, name: string): GraphEdge[] {
  return ctx.graph.dependentsOf(name).filter((e) => e.dependency.mode === 'sync');
}

function serviceOf(ctx: Context, name: string): Service | undefined {
  return ctx.architecture.services[name];
}

function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

// --- the families ----------------------------------------------------------------------------

const BASE_TIMEOUT_LIKELIHOOD: Record<string, number> = {
  database: 0.7,
  external: 0.6,
  queue: 0.4,
  cache: 0.35,
};
const BASE_OUTAGE_LIKELIHOOD: Record<string, number> = {
  cache: 0.6,
  queue: 0.5,
  database: 0.5,
  external: 0.5,
};

/** One explicit edge's timeout mitigations: a timeout within the caller's SLO, a breaker, a fallback. */
function edgeTimeoutMitigations(
  ctx: Context,
  edge: GraphEdge,
  limitMs = sloP99(serviceOf(ctx, edge.from)),
  limitText = `the caller's p99 SLO (${formatDuration(limitMs)})`,
): Mitigation[] {
  const d = edge.dependency;
  return [
    {
      name: `timeout on ${arrow(edge)} within ${limitText}${d.timeout ? `, declared ${d.timeout}` : ', none declared'}`,
      present: timeoutWithin(d, limitMs),
    },
    { name: `circuit breaker on ${arrow(edge)}`, present: d.circuitBreaker },
    {
      name: `fallback on ${arrow(edge)}${d.fallback ? ` (${d.fallback})` : ''}`,
      present: d.fallback !== undefined,
    },
  ];
}

/** Registry of the families: explicit, checked to cover every family. */
export const FAMILIES = {
  'dependency-timeout': {
    severity: 1,
    severityWhy: "a dependency that hangs holds the caller's requests: an outage for it",
    candidates: (ctx) =>
      ctx.graph.edges
        .filter(
          (e) =>
            !e.implicit &&
            e.dependency.mode === 'sync' &&
            ['database', 'cache', 'queue', 'external'].includes(
              ctx.graph.nodes.get(e.to)?.kind ?? '',
            ),
        )
        .map((edge) => {
          const kind = ctx.graph.nodes.get(edge.to)!.kind;
          const base = BASE_TIMEOUT_LIKELIHOOD[kind] ?? 0.5;
          return {
            id: `dependency-timeout:${edge.from}->${edge.to}`,
            title: `${arrow(edge)} timeout`,
            component: `${edge.from} -> ${edge.to}`,
            seed: { edges: [edge] },
            effect: `${edge.to} stops answering ${edge.from}${edge.dependency.purpose ? ` (${edge.dependency.purpose})` : ''}; ${edge.from} waits ${edge.dependency.timeout ? `up to ${edge.dependency.timeout}` : 'with no timeout'} per call.`,
            likelihood: { value: base, why: `base rate for a slow ${kind} (${base})` },
            mitigations: edgeTimeoutMitigations(ctx, edge),
          } satisfies Candidate;
        }),
  },
  'dependency-outage': {
    severity: 1,
    severityWhy: 'the dependency is gone',
    candidates: (ctx) =>
      [...ctx.graph.nodes.values()]
        .filter(
          (n) =>
            ['database', 'cache', 'queue', 'external'].includes(n.kind) &&
            ctx.graph.dependentsOf(n.name).length > 0,
        )
        .map((node) => {
          const resource = node.resource!;
          const base = BASE_OUTAGE_LIKELIHOOD[node.kind] ?? 0.5;
          const failover = 'failover' in resource ? resource.failover : false;
          const value = base * replicaFactor(resource.replicas) * (failover ? 0.5 : 1);
          const mitigations: Mitigation[] = [];
          for (const edge of syncEdgesInto(ctx, node.name)) {
            mitigations.push({
              name: `circuit breaker on ${arrow(edge)}`,
              present: edge.dependency.circuitBreaker,
            });
            mitigations.push({
              name: `fallback on ${arrow(edge)}${edge.dependency.fallback ? ` (${edge.dependency.fallback})` : ''}`,
              present: edge.dependency.fallback !== undefined,
            });
            if (edge.dependency.retries && edge.dependency.retries.attempts > 0) {
              mitigations.push({
                name: `retries on ${arrow(edge)} bounded with exponential backoff (declared ${edge.dependency.retries.attempts}, backoff ${edge.dependency.retries.backoff})`,
                present: retriesSafe(edge.dependency),
              });
            }
          }
          if ('failover' in resource)
            mitigations.push({ name: `automatic failover of ${node.name}`, present: failover });
          if (resource.kind === 'queue')
            mitigations.push({ name: `durable queues on ${node.name}`, present: resource.durable });
          return {
            id: `dependency-outage:${node.name}`,
            title: `${node.name} outage`,
            component: node.name,
            seed: { nodes: [node.name] },
            effect: `${node.name} refuses every connection; ${
              syncEdgesInto(ctx, node.name)
                .map((e) => e.from)
                .join(', ') || 'nobody'
            } wait${syncEdgesInto(ctx, node.name).length === 1 ? 's' : ''} for it synchronously.`,
            likelihood: {
              value,
              why: `base ${base} for a ${node.kind} × ${replicaFactor(resource.replicas)} for ${resource.replicas} replica${resource.replicas === 1 ? '' : 's'}${failover ? ' × 0.5 for automatic failover' : ''}`,
            },
            mitigations,
          } satisfies Candidate;
        }),
  },
  'latency-spike': {
    severity: 0.8,
    severityWhy: 'slow, not down: callers with short timeouts turn it into errors, others queue',
    candidates: (ctx) =>
      ctx.graph.serviceNames
        .filter((name) => syncEdgesInto(ctx, name).length > 0)
        .map((name) => {
          const edges = syncEdgesInto(ctx, name);
          const delayMs = Math.max(5000, 2 * sloP99(serviceOf(ctx, name)));
          const delay = formatDuration(delayMs);
          return {
            id: `latency-spike:${name}`,
            title: `${name} latency > ${delay}`,
            component: name,
            seed: { edges },
            reachFrom: [name],
            effect: `every answer of ${name} takes more than ${delay}; ${edges.map((e) => e.from).join(', ')} wait${edges.length === 1 ? 's' : ''} and time${edges.length === 1 ? 's' : ''} out in cascade.`,
            likelihood: { value: 0.5, why: 'base rate for a latency spike on a service (0.5)' },
            mitigations: edges.flatMap((e) =>
              edgeTimeoutMitigations(ctx, e, delayMs - 1, `the spike (< ${delay})`),
            ),
          } satisfies Candidate;
        }),
  },
  'network-partition': {
    severity: 1,
    severityWhy: 'the two sides cannot reach each other',
    candidates: (ctx) =>
      ctx.graph.edges
        .filter(
          (e) =>
            !e.implicit &&
            e.dependency.mode === 'sync' &&
            ctx.graph.nodes.get(e.to)?.kind === 'service',
        )
        .map(
          (edge) =>
            ({
              id: `network-partition:${edge.from}->${edge.to}`,
              title: `network partition ${edge.from} ↔ ${edge.to}`,
              component: `${edge.from} -> ${edge.to}`,
              seed: { edges: [edge] },
              effect: `packets between ${edge.from} and ${edge.to} are dropped; connections hang until ${edge.dependency.timeout ? `the ${edge.dependency.timeout} timeout` : 'the kernel gives up (minutes)'}.`,
              likelihood: { value: 0.25, why: 'base rate for a partition inside a cluster (0.25)' },
              mitigations: [
                {
                  name: `timeout on ${arrow(edge)}${edge.dependency.timeout ? ` (${edge.dependency.timeout})` : ''}`,
                  present: edge.dependency.timeout !== undefined,
                },
                {
                  name: `circuit breaker on ${arrow(edge)}`,
                  present: edge.dependency.circuitBreaker,
                },
                {
                  name: `fallback on ${arrow(edge)}`,
                  present: edge.dependency.fallback !== undefined,
                },
              ],
            }) satisfies Candidate,
        ),
  },
  'pod-crash': {
    severity: 0.6,
    severityWhy:
      'one pod dies: its in-flight transactions are lost or half-done, the others keep serving',
    candidates: (ctx) =>
      ctx.graph.serviceNames
        .filter((name) => serviceOf(ctx, name)!.transactional)
        .map((name) => {
          const s = serviceOf(ctx, name)!;
          return {
            id: `pod-crash:${name}`,
            title: `${name} pod crash mid-transaction`,
            component: name,
            seed: { nodes: [name] },
            effect: `a ${name} pod is killed while it holds transactions: callers get resets, half-done work must be reconciled.`,
            likelihood: {
              value: 0.5,
              why: 'base rate: pods die with every deploy, eviction and OOM kill (0.5)',
            },
            mitigations: [
              { name: `more than one replica (${s.replicas})`, present: s.replicas >= 2 },
              {
                name: 'graceful shutdown (drains in-flight requests)',
                present: s.mitigations.gracefulShutdown,
              },
              {
                name: 'idempotency keys (a retried request has no second effect)',
                present: s.mitigations.idempotencyKeys,
              },
              {
                name: 'a consistency check (reconciliation)',
                present: s.consistency !== undefined,
              },
            ],
          } satisfies Candidate;
        }),
  },
  'memory-pressure': {
    severity: 0.6,
    severityWhy: 'garbage collection stalls, then OOM kills: slow, then restarting',
    candidates: (ctx) =>
      ctx.graph.serviceNames.map((name) => {
        const s = serviceOf(ctx, name)!;
        return {
          id: `memory-pressure:${name}`,
          title: `${name} memory pressure and OOM`,
          component: name,
          seed: { nodes: [name] },
          effect: `${name} runs short of memory: long GC pauses, then the kernel kills it.`,
          likelihood: { value: 0.4, why: 'base rate for memory pressure on a service (0.4)' },
          mitigations: [
            {
              name: `a memory limit${s.mitigations.memoryLimit ? ` (${s.mitigations.memoryLimit})` : ''}`,
              present: s.mitigations.memoryLimit !== undefined,
            },
            { name: 'load shedding', present: s.mitigations.loadShedding },
            { name: 'autoscaling', present: s.mitigations.autoscaling },
            { name: `more than one replica (${s.replicas})`, present: s.replicas >= 2 },
          ],
        } satisfies Candidate;
      }),
  },
  'disk-pressure': {
    severity: 0.8,
    severityWhy: 'a full or slow disk fails writes and slows every query',
    candidates: (ctx) =>
      [...ctx.graph.nodes.values()]
        .filter((n) => n.kind === 'database')
        .map((node) => {
          const db = node.resource as Extract<
            Architecture['dependencies'][string],
            { kind: 'database' }
          >;
          return {
            id: `disk-pressure:${node.name}`,
            title: `disk pressure on the ${node.name} primary`,
            component: node.name,
            seed: { nodes: [node.name] },
            effect: `the ${node.name} data volume${db.volume ? ` (${db.volume})` : ''} fills or slows down: writes fail, queries queue.`,
            likelihood: {
              value: 0.3,
              why: 'base rate for disk pressure on a database primary (0.3)',
            },
            mitigations: [
              { name: 'disk usage alerts', present: db.diskAlerts },
              { name: 'automatic failover', present: db.failover },
            ],
          } satisfies Candidate;
        }),
  },
  'dns-failure': {
    severity: 0.8,
    severityWhy: 'new connections cannot resolve names; open ones survive',
    candidates: (ctx) =>
      [...ctx.graph.nodes.values()]
        .filter((n) => n.kind === 'dns')
        .map((node) => {
          const dns = node.resource as Extract<
            Architecture['dependencies'][string],
            { kind: 'dns' }
          >;
          return {
            id: `dns-failure:${node.name}`,
            title: `DNS failure (${node.name})`,
            component: node.name,
            seed: { nodes: [node.name] },
            effect: `lookups through ${node.name} fail: every new connection of ${ctx.graph.dependentsOf(node.name).length} service(s) fails.`,
            likelihood: {
              value: 0.25,
              why: 'base rate for a DNS failure, mostly configuration (0.25)',
            },
            mitigations: [
              { name: 'a node-local resolver cache', present: dns.cache },
              {
                name: `more than one resolver replica (${dns.replicas})`,
                present: dns.replicas >= 2,
              },
            ],
          } satisfies Candidate;
        }),
  },
  'certificate-expiry': {
    severity: 1,
    severityWhy: 'every TLS handshake with the expired certificate fails',
    candidates: (ctx) =>
      [...ctx.graph.nodes.values()]
        .filter((n) => n.kind === 'certificate')
        .map((node) => {
          const cert = node.resource as Extract<
            Architecture['dependencies'][string],
            { kind: 'certificate' }
          >;
          const users = ctx.graph.dependentsOf(node.name).map((e) => e.from);
          const mtlsEdges = ctx.graph.edges.filter(
            (e) => e.dependency.mtls && users.includes(e.from),
          );
          return {
            id: `certificate-expiry:${node.name}`,
            title: `${node.name} certificate expiry`,
            component: node.name,
            seed: { nodes: [node.name], edges: mtlsEdges },
            reachFrom: [node.name],
            effect: `the ${node.name} certificate expires: ${users.join(', ')} fail their TLS handshakes.`,
            likelihood: {
              value: cert.rotation === 'automatic' ? 0.1 : 0.35,
              why:
                cert.rotation === 'automatic'
                  ? 'automatic rotation: a rotation job that silently fails (0.1)'
                  : 'manual rotation: someone forgets (0.35)',
            },
            mitigations: [
              { name: 'automatic rotation', present: cert.rotation === 'automatic' },
              { name: 'expiry alerts', present: cert.expiryAlerts },
            ],
          } satisfies Candidate;
        }),
  },
  'queue-partition': {
    severity: 0.8,
    severityWhy: 'unacknowledged messages are redelivered: jobs run twice or wait',
    candidates: (ctx) =>
      [...ctx.graph.nodes.values()]
        .filter(
          (n) =>
            n.kind === 'queue' && ctx.graph.dependentsOf(n.name).some((e) => e.dependency.consumes),
        )
        .map((node) => {
          const queue = node.resource as Extract<
            Architecture['dependencies'][string],
            { kind: 'queue' }
          >;
          const consumers = ctx.graph.dependentsOf(node.name).filter((e) => e.dependency.consumes);
          const duplicating = consumers.filter((e) => !e.dependency.idempotent).map((e) => e.from);
          const seed: FailureSeed = { edges: consumers };
          // Duplicates corrupt a consumer that is not idempotent: it counts as broken.
          const impairment = ctx.graph.impair({ nodes: duplicating, edges: consumers });
          const clustered = queue.replicas >= 3;
          return {
            id: `queue-partition:${node.name}`,
            title: `${node.name} partition and message duplication`,
            component: node.name,
            seed: { ...seed, nodes: duplicating },
            impairment,
            reachFrom: [node.name],
            effect: `consumers lose ${node.name} mid-delivery; unacknowledged messages come back${duplicating.length ? `: ${duplicating.join(', ')} process${duplicating.length === 1 ? 'es' : ''} them twice` : ''}.`,
            likelihood: {
              value: clustered ? 0.4 : 0.3,
              why: clustered
                ? `a ${queue.replicas}-node cluster can split (0.4)`
                : 'base rate for a broker partition (0.3)',
            },
            mitigations: [
              ...consumers.map((e) => ({
                name: `idempotent consumer ${e.from}`,
                present: e.dependency.idempotent,
              })),
              { name: `durable queues on ${node.name}`, present: queue.durable },
            ],
          } satisfies Candidate;
        }),
  },
  'pool-exhaustion': {
    severity: 0.9,
    severityWhy:
      'requests wait for a connection that never frees: the service stalls while its dependency is merely slow',
    candidates: (ctx) =>
      ctx.graph.edges
        .filter(
          (e) => !e.implicit && e.dependency.mode === 'sync' && e.dependency.pool !== undefined,
        )
        .map((edge) => {
          const pool = edge.dependency.pool!;
          const rps = serviceOf(ctx, edge.from)?.baseline?.rps;
          // Little's law: the pool holds rps × latency connections; it is empty once the
          // dependency's latency passes pool / rps seconds.
          const emptiesAfterMs = rps ? Math.round((pool / rps) * 1000) : undefined;
          const value =
            emptiesAfterMs === undefined
              ? 0.4
              : emptiesAfterMs <= 1000
                ? 0.6
                : emptiesAfterMs <= 5000
                  ? 0.4
                  : 0.2;
          return {
            id: `pool-exhaustion:${edge.from}->${edge.to}`,
            title: `${edge.from} pool exhaustion on ${edge.to}`,
            component: `${edge.from} -> ${edge.to}`,
            seed: { edges: [edge] },
            effect: `${edge.to} slows down; ${edge.from}'s ${pool} connection${pool === 1 ? '' : 's'} stay busy${emptiesAfterMs !== undefined ? ` (empty once a call takes ${formatDuration(emptiesAfterMs)} at ${String(rps)} req/s)` : ''} and new requests queue.`,
            likelihood: {
              value,
              why:
                emptiesAfterMs === undefined
                  ? 'pool size known, traffic unknown (0.4)'
                  : `Little's law: ${pool} connections / ${String(rps)} req/s = ${formatDuration(emptiesAfterMs)} of latency empties the pool (${value})`,
            },
            mitigations: [
              {
                name: `timeout on ${arrow(edge)} within the caller's p99 SLO${edge.dependency.timeout ? ` (declared ${edge.dependency.timeout})` : ''}`,
                present: timeoutWithin(edge.dependency, sloP99(serviceOf(ctx, edge.from))),
              },
              {
                name: `circuit breaker on ${arrow(edge)}`,
                present: edge.dependency.circuitBreaker,
              },
              {
                name: `load shedding in ${edge.from}`,
                present: serviceOf(ctx, edge.from)?.mitigations.loadShedding ?? false,
              },
            ],
          } satisfies Candidate;
        }),
  },
  'retry-storm': {
    severity: 0.9,
    severityWhy:
      "retries multiply the load on a struggling dependency and hold the caller's connections",
    candidates: (ctx) =>
      ctx.graph.edges
        .filter(
          (e) =>
            !e.implicit &&
            e.dependency.mode === 'sync' &&
            (e.dependency.retries?.attempts ?? 0) > 0,
        )
        .map((edge) => {
          const retries = edge.dependency.retries!;
          const value = retries.backoff === 'exponential' ? 0.2 : retries.attempts >= 3 ? 0.5 : 0.4;
          return {
            id: `retry-storm:${edge.from}->${edge.to}`,
            title: `${edge.from} retry storm on ${edge.to}`,
            component: `${edge.from} -> ${edge.to}`,
            seed: { edges: [edge] },
            effect: `a blip of ${edge.to} makes ${edge.from} send up to ${retries.attempts + 1}× its calls${retries.backoff === 'none' ? ' at once' : ''}, holding its connections while ${edge.to} recovers.`,
            likelihood: {
              value,
              why:
                retries.backoff === 'exponential'
                  ? 'exponential backoff spreads the retries (0.2)'
                  : `${retries.attempts} retries with backoff ${retries.backoff} (${value})`,
            },
            mitigations: [
              {
                name: `exponential backoff on ${arrow(edge)}`,
                present: retries.backoff === 'exponential',
              },
              {
                name: `circuit breaker on ${arrow(edge)}`,
                present: edge.dependency.circuitBreaker,
              },
              {
                name: `at most 3 retries (declared ${retries.attempts})`,
                present: retries.attempts <= 3,
              },
              { name: `timeout on ${arrow(edge)}`, present: edge.dependency.timeout !== undefined },
            ],
          } satisfies Candidate;
        }),
  },
} satisfies Record<FailureFamily, FamilySpec>;

// --- scoring ---------------------------------------------------------------------------------

function pathWeight(path: CriticalPath): number {
  return CRITICALITY_WEIGHT[path.criticality] * REVENUE_WEIGHT[path.revenueImpact];
}

function serviceWeight(service: Service): number {
  return CRITICALITY_WEIGHT[service.criticality] * REVENUE_WEIGHT[service.revenueImpact];
}

const describeLevel = (c: CriticalityLevel, r: RevenueImpactLevel): string =>
  `${c}, ${r === 'none' ? 'no' : r} revenue impact`;

/** The business weight of what a failure breaks, and the words for it. */
function businessWeight(
  ctx: Context,
  brokenPaths: BrokenPath[],
  degradedPaths: CriticalPath[],
  impairment: Impairment,
): { value: number; why: string } {
  const options: Array<{ value: number; why: string }> = [];
  for (const { path: p, how } of brokenPaths) {
    options.push(
      how === 'on'
        ? {
            value: pathWeight(p),
            why: `breaks the ${p.name} path (${describeLevel(p.criticality, p.revenueImpact)}) on it`,
          }
        : {
            value: OFF_PATH.throughSide * pathWeight(p),
            why: `breaks the ${p.name} path (${describeLevel(p.criticality, p.revenueImpact)}) through a side dependency × ${OFF_PATH.throughSide}`,
          },
    );
  }
  for (const p of degradedPaths)
    options.push({
      value: OFF_PATH.degradedPath * pathWeight(p),
      why: `degrades the ${p.name} path (${describeLevel(p.criticality, p.revenueImpact)}) × ${OFF_PATH.degradedPath}`,
    });
  // A service on a critical path counts through its paths (an entry losing one route does
  // not break the others); only services off every path count on their own.
  const onPaths = new Set(ctx.architecture.criticalPaths.flatMap((p) => p.steps));
  for (const name of [...impairment.broken].sort()) {
    if (onPaths.has(name)) continue;
    const s = serviceOf(ctx, name)!;
    options.push({
      value: OFF_PATH.brokenService * serviceWeight(s),
      why: `breaks ${name} (${describeLevel(s.criticality, s.revenueImpact)}) × ${OFF_PATH.brokenService}, off every critical path`,
    });
  }
  for (const name of [...impairment.degraded, ...impairment.delayed].sort()) {
    if (onPaths.has(name)) continue;
    const s = serviceOf(ctx, name)!;
    options.push({
      value: OFF_PATH.degradedService * serviceWeight(s),
      why: `degrades ${name} (${describeLevel(s.criticality, s.revenueImpact)}) × ${OFF_PATH.degradedService}`,
    });
  }
  // The first of the heaviest: paths come first, so a tie names the path.
  let best: { value: number; why: string } = {
    value: 0,
    why: 'breaks nothing the file marks as critical',
  };
  for (const o of options) if (o.value > best.value + 1e-9) best = o;
  return best;
}

function part(factor: Factor, value: number, why: string): ScorePart {
  // Points come from the value as shown (3 decimals), so a reader can redo the sum.
  const shown = round(Math.min(1, Math.max(0, value)), 3);
  return {
    value: shown,
    weight: WEIGHTS[factor],
    points: Math.round(shown * WEIGHTS[factor] * 10) / 10,
    why,
  };
}

function businessImpact(broken: BrokenPath[], impairment: Impairment): string {
  const parts: string[] = [];
  const brokenPaths = broken.map((b) => b.path);
  if (brokenPaths.length)
    parts.push(
      `${brokenPaths.map((p) => `${p.name}${p.description ? ` (${p.description.replace(/\.$/, '').toLowerCase()})` : ''}`).join(', ')} path${brokenPaths.length === 1 ? '' : 's'} down`,
    );
  const revenue = brokenPaths.some((p) => p.revenueImpact === 'direct')
    ? 'direct revenue loss'
    : brokenPaths.length
      ? 'users cannot complete critical work'
      : '';
  if (revenue) parts.push(revenue);
  if (impairment.broken.size) parts.push(`failing: ${[...impairment.broken].sort().join(', ')}`);
  if (impairment.degraded.size)
    parts.push(`on fallback: ${[...impairment.degraded].sort().join(', ')}`);
  if (impairment.delayed.size) parts.push(`delayed: ${[...impairment.delayed].sort().join(', ')}`);
  return parts.length ? `${parts.join('; ')}.` : 'no declared service is affected.';
}

type Scored = Omit<Scenario, 'rank' | 'mode' | 'variants'>;

function score(ctx: Context, family: FailureFamily, candidate: Candidate): Scored {
  const spec: FamilySpec = FAMILIES[family];
  const { graph } = ctx;
  const impairment = candidate.impairment ?? graph.impair(candidate.seed);
  // Paths broken on them first: the load of the experiments goes to the first one.
  const brokenPaths = graph
    .brokenPaths(candidate.seed, impairment)
    .sort((a, b) => (a.how === b.how ? 0 : a.how === 'on' ? -1 : 1));
  const degradedPaths = graph.degradedPaths(impairment, brokenPaths);
  const weight = businessWeight(ctx, brokenPaths, degradedPaths, impairment);

  const reachFrom = candidate.reachFrom ?? [
    ...(candidate.seed.nodes ?? []),
    ...(candidate.seed.edges ?? []).map((e) => e.from),
  ];
  const dependents = graph.transitiveDependents(reachFrom);
  for (const n of reachFrom) if (graph.nodes.get(n)?.kind !== 'service') dependents.delete(n);
  const asyncDependents = new Set<string>();
  for (const n of reachFrom)
    for (const e of graph.dependentsOf(n))
      if (e.dependency.mode === 'async' && !dependents.has(e.from)) asyncDependents.add(e.from);
  const services = graph.serviceNames.length;
  const reachCount = dependents.size + 0.5 * asyncDependents.size;
  const allPaths = ctx.architecture.criticalPaths;
  const pathShare =
    allPaths.length === 0
      ? undefined
      : brokenPaths.reduce((sum, b) => sum + pathWeight(b.path), 0) /
        allPaths.reduce((sum, p) => sum + pathWeight(p), 0);
  const reach =
    pathShare === undefined ? reachCount / services : (reachCount / services + pathShare) / 2;

  const missing = candidate.mitigations.filter((m) => !m.present);
  const exposure =
    candidate.mitigations.length === 0 ? 1 : missing.length / candidate.mitigations.length;

  const parts: Record<Factor, ScorePart> = {
    impact: part(
      'impact',
      weight.value * spec.severity,
      `${weight.why} × severity ${spec.severity} (${spec.severityWhy})`,
    ),
    reach: part(
      'reach',
      reach,
      `${dependents.size} of ${services} services depend on it${asyncDependents.size ? ` (+${asyncDependents.size} async, counted half)` : ''}${pathShare === undefined ? '' : `; ${brokenPaths.length} of ${allPaths.length} critical paths (${Math.round(pathShare * 100)}% of their weight)`}`,
    ),
    likelihood: part('likelihood', candidate.likelihood.value, candidate.likelihood.why),
    exposure: part(
      'exposure',
      exposure,
      candidate.mitigations.length === 0
        ? 'no mitigation applies'
        : `${missing.length} of ${candidate.mitigations.length} mitigations missing`,
    ),
  };
  const total =
    Math.round(
      (parts.impact.points + parts.reach.points + parts.likelihood.points + parts.exposure.points) *
        10,
    ) / 10;
  return {
    id: candidate.id,
    family,
    title: candidate.title,
    component: candidate.component,
    edges: (candidate.seed.edges ?? []).map((e) => ({ from: e.from, to: e.to })),
    nodes: [...(candidate.seed.nodes ?? [])],
    effect: candidate.effect,
    businessImpact: businessImpact(brokenPaths, impairment),
    brokenPaths: brokenPaths.map((b) => b.path.name),
    degradedPaths: degradedPaths.map((p) => p.name),
    broken: [...impairment.broken].sort(),
    degraded: [...impairment.degraded].sort(),
    delayed: [...impairment.delayed].sort(),
    dependents: [...dependents, ...asyncDependents].sort(),
    mitigations: candidate.mitigations,
    score: total,
    parts,
  };
}

const byScore = (a: Scored, b: Scored): number =>
  b.score - a.score || b.parts.impact.points - a.parts.impact.points || a.id.localeCompare(b.id);

/** Every row of the architecture (a failure mode on a component), ranked (1 = test it first). */
export function buildCatalogue(architecture: Architecture): Scenario[] {
  const ctx: Context = { architecture, graph: new DependencyGraph(architecture) };
  const groups = new Map<string, Scored[]>();
  for (const family of FAILURE_FAMILIES) {
    for (const candidate of (FAMILIES[family] as FamilySpec).candidates(ctx)) {
      const scored = score(ctx, family, candidate);
      const key = `${FAILURE_MODE[family]}:${scored.component.replace(' -> ', '->')}`;
      groups.set(key, [...(groups.get(key) ?? []), scored]);
    }
  }
  const rows: Array<Omit<Scenario, 'rank'>> = [...groups].map(([id, members]) => {
    members.sort(byScore);
    const lead = members[0]!;
    return {
      ...lead,
      id,
      mode: FAILURE_MODE[lead.family],
      variants: members.map((m) => ({
        id: m.id,
        family: m.family,
        title: m.title,
        effect: m.effect,
        score: m.score,
        parts: m.parts,
        mitigations: m.mitigations,
      })),
    };
  });
  rows.sort(byScore);
  return rows.map((s, i) => ({ rank: i + 1, ...s }));
}
