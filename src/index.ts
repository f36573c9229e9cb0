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
} from './faults/proxy/proxy-collection.js';
export { FaultProxy, type ProxyMode, type ProxyJson, type ProxyStats } from './faults/proxy/proxy.js';
export {
  ToxicEntry,
  type ToxicSpec,
  type ToxicPatch,
  type ToxicJson,
} from './faults/proxy/toxic-entry.js';
export {
  ProxyApiClient,
  type ProxyApiClientOptions,
  type CallOptions,
} from './faults/control-api/client.js';
export { startControlServer, type ControlServerOptions } from './faults/control-api/server.js';
export { toxicRegistry, toxicTypes, type ToxicType } from './faults/toxics/registry.js';
export type {
  StreamDirection,
  ToxicDefinition,
  ToxicPhase,
  ToxicStats,
} from './faults/toxics/toxic.js';
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
export { writeReports, type ReportOutputs, type WrittenReports } from './reporting/write-reports.js';
export { buildReportModel, type ReportModel } from './reporting/report-model.js';
export { readJournal } from './reporting/journal-input.js';
export { resilienceByService, resilienceOfJournal, type RunScore, type ServiceScore } from './reporting/score.js';
export { createRunMetrics, RUN_METRIC_NAMES, type RunMetrics } from './reporting/metrics.js';
export { createMetricsRegistry, retainProxies, type ProxySource } from './faults/control-api/metrics.js';
