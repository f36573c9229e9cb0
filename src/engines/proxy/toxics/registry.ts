/**
 * Every toxic type faultline knows, by its Toxiproxy-compatible name. An explicit object literal
 * rather than self-registration, so the set is visible in one place and cannot depend on import
 * order.
 */
import { bandwidthAttributes, bandwidthToxic } from './bandwidth.js';
import {
  blackholeAttributes,
  blackholeToxic,
  connectDelayAttributes,
  connectDelayToxic,
  refuseAttributes,
  refuseToxic,
} from './connect.js';
import {
  httpAbortAttributes,
  httpAbortToxic,
  httpDelayAttributes,
  httpDelayToxic,
} from './http.js';
import { latencyAttributes, latencyToxic } from './latency.js';
import { limitDataAttributes, limitDataToxic } from './limit-data.js';
import { noopAttributes, noopToxic } from './noop.js';
import { resetPeerAttributes, resetPeerToxic } from './reset-peer.js';
import { slicerAttributes, slicerToxic } from './slicer.js';
import { slowCloseAttributes, slowCloseToxic } from './slow-close.js';
import { timeoutAttributes, timeoutToxic } from './timeout.js';
import type { z } from 'zod';
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

/**
 * Each toxic type's attribute schema, the one source of both the run-time check (its `parse`)
 * and the library's types ({@link ToxicAttributes}).
 */
export const toxicAttributeSchemas = {
  noop: noopAttributes,
  latency: latencyAttributes,
  bandwidth: bandwidthAttributes,
  slow_close: slowCloseAttributes,
  timeout: timeoutAttributes,
  reset_peer: resetPeerAttributes,
  slicer: slicerAttributes,
  limit_data: limitDataAttributes,
  connect_delay: connectDelayAttributes,
  refuse: refuseAttributes,
  blackhole: blackholeAttributes,
  http_abort: httpAbortAttributes,
  http_delay: httpDelayAttributes,
} as const satisfies Record<ToxicType, z.ZodObject>;

/**
 * The attributes a caller may give a toxic of type `T`: each optional (Toxiproxy defaults
 * them), of its exact type; `{}` only for a type that takes none.
 */
export type ToxicAttributes<T extends ToxicType = ToxicType> = T extends ToxicType
  ? [keyof z.input<(typeof toxicAttributeSchemas)[T]>] extends [never]
    ? Record<string, never>
    : z.input<(typeof toxicAttributeSchemas)[T]>
  : never;

/** Looks a toxic type up by name; `undefined` for an unknown type. */
export function findToxic(type: string): ToxicDefinition | undefined {
  return Object.hasOwn(toxicRegistry, type) ? toxicRegistry[type as ToxicType] : undefined;
}

/** The toxic type names, for error hints. */
export const toxicTypes = Object.keys(toxicRegistry) as ToxicType[];
