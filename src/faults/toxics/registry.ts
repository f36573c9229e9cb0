/**
 * Every toxic type faultline knows, by its Toxiproxy-compatible name. An explicit object literal
 * rather than self-registration, so the set is visible in one place and cannot depend on import
 * order.
 */
import { bandwidthToxic } from './bandwidth.js';
import { blackholeToxic, connectDelayToxic, refuseToxic } from './connect.js';
import { httpAbortToxic, httpDelayToxic } from './http.js';
import { latencyToxic } from './latency.js';
import { limitDataToxic } from './limit-data.js';
import { noopToxic } from './noop.js';
import { resetPeerToxic } from './reset-peer.js';
import { slicerToxic } from './slicer.js';
import { slowCloseToxic } from './slow-close.js';
import { timeoutToxic } from './timeout.js';
import type { ToxicDefinition } from './toxic.js';

export const toxicRegistry = {
  noop: noopToxic,
  latency: latencyToxic,
  bandwidth: bandwidthToxic,
  slow_close: slowCloseToxic,
  timeout: timeoutToxic,
  reset_peer: resetPeerToxic,
  slicer: slicerToxic,
  limit_data: limitDataToxic,
  connect_delay: connectDelayToxic,
  refuse: refuseToxic,
  blackhole: blackholeToxic,
  http_abort: httpAbortToxic,
  http_delay: httpDelayToxic,
} as const satisfies Record<string, ToxicDefinition>;

export type ToxicType = keyof typeof toxicRegistry;

/** Looks a toxic type up by name; `undefined` for an unknown type. */
export function findToxic(type: string): ToxicDefinition | undefined {
  return Object.hasOwn(toxicRegistry, type) ? toxicRegistry[type as ToxicType] : undefined;
}

/** The toxic type names, for error hints. */
export const toxicTypes = Object.keys(toxicRegistry) as ToxicType[];
