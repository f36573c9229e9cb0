/**
 * faultline's library API.
 *
 * The fault proxy, in-process — the way application tests use Toxiproxy's clients ("make
 * PostgreSQL 3 s slow, call the endpoint, expect a cache hit"), without a separate server:
 *
 * @example
 * ```ts
 * import { ProxyCollection } from 'faultline';
 *
 * const proxies = new ProxyCollection();
 * const pg = await proxies.create({ name: 'pg', upstream: '127.0.0.1:5432' });
 * // point the service under test at 127.0.0.1:${pg.port}
 * pg.addToxic({ type: 'latency', attributes: { latency: 3000 }, expires_in: 30 });
 * // … call the endpoint, expect the cached answer …
 * pg.removeToxic('latency_downstream');
 * await proxies.close();
 * ```
 */
export {
  ProxyCollection,
  PopulateError,
  type ProxySpec,
  type ProxyPatch,
  type ProxyCollectionOptions,
} from './engines/proxy/proxy-collection.js';
export {
  FaultProxy,
  type ProxyMode,
  type ProxyJson,
  type ProxyStats,
} from './engines/proxy/proxy.js';
export {
  ToxicEntry,
  type ToxicSpec,
  type ToxicPatch,
  type ToxicJson,
} from './engines/proxy/toxic-entry.js';
export {
  ProxyApiClient,
  type ProxyApiClientOptions,
  type CallOptions,
} from './engines/proxy/api/client.js';
export { startControlServer, type ControlServerOptions } from './engines/proxy/api/server.js';
export { toxicRegistry, toxicTypes, type ToxicType } from './engines/proxy/toxics/registry.js';
export type {
  StreamDirection,
  ToxicDefinition,
  ToxicPhase,
  ToxicStats,
} from './engines/proxy/toxics/toxic.js';
export {
  ExitCode,
  FaultlineError,
  BadRequestError,
  ValidationError,
  NotFoundError,
  ConflictError,
  ListenError,
  ForbiddenError,
  UnauthorizedError,
  UsageError,
  RemoteError,
  errorCodes,
  isFaultlineError,
  formatIssue,
  type ErrorCode,
  type ValidationIssue,
} from './errors.js';
export { VERSION } from './version.js';
export {
  writeReports,
  type ReportOutputs,
  type WrittenReports,
} from './reporting/write-reports.js';
export { buildReportModel, type ReportModel } from './reporting/report-model.js';
export { readJournal } from './reporting/journal-input.js';
export {
  resilienceByService,
  resilienceOfJournal,
  type RunScore,
  type ServiceScore,
} from './reporting/score.js';
export { createRunMetrics, RUN_METRIC_NAMES, type RunMetrics } from './runner/run-metrics.js';
export {
  createMetricsRegistry,
  retainProxies,
  type ProxySource,
} from './engines/proxy/api/metrics.js';
/**
 * Running experiments from code, and faults scoped to a test (docs/library.md):
 *
 * @example
 * ```ts
 * import { runExperiment, withFault } from 'faultline';
 *
 * const journal = await runExperiment('experiments/db-latency.yaml', { signal });
 * console.log(journal.faultline.outcome); // 'held', 'deviated', …
 *
 * await using fault = await withFault({
 *   proxy: pg, // a FaultProxy, or { server: 'http://127.0.0.1:8474', name: 'postgres' }
 *   toxic: { type: 'latency', attributes: { latency: 3000 } },
 *   signal: t.signal, // node:test's: removed when the test times out
 * });
 * ```
 */
export { runExperiment, planOf, type RunExperimentOptions } from './library/run-experiment.js';
/**
 * Abort a run's signal with one (`controller.abort(new GracefulStop())`) to let the activities
 * in progress finish before it stops, faults removed and rollbacks run (Chaos Toolkit's SIGUSR1).
 */
export { GracefulStop } from './shared/graceful-stop.js';
export { defineExperiment, type ExperimentInput } from './library/define-experiment.js';
export {
  withFault,
  type FaultSpec,
  type AppliedFault,
  type RemoteProxyRef,
} from './library/with-fault.js';
export type { Journal, Outcome, FaultRecord } from './journal/journal.js';
export type { RunEvent, Phase } from './runner/runner.js';
