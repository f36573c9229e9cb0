// The load's warm-up: a service started just before the run answers its first requests slowly
// (a pool opening its connections, caches filling). Without a warm-up those requests are the
// baseline, the gate misses its p99 bound and the run stops before any fault; with one longer
// than the cold start, the baseline measures the service as it normally is.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hypothesisRows } from '../../src/reporting/hypotheses.js';
import type { RunEvent } from '../../src/runner/runner.js';
import { suiteRunner } from '../helpers/run-experiment.js';
import type { Journal } from '../../src/journal/journal.js';

/** For the first second after its first request, every answer takes 2 s; then at once. */
const COLD_MS = 1_000;
const COLD_DELAY_MS = 2_000;

async function coldService(): Promise<{ url: string; server: Server }> {
  let first: number | undefined;
  const server = createServer((_req, res) => {
    first ??= performance.now();
    if (performance.now() - first < COLD_MS) setTimeout(() => res.end('ok'), COLD_DELAY_MS);
    else res.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('the load warm-up', () => {
  let dir: string;
  const servers: Server[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-warmup-'));
  });
  after(async () => {
    for (const s of servers) s.closeAllConnections();
    for (const s of servers) s.close();
    await rm(dir, { recursive: true, force: true });
  });

  const runDoc = suiteRunner(() => dir, 'warmup');
  const run = async (
    warmup: string | undefined,
    runtime?: object,
    onEvent?: (event: RunEvent) => void,
  ): Promise<Journal> => {
    const service = await coldService();
    servers.push(service.server);
    const load = { url: `${service.url}/`, rate: '20/s', timeout: '5s', baseline: '1s' };
    return runDoc(
      {
        steadyState: {
          load: { ...load, ...(warmup ? { warmup } : {}), recovery: '1s' },
          thresholds: ['p99 < 500ms'],
        },
        method: [{ wait: '200ms' }],
        ...(runtime ? { runtime } : {}),
      },
      undefined,
      onEvent,
    );
  };
  /** The baseline's p99 bound, as judged before the method. */
  const baselineP99 = (journal: Journal) =>
    hypothesisRows(journal).find((r) => r.phase === 'before' && /p99/.test(r.name));

  it('without one, a cold start is the baseline: the gate misses and nothing runs', async () => {
    const journal = await run(undefined);
    assert.equal(journal.steady_states.before?.steady_state_met, false);
    assert.match(journal.faultline.reason ?? '', /steady state was not met before the method/);
    const p99 = baselineP99(journal);
    assert.equal(p99?.met, false, JSON.stringify(p99));
  });

  it('with one longer than the cold start, the baseline is the service as it is', async () => {
    // The cold answers have all come back 3 s after the first request; the baseline starts at 4 s.
    const journal = await run('4s');
    const p99 = baselineP99(journal);
    assert.equal(journal.steady_states.before?.steady_state_met, true, JSON.stringify(p99));
    assert.equal(p99?.met, true);
    // The warm-up's requests were sent (and are in the series), only not judged.
    const series = (journal.faultline.load?.series ?? []) as { completed: number }[];
    const sent = series.reduce((n, s) => n + s.completed, 0);
    assert.ok(sent >= 80, `${sent} requests completed over warm-up, baseline and recovery`);
  });

  it('with no check before the method, the method waits for the warm-up all the same', async () => {
    let methodAt: number | undefined;
    const journal = await run('2s', { hypothesis: 'after-method-only' }, (e) => {
      if (e.type === 'phase' && e.phase === 'method') methodAt ??= e.elapsedMs;
    });
    assert.equal(journal.steady_states.before ?? undefined, undefined, 'nothing judged before');
    assert.ok(methodAt !== undefined && methodAt >= 2_000, `the method began at ${methodAt} ms`);
  });
});
