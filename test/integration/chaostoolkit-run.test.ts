// Chaos Toolkit experiments run by faultline's runner against real services: an HTTP service
// whose dependency sits behind a proxy on a `faultline proxy serve`-style server (in this
// process), driven through chaostoolkit-toxiproxy's functions. Where Chaos Toolkit would exit
// 0 (failed gate, failed action), faultline does not.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FaultProxy } from '../../src/index.js';
import type { Journal } from '../../src/journal/journal.js';
import { readPlan } from '../../src/run-plan/read-plan.js';
import { runExperiment } from '../../src/runner/runner.js';
import { startRemoteProxyStack } from '../helpers/services.js';

describe('Chaos Toolkit experiments through the runner', () => {
  let stack: Awaited<ReturnType<typeof startRemoteProxyStack>>;
  let dir: string;
  let api: { url: string };
  let service: Awaited<ReturnType<typeof startRemoteProxyStack>>['service'];
  let proxy: FaultProxy;

  before(async () => {
    stack = await startRemoteProxyStack('faultline-ctk-');
    ({ dir, api, service, proxy } = stack);
  });
  after(() => stack.close());

  let n = 0;
  async function run(experiment: Record<string, unknown>): Promise<Journal> {
    const file = join(dir, `ctk-${++n}.json`);
    await writeFile(file, JSON.stringify(experiment, null, 2));
    const plan = await readPlan(file, { env: {}, vars: { toxiproxy_url: api.url } });
    assert.equal(plan.format, 'chaostoolkit');
    return runExperiment(plan, { journalPath: join(dir, `journal-${n}.json`) });
  }

  const health = (tolerance: unknown): Record<string, unknown> => ({
    type: 'probe',
    name: 'service-healthy',
    tolerance,
    provider: { type: 'http', url: `${service.url}/health`, timeout: 3 },
  });

  it('runs http probes and chaostoxi toxics; the rollback deletes the toxic and it touched traffic', async () => {
    const journal = await run({
      title: 'service survives a slow database (${who})',
      description: 'latency toxic through chaostoolkit-toxiproxy',
      configuration: {
        who: 'ctk',
        slow: { type: 'env', key: 'FAULTLINE_TEST_UNSET', default: 150 },
      },
      'steady-state-hypothesis': {
        title: 'healthy',
        probes: [
          health([200]),
          {
            ...health({ type: 'jsonpath', path: '$.ok', expect: true, target: 'body' }),
            name: 'body-ok',
          },
        ],
      },
      method: [
        {
          type: 'action',
          name: 'slow-db',
          provider: {
            type: 'python',
            module: 'chaostoxi.toxic.actions',
            func: 'create_latency_toxic',
            arguments: { for_proxy: 'db', toxic_name: 'slow', latency: '${slow}' },
          },
        },
        {
          type: 'probe',
          name: 'still-answers',
          tolerance: 200,
          provider: { type: 'http', url: `${service.url}/health`, timeout: 3 },
        },
        {
          type: 'action',
          name: 'say',
          provider: { type: 'process', path: 'echo', arguments: ['hello', 1] },
        },
      ],
      rollbacks: [
        {
          type: 'action',
          name: 'fast-db',
          provider: {
            type: 'python',
            module: 'chaostoxi.toxic.actions',
            func: 'delete_toxic',
            arguments: { for_proxy: 'db', toxic_name: 'slow' },
          },
        },
      ],
    });
    assert.equal(journal.faultline.outcome, 'held', journal.faultline.reason);
    assert.equal(
      (journal.experiment as { title: string }).title,
      'service survives a slow database (ctk)',
    );
    assert.equal(journal.status, 'completed');
    const [fault] = journal.faultline.faults;
    assert.equal(fault?.state, 'removed');
    assert.ok(fault.touched && fault.touched.connections > 0);
    assert.deepEqual(
      journal.run.map((r) => r.name),
      ['slow', 'still-answers', 'say'],
      'the toxic is in run[] like the action that applied it',
    );
    assert.ok(
      (journal.run[1]?.output as { elapsedMs: number }).elapsedMs >= 150,
      'the probe saw the latency',
    );
    assert.equal((journal.run[2]?.output as { stdout: string }).stdout, 'hello 1\n');
    assert.equal(proxy.toxics.length, 0);
  });

  it('a gate that is not met exits non-zero (Chaos Toolkit: completed, exit 0) and injects nothing', async () => {
    const journal = await run({
      title: 'gate',
      description: 'd',
      'steady-state-hypothesis': { title: 'h', probes: [health([500])] },
      method: [
        {
          type: 'action',
          name: 'slow-db',
          provider: {
            type: 'python',
            module: 'chaostoxi.toxic.actions',
            func: 'create_latency_toxic',
            arguments: { for_proxy: 'db', toxic_name: 'slow', latency: 100 },
          },
        },
      ],
    });
    assert.equal(journal.faultline.exit_code, 4);
    assert.equal(journal.faultline.faults.length, 0);
    assert.equal(proxy.toxics.length, 0);
  });

  it('a failed method action fails the run (Chaos Toolkit: completed, exit 0), and the toxic is removed without a rollback', async () => {
    const journal = await run({
      title: 'failing action',
      description: 'd',
      method: [
        {
          type: 'action',
          name: 'slow-db',
          provider: {
            type: 'python',
            module: 'chaostoxi.toxic.actions',
            func: 'create_toxic',
            arguments: {
              for_proxy: 'db',
              toxic_name: 'cut',
              toxic_type: 'limit_data',
              attributes: { bytes: 10 },
            },
          },
        },
        {
          type: 'action',
          name: 'broken',
          provider: { type: 'process', path: '/nonexistent/tool' },
        },
      ],
    });
    assert.equal(journal.status, 'failed');
    assert.equal(journal.faultline.exit_code, 4);
    assert.equal(journal.run.at(-1)?.status, 'failed');
    assert.equal(journal.faultline.faults[0]?.state, 'removed');
    assert.equal(proxy.toxics.length, 0);
  });

  it('a deviation seen only during the method counts (Chaos Toolkit: exit 0 with during-method-only)', async () => {
    const journal = await run({
      title: 'during',
      description: 'd',
      runtime: { hypothesis: { strategy: 'during-method-only', frequency: 0.1 } },
      'steady-state-hypothesis': {
        title: 'h',
        probes: [
          {
            ...health(200),
            provider: { type: 'http', url: `${service.url}/health`, timeout: 0.3 },
          },
        ],
      },
      method: [
        {
          type: 'action',
          name: 'stall-db',
          provider: {
            type: 'python',
            module: 'chaostoxi.toxic.actions',
            func: 'create_latency_toxic',
            arguments: { for_proxy: 'db', toxic_name: 'stall', latency: 1000 },
          },
        },
        {
          type: 'action',
          name: 'wait',
          provider: { type: 'process', path: 'sleep', arguments: '0.6' },
        },
      ],
    });
    assert.equal(journal.deviated, true);
    assert.equal(journal.faultline.exit_code, 1);
    assert.equal(proxy.toxics.length, 0);
  });

  it("every chaostoxi function with its real argument names: proxies created, read, modified and deleted; limiter's bytes_limit", async () => {
    const toxi = (
      type: string,
      name: string,
      module: string,
      func: string,
      args: Record<string, unknown>,
      tolerance?: unknown,
    ) => ({
      type,
      name,
      ...(tolerance === undefined ? {} : { tolerance }),
      provider: { type: 'python', module: `chaostoxi.${module}`, func, arguments: args },
    });
    const [host, port] = stack.echo.address.split(':');
    const experiment = {
      title: 'chaostoxi proxy functions',
      description: 'create_proxy … delete_proxy against faultline proxy serve',
      method: [
        toxi('action', 'create', 'proxy.actions', 'create_proxy', {
          proxy_name: 'cache',
          upstream_host: host,
          upstream_port: Number(port),
          listen_port: 0,
        }),
        toxi('probe', 'exists', 'proxy.probes', 'proxy_exist', { proxy_name: 'cache' }, true),
        toxi(
          'probe',
          'enabled',
          'proxy.probes',
          'get_proxy_attribute',
          { proxy_name: 'cache', attribute: 'enabled' },
          true,
        ),
        toxi('action', 'modify', 'proxy.actions', 'modify_proxy', {
          proxy_name: 'cache',
          enabled: false,
        }),
        toxi('probe', 'disabled', 'proxy.probes', 'get_proxy_attribute', {
          proxy_name: 'cache',
          attribute: 'enabled',
        }),
        toxi('action', 'limit', 'toxic.actions', 'create_limiter_toxic', {
          for_proxy: 'db',
          toxic_name: 'cap',
          bytes_limit: 100000,
        }),
        toxi('probe', 'missing', 'proxy.probes', 'proxy_exist', { proxy_name: 'nope' }),
      ],
      rollbacks: [
        toxi('action', 'uncap', 'toxic.actions', 'delete_toxic', {
          for_proxy: 'db',
          toxic_name: 'cap',
        }),
        toxi('action', 'delete', 'proxy.actions', 'delete_proxy', { proxy_name: 'cache' }),
      ],
    };
    const file = join(dir, `ctk-${++n}.json`);
    await writeFile(file, JSON.stringify(experiment, null, 2));
    const plan = await readPlan(file, { env: {}, vars: { toxiproxy_url: api.url } });
    const limit = plan.method.find((s) => s.kind === 'fault');
    assert.deepEqual(
      limit?.kind === 'fault' && limit.effect.type === 'toxic'
        ? limit.effect.toxic.attributes
        : undefined,
      { bytes: 100000 },
      "bytes_limit is the toxic's bytes (not 0)",
    );
    const journal = await runExperiment(plan, { journalPath: join(dir, `journal-${n}.json`) });
    assert.equal(journal.status, 'completed', journal.faultline.reason);
    const out = Object.fromEntries(journal.run.map((r) => [r.name, r.output]));
    assert.equal(out['create'], true);
    assert.equal(out['exists'], true);
    assert.equal(out['enabled'], true);
    assert.equal(out['modify'], true);
    assert.equal(out['disabled'], false);
    assert.equal(out['missing'], false);
    assert.throws(() => stack.collection.get('cache'), 'delete_proxy removed it');
    assert.equal(proxy.toxics.length, 0);
  });
});
