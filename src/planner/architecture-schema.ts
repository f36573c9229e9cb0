/**
 * The architecture file `faultline plan` reads: the single source of its types (`z.infer`) and
 * of the JSON Schema editors use (`faultline schema --architecture`).
 *
 * Shape, in brief (YAML or JSON; keys camelCase, values kebab-case):
 * ```yaml
 * name: fintech
 * environment: staging                       # experiments and Kubernetes selectors carry it
 * kubernetes: { namespace: payments-staging, labels: { environment: staging } }
 * services:
 *   payment-service:
 *     criticality: critical                  # critical | high | medium | low
 *     revenueImpact: direct                  # direct | indirect | none
 *     replicas: 3
 *     transactional: true                    # moves money: a crash mid-request loses work
 *     slo: { p99: 2s, errorRate: 1% }
 *     baseline: { p99: 340ms, errorRate: 0.02%, rps: 25 }
 *     local: { url: "http://127.0.0.1:3000" }
 *     kubernetes: { labels: { app: payment-service } }
 *     dependsOn:
 *       - on: postgresql
 *         timeout: 30s
 *         retries: { attempts: 0 }
 *         pool: 20
 * dependencies:
 *   postgresql: { kind: database, engine: postgresql, address: "127.0.0.1:5432" }
 * criticalPaths:
 *   - name: payment
 *     steps: [api-gateway, auth-service, payment-service, postgresql]
 *     criticality: critical
 *     revenueImpact: direct
 * ```
 *
 * Services are what the team runs and calls; `dependencies` are what they lean on without
 * owning the code (databases, caches, queues, DNS, certificates, external services). Every
 * mitigation is declared, never assumed: what is not written counts as missing, because the
 * planner ranks by what would hurt, and an unknown mitigation is one nobody has tested.
 */
import { z } from 'zod';
import { Duration, Percentage } from '../experiment/schema.js';

const Name = z.string({ error: 'expected a name' }).regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, {
  error:
    'expected a lower-case name of letters, digits and "-" (a DNS label, as Kubernetes and Compose want)',
});

const HostPort = z
  .string({ error: 'expected a host:port address such as "127.0.0.1:5432"' })
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, {
    error: 'expected a host:port address such as "127.0.0.1:5432"',
  });

/** Business weight of a service or a path. */
export const Criticality = z
  .enum(['critical', 'high', 'medium', 'low'], { error: 'expected critical, high, medium or low' })
  .meta({
    description:
      'How much the business depends on it: critical (an outage stops the business), high, medium, low.',
  });

/** How directly a failure loses money. */
export const RevenueImpact = z
  .enum(['direct', 'indirect', 'none'], { error: 'expected direct, indirect or none' })
  .meta({
    description:
      'direct: a failure loses revenue at once (payments); indirect: later or through users leaving; none.',
  });

const Labels = z.record(z.string(), z.string(), { error: 'expected labels as name: value' });

/** Where something runs on Kubernetes. Namespace and labels default to the file's `kubernetes`. */
export const KubernetesPlacement = z.strictObject({
  namespace: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'Default: the top-level kubernetes.namespace.' }),
  labels: Labels.meta({
    description:
      'Pod labels that select it (merged with the top-level kubernetes.labels, which carry the environment).',
  }),
  port: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .optional()
    .meta({ description: 'Container port (HTTP faults through Chaos Mesh).' }),
  service: z.string().min(1).optional().meta({
    description:
      'The Service in front of the pods (the Istio VirtualService host of HTTP faults, and the host of the generated load and probe URLs); default: the name in this file.',
  }),
  servicePort: z.number().int().min(1).max(65535).optional().meta({
    description:
      "The Service's port the generated kubernetes experiments' load and probes call (http://SERVICE.NAMESPACE.svc:PORT); default: port, else 80.",
  }),
  primaryLabels: Labels.optional().meta({
    description:
      'Labels only the primary carries (e.g. role: primary, or spilo-role: master): faults on it, and latency towards it, select the primary, not a standby.',
  }),
});

/** Where something runs on a laptop or in CI. */
export const LocalPlacement = z.strictObject({
  url: z
    .string()
    .regex(/^https?:\/\/[^/\s]+/, {
      error: 'expected an http(s) URL such as "http://127.0.0.1:3000"',
    })
    .optional()
    .meta({ description: "The service's base URL (load and probes go there)." }),
  healthPath: z
    .string()
    .startsWith('/', { error: 'expected a path starting with "/"' })
    .default('/health'),
  image: z
    .string()
    .optional()
    .meta({ description: 'Container image for the generated docker-compose file.' }),
});

const Retries = z.strictObject({
  attempts: z.number({ error: 'expected the number of retries (0: none)' }).int().min(0).max(100),
  backoff: z.enum(['none', 'fixed', 'exponential']).default('none').meta({
    description:
      'none: retries at once (a retry storm waiting to happen); exponential: with jitter, the mitigation.',
  }),
});

/** One edge: a service calls or consumes something. Every mitigation is declared or missing. */
export const Dependency = z.strictObject({
  on: Name.meta({ description: 'A service or a dependency declared in this file.' }),
  mode: z.enum(['sync', 'async']).default('sync').meta({
    description:
      "sync: the caller waits for it (its failure is the caller's); async: queued or fire-and-forget.",
  }),
  purpose: z
    .string()
    .optional()
    .meta({ description: 'What it is used for (e.g. "sessions"): shown in the catalogue.' }),
  timeout: Duration.optional().meta({
    description: 'The client-side timeout. Missing: the caller may wait forever.',
  }),
  retries: Retries.optional(),
  circuitBreaker: z.boolean().default(false),
  fallback: z.string().optional().meta({
    description:
      'What the caller does without it (e.g. "cached tokens for 60 s"); a fallback stops the failure from spreading to the caller.',
  }),
  pool: z
    .number()
    .int()
    .min(1)
    .optional()
    .meta({ description: 'Connection pool size, when there is one.' }),
  consumes: z.boolean().default(false).meta({
    description: 'Queues: the service consumes messages from it (rather than publishing).',
  }),
  idempotent: z
    .boolean()
    .default(false)
    .meta({ description: 'Consumers: a message processed twice has no second effect.' }),
  mtls: z
    .boolean()
    .default(false)
    .meta({ description: 'The connection uses the internal mTLS certificate.' }),
  urlEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/)
    .optional()
    .meta({
      description:
        "The environment variable the caller reads the dependency's connection URL from (docker-compose); default by engine: DATABASE_URL, REDIS_URL, AMQP_URL, …, else NAME_URL (NAME_URL too when two dependencies of one caller would share a name).",
    }),
  url: z
    .string()
    .regex(/\{host\}/, { error: 'expected a URL with {host} and {port} in it' })
    .optional()
    .meta({
      description:
        'The connection URL the caller gets in urlEnv, with {host} and {port} where the fault proxy goes (e.g. postgres://app:secret@{host}:{port}/payments); default by engine.',
    }),
  addressEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/)
    .optional()
    .meta({
      description:
        'The environment variable the caller reads the address from (docker-compose); default NAME_ADDR.',
    }),
});

/** Mitigations a service has as a whole (not per dependency). */
export const ServiceMitigations = z.strictObject({
  gracefulShutdown: z
    .boolean()
    .default(false)
    .meta({ description: 'Drains in-flight requests on SIGTERM.' }),
  idempotencyKeys: z
    .boolean()
    .default(false)
    .meta({ description: 'Clients may retry a request without a second effect.' }),
  loadShedding: z
    .boolean()
    .default(false)
    .meta({ description: 'Refuses work early under pressure instead of queueing it.' }),
  memoryLimit: z
    .string()
    .regex(/^\d+(Ki|Mi|Gi)$/, { error: 'expected a Kubernetes quantity such as "512Mi"' })
    .optional(),
  autoscaling: z.boolean().default(false),
});

const Consistency = z.union([
  z
    .strictObject({ http: z.string().startsWith('/'), jsonPath: z.string().default('$.missing') })
    .meta({
      description:
        'An endpoint of the service whose JSON value at jsonPath must be 0 (e.g. /reconcile → $.missing).',
    }),
  z
    .strictObject({ sql: z.string(), database: Name })
    .meta({ description: 'A query on a declared database whose first value must be 0.' }),
]);

export const Service = z.strictObject({
  description: z.string().optional(),
  criticality: Criticality,
  revenueImpact: RevenueImpact.default('none'),
  replicas: z.number({ error: 'expected the number of replicas' }).int().min(1),
  transactional: z.boolean().default(false).meta({
    description: 'It writes business transactions: a crash mid-request can lose or duplicate one.',
  }),
  slo: z
    .strictObject({ p99: Duration.optional(), errorRate: Percentage.optional() })
    .optional()
    .meta({ description: 'What users are promised; hypotheses are derived from it.' }),
  baseline: z
    .strictObject({
      p99: Duration.optional(),
      errorRate: Percentage.optional(),
      rps: z
        .number()
        .positive()
        .optional()
        .meta({ description: 'Requests per second in normal traffic.' }),
    })
    .optional()
    .meta({ description: 'What is measured today (e.g. p99 340ms, errorRate 0.02%).' }),
  consistency: Consistency.optional().meta({
    description: 'A check that no transaction was lost (a reconciliation).',
  }),
  mitigations: ServiceMitigations.default({
    gracefulShutdown: false,
    idempotencyKeys: false,
    loadShedding: false,
    autoscaling: false,
  }),
  local: LocalPlacement.optional(),
  kubernetes: KubernetesPlacement.optional(),
  dependsOn: z.array(Dependency).default([]),
});

const ResourceBase = {
  description: z.string().optional(),
  engine: z
    .string()
    .optional()
    .meta({ description: 'postgresql, redis, rabbitmq…: picks the container image and probes.' }),
  replicas: z.number().int().min(1).default(1),
  usedBy: z
    .union([z.literal('all'), z.array(Name)])
    .optional()
    .meta({
      description:
        'Services that depend on it synchronously without listing it (DNS, a certificate): "all" or names.',
    }),
};
const Address = {
  address: HostPort.optional().meta({
    description: 'Where it listens locally (the fault proxy forwards there).',
  }),
};
const Placement = {
  kubernetes: KubernetesPlacement.optional(),
  externalHost: z
    .string()
    .optional()
    .meta({ description: 'Its host when it runs outside the cluster (a managed database).' }),
};

/** Something the services lean on; the kind says which failures it has. */
export const Resource = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('database'),
    ...ResourceBase,
    ...Address,
    ...Placement,
    failover: z.boolean().default(false),
    volume: z
      .string()
      .optional()
      .meta({ description: 'Data volume path in the pod (disk pressure acts there).' }),
    diskAlerts: z.boolean().default(false),
  }),
  z.strictObject({
    kind: z.literal('cache'),
    ...ResourceBase,
    ...Address,
    ...Placement,
    failover: z.boolean().default(false),
  }),
  z.strictObject({
    kind: z.literal('queue'),
    ...ResourceBase,
    ...Address,
    ...Placement,
    failover: z.boolean().default(false),
    durable: z
      .boolean()
      .default(false)
      .meta({ description: 'Messages survive a broker restart (durable/quorum queues).' }),
  }),
  z
    .strictObject({ kind: z.literal('service'), ...ResourceBase, ...Address, ...Placement })
    .meta({ description: 'A service the team does not run (a card network, an e-mail provider).' }),
  z.strictObject({
    kind: z.literal('dns'),
    ...ResourceBase,
    cache: z.boolean().default(false).meta({
      description: 'A node-local resolver cache keeps answers through a short DNS outage.',
    }),
  }),
  z.strictObject({
    kind: z.literal('certificate'),
    ...ResourceBase,
    rotation: z.enum(['automatic', 'manual']).default('manual'),
    expiryAlerts: z.boolean().default(false),
  }),
]);

export const CriticalPath = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  steps: z.array(Name).min(2, { error: 'a path needs at least two steps' }).meta({
    description:
      'What a request touches, from the entry on; every step after the first is a declared dependency of an earlier step.',
  }),
  criticality: Criticality,
  revenueImpact: RevenueImpact.default('none'),
  request: z
    .strictObject({
      method: z.string().default('GET'),
      path: z.string().startsWith('/', { error: 'expected a path starting with "/"' }),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.string().optional(),
      rate: z.number().positive().optional().meta({
        description:
          "Requests per second for the experiments' load (default: the entry's baseline rps, at most 50).",
      }),
    })
    .optional()
    .meta({
      description:
        "A representative request of the path, sent to the entry's local URL as the experiments' load.",
    }),
});

export const Architecture = z.strictObject({
  $schema: z.string().optional(),
  name: z.string({ error: 'expected a name for the architecture' }).min(1),
  description: z.string().optional(),
  environment: z
    .string({ error: 'expected the environment the experiments are for, e.g. "staging"' })
    .regex(/^[a-z0-9-]+$/),
  kubernetes: z
    .strictObject({ namespace: z.string().min(1), labels: Labels.default({}) })
    .optional()
    .meta({
      description: 'Defaults for every kubernetes placement; put the environment label here.',
    }),
  services: z
    .record(Name, Service, { error: 'expected services as name: { … }' })
    .refine((s) => Object.keys(s).length > 0, { error: 'declare at least one service' }),
  dependencies: z.record(Name, Resource).default({}),
  criticalPaths: z.array(CriticalPath).default([]),
});

export type Architecture = z.infer<typeof Architecture>;
export type Service = z.infer<typeof Service>;
export type Resource = z.infer<typeof Resource>;
export type Dependency = z.infer<typeof Dependency>;
export type CriticalPath = z.infer<typeof CriticalPath>;
export type CriticalityLevel = z.infer<typeof Criticality>;
export type RevenueImpactLevel = z.infer<typeof RevenueImpact>;

/** The JSON Schema editors use to complete and check architecture files. */
export function architectureJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Architecture, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return { ...schema, $id: 'urn:faultline:architecture', title: 'faultline architecture' };
}
