/**
 * prom-client, loaded on first use rather than at import time.
 *
 * Why: the fault proxy's process (`faultline proxy serve`, or the library imported by a test)
 * pays for every module it holds with V8 heap, and a larger old generation makes V8 start
 * incremental marking sooner under bulk transfers (BENCHMARKS.md, "a garbage-collection cost").
 * prom-client costs about 2 MB of heap and is needed only once /metrics is served or a run's
 * metrics are created. It is a CommonJS package, so `require` loads it synchronously and the
 * functions that build registries keep their synchronous signatures; `require` and `import`
 * share one module instance, so `instanceof` checks agree.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

const require = createRequire(import.meta.url);
let loaded: typeof PromClient | undefined;

/** The prom-client module (loaded by the first call). */
export function promClient(): typeof PromClient {
  return (loaded ??= require('prom-client') as typeof PromClient);
}
