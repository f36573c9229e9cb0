/**
 * The demo's scenario names, apart from the scenarios themselves: the CLI lists them in
 * `faultline demo --help` without loading the demo (the services, yaml, the experiment builders).
 */
export const SCENARIOS = ['payment-db-latency', 'redis-outage', 'auth-latency'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
