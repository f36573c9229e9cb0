/**
 * The faultline experiment format: the single source of the experiment's types (`z.infer`) and
 * of the JSON Schema that editors use (`faultline schema`).
 *
 * Shape, in brief (YAML or JSON; keys camelCase, discriminant values kebab-case):
 * ```yaml
 * title: Payments survive 30 s of PostgreSQL latency
 * environment: staging                 # the safety policy reads it
 * configuration: { baseUrl: { env: BASE_URL, default: "http://127.0.0.1:3000" } }
 * targets:
 *   postgres: { type: proxy, upstream: "127.0.0.1:5432", listen: "127.0.0.1:25432" }
 * steadyState:
 *   probes:
 *     - name: health
 *       http: { url: "${baseUrl}/health" }
 *       expect: { status: 200 }
 * method:
 *   - fault: latency
 *     target: postgres
 *     delay: 300ms
 *     duration: 2m
 *   - wait: 30s
 * rollbacks: []
 * safety: { maxDuration: 10m }
 * ```
 *
 * Durations are strings with a unit (`500ms`, `30s`, `2m`), percentages strings with `%`. Every
 * object is strict: an unknown key is an error with a "did you mean" hint, never silently
 * ignored (Chaos Toolkit ignores them).
 */
import { z } from 'zod';
import { parseThreshold } from './threshold.js';
import { parseDuration, parsePercentage, parseRate } from './duration.js';
import {
  hasPlaceholder,
  headerNameProblem,
  headerValueProblem,
  hostPortProblem,
  methodProblem,
  regexProblem,
  statusProblem,
  timerProblem,
  urlProblem,
  valuePathProblem,
  type UrlKind,
  type ValueProblem,
} from './value-checks.js';

// --- value checks ----------------------------------------------------------------------------

/**
 * A check of one value as a zod refinement, so its problem is located at the value itself. The
 * hint rides in the issue's params (read.ts and located-parse.ts put it in the issue's hint). A
 * value with a `${variable}` is checked once substituted, at run time.
 */
function check<T>(
  problem: (value: T) => ValueProblem | undefined,
): (value: T, ctx: z.RefinementCtx<T>) => void {
  return (value, ctx) => {
    if (typeof value === 'string' && hasPlaceholder(value)) return;
    const found = problem(value);
    if (found)
      ctx.addIssue({ code: 'custom', message: found.message, params: { hint: found.hint } });
  };
}

/** A JavaScript regular expression that compiles. */
const RegexText = z
  .string({ error: 'expected a regular expression' })
  .superRefine(check(regexProblem));

/** An absolute URL of a kind (http, postgres, redis, amqp). */
const url = (kind: UrlKind, error = 'expected a URL', scheme = true): z.ZodString =>
  z.string({ error }).superRefine(check((text: string) => urlProblem(text, kind, { scheme })));

/** A target's URL: its backend refuses a wrong scheme (src/backends/<type>/checks.ts). */
const targetUrl = (kind: UrlKind, error?: string): z.ZodString => url(kind, error, false);

/** An HTTP method that can be sent. */
const HttpMethod = z
  .string({ error: 'expected an HTTP method such as GET' })
  .superRefine(check(methodProblem));

/** Request headers: names are HTTP tokens, values one line. */
const RequestHeaders = z.record(
  z.string().superRefine(check(headerNameProblem)),
  z
    .string({ error: 'a header value is a string: quote it' })
    .superRefine(check(headerValueProblem)),
);

/** An HTTP status, 100 to 599. */
const Status = z
  .number({ error: 'expected an HTTP status such as 200' })
  .superRefine(check(statusProblem));

/** A path to one value of a JSON body: `$.a.b[0]`. */
const ValuePath = z
  .string({ error: 'expected a JSONPath such as $.status' })
  .superRefine(check(valuePathProblem));

// --- scalars ---------------------------------------------------------------------------------

/** `500ms`, `30s`, `2m`, `1h`: kept as written; `parseDuration` gives milliseconds. */
export const Duration = z
  .string({ error: 'expected a duration with a unit, such as "500ms", "30s" or "2m"' })
  .refine((s) => parseDuration(s) !== undefined || /^\$\{[^}]+\}$/.test(s), {
    error: 'expected a duration with a unit, such as "500ms", "30s" or "2m"',
  })
  .superRefine(
    check((s: string) => {
      const ms = parseDuration(s);
      return ms === undefined ? undefined : timerProblem(ms, `"${s}"`);
    }),
  )
  .meta({
    description:
      'A duration with a unit: ms, s, m or h (e.g. "30s"); at most 2147483647ms (what a timer can hold).',
    examples: ['500ms', '30s', '2m'],
  });

/** `5%`: kept as written; `parsePercentage` gives a fraction. */
export const Percentage = z
  .string({ error: 'expected a percentage such as "5%"' })
  .refine((s) => parsePercentage(s) !== undefined, {
    error: 'expected a percentage from "0%" to "100%"',
  })
  .meta({ description: 'A percentage from 0% to 100% (e.g. "10%").', examples: ['10%', '100%'] });

/** `100KB/s`, `10MB/s` (decimal units). */
export const Rate = z
  .string({ error: 'expected a rate such as "100KB/s"' })
  .refine((s) => parseRate(s) !== undefined, {
    error: 'expected a rate such as "512B/s", "100KB/s" or "10MB/s"',
  })
  .meta({ description: 'Bytes per second with a decimal unit: B/s, KB/s, MB/s, GB/s.' });

const HostPort = z
  .string({ error: 'expected a host:port address such as "127.0.0.1:5432"' })
  .superRefine(check(hostPortProblem));

const Name = z.string({ error: 'expected a name' }).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
  error: 'expected a name of letters, digits, "-", "_" or "."',
});

// --- configuration ---------------------------------------------------------------------------

/** A configuration value: a literal, or read from the environment with an optional default. */
export const ConfigValue = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.strictObject({
    env: z.string({ error: 'expected the name of an environment variable' }),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  }),
]);

// --- targets ---------------------------------------------------------------------------------

/** A dependency reached through a proxy that faultline starts in-process for the run. */
export const ProxyTarget = z.strictObject({
  type: z.literal('proxy'),
  upstream: HostPort.meta({ description: 'The real dependency, host:port.' }),
  listen: HostPort.optional().meta({
    description:
      'Where the proxy listens; the service must connect here. Default: 127.0.0.1 on a free port.',
  }),
  mode: z.enum(['tcp', 'http']).default('tcp'),
  tls: z
    .strictObject({
      hostname: z
        .string({ error: 'expected the host name the service connects to and verifies' })
        .min(1)
        .meta({
          description:
            'The name the service connects to and checks the certificate against (its SAN).',
        }),
      caFile: z.string().optional().meta({
        description:
          "Where the run's CA certificate (PEM) is written for the service to trust (e.g. NODE_EXTRA_CA_CERTS); its key is kept beside it (.key) and reused by later runs. Default: <tmp>/faultline-tls/<target>-ca.pem.",
      }),
      upstream: z.enum(['plain', 'tls']).default('plain').meta({
        description:
          'How the proxy reaches the upstream: plain TCP, or TLS again (verified with upstreamCaFile or the system CAs).',
      }),
      upstreamCaFile: z.string().optional().meta({
        description: "upstream: tls: a CA (PEM) to verify the upstream's certificate with.",
      }),
      upstreamServername: z.string().optional().meta({
        description:
          "upstream: tls: the name to verify the upstream's certificate against (default its host).",
      }),
    })
    .optional()
    .meta({
      description:
        'Terminate TLS toward the service with a certificate for hostname, signed by a CA faultline generates (tcp mode); the certificate fault then presents a bad one.',
    }),
});

/** A proxy on an existing faultline or Toxiproxy server. */
export const RemoteProxyTarget = z.strictObject({
  type: z.literal('remote-proxy'),
  url: url('http').default('http://127.0.0.1:8474').meta({ description: 'The server API URL.' }),
  proxy: z.string({ error: 'expected the proxy name on that server' }),
  token: z.string().optional(),
});

/** A local process, found by PID, pidfile or command-line match. */
export const ProcessTarget = z.strictObject({
  type: z.literal('process'),
  pid: z.number().int().positive().optional(),
  pidfile: z.string().optional(),
  match: RegexText.optional().meta({
    description:
      'A regular expression over the command line; must match exactly one process unless maxProcesses allows more.',
  }),
  maxProcesses: z.number().int().min(1).default(1).meta({
    description:
      'Blast radius: how many processes match may select (more is refused before anything is applied).',
  }),
});

/** Pods on Kubernetes, by namespace and labels, with a bounded mode. */
export const KubernetesTarget = z.strictObject({
  type: z.literal('kubernetes'),
  namespace: z.string({ error: 'expected a namespace: every selector must name one' }),
  selector: z.record(z.string(), z.string(), { error: 'expected labels as name: value' }),
  mode: z.enum(['one', 'all', 'fixed', 'fixed-percent', 'random-max-percent']).default('one'),
  value: z.string().optional(),
  port: z.number().int().min(1).max(65535).optional().meta({
    description:
      'The container port HTTP faults act on (Chaos Mesh HTTPChaos); required by http-* faults on this target.',
  }),
  service: z.string().optional().meta({
    description:
      'The Service in front of these pods: the host of the Istio VirtualService that `faultline compile --platform istio` writes.',
  }),
});

/**
 * A process the experiment itself starts for the run (the local analogue of a pod): started
 * before the gate, ready when its port accepts or its URL answers, stopped at the end. Process
 * faults (kill, pause, restart) and clock skew act on it.
 */
export const ServiceTarget = z.strictObject({
  type: z.literal('service'),
  command: z
    .union([z.string().min(1), z.array(z.string()).min(1)])
    .meta({ description: 'The command line: a string run by /bin/sh, or argv.' }),
  env: z.record(z.string(), z.string()).optional(),
  cwd: z.string().optional(),
  ready: z
    .strictObject({
      port: z
        .number()
        .int()
        .min(1)
        .max(65535)
        .optional()
        .meta({ description: 'Ready when 127.0.0.1:port accepts a connection.' }),
      url: url('http')
        .optional()
        .meta({ description: 'Ready when this URL answers with a status below 500.' }),
      timeout: Duration.default('30s'),
    })
    .optional(),
});

/** The machine faultline runs on: CPU, memory and disk pressure. */
export const HostTarget = z.strictObject({
  type: z.literal('host'),
});

/**
 * Traffic on the host's network (Linux, root): to or from `host` (and `port`), on `interface`,
 * optionally inside a network namespace. Rules faultline adds are tagged so removal and
 * `faultline recover` take away exactly those.
 */
export const NetworkTarget = z.strictObject({
  type: z.literal('network'),
  interface: z
    .string()
    .default('lo')
    .meta({ description: 'The interface bandwidth/latency/loss shape (default lo).' }),
  netns: z
    .string()
    .optional()
    .meta({ description: "A network namespace (ip netns) to act in instead of the host's." }),
  host: z
    .string()
    .optional()
    .meta({ description: 'Only traffic with this address (IPv4 or CIDR).' }),
  port: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .optional()
    .meta({ description: 'Only traffic with this TCP/UDP port.' }),
  protocol: z.enum(['tcp', 'udp', 'all']).default('tcp'),
});

/** A PostgreSQL server, reached with an administrative URL (slow queries, pool exhaustion, locks, terminated sessions). */
export const PostgresTarget = z.strictObject({
  type: z.literal('postgres'),
  url: targetUrl(
    'postgres',
    'expected a PostgreSQL URL such as postgres://postgres@127.0.0.1:5432/app',
  ),
});

/** A Redis server (CLIENT PAUSE, killed clients, memory pressure). */
export const RedisTarget = z.strictObject({
  type: z.literal('redis'),
  url: targetUrl('redis').default('redis://127.0.0.1:6379'),
});

/** A RabbitMQ node (closed connections, the memory alarm that blocks publishers). */
export const RabbitmqTarget = z.strictObject({
  type: z.literal('rabbitmq'),
  url: targetUrl('amqp')
    .default('amqp://guest:guest@127.0.0.1:5672')
    .meta({ description: 'The AMQP URL.' }),
  managementUrl: url('http').optional().meta({
    description:
      'The management HTTP API, e.g. http://guest:guest@127.0.0.1:15672 (informational: the rabbitmq faults act through rabbitmqctl on node).',
  }),
  node: z.string().optional().meta({
    description:
      "The Erlang node name for rabbitmqctl -n (e.g. rabbit@localhost); rabbitmqctl's default node when omitted.",
  }),
});

/** A fault-injecting DNS resolver faultline starts for the run; the service must use it as its resolver. */
export const DnsTarget = z.strictObject({
  type: z.literal('dns'),
  listen: HostPort.optional().meta({
    description: 'Where the resolver listens (UDP and TCP). Default: 127.0.0.1 on a free port.',
  }),
  upstream: HostPort.optional().meta({
    description:
      'Where other names are forwarded. Default: the first nameserver in /etc/resolv.conf.',
  }),
});

export const Target = z.discriminatedUnion('type', [
  ProxyTarget,
  RemoteProxyTarget,
  ProcessTarget,
  KubernetesTarget,
  ServiceTarget,
  HostTarget,
  NetworkTarget,
  PostgresTarget,
  RedisTarget,
  RabbitmqTarget,
  DnsTarget,
]);

// --- probes and expectations -----------------------------------------------------------------

/** What a text value must satisfy. Explicit variants, never a list whose length changes meaning. */
export const TextMatch = z.union([
  z.strictObject({ equals: z.string() }),
  z.strictObject({ contains: z.string() }),
  z.strictObject({ regex: RegexText }),
]);

/** What a URL may name on a cluster: said once, for the load and every HTTP request. */
const SERVICE_URL_NOTE =
  'A Kubernetes Service may be named by its cluster DNS name, http://NAME.NAMESPACE.svc[.cluster.local]:PORT/…: with --target kubernetes faultline reaches it in-cluster when it runs in a pod, else through a port-forward to a ready pod behind it, which it opens and closes itself.';

export const HttpRequest = z.strictObject({
  url: url('http').meta({ description: `The URL to call. ${SERVICE_URL_NOTE}` }),
  method: HttpMethod.default('GET'),
  headers: RequestHeaders.optional(),
  body: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
  timeout: Duration.default('5s'),
});

export const HttpExpect = z.strictObject({
  status: z.union([Status, z.array(Status)]).optional(),
  body: TextMatch.optional(),
  json: z
    .strictObject({
      path: ValuePath,
      equals: z.unknown().optional(),
      below: z.number().optional(),
      above: z.number().optional(),
      atMost: z.number().optional(),
      atLeast: z.number().optional(),
    })
    .optional()
    .meta({
      description:
        'The JSON value at path (e.g. $.missing) must equal a value or stay within numeric bounds.',
    }),
  header: z.record(z.string(), TextMatch).optional(),
  latency: Duration.optional().meta({ description: 'The response must arrive within this time.' }),
  slowerThan: Duration.optional().meta({
    description:
      "The response must take at least this long: what a latency fault's stated effect (shows:) looks for.",
  }),
  fresh: z
    .strictObject({
      header: z.string().default('last-modified'),
      path: ValuePath.optional().meta({
        description:
          'Read the timestamp from the JSON body at this path (e.g. $.updatedAt: an ISO date, or epoch seconds or milliseconds) instead of a header.',
      }),
      maxAge: Duration.meta({ description: 'The date must be at most this old.' }),
    })
    .optional()
    .meta({
      description:
        'Freshness: a stale cache answering 200 fails (Last-Modified, any date header, or a timestamp in the JSON body).',
    }),
  increases: z.strictObject({ path: ValuePath }).optional().meta({
    description:
      'Consistency: the JSON value at path must grow from one check to the next (a monotonic counter).',
  }),
});

export const CommandRun = z.strictObject({
  run: z.union([z.string(), z.array(z.string()).min(1)]),
  timeout: Duration.default('30s'),
  env: z.record(z.string(), z.string()).optional(),
  cwd: z.string().optional(),
});

export const CommandExpect = z.strictObject({
  exitCode: z.union([z.number().int(), z.array(z.number().int())]).optional(),
  stdout: TextMatch.optional(),
  stderr: TextMatch.optional(),
});

export const TcpProbe = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(1).max(65535),
  timeout: Duration.default('2s'),
});

/** What a single value (SQL result, Redis reply, Prometheus sample) must satisfy. */
export const ValueExpect = z.strictObject({
  equals: z.unknown().optional(),
  below: z.number().optional(),
  above: z.number().optional(),
  atMost: z.number().optional(),
  atLeast: z.number().optional(),
  contains: z.string().optional(),
  regex: RegexText.optional(),
  latency: Duration.optional().meta({ description: 'The answer must arrive within this time.' }),
  slowerThan: Duration.optional().meta({
    description:
      "The answer must take at least this long: what a latency fault's stated effect (shows:) looks for.",
  }),
  increases: z
    .boolean()
    .optional()
    .meta({ description: 'The value must grow from one check to the next (a monotonic counter).' }),
});

export const SqlProbe = z.strictObject({
  url: url('postgres', 'expected a PostgreSQL URL such as postgres://user@127.0.0.1:5432/db'),
  query: z.string({ error: 'expected the SQL query' }),
  timeout: Duration.default('5s'),
});

export const RedisProbe = z.strictObject({
  url: url('redis').default('redis://127.0.0.1:6379'),
  command: z.array(z.string()).min(1, { error: 'expected a command such as ["PING"]' }),
  timeout: Duration.default('2s'),
});

export const PrometheusProbe = z.strictObject({
  url: url('http', 'expected the Prometheus base URL, e.g. http://127.0.0.1:9090'),
  query: z.string({ error: 'expected a PromQL instant query' }),
  timeout: Duration.default('5s'),
});

const ProbeBase = {
  name: z.string({ error: 'expected a name for the probe' }),
  mode: z.enum(['SOT', 'EOT', 'Edge', 'Continuous', 'OnChaos']).default('Continuous').meta({
    description:
      "When the probe runs (Litmus's modes): SOT before the method, EOT after it, Edge both, OnChaos only during the method, Continuous in every check (default).",
  }),
};

export const Probe = z.union([
  z.strictObject({
    ...ProbeBase,
    http: HttpRequest,
    expect: HttpExpect.default({ status: [200] }),
  }),
  z.strictObject({
    ...ProbeBase,
    tcp: TcpProbe,
    expect: z.strictObject({ open: z.boolean().default(true) }).default({ open: true }),
  }),
  z.strictObject({
    ...ProbeBase,
    command: CommandRun,
    expect: CommandExpect.default({ exitCode: 0 }),
  }),
  z.strictObject({
    ...ProbeBase,
    sql: SqlProbe,
    expect: ValueExpect.meta({ description: 'On the first column of the first row.' }),
  }),
  z.strictObject({ ...ProbeBase, redis: RedisProbe, expect: ValueExpect.default({}) }),
  z.strictObject({
    ...ProbeBase,
    prometheus: PrometheusProbe,
    expect: ValueExpect.meta({ description: 'On the first sample of the result.' }),
  }),
]);

// --- load and thresholds ---------------------------------------------------------------------

/** `p99 < 2s`, `error_rate < 1%`, `rps > 150`, `p99 < 2s over 10s`, `error_rate > 5% for 5s`. */
export const ThresholdText = z
  .string({ error: 'expected a threshold such as "p99 < 2s" or "error_rate < 1%"' })
  .superRefine((text, ctx) => {
    const parsed = parseThreshold(text);
    if (!parsed.ok)
      ctx.addIssue({
        code: 'custom',
        message: parsed.hint ? `${parsed.message} (${parsed.hint})` : parsed.message,
      });
  })
  .meta({
    description:
      'metric op value [over window] [for duration]; metrics p50 p90 p95 p99 p999 max mean error_rate rps.',
    examples: ['p99 < 2s', 'error_rate < 1%', 'rps > 150', 'p99 < 2s over 10s'],
  });

const ArrivalRate = z
  .string({ error: 'expected an arrival rate such as "200/s"' })
  .regex(/^\d+(\.\d+)?\/s$/, { error: 'expected an arrival rate such as "200/s"' })
  .refine((s) => !/^\d+(\.\d+)?\/s$/.test(s) || Number(s.slice(0, -2)) > 0, {
    error: 'a rate of 0/s sends nothing: the load needs at least one request a second, e.g. "1/s"',
  });

/** Load the runner keeps on the service from the gate to the end of the after phase (open model). */
export const LoadSpec = z.strictObject({
  url: url('http', 'expected the URL to load').meta({
    description: `The URL the load calls. ${SERVICE_URL_NOTE}`,
  }),
  method: HttpMethod.default('GET'),
  headers: RequestHeaders.optional(),
  body: z
    .union([z.string(), z.array(z.string()).min(1)])
    .optional()
    .meta({ description: 'A body, or a list sent in turn.' }),
  rate: ArrivalRate.meta({
    description: 'Constant arrival rate: requests leave on schedule whatever the answers.',
  }),
  connections: z.number().int().min(1).max(10_000).default(50),
  timeout: Duration.default('5s').meta({
    description: 'Per-request timeout; a timeout counts as an error.',
  }),
  warmup: Duration.optional().meta({
    description:
      'Load sent before the baseline and judged by nothing: connection pools, caches and JIT compilers warm up first, so a service started just before the run is not measured cold (default none).',
  }),
  baseline: Duration.default('5s').meta({
    description: 'Load measured before the method: the gate and the baseline.',
  }),
  recovery: Duration.default('5s').meta({
    description:
      'How long the system has, after the method, to come back to its thresholds and its baseline.',
  }),
  recoveryTolerance: Percentage.default('10%').meta({
    description:
      'Latency p50/p99 must come back within this much of the baseline (errors to the baseline).',
  }),
  sendWindow: Duration.optional().meta({
    description:
      'Each wake-up of the generator sends what is due within this window (default adaptive: ~20 arrivals, at most 10 ms). "0.5ms" spaces sends exactly, at about twice the client CPU.',
  }),
});

// --- faults ----------------------------------------------------------------------------------

const FaultBase = {
  target: z.string({ error: 'expected the name of a target declared under targets' }),
  duration: Duration.meta({
    description:
      'How long the fault stays; also its lease on the proxy. Required: no fault without an end.',
  }),
  name: z.string().optional(),
  percentage: Percentage.optional().meta({
    description: 'Share of connections (HTTP faults: requests) affected. Default 100%.',
  }),
  shows: Probe.optional().meta({
    description:
      "The effect the fault must have, as a probe that passes once it has reached the system (e.g. the service's health saying the database is degraded, its error counter rising). Checked every 250 ms while the fault is applied; when stated, it decides whether the fault was shown to bite: never seen, the run is inconclusive. Its mode is ignored.",
  }),
};
const Stream = z.enum(['upstream', 'downstream', 'both']).default('downstream');

/**
 * Network faults on kubernetes targets: which traffic of the selected pods is touched. Named
 * after Chaos Mesh's NetworkChaos (`direction`, `target`, `externalTargets`) but generic, so
 * another backend can realise them too. Proxy targets use `stream` instead.
 */
const NetworkScope = {
  direction: z.enum(['to', 'from', 'both']).optional().meta({
    description: 'Kubernetes targets: traffic to `peer`, from it, or both ways (default to).',
  }),
  peer: z.string().optional().meta({
    description:
      'Kubernetes targets: the name of another kubernetes target; only traffic between the two is affected (e.g. payment-service and postgres).',
  }),
  peerHosts: z.array(z.string().min(1)).min(1).optional().meta({
    description:
      'Kubernetes targets: only traffic with these hosts or IPs outside the cluster (e.g. a managed database).',
  }),
};
const HttpMatch = z.strictObject({
  method: z
    .string()
    .superRefine(check((m: string) => methodProblem(m, { sendable: false })))
    .optional(),
  pathPrefix: z.string().optional(),
  pathRegex: RegexText.optional(),
  headers: z.record(z.string(), z.string()).optional(),
});
/** A signed duration (`-1.5h`, `30s`, `-250ms`), for clock skew. */
const SignedDuration = z
  .string({ error: 'expected a signed duration such as "-1h" or "30s"' })
  .regex(/^-?\d+(\.\d+)?(ns|us|ms|s|m|h)$/, {
    error: 'expected a signed duration such as "-1h", "-1.5h" or "30s"',
  });
/** `256MB`, `1GB`, `25%` (of the container's memory). */
const MemorySize = z
  .string({ error: 'expected a size such as "256MB" or "25%"' })
  .regex(/^\d+(\.\d+)?(B|KB|MB|GB|%)$/, {
    error: 'expected a size such as "256MB", "1GB" or "25%"',
  });
const Workers = z.number().int().min(1).max(8192);

export const Fault = z.discriminatedUnion('fault', [
  z.strictObject({
    fault: z.literal('latency'),
    ...FaultBase,
    delay: Duration,
    jitter: Duration.optional(),
    stream: Stream,
    ...NetworkScope,
  }),
  z.strictObject({
    fault: z.literal('bandwidth'),
    ...FaultBase,
    rate: Rate,
    stream: Stream,
    ...NetworkScope,
  }),
  z.strictObject({
    fault: z.literal('timeout'),
    ...FaultBase,
    after: Duration.optional().meta({
      description: 'Close the connection after this time; never when omitted.',
    }),
    stream: Stream,
  }),
  z.strictObject({
    fault: z.literal('reset-peer'),
    ...FaultBase,
    after: Duration.optional(),
    stream: Stream,
  }),
  z.strictObject({ fault: z.literal('slow-close'), ...FaultBase, delay: Duration, stream: Stream }),
  z.strictObject({
    fault: z.literal('slicer'),
    ...FaultBase,
    averageSize: z.number().int().positive(),
    sizeVariation: z.number().int().min(0).default(0),
    delay: Duration.optional(),
    stream: Stream,
  }),
  z.strictObject({
    fault: z.literal('limit-data'),
    ...FaultBase,
    bytes: z.number().int().min(0),
    stream: Stream,
  }),
  z.strictObject({ fault: z.literal('disable'), ...FaultBase }),
  z.strictObject({ fault: z.literal('pause-process'), ...FaultBase }).meta({
    description:
      "Freezes a process target, or a service target's whole process group (SIGSTOP), for the duration, then resumes it (SIGCONT). An agent outside the runner resumes it at the lease deadline even if the runner dies.",
  }),
  z.strictObject({ fault: z.literal('connect-delay'), ...FaultBase, delay: Duration }),
  z.strictObject({ fault: z.literal('refuse'), ...FaultBase }),
  z.strictObject({ fault: z.literal('blackhole'), ...FaultBase }),
  z.strictObject({
    fault: z.literal('http-abort'),
    ...FaultBase,
    status: z.number().int().min(100).max(599),
    body: z.string().optional(),
    match: HttpMatch.optional(),
  }),
  z.strictObject({
    fault: z.literal('http-delay'),
    ...FaultBase,
    delay: Duration,
    match: HttpMatch.optional(),
  }),
  // Kubernetes faults (Chaos Mesh); named generically so other backends can take them too.
  z
    .strictObject({
      fault: z.literal('packet-loss'),
      ...FaultBase,
      loss: Percentage,
      correlation: Percentage.optional(),
      ...NetworkScope,
    })
    .meta({ description: 'Drops this share of packets (kubernetes targets: NetworkChaos loss).' }),
  z
    .strictObject({
      fault: z.literal('duplicate'),
      ...FaultBase,
      duplicate: Percentage,
      correlation: Percentage.optional(),
      ...NetworkScope,
    })
    .meta({ description: 'Duplicates this share of packets (NetworkChaos duplicate).' }),
  z
    .strictObject({
      fault: z.literal('corrupt'),
      ...FaultBase,
      corrupt: Percentage,
      correlation: Percentage.optional(),
      ...NetworkScope,
    })
    .meta({ description: 'Corrupts this share of packets (NetworkChaos corrupt).' }),
  z.strictObject({ fault: z.literal('partition'), ...FaultBase, ...NetworkScope }).meta({
    description:
      'Cuts the network between the pods and their peer (NetworkChaos partition); without a peer, all of their traffic.',
  }),
  z
    .strictObject({
      fault: z.literal('pod-kill'),
      ...FaultBase,
      gracePeriod: Duration.optional().meta({
        description: 'Grace period before the kill (default 0: at once).',
      }),
    })
    .meta({
      description:
        'Kills the selected pods once; their controller recreates them (PodChaos pod-kill).',
    }),
  z.strictObject({ fault: z.literal('pod-failure'), ...FaultBase }).meta({
    description: 'Makes the selected pods unavailable for the duration (PodChaos pod-failure).',
  }),
  z
    .strictObject({
      fault: z.literal('container-kill'),
      ...FaultBase,
      containers: z.array(z.string().min(1)).min(1, { error: 'name at least one container' }),
    })
    .meta({
      description: 'Kills these containers of the selected pods once (PodChaos container-kill).',
    }),
  z
    .strictObject({
      fault: z.literal('cpu-stress'),
      ...FaultBase,
      workers: Workers,
      load: z
        .number()
        .int()
        .min(0)
        .max(100)
        .optional()
        .meta({ description: 'Percent of a CPU each worker burns (default 100).' }),
    })
    .meta({ description: 'CPU pressure in the selected pods (StressChaos cpu).' }),
  z
    .strictObject({
      fault: z.literal('memory-stress'),
      ...FaultBase,
      workers: Workers.default(1),
      size: MemorySize,
      growth: Rate.optional().meta({
        description:
          'Host targets: grow at this rate up to size (the leak scenario) instead of allocating at once.',
      }),
    })
    .meta({
      description:
        'Memory pressure: in the selected pods (StressChaos memory), or on the host (allocated and held by a child process).',
    }),
  z
    .strictObject({
      fault: z.literal('io-latency'),
      ...FaultBase,
      volumePath: z.string().min(1),
      path: z.string().optional(),
      methods: z.array(z.string()).optional(),
      delay: Duration,
    })
    .meta({
      description:
        'Slows file operations under a mounted volume (IOChaos latency); percentage = share of operations.',
    }),
  z
    .strictObject({
      fault: z.literal('io-error'),
      ...FaultBase,
      volumePath: z.string().min(1),
      path: z.string().optional(),
      methods: z.array(z.string()).optional(),
      errno: z
        .number()
        .int()
        .min(1)
        .max(133)
        .default(5)
        .meta({ description: 'The errno returned (default 5, EIO).' }),
    })
    .meta({
      description:
        'Fails file operations under a mounted volume (IOChaos fault); percentage = share of operations.',
    }),
  z
    .strictObject({
      fault: z.literal('dns-error'),
      ...FaultBase,
      patterns: z.array(z.string().min(1)).optional().meta({
        description: 'Domain patterns (`*` and `?` only at the end); all domains when omitted.',
      }),
      rcode: z.enum(['nxdomain', 'servfail', 'refused', 'timeout']).optional().meta({
        description: 'dns targets: the answer (default servfail; timeout = no answer at all).',
      }),
    })
    .meta({
      description:
        'DNS lookups fail: from the selected pods (DNSChaos error), or through a dns target.',
    }),
  z
    .strictObject({
      fault: z.literal('clock-skew'),
      ...FaultBase,
      offset: SignedDuration.meta({ description: 'How far the clock moves, e.g. "-1h" or "30s".' }),
    })
    .meta({
      description:
        'Shifts the wall clock of the selected pods (TimeChaos), or of a service target, which the run then starts under libfaketime (timers keep their pace).',
    }),
  z
    .strictObject({
      fault: z.literal('http-replace'),
      ...FaultBase,
      status: z.number().int().min(100).max(599).optional(),
      body: z.string().optional(),
      match: HttpMatch.optional(),
    })
    .meta({
      description: 'Replaces the status and/or body of matching responses (HTTPChaos replace).',
    }),
  // Local fault families (src/backends/<family>/): processes, resources, databases, brokers, DNS, certificates.
  z
    .strictObject({
      fault: z.literal('kill-process'),
      ...FaultBase,
      signal: z.enum(['SIGTERM', 'SIGKILL', 'SIGINT', 'SIGQUIT']).default('SIGKILL'),
      gracePeriod: Duration.optional().meta({
        description: 'SIGTERM: how long before SIGKILL follows (default 10s).',
      }),
    })
    .meta({
      description:
        'Kills a process or service target. A service stays down for the duration and is started again at removal; another process is not restarted.',
    }),
  z
    .strictObject({
      fault: z.literal('restart-process'),
      ...FaultBase,
      signal: z.enum(['SIGTERM', 'SIGKILL', 'SIGINT', 'SIGQUIT']).default('SIGTERM'),
    })
    .meta({
      description:
        'Stops a process or service target and starts it again at once (same command line, directory and environment).',
    }),
  z
    .strictObject({
      fault: z.literal('disk-fill'),
      ...FaultBase,
      path: z.string().min(1, { error: 'expected a directory to fill' }),
      remaining: MemorySize.meta({
        description:
          'Fill until this much free space remains on the file system (a size, or a percentage of it).',
      }),
    })
    .meta({
      description:
        'Fills the file system under path (host targets); the file is deleted at removal. A floor of free space is never crossed.',
    }),
  z
    .strictObject({
      fault: z.literal('pg-slow-queries'),
      ...FaultBase,
      sessions: z.number().int().min(1).max(1000).default(4),
      table: z.string().optional().meta({
        description: 'Sessions run heavy statements against this table instead of pg_sleep.',
      }),
      statement: z.string().optional().meta({
        description: 'A statement each session runs in a loop (default pg_sleep for the duration).',
      }),
    })
    .meta({
      description:
        'Busy sessions that compete with the application for the server (PostgreSQL targets).',
    }),
  z
    .strictObject({
      fault: z.literal('pg-pool-exhaustion'),
      ...FaultBase,
      connections: z
        .number()
        .int()
        .min(1)
        .optional()
        .meta({ description: 'How many connections to hold.' }),
      leave: z
        .number()
        .int()
        .min(0)
        .optional()
        .meta({ description: 'Hold all but this many of the non-reserved slots.' }),
    })
    .meta({
      description:
        'Holds connection slots so the application cannot open more; the superuser-reserved slots are never taken.',
    }),
  z
    .strictObject({
      fault: z.literal('pg-lock'),
      ...FaultBase,
      table: z.string({ error: 'expected the table to lock' }),
      mode: z
        .enum([
          'ACCESS EXCLUSIVE',
          'EXCLUSIVE',
          'SHARE ROW EXCLUSIVE',
          'SHARE',
          'SHARE UPDATE EXCLUSIVE',
          'ROW EXCLUSIVE',
          'ROW SHARE',
          'ACCESS SHARE',
        ])
        .default('ACCESS EXCLUSIVE'),
    })
    .meta({ description: 'Holds LOCK TABLE … IN mode for the duration (lock contention).' }),
  z
    .strictObject({
      fault: z.literal('pg-terminate'),
      ...FaultBase,
      match: z.strictObject(
        {
          application: z.string().optional(),
          user: z.string().optional(),
          address: z.string().optional(),
          database: z.string().optional(),
        },
        { error: 'expected match with application, user, address or database' },
      ),
      every: Duration.optional().meta({
        description:
          'Terminate matching sessions again at this interval for the duration (default once).',
      }),
    })
    .meta({
      description:
        "Terminates the application's sessions (pg_terminate_backend), matched by application name, user, client address or database.",
    }),
  z
    .strictObject({
      fault: z.literal('redis-pause'),
      ...FaultBase,
      mode: z.enum(['all', 'write']).default('all').meta({
        description:
          'write: only writes wait (CLIENT PAUSE WRITE, lifted by CLIENT UNPAUSE); all: every command waits (held by an agent in 500 ms slices, since Redis postpones CLIENT UNPAUSE too).',
      }),
    })
    .meta({
      description:
        'CLIENT PAUSE for the duration; Redis itself ends it at the lease (the whole pause for write, the current slice for all).',
    }),
  z
    .strictObject({
      fault: z.literal('redis-kill-clients'),
      ...FaultBase,
      match: z
        .strictObject({
          name: z.string().optional(),
          address: z.string().optional(),
          user: z.string().optional(),
          type: z.enum(['normal', 'master', 'replica', 'pubsub']).optional(),
        })
        .optional()
        .meta({
          description:
            'Which clients (required): name, address (ip or ip:port), user, type; exact, or a prefix ending in *.',
        }),
      every: Duration.optional().meta({
        description:
          'Kill matching clients again at this interval for the duration (default once).',
      }),
    })
    .meta({
      description:
        "Kills the application's client connections (CLIENT KILL), never faultline's own.",
    }),
  z
    .strictObject({
      fault: z.literal('redis-maxmemory'),
      ...FaultBase,
      maxmemory: MemorySize.meta({
        description: 'The lowered limit (bytes, or a percentage of used memory).',
      }),
      policy: z.string().optional().meta({
        description:
          'maxmemory-policy during the fault (default noeviction: writes fail with OOM).',
      }),
    })
    .meta({
      description:
        'Memory pressure: a lowered maxmemory (and policy); the originals are restored at removal.',
    }),
  z
    .strictObject({
      fault: z.literal('rabbitmq-close-connections'),
      ...FaultBase,
      match: z
        .strictObject({
          name: z.string().optional(),
          user: z.string().optional(),
          vhost: z.string().optional(),
        })
        .optional()
        .meta({
          description:
            "Which connections (required): name (the client-provided connection_name or the broker's name), user, vhost; exact, or a prefix ending in *.",
        }),
      every: Duration.optional().meta({
        description:
          'Close matching connections again at this interval for the duration (default once).',
      }),
    })
    .meta({
      description:
        "Closes the application's AMQP connections (rabbitmqctl close_connection on the target's node).",
    }),
  z.strictObject({ fault: z.literal('rabbitmq-memory-alarm'), ...FaultBase }).meta({
    description:
      'Raises the memory alarm (a tiny vm_memory_high_watermark) so publishers are blocked; the watermark is restored at removal.',
  }),
  z
    .strictObject({
      fault: z.literal('dns-delay'),
      ...FaultBase,
      delay: Duration,
      patterns: z.array(z.string().min(1)).optional(),
    })
    .meta({ description: 'Answers for matching names arrive late (dns targets).' }),
  z
    .strictObject({
      fault: z.literal('certificate'),
      ...FaultBase,
      problem: z.enum(['expired', 'not-yet-valid', 'wrong-host', 'untrusted', 'self-signed']),
    })
    .meta({
      description:
        'A TLS proxy target presents a bad certificate to new connections (rehearse an expired internal certificate).',
    }),
]);

/** The fault type names, for hints. */
export const faultTypes = Fault.options.map((o) => o.shape.fault.value);

// --- method steps ----------------------------------------------------------------------------

const Pauses = z.strictObject({ before: Duration.optional(), after: Duration.optional() });

export const Action = z.union([
  z.strictObject({
    name: z.string(),
    http: HttpRequest,
    expect: HttpExpect.optional(),
    background: z.boolean().default(false),
    pauses: Pauses.optional(),
  }),
  z.strictObject({
    name: z.string(),
    command: CommandRun,
    expect: CommandExpect.optional(),
    background: z.boolean().default(false),
    pauses: Pauses.optional(),
  }),
]);

export const Step = z.union([
  Fault,
  z.strictObject({ wait: Duration }),
  z.strictObject({ probe: Probe }),
  z.strictObject({ action: Action }),
]);

// --- stop conditions on the system's own signals ---------------------------------------------

/** How often a stop condition is checked: at most a second apart, at least 100 ms. */
const StopEvery = Duration.refine(
  (s) => {
    const ms = parseDuration(s);
    return ms === undefined || (ms >= 100 && ms <= 1000);
  },
  { error: 'stop conditions are checked at least every second: write 100ms to 1s' },
);

const StopBase = {
  name: z.string({ error: 'expected a name' }).min(1).optional().meta({
    description:
      'How the journal, the terminal and the control room call it (default: the kind and its number, e.g. prometheus-1).',
  }),
  for: Duration.optional().meta({
    description:
      'The breach must last this long (every check in between breaching) before the faults are removed. Default: the first breaching check.',
  }),
  every: StopEvery.default('1s').meta({
    description: 'How often it is checked during the method (100ms to 1s; default 1s).',
  }),
  onError: z
    .enum(['stop', 'continue'], { error: 'expected stop or continue' })
    .default('stop')
    .meta({
      description:
        'When the condition cannot be evaluated (its source unreachable, a timeout, a bad answer): stop (default) removes every fault when the first check before any fault fails, or after 3 failed checks in a row during the method; continue records each failure in the journal and goes on unguarded by it.',
    }),
  cloudwatchAlarm: z
    .string()
    .regex(/^arn:aws[\w-]*:cloudwatch:[^:]*:\d*:alarm:.+$/, {
      error:
        'expected a CloudWatch alarm ARN such as arn:aws:cloudwatch:eu-west-1:123456789012:alarm:NAME',
    })
    .optional()
    .meta({
      description:
        'The CloudWatch alarm that watches the same signal: `faultline compile --target aws-fis` makes it an aws:cloudwatch:alarm stop condition (FIS cannot evaluate a Prometheus query, an HTTP check, an alert or a command itself).',
    }),
};

/** A check's own timeout: one second by default, so a hung source cannot stretch the cadence. */
const StopTimeout = Duration.default('1s').meta({
  description:
    'Longest a check may take (default 1s); one that takes longer could not be evaluated.',
});

/** The error of a stop condition whose kind is missing (the union reports its first branch). */
const WATCHES = {
  error: 'a stop condition says what it watches: one of prometheus, http, alertmanager or command',
};

const PrometheusStop = z
  .strictObject({
    ...StopBase,
    prometheus: z.strictObject(
      {
        url: url('http', 'expected the Prometheus base URL, e.g. http://127.0.0.1:9090'),
        query: z.string({ error: 'expected a PromQL instant query' }).min(1),
        timeout: StopTimeout,
      },
      WATCHES,
    ),
    above: z.number().optional(),
    below: z.number().optional(),
    atLeast: z.number().optional(),
    atMost: z.number().optional(),
  })
  .superRefine((c, ctx) => {
    const bounds = (['above', 'below', 'atLeast', 'atMost'] as const).filter(
      (k) => c[k] !== undefined,
    );
    if (bounds.length !== 1)
      ctx.addIssue({
        code: 'custom',
        path: bounds.length === 0 ? ['prometheus'] : [bounds[1]!],
        message:
          bounds.length === 0
            ? 'a prometheus stop condition needs its bound: the value that stops the run (above: 0.01, below, atLeast or atMost)'
            : `one bound per stop condition, not ${bounds.join(' and ')}`,
      });
  })
  .meta({
    description:
      'Stops the run when the instant query has a sample beyond the bound (any series of a vector; no data is not a breach).',
  });

const HttpStop = z
  .strictObject({
    ...StopBase,
    http: z.strictObject({
      url: url('http'),
      method: HttpMethod.default('GET'),
      headers: RequestHeaders.optional(),
      body: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
      timeout: StopTimeout,
    }),
    expect: HttpExpect.default({ status: [200] }).meta({
      description:
        'What a healthy answer looks like (default status 200): the run stops when the answer does not meet it (a status, a JSON value beyond its bound).',
    }),
  })
  .meta({ description: 'Stops the run when an HTTP answer does not meet its expectation.' });

const AlertmanagerStop = z
  .strictObject({
    ...StopBase,
    alertmanager: z.strictObject({
      url: url('http', 'expected the Alertmanager base URL, e.g. http://127.0.0.1:9093'),
      matchers: z
        .record(z.string(), z.string({ error: 'a label value is a string: quote it' }), {
          error: 'expected labels as name: value, e.g. { alertname: HighErrorRate }',
        })
        .refine((m) => Object.keys(m).length > 0, {
          error: 'give at least one label, e.g. { alertname: HighErrorRate }',
        }),
      timeout: StopTimeout,
    }),
  })
  .meta({
    description:
      'Stops the run when an alert with all these labels is firing (Alertmanager API v2; silenced and inhibited alerts do not count).',
  });

const CommandStop = z
  .strictObject({
    ...StopBase,
    command: z.strictObject({
      run: z.union([z.string().min(1), z.array(z.string()).min(1)]),
      timeout: StopTimeout,
      env: z.record(z.string(), z.string()).optional(),
      cwd: z.string().optional(),
    }),
    expect: CommandExpect.default({ exitCode: 0 }).meta({
      description:
        'What a healthy result looks like (default exit code 0): the run stops when the command does not meet it.',
    }),
  })
  .meta({ description: "Stops the run when a command's result does not meet its expectation." });

export const StopCondition = z.union([PrometheusStop, HttpStop, AlertmanagerStop, CommandStop]);
export type StopCondition = z.infer<typeof StopCondition>;

// --- the experiment --------------------------------------------------------------------------

export const Experiment = z.strictObject({
  $schema: z.string().optional(),
  title: z
    .string({ error: 'an experiment needs a title' })
    .min(1, { error: 'an experiment needs a title' }),
  description: z.string().optional(),
  tags: z.array(z.string().min(1)).optional(),
  environment: z.string({ error: 'expected the environment name, e.g. "staging"' }).optional(),
  configuration: z.record(z.string(), ConfigValue).optional(),
  secrets: z.record(z.string(), ConfigValue).optional(),
  targets: z.record(Name, Target).default({}),
  steadyState: z
    .strictObject({
      probes: z.array(Probe).default([]),
      load: LoadSpec.optional(),
      thresholds: z.array(ThresholdText).default([]).meta({
        description:
          'Hold over each phase, and over their `over` window continuously during the method. Need load.',
      }),
    })
    .optional(),
  method: z.array(Step, { error: 'expected a list of steps (faults, waits, probes, actions)' }),
  rollbacks: z.array(Action).default([]),
  runtime: z
    .strictObject({
      rollbacks: z.enum(['default', 'always', 'never', 'deviated']).default('default'),
      hypothesis: z
        .enum([
          'default',
          'before-method-only',
          'after-method-only',
          'during-method-only',
          'continuously',
          'fail-fast',
          'skip',
        ])
        .default('continuously')
        .meta({
          description:
            "When the steady state is checked (Chaos Toolkit's names). faultline's default is continuously: before, during (every hypothesisFrequency) and after the method. fail-fast is continuously, stopping the method at the first deviation.",
        }),
      hypothesisFrequency: Duration.default('1s'),
    })
    .optional(),
  safety: z
    .strictObject({
      maxDuration: Duration.default('10m').meta({
        description: 'The run is aborted and every fault removed past this time.',
      }),
      abortWhen: z
        .array(ThresholdText)
        .default([])
        .meta({
          description:
            'Stop conditions on the load, e.g. "error_rate > 5% for 5s": when one is true the faults are removed at once and the run ends aborted (exit 3).',
          examples: [['error_rate > 5% for 5s', 'p99 > 5s']],
        }),
      stopWhen: z
        .array(StopCondition, {
          error:
            'expected a list of stop conditions, each with one of prometheus, http, alertmanager or command',
        })
        .default([])
        .meta({
          description:
            "Stop conditions on the system's own signals, checked at least every second during the method: a Prometheus query beyond a bound, an HTTP check, a firing Alertmanager alert, a command's result. When one is breached every fault is removed at once and the run ends aborted (exit 3).",
        }),
    })
    .optional(),
});

export type Experiment = z.infer<typeof Experiment>;
export type ExperimentInput = z.input<typeof Experiment>;
export type Target = z.infer<typeof Target>;
export type Fault = z.infer<typeof Fault>;
export type Step = z.infer<typeof Step>;
export type Probe = z.infer<typeof Probe>;
export type Action = z.infer<typeof Action>;

/** The JSON Schema editors use to complete and check experiment files. */
export function experimentJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Experiment, {
    io: 'input',
    unrepresentable: 'any',
    reused: 'ref',
  }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'urn:faultline:experiment',
    title: 'faultline experiment',
  };
}
