/**
 * The application's AMQP connections, listed and closed with rabbitmqctl (`list_connections`,
 * `close_connection <pid> <reason>`), which asks the node itself. Chosen over the management
 * HTTP API, whose connection list comes from the statistics database and lags by the
 * statistics interval (5 s by default): a connection the application opened a moment ago would
 * be missed, and a fault would touch nothing while claiming to have run.
 *
 * faultline's own connections (client-provided name starting `fl-`) are never closed.
 */
import { FaultError } from '../../errors.js';
import { rabbitmqctl, type CtlOptions } from './ctl.js';

export interface AmqpConnectionInfo {
  /** The connection process, as close_connection takes it: `<rabbit@host.1.2.3>`. */
  pid: string;
  /** The broker's name for it: `127.0.0.1:50000 -> 127.0.0.1:5672`. */
  name: string;
  user: string;
  vhost: string;
  /** The client-provided `connection_name`, if any. */
  clientName?: string | undefined;
}

export interface ConnectionMatch {
  name?: string | undefined;
  user?: string | undefined;
  vhost?: string | undefined;
}

const OWN_PREFIX = 'fl-';

/**
 * Two listings joined on the connection name: the JSON one carries the client properties but
 * prints pids in a form close_connection does not accept; the plain one prints them as it does.
 */
export async function listConnections(options: CtlOptions): Promise<AmqpConnectionInfo[]> {
  const pids = new Map<string, string>();
  for (const line of (
    await rabbitmqctl(['list_connections', 'pid', 'name', '--no-table-headers'], options)
  ).split('\n')) {
    const tab = line.indexOf('\t');
    if (tab > 0) pids.set(line.slice(tab + 1).trim(), line.slice(0, tab).trim());
  }
  const text = await rabbitmqctl(
    ['list_connections', 'name', 'user', 'vhost', 'client_properties', '--formatter', 'json'],
    options,
  );
  let rows: { name: string; user: string; vhost: string; client_properties?: unknown[] }[];
  try {
    rows = JSON.parse(text) as typeof rows;
  } catch {
    throw new FaultError(
      `rabbitmqctl list_connections answered something that is not JSON: ${text.slice(0, 200)}`,
    );
  }
  const found: AmqpConnectionInfo[] = [];
  for (const row of rows) {
    const pid = pids.get(row.name);
    if (!pid) continue; // opened between the two listings: the next round (every) sees it
    found.push({
      pid,
      name: row.name,
      user: row.user,
      vhost: row.vhost,
      clientName: clientName(row.client_properties),
    });
  }
  return found;
}

/** `connection_name` from client properties listed as [key, type, value] triples. */
function clientName(properties: unknown[] | undefined): string | undefined {
  for (const p of properties ?? []) {
    if (Array.isArray(p) && p[0] === 'connection_name' && typeof p[2] === 'string') return p[2];
  }
  return undefined;
}

export async function closeConnection(
  pid: string,
  reason: string,
  options: CtlOptions,
): Promise<void> {
  await rabbitmqctl(['close_connection', pid, reason], options);
}

function matches(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  return pattern.endsWith('*') ? value.startsWith(pattern.slice(0, -1)) : value === pattern;
}

/**
 * The connections a close acts on: `name` matches the client-provided connection_name or the
 * broker's own name (exact, or a prefix ending in `*`); user and vhost exactly (or a prefix).
 */
export function selectConnections(
  connections: readonly AmqpConnectionInfo[],
  match: ConnectionMatch | undefined,
): AmqpConnectionInfo[] {
  return connections.filter((c) => {
    if (c.clientName?.startsWith(OWN_PREFIX)) return false;
    if (
      match?.name !== undefined &&
      !matches(match.name, c.clientName) &&
      !matches(match.name, c.name)
    )
      return false;
    if (match?.user !== undefined && !matches(match.user, c.user)) return false;
    if (match?.vhost !== undefined && !matches(match.vhost, c.vhost)) return false;
    return true;
  });
}
