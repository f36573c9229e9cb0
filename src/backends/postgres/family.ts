/**
 * The postgres fault family (src/backends/local/family.ts): pg-slow-queries,
 * pg-pool-exhaustion, pg-lock and pg-terminate on `postgres` targets (./driver.ts).
 *
 * `recover` removes a fault from its journaled location alone, so a live run's removal and
 * `faultline recover` after a SIGKILLed runner take the same path: the agent holding the
 * fault's sessions is stopped (it closes them), then every session still named with the
 * fault's tag is terminated — a session whose agent was killed, or a backend still busy in a
 * query its client left. pg-terminate leaves nothing to remove: terminated sessions are not
 * undone, and its repeats died with the runner that ran them.
 */
import { FaultError } from '../../errors.js';
import type { PostgresLocation } from '../location.js';
import { stopAgents } from '../local/agent.js';
import type { LocalFamily } from '../local/family.js';
import { terminateTagged, withPg } from './connection.js';
import { redact } from '../../shared/redact.js';

export const postgresFamily: LocalFamily<PostgresLocation> = {
  async recover(location: PostgresLocation, signal: AbortSignal | undefined) {
    const handle = location.handle;
    const tag = location.tag;
    if (!tag) return;
    await stopAgents(tag, { graceMs: 10_000, signal });
    if (!handle.url) return;
    try {
      await withPg(handle.url, (client) => terminateTagged(client, tag), { signal });
    } catch (err) {
      // Unreachable after the deadline plus the server-side margins: nothing of it can be left.
      if (handle.until !== undefined && Date.now() > handle.until + 10_000 && !signal?.aborted)
        return;
      throw new FaultError(
        `could not end the sessions of ${tag} on ${redact(handle.url)}: ${(err as Error).message}`,
      );
    }
  },
};
