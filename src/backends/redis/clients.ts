/**
 * CLIENT LIST, parsed, and the selection redis-kill-clients acts on: the application's
 * connections matched by name, address, user and type, never faultline's own (named with a
 * tag starting `fl-`), and never the replication links unless `type` asks for them — killing a
 * replica's link is a different experiment from dropping the application's sessions.
 */

/** One line of CLIENT LIST. */
export interface RedisClientInfo {
  id: string;
  addr: string;
  name: string;
  user: string;
  flags: string;
  /** normal, master, replica or pubsub (derived from the flags and subscriptions). */
  type: 'normal' | 'master' | 'replica' | 'pubsub';
}

export interface ClientMatch {
  name?: string | undefined;
  address?: string | undefined;
  user?: string | undefined;
  type?: 'normal' | 'master' | 'replica' | 'pubsub' | undefined;
}

export function parseClientList(text: string): RedisClientInfo[] {
  const clients: RedisClientInfo[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const fields = new Map<string, string>();
    for (const pair of line.trim().split(' ')) {
      const eq = pair.indexOf('=');
      if (eq > 0) fields.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const flags = fields.get('flags') ?? '';
    const subscribed =
      Number(fields.get('sub') ?? 0) +
        Number(fields.get('psub') ?? 0) +
        Number(fields.get('ssub') ?? 0) >
      0;
    const type = flags.includes('M')
      ? 'master'
      : flags.includes('S')
        ? 'replica'
        : flags.includes('P') || subscribed
          ? 'pubsub'
          : 'normal';
    clients.push({
      id: fields.get('id') ?? '',
      addr: fields.get('addr') ?? '',
      name: fields.get('name') ?? '',
      user: fields.get('user') ?? '',
      flags,
      type,
    });
  }
  return clients;
}

/** `value` equals `pattern`, or starts with its prefix when the pattern ends with `*`. */
function matches(pattern: string, value: string): boolean {
  return pattern.endsWith('*') ? value.startsWith(pattern.slice(0, -1)) : value === pattern;
}

/** Is this one of faultline's own connections (any run's)? */
export function isOwn(client: RedisClientInfo, ownPrefix: string): boolean {
  return client.name.startsWith(ownPrefix);
}

/**
 * The clients a kill acts on. An address matches `ip:port` exactly or `ip` alone; without a
 * `type`, normal and pubsub clients only.
 */
export function selectClients(
  clients: readonly RedisClientInfo[],
  match: ClientMatch | undefined,
  ownPrefix: string,
): RedisClientInfo[] {
  return clients.filter((c) => {
    if (isOwn(c, ownPrefix)) return false;
    if (match?.type ? c.type !== match.type : c.type === 'master' || c.type === 'replica')
      return false;
    if (match?.name !== undefined && !matches(match.name, c.name)) return false;
    if (match?.user !== undefined && !matches(match.user, c.user)) return false;
    if (match?.address !== undefined) {
      const host = c.addr.slice(0, c.addr.lastIndexOf(':'));
      if (!(c.addr === match.address || host === match.address || matches(match.address, c.addr)))
        return false;
    }
    return true;
  });
}
