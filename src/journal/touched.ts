/**
 * What a fault touched: the traffic it acted on and, for faults that act on things rather than
 * traffic, the things themselves. A fault that touched nothing never tested the hypothesis, so
 * the run cannot have held (it is inconclusive); every backend counts, and the reports say it.
 */
export interface Touched {
  connections: number;
  bytes: number;
  requests: number;
  /**
   * What the fault acted on, in words, for faults that touch things rather than traffic:
   * `pid 4242 (node server.js)`, `session 1234 app@10.0.0.7/shop`, a fill file.
   */
  items?: string[] | undefined;
  /**
   * Of those connections, the ones faultline itself made (its probes, actions and load): they
   * are not the system under test and never count as the fault reaching it.
   */
  own?: { connections: number } | undefined;
  /**
   * The counts are a lower bound: some effects cannot be counted (a disabled proxy sees the
   * connections it cut, not the ones the kernel refused while it was down).
   */
  partial?: boolean | undefined;
}

/** Connections of the system under test: every counted connection but faultline's own. */
export function systemConnections(t: Touched): number {
  return Math.max(0, t.connections - (t.own?.connections ?? 0));
}

/** True when a fault is known to have touched nothing at all (no traffic, no item). */
export function touchedNothing(t: Touched | undefined): boolean {
  if (t === undefined || (t.items?.length ?? 0) > 0) return false;
  // With faultline's own connections among them, bytes and requests cannot be told apart:
  // only the service's connections count.
  if ((t.own?.connections ?? 0) > 0) return systemConnections(t) === 0;
  return t.connections + t.bytes + t.requests === 0;
}

/** One line: "3 connection(s), 12.0 KB, 5 request(s)", or the items when there is no traffic. */
export function describeTouched(
  t: Touched | undefined,
  bytes: (n: number) => string = (n) => `${n} B`,
): string {
  if (!t) return 'not counted';
  const traffic = t.connections + t.bytes + t.requests > 0 || !t.items?.length;
  const parts = traffic
    ? [
        `${t.connections} connection(s)`,
        bytes(t.bytes),
        ...(t.requests ? [`${t.requests} request(s)`] : []),
      ]
    : [];
  if (t.own?.connections) parts.push(`${t.own.connections} of them faultline's own`);
  if (t.partial) parts.push('more not counted (refused while down)');
  if (t.items?.length)
    parts.push(
      t.items.length > 5
        ? `${t.items.slice(0, 5).join(', ')} and ${t.items.length - 5} more`
        : t.items.join(', '),
    );
  return parts.join(', ');
}
