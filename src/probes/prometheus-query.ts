/**
 * A Prometheus probe: an instant PromQL query against a Prometheus HTTP API
 * (`/api/v1/query`). `value` is the first sample's value as a number (a scalar result, or the
 * first series of a vector); `series` keeps every series with its labels.
 */
import { ProbeError } from './probe-error.js';
import { httpRequest } from './http-request.js';

export interface PrometheusOutput {
  value: number | null;
  series: { metric: Record<string, string>; value: number }[];
  elapsedMs: number;
}

interface ApiAnswer {
  status?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

export async function prometheusQuery(
  spec: { url: string; query: string; timeoutMs: number },
  signal?: AbortSignal,
): Promise<PrometheusOutput> {
  const url = `${spec.url.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(spec.query)}`;
  const answer = await httpRequest({ url, timeoutMs: spec.timeoutMs }, signal);
  const body = answer.body as ApiAnswer | null;
  if (answer.status !== 200 || typeof body !== 'object' || body?.status !== 'success') {
    throw new ProbeError(
      `Prometheus query failed (HTTP ${answer.status}): ${typeof body === 'object' ? (body?.error ?? '') : String(body).slice(0, 200)}`,
    );
  }
  const data = body.data ?? {};
  let series: PrometheusOutput['series'] = [];
  if (data.resultType === 'scalar' && Array.isArray(data.result)) {
    series = [{ metric: {}, value: Number(data.result[1]) }];
  } else if (data.resultType === 'vector' && Array.isArray(data.result)) {
    series = (data.result as { metric: Record<string, string>; value: [number, string] }[]).map(
      (r) => ({ metric: r.metric, value: Number(r.value[1]) }),
    );
  } else {
    throw new ProbeError(
      `Prometheus answered a ${String(data.resultType)} result; an instant query needs a scalar or a vector`,
    );
  }
  return { value: series[0]?.value ?? null, series, elapsedMs: answer.elapsedMs };
}
