/**
 * Connection-open toxics: faults on the opening of a TCP connection, which Toxiproxy users keep
 * asking for (its issues #123, #72, #410). They are decided once, when a client connects
 * (toxicity is the probability per new connection), and do not affect connections that were
 * already open when the toxic was added.
 *
 * - `connect_delay` {delay ms}: the upstream is dialled, and client data read, only after
 *   `delay` ms — a slow accept queue or a slow TLS/handshake path.
 * - `refuse` {}: the connection is accepted and immediately aborted with RST; the client sees
 *   ECONNRESET on its first operation. (A listener cannot refuse one connection in a hundred
 *   with ECONNREFUSED; disable the proxy for a full refusal.)
 * - `blackhole` {}: the connection is accepted and never answered: the upstream is not dialled,
 *   client data is read and discarded, nothing is ever sent back, and the connection stays open
 *   until the client gives up. Removing the toxic closes the blackholed connections.
 */
import { z } from 'zod';
import { attributeParser, duration } from './attributes.js';
import type { ToxicDefinition } from './toxic.js';

/** `connect_delay` attributes: `delay` in milliseconds. */
export const connectDelayAttributes = z.object({ delay: duration('milliseconds') });

export const connectDelayToxic: ToxicDefinition = {
  type: 'connect_delay',
  phase: 'connect',
  summary: 'delays the opening of each new connection by delay milliseconds',
  parse: attributeParser(connectDelayAttributes),
};

/** `refuse` takes no attributes. */
export const refuseAttributes = z.object({});

export const refuseToxic: ToxicDefinition = {
  type: 'refuse',
  phase: 'connect',
  summary: 'resets each new connection right after accepting it',
  parse: attributeParser(refuseAttributes),
};

/** `blackhole` takes no attributes. */
export const blackholeAttributes = z.object({});

export const blackholeToxic: ToxicDefinition = {
  type: 'blackhole',
  phase: 'connect',
  summary: 'accepts each new connection and never answers',
  parse: attributeParser(blackholeAttributes),
};
