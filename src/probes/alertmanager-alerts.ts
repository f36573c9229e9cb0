/**
 * The alerts an Alertmanager holds that match some labels, through its v2 API
 * (`GET /api/v2/alerts`): active ones only (`active=true`), without silenced or inhibited ones
 * (someone decided those do not matter), filtered on the server by equality matchers and
 * checked again here, so an Alertmanager that ignores a filter cannot make one match.
 */
import { ProbeError } from './probe-error.js';
import { httpRequest } from './http-request.js';

export interface FiringAlert {
  labels: Record<string, string>;
  startsAt: string | undefined;
}

export interface AlertmanagerOutput {
  /** The matching alerts that are firing now. */
  firing: FiringAlert[];
  elapsedMs: number;
}

interface ApiAlert {
  labels?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  status?: { state?: string };
}

/** An Alertmanager equality matcher, `name="value"`, with the value's quotes escaped. */
function matcher(name: string, value: string): string {
  return `${name}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export async function alertmanagerAlerts(
  spec: { url: string; matchers: Record<string, string>; timeoutMs: number },
  signal?: AbortSignal,
): Promise<AlertmanagerOutput> {
  const query = new URLSearchParams({ active: 'true', silenced: 'false', inhibited: 'false' });
  for (const [name, value] of Object.entries(spec.matchers))
    query.append('filter', matcher(name, value));
  const url = `${spec.url.replace(/\/+$/, '')}/api/v2/alerts?${query.toString()}`;
  const answer = await httpRequest({ url, timeoutMs: spec.timeoutMs }, signal);
  if (answer.status !== 200 || !Array.isArray(answer.body)) {
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    throw new ProbeError(
      `Alertmanager answered HTTP ${answer.status}${Array.isArray(answer.body) ? '' : ' without a list of alerts'}: ${text.slice(0, 200)}`,
      { hint: 'give the Alertmanager base URL, e.g. http://127.0.0.1:9093 (its API is /api/v2)' },
    );
  }
  const now = Date.now();
  const firing = (answer.body as ApiAlert[])
    .filter((a) => {
      const labels = a.labels ?? {};
      if (!Object.entries(spec.matchers).every(([k, v]) => labels[k] === v)) return false;
      if (a.status?.state === 'suppressed') return false;
      const ends = a.endsAt === undefined ? NaN : Date.parse(a.endsAt);
      return Number.isNaN(ends) || ends > now;
    })
    .map((a) => ({ labels: a.labels ?? {}, startsAt: a.startsAt }));
  return { firing, elapsedMs: answer.elapsedMs };
}
