// Type-level test of the library's toxic types: compiled by `npm run typecheck` (tsconfig
// includes test/), never run. Each `@ts-expect-error` line must fail to compile — if a type
// loosens so that the line compiles, tsc reports the unused directive and the typecheck fails.
import {
  ProxyApiClient,
  ProxyCollection,
  withFault,
  type FaultProxy,
  type ToxicPatch,
  type ToxicSpec,
} from '../../src/index.js';

declare const proxy: FaultProxy;
declare const client: ProxyApiClient;
declare const collection: ProxyCollection;

// Exact attributes, per type.
proxy.addToxic({ type: 'latency', attributes: { latency: 3000, jitter: 50 } });
proxy.addToxic({ type: 'bandwidth', attributes: { rate: 100 }, stream: 'upstream' });
proxy.addToxic({ type: 'http_abort', attributes: { status: 503, path_prefix: '/pay' } });
proxy.addToxic({ type: 'refuse' });
proxy.addToxic({ type: 'timeout', attributes: {}, toxicity: 0.5, expires_in: 30 });

// @ts-expect-error -- a duration is a number of milliseconds, not a string.
proxy.addToxic({ type: 'latency', attributes: { latency: '3s' } });
// @ts-expect-error -- a misspelt attribute.
proxy.addToxic({ type: 'latency', attributes: { latancy: 3000 } });
// @ts-expect-error -- another type's attribute.
proxy.addToxic({ type: 'bandwidth', attributes: { latency: 3000 } });
// @ts-expect-error -- a type with no attributes takes none.
proxy.addToxic({ type: 'refuse', attributes: { delay: 1 } });
// @ts-expect-error -- an unknown type.
proxy.addToxic({ type: 'latncy' });
// @ts-expect-error -- a stream is upstream or downstream.
proxy.addToxic({ type: 'noop', stream: 'sideways' });

// The HTTP client and withFault take the same types.
void client.addToxic('pg', { type: 'slicer', attributes: { average_size: 64, delay: 10 } });
// @ts-expect-error -- a string where the slicer wants bytes.
void client.addToxic('pg', { type: 'slicer', attributes: { average_size: 'big' } });
void withFault({ proxy, toxic: { type: 'latency', attributes: { latency: 100 } } });
// @ts-expect-error -- withFault's toxic is exact too (and its lease is `lease`, not expires_in).
void withFault({ proxy, toxic: { type: 'latency', attributes: { latency: '100ms' } } });
// @ts-expect-error -- expires_in belongs to `lease` in withFault.
void withFault({ proxy, toxic: { type: 'latency', expires_in: 30 } });

// Toxics at proxy creation.
void collection.create({
  name: 'pg',
  upstream: '127.0.0.1:5432',
  toxics: [{ type: 'connect_delay', attributes: { delay: 500 } }],
});
void collection.create({
  name: 'pg',
  upstream: '127.0.0.1:5432',
  // @ts-expect-error -- connect_delay's attribute is `delay`.
  toxics: [{ type: 'connect_delay', attributes: { latency: 500 } }],
});

// Patches: narrowed by type when the caller says which.
const patch: ToxicPatch<'latency'> = { attributes: { jitter: 10 } };
proxy.updateToxic('latency_downstream', patch);
// @ts-expect-error -- a latency patch takes latency's attributes only.
const badPatch: ToxicPatch<'latency'> = { attributes: { rate: 10 } };
void badPatch;

// A spec can be built apart and checked with `satisfies`.
const spec = { type: 'limit_data', attributes: { bytes: 1024 } } satisfies ToxicSpec;
proxy.addToxic(spec);

// Untyped JSON (a body known only at run time) goes through the *Json entry points.
proxy.addToxicJson(JSON.parse('{"type":"latency"}') as unknown);
