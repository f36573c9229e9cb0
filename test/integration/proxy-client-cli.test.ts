// `faultline proxy list | create | delete | toggle | inspect | toxic add/update/remove` against a
// real faultline proxy server on port 0: toxiproxy-cli's commands and flags, checked on the
// server's own state, and the server's refusals shown with its message and exit code 2.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ProxyCollection } from '../../src/engines/proxy/proxy-collection.js';
import { startControlServer, type ControlServer } from '../../src/engines/proxy/api/server.js';
import { runCli } from '../helpers/cli.js';

describe('faultline proxy client subcommands', () => {
  let collection: ProxyCollection;
  let api: ControlServer;
  const cli = (argv: string[], env: NodeJS.ProcessEnv = { TOXIPROXY_URL: api.url }) =>
    runCli(['proxy', ...argv], { env });

  before(async () => {
    collection = new ProxyCollection({ seed: 1 });
    api = await startControlServer({ collection, port: 0 });
  });
  after(async () => {
    await api.close();
    await collection.close();
  });

  it('create, list, inspect, toggle and delete a proxy', async () => {
    const created = await cli(['create', '-l', '127.0.0.1:0', '-u', '127.0.0.1:5432', 'pg']);
    assert.equal(created.code, 0, created.stderr);
    const listen = collection.get('pg').toJSON().listen;
    assert.match(created.stdout, new RegExp(`created proxy pg: ${listen} → 127\\.0\\.0\\.1:5432`));

    const listed = await cli(['list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^NAME\s+LISTEN\s+UPSTREAM\s+ENABLED\s+TOXICS$/m);
    assert.match(
      listed.stdout,
      new RegExp(`^pg\\s+${listen}\\s+127\\.0\\.0\\.1:5432\\s+enabled\\s+none$`, 'm'),
    );

    const json = await cli(['ls', '--json']);
    assert.deepEqual(Object.keys(JSON.parse(json.stdout) as object), ['pg']);

    const toggled = await cli(['toggle', 'pg']);
    assert.equal(toggled.code, 0, toggled.stderr);
    assert.match(toggled.stdout, /proxy pg is now disabled/);
    assert.equal(collection.get('pg').toJSON().enabled, false);
    await cli(['tog', 'pg']);
    assert.equal(collection.get('pg').toJSON().enabled, true);

    const inspected = await cli(['inspect', 'pg']);
    assert.match(
      inspected.stdout,
      /^pg: .* enabled\nupstream toxics: none\ndownstream toxics: none$/m,
    );

    const deleted = await cli(['delete', 'pg']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(collection.has('pg'), false);
  });

  it("runs the brief's toxiproxy-cli step as written: toxic add -t latency -a latency=30000", async () => {
    await collection.create({
      name: 'postgres_proxy',
      listen: '127.0.0.1:0',
      upstream: '127.0.0.1:5432',
    });
    const added = await cli([
      'toxic',
      'add',
      '-t',
      'latency',
      '-a',
      'latency=30000',
      'postgres_proxy',
    ]);
    assert.equal(added.code, 0, added.stderr);
    const [toxic] = collection.get('postgres_proxy').toJSON().toxics;
    assert.equal(toxic?.name, 'latency_downstream');
    assert.equal(toxic.stream, 'downstream');
    assert.equal(toxic.attributes['latency'], 30000);
    assert.match(
      added.stdout,
      /added downstream latency toxic latency_downstream on proxy postgres_proxy/,
    );

    const updated = await cli([
      'toxic',
      'update',
      '-n',
      'latency_downstream',
      '-a',
      'jitter=50',
      '--tox',
      '0.5',
      'postgres_proxy',
    ]);
    assert.equal(updated.code, 0, updated.stderr);
    const after = collection.get('postgres_proxy').toJSON().toxics[0]!;
    assert.deepEqual(
      [after.attributes['latency'], after.attributes['jitter'], after.toxicity],
      [30000, 50, 0.5],
    );

    const upstream = await cli([
      't',
      'a',
      '-t',
      'bandwidth',
      '-n',
      'slow',
      '--upstream',
      '-a',
      'rate=100',
      '--toxicity',
      '1',
      'postgres_proxy',
    ]);
    assert.equal(upstream.code, 0, upstream.stderr);
    const inspected = await cli(['inspect', 'postgres_proxy']);
    assert.match(inspected.stdout, /upstream toxics:\n {2}slow: bandwidth rate=100 toxicity=1\n/);
    assert.match(
      inspected.stdout,
      /downstream toxics:\n {2}latency_downstream: latency latency=30000 jitter=50 toxicity=0\.5/,
    );

    for (const name of ['latency_downstream', 'slow']) {
      const removed = await cli(['toxic', 'remove', '-n', name, 'postgres_proxy']);
      assert.equal(removed.code, 0, removed.stderr);
    }
    assert.deepEqual(collection.get('postgres_proxy').toJSON().toxics, []);
    await collection.remove('postgres_proxy');
  });

  it("shows the server's refusal with its message and exits 2", async () => {
    const missing = await cli(['delete', 'nope']);
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /^faultline: DELETE http:\/\/\S+\/proxies\/nope: proxy not found$/m,
    );

    await collection.create({ name: 'p', listen: '127.0.0.1:0', upstream: '127.0.0.1:5432' });
    const badType = await cli(['toxic', 'add', '-t', 'bogus', 'p']);
    assert.equal(badType.code, 2);
    assert.match(badType.stderr, /invalid toxic type\n {2}hint: expected one of .*latency/);
    const badAttribute = await cli(['toxic', 'add', '-t', 'latency', '-a', 'latency', 'p']);
    assert.equal(badAttribute.code, 2);
    assert.match(badAttribute.stderr, /-a latency is not key=value/);
    const noName = await cli(['toxic', 'remove', 'p']);
    assert.equal(noName.code, 2);
    assert.match(noName.stderr, /needs the toxic's name: -n NAME/);
    await collection.remove('p');
  });

  it('--host wins over TOXIPROXY_URL, and an unreachable server is an environment failure (70)', async () => {
    const viaFlag = await cli(['list', '--host', api.url], { TOXIPROXY_URL: 'http://127.0.0.1:9' });
    assert.equal(viaFlag.code, 0, viaFlag.stderr);
    const withoutScheme = await cli(['list', '--host', api.url.replace('http://', '')], {});
    assert.equal(withoutScheme.code, 0, withoutScheme.stderr);
    const down = await cli(['list'], { TOXIPROXY_URL: 'http://127.0.0.1:9' });
    assert.equal(down.code, 70);
    assert.match(
      down.stderr,
      /GET http:\/\/127\.0\.0\.1:9\/proxies: .*\n {2}hint: is the proxy server running/,
    );
  });
});
