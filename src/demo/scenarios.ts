/**
 * The brief's three first scenarios as faultline experiments, written for a running demo stack:
 * payment-service → PostgreSQL latency, the Redis (session cache) outage, and auth-service
 * latency over 5 s. Each declares all three dependencies as proxy targets, so the service is
 * always configured with the proxies' addresses and only the scenario's fault differs.
 *
 * The same documents, with `${…}` variables instead of addresses, ship in examples/; the test
 * suite checks both validate.
 */
import { stringify } from 'yaml';
import type { ExperimentInput } from '../experiment/schema.js';
import { DEMO_TOKEN } from './auth-service.js';

import { SCENARIOS, type ScenarioName } from './scenario-names.js';

export { SCENARIOS, type ScenarioName };

export interface ScenarioAddresses {
  /** The payment service's base URL. */
  service: string;
  /** host:port of the real dependencies, and where each proxy listens (the service's addresses). */
  database: { upstream: string; listen: string };
  redis?: { upstream: string; listen: string } | undefined;
  auth?: { upstream: string; listen: string } | undefined;
}

export const SCENARIO_TITLES: Record<ScenarioName, string> = {
  'payment-db-latency':
    'payment-service → PostgreSQL: 500 ms of latency on every database reply for 15 s',
  'redis-outage': 'Redis (sessions) outage: the cache refuses every connection for 15 s',
  'auth-latency': 'auth-service latency: every verification takes 6 s for 20 s',
};

/** Load on POST /payments: an open model, so a stalled service shows its real latency. */
function paymentLoad(service: string): NonNullable<ExperimentInput['steadyState']>['load'] {
  return {
    url: `${service}/payments`,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-session': 'demo-session',
      authorization: `Bearer ${DEMO_TOKEN}`,
    },
    body: '{"amount": 12.50, "currency": "EUR"}',
    rate: '25/s',
    connections: 128,
    timeout: '3s',
    // The service starts just before the run: its pool opens its connections on the first
    // payments, which the baseline must not take for its normal latency.
    warmup: '2s',
    baseline: '4s',
    recovery: '8s',
  };
}

/** The experiment document for a scenario against a running stack. */
export function scenarioExperiment(name: ScenarioName, at: ScenarioAddresses): ExperimentInput {
  if (name === 'redis-outage' && !at.redis)
    throw new Error('the redis-outage scenario needs Redis');
  if (name === 'auth-latency' && !at.auth)
    throw new Error('the auth-latency scenario needs the auth service');
  const targets: ExperimentInput['targets'] = {
    'payments-db': { type: 'proxy', upstream: at.database.upstream, listen: at.database.listen },
  };
  if (at.redis)
    targets['sessions-cache'] = {
      type: 'proxy',
      upstream: at.redis.upstream,
      listen: at.redis.listen,
    };
  if (at.auth)
    targets['auth-service'] = {
      type: 'proxy',
      mode: 'http',
      upstream: at.auth.upstream,
      listen: at.auth.listen,
    };

  const probes: NonNullable<ExperimentInput['steadyState']>['probes'] = [
    {
      name: 'payment service answers',
      http: { url: `${at.service}/health`, timeout: '2s' },
      expect: { status: 200 },
    },
    {
      // Consistency, not just status codes: every acknowledged payment is in the table.
      name: 'no payment lost (reconciliation)',
      mode: 'Edge',
      http: { url: `${at.service}/reconcile`, timeout: '5s' },
      expect: { status: 200, json: { path: '$.missing', equals: 0 } },
    },
  ];
  let method: ExperimentInput['method'];
  let description: string;
  if (name === 'payment-db-latency') {
    description =
      'Every reply from PostgreSQL to the payment service is held 500 ms for 15 s while payments arrive at 25/s. ' +
      'Hypothesis: p99 stays under 2 s, errors under 1 %, and no acknowledged payment is lost.';
    method = [
      {
        fault: 'latency',
        target: 'payments-db',
        delay: '500ms',
        stream: 'downstream',
        duration: '15s',
      },
    ];
  } else if (name === 'redis-outage') {
    description =
      'The session cache refuses every connection for 15 s. Hypothesis: payments go on (sessions degrade to the ' +
      'database), session re-creation stays under 50 a minute, no session is corrupted after recovery and no acknowledged payment is lost.';
    method = [{ fault: 'disable', target: 'sessions-cache', duration: '15s' }];
    probes.push({
      name: 'session re-creation bounded',
      http: { url: `${at.service}/stats`, timeout: '2s' },
      expect: { status: 200, json: { path: '$.sessions.recreatedLastMinute', atMost: 50 } },
    });
    probes.push({
      // After recovery the cache must not disagree with the database (no corrupted session).
      name: 'no session corrupted after recovery',
      mode: 'EOT',
      http: { url: `${at.service}/sessions/demo-session/check`, timeout: '2s' },
      expect: { status: 200, json: { path: '$.consistent', equals: true } },
    });
  } else {
    description =
      'Every call to the auth service takes 6 s for 20 s. Hypothesis: no cascade (p99 under 2 s, errors under 1 %), ' +
      'the circuit breaker trips within 10 s, and tokens verified in the last 60 s are still accepted.';
    method = [{ fault: 'http-delay', target: 'auth-service', delay: '6s', duration: '20s' }];
    probes.push({
      name: 'auth circuit breaker tripped within 10 s',
      mode: 'EOT',
      http: { url: `${at.service}/stats`, timeout: '2s' },
      expect: { status: 200, json: { path: '$.auth.trippedAfterMs', atMost: 10_000 } },
    });
  }
  return {
    title: SCENARIO_TITLES[name],
    description,
    tags: ['payment-service', name, 'demo'],
    environment: 'local',
    targets,
    steadyState: {
      load: paymentLoad(at.service),
      thresholds: ['p99 < 2s', 'error_rate < 1%'],
      probes,
    },
    method,
    safety: { maxDuration: '2m', abortWhen: ['error_rate > 5% for 3s'] },
  };
}

/** The document as YAML, with a header saying where it came from. */
export function scenarioYaml(name: ScenarioName, at: ScenarioAddresses): string {
  const header = [
    `# ${SCENARIO_TITLES[name]}`,
    '# Written by `faultline demo` for the stack it started; re-run it with `faultline run` while',
    '# that stack is up, or see examples/ for the same experiment with variables.',
    '',
  ].join('\n');
  return header + stringify(scenarioExperiment(name, at), { lineWidth: 0 });
}
