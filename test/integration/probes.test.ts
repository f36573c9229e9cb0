// Probes against real servers: the machine's PostgreSQL and Redis (read-only queries), and a
// real Prometheus started for the test that scrapes a faultline proxy server's /metrics.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ProxyCollection, startControlServer } from '../../src/index.js';
import { checkValue } from '../../src/probes/expect.js';
import { ProbeError } from '../../src/probes/probe-error.js';
import { prometheusQuery } from '../../src/probes/prometheus-query.js';
import { redisCommand } from '../../src/probes/redis-command.js';
import { sqlQuery } from '../../src/probes/sql-query.js';
import { freePort } from '../helpers/services.js';
import { needTool, TOOLS } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait-for.js';

const PG = process.env['FAULTLINE_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS = process.env['FAULTLINE_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

describe('SQL and Redis probes (real servers)', () => {
  it('runs a reconciliation-style SQL query and judges its value', async () => {
    const out = await sqlQuery({
      url: PG,
      query: "select count(*) from pg_database where datname = 'test'",
      timeoutMs: 5000,
    });
    assert.equal(
      checkValue(out.value, out.elapsedMs, { equals: 1 }).met,
      true,
      `value ${String(out.value)}`,
    );
    assert.equal(checkValue(out.value, out.elapsedMs, { equals: 0 }).met, false);
    assert.equal(out.rowCount, 1);
  });

  it('reports a failing SQL query as a probe error, without the password', async () => {
    await assert.rejects(
      sqlQuery({
        url: 'postgres://postgres:secret@127.0.0.1:5432/test',
        query: 'select * from no_such_table',
        timeoutMs: 5000,
      }),
      (err: unknown) => {
        assert.ok(err instanceof ProbeError);
        assert.match(err.message, /no_such_table/);
        assert.doesNotMatch(err.message, /secret/);
        return true;
      },
    );
  });

  it('sends a Redis command and judges the reply', async () => {
    const out = await redisCommand({ url: REDIS, command: ['PING'], timeoutMs: 2000 });
    assert.equal(out.value, 'PONG');
    assert.equal(
      checkValue(out.value, out.elapsedMs, { equals: 'PONG', latencyMs: 1000 }).met,
      true,
    );
  });

  it('reports an unreachable Redis as a probe error', async () => {
    const port = await freePort();
    await assert.rejects(
      redisCommand({ url: `redis://127.0.0.1:${port}`, command: ['PING'], timeoutMs: 1000 }),
      ProbeError,
    );
  });
});

describe(
  'Prometheus probe (a real Prometheus scraping faultline)',
  {
    skip: needTool(TOOLS.prometheus),
  },
  () => {
    let dir: string;
    let prometheus: ChildProcess;
    let promUrl: string;
    const collection = new ProxyCollection();
    let api: { url: string; close: () => Promise<void> };

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'faultline-prom-'));
      api = await startControlServer({ collection, host: '127.0.0.1', port: 0 });
      await collection.create({ name: 'scraped', upstream: '127.0.0.1:9' });
      const target = new URL(api.url).host;
      await writeFile(
        join(dir, 'prometheus.yml'),
        `global: { scrape_interval: 1s, evaluation_interval: 1s }\nscrape_configs:\n  - job_name: faultline\n    static_configs: [{ targets: ["${target}"] }]\n`,
      );
      const port = await freePort();
      promUrl = `http://127.0.0.1:${port}`;
      prometheus = spawn(
        '/usr/bin/prometheus',
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: 'ignore' },
      );
    });
    after(async () => {
      prometheus?.kill('SIGTERM');
      if (prometheus && prometheus.exitCode === null) await once(prometheus, 'exit');
      await api.close();
      await collection.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('queries PromQL and judges the first sample', { timeout: 60_000 }, async () => {
      // Wait until Prometheus has scraped faultline once (its first scrape comes within seconds).
      const out = await waitFor(
        'Prometheus to scrape faultline',
        async () => {
          const answer = await prometheusQuery({
            url: promUrl,
            query: 'faultline_proxy_enabled{proxy="scraped"}',
            timeoutMs: 2000,
          });
          return answer.series.length > 0 && answer;
        },
        { timeoutMs: 45_000, intervalMs: 250, ignoreErrors: true },
      );
      assert.equal(out.value, 1);
      assert.equal(out.series[0]!.metric['proxy'], 'scraped');
      assert.equal(checkValue(out.value, out.elapsedMs, { atLeast: 1 }).met, true);
      const scalar = await prometheusQuery({
        url: promUrl,
        query: 'scalar(vector(0.25))',
        timeoutMs: 2000,
      });
      assert.equal(scalar.value, 0.25);
      await assert.rejects(
        prometheusQuery({ url: promUrl, query: 'rate(', timeoutMs: 2000 }),
        ProbeError,
      );
    });
  },
);
