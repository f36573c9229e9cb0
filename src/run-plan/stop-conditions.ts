/**
 * `safety.stopWhen` → {@link PlannedStopCondition}s: each condition's check, built on the probes'
 * clients (Prometheus instant queries, HTTP requests, Alertmanager's alerts, commands) and the
 * probes' expectation checks, so a stop condition and a probe judge an answer alike.
 *
 * A check resolves with a reading (breached or not, and the value in words) or rejects when the
 * condition cannot be evaluated: the source unreachable, a timeout, an answer that is not one
 * (a PromQL error, an Alertmanager that is not one). "No data" from Prometheus is a reading, not
 * a breach: as Prometheus's own alerting rules, an empty result fires nothing.
 */
import { parseDuration } from '../experiment/duration.js';
import type { StopCondition } from '../experiment/schema.js';
import { alertmanagerAlerts } from '../probes/alertmanager-alerts.js';
import { checkCommand, checkHttp } from '../probes/expect.js';
import { httpRequest } from '../probes/http-request.js';
import { prometheusQuery } from '../probes/prometheus-query.js';
import { runCommand } from '../probes/run-command.js';
import { getPath } from '../shared/json-path.js';
import {
  boundOf,
  describeStopCondition,
  labelsText,
  stopKind,
  stopNames,
} from '../experiment/stop-words.js';
import type { PlannedStopCondition, StopReading } from './plan.js';
import { ServiceRoutes } from './service-routes.js';

const ms = (duration: string | undefined, fallback: number): number =>
  duration === undefined ? fallback : (parseDuration(duration) ?? fallback);

/** One check of a condition; a URL naming a Kubernetes Service goes where the run routes it. */
function evaluator(
  condition: StopCondition,
  services: ServiceRoutes,
): (signal: AbortSignal) => Promise<StopReading> {
  if ('prometheus' in condition) {
    const { url, query, timeout } = condition.prometheus;
    services.note(url);
    const { breaches } = boundOf(condition);
    return async (signal) => {
      const out = await prometheusQuery(
        { url: services.resolve(url), query, timeoutMs: ms(timeout, 1000) },
        signal,
      );
      if (out.series.length === 0) return { breached: false, value: 'no data' };
      // Any series beyond the bound breaches (a per-service ratio: one service is enough).
      const worst = out.series.find((s) => breaches(s.value)) ?? out.series[0]!;
      const more = out.series.length > 1 ? ` (1 of ${out.series.length} series)` : '';
      return {
        breached: breaches(worst.value),
        value: `${worst.value}${labelsText(worst.metric) ? ` ${labelsText(worst.metric)}` : ''}${more}`,
      };
    };
  }
  if ('http' in condition) {
    const { url, method, headers, body, timeout } = condition.http;
    services.note(url);
    const e = condition.expect;
    const expect = {
      status: e.status,
      body: e.body,
      json: e.json,
      header: e.header,
      latencyMs: e.latency === undefined ? undefined : ms(e.latency, 0),
    };
    return async (signal) => {
      const out = await httpRequest(
        { url: services.resolve(url), method, headers, body, timeoutMs: ms(timeout, 1000) },
        signal,
      );
      const verdict = checkHttp(out, expect);
      if (!verdict.met) return { breached: true, value: verdict.reason ?? `status ${out.status}` };
      const json = e.json ? ` (${e.json.path} ${checkValueText(out.body, e.json.path)})` : '';
      return { breached: false, value: `status ${out.status}${json}` };
    };
  }
  if ('alertmanager' in condition) {
    const { url, matchers, timeout } = condition.alertmanager;
    services.note(url);
    return async (signal) => {
      const out = await alertmanagerAlerts(
        { url: services.resolve(url), matchers, timeoutMs: ms(timeout, 1000) },
        signal,
      );
      if (out.firing.length === 0) return { breached: false, value: 'no matching alert firing' };
      const first = out.firing[0]!;
      return {
        breached: true,
        value: `${out.firing.length} alert${out.firing.length === 1 ? '' : 's'} firing: ${first.labels['alertname'] ?? ''}${labelsText(first.labels)}${first.startsAt ? ` since ${first.startsAt}` : ''}`,
      };
    };
  }
  const { run, timeout, env, cwd } = condition.command;
  const expect = condition.expect;
  return async (signal) => {
    const out = await runCommand({ run, timeoutMs: ms(timeout, 1000), env, cwd }, signal);
    const verdict = checkCommand(out, expect);
    return verdict.met
      ? { breached: false, value: `exit code ${out.status}` }
      : { breached: true, value: verdict.reason ?? `exit code ${out.status}` };
  };
}

/** The value at a JSON path, for a reading that did not breach (`= 12`). */
function checkValueText(body: unknown, path: string): string {
  const found = getPath(body, path);
  return found.found ? `= ${JSON.stringify(found.value)}` : '= (none)';
}

/** Plans `safety.stopWhen`: names (default `<kind>-<n>`), intervals, checks. */
export function planStopConditions(
  conditions: readonly StopCondition[],
  services: ServiceRoutes = new ServiceRoutes(),
): PlannedStopCondition[] {
  const names = stopNames(conditions);
  return conditions.map((condition, i) => {
    const timeout =
      'prometheus' in condition
        ? condition.prometheus.timeout
        : 'http' in condition
          ? condition.http.timeout
          : 'alertmanager' in condition
            ? condition.alertmanager.timeout
            : condition.command.timeout;
    return {
      name: names[i]!,
      kind: stopKind(condition),
      describe: describeStopCondition(condition),
      everyMs: Math.min(1000, Math.max(100, ms(condition.every, 1000))),
      forMs: ms(condition.for, 0),
      timeoutMs: ms(timeout, 1000),
      onError: condition.onError,
      cloudwatchAlarm: condition.cloudwatchAlarm,
      evaluate: evaluator(condition, services),
      source: condition,
    };
  });
}
