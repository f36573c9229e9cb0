import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseClientList, selectClients } from './clients.js';
import { maxmemoryBytes } from './size.js';

const LIST = [
  'id=3 addr=127.0.0.1:5001 laddr=127.0.0.1:6379 fd=8 name=app-1 age=1 idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 user=default resp=2',
  'id=4 addr=10.0.0.2:5002 laddr=127.0.0.1:6379 fd=9 name= age=1 idle=0 flags=N db=0 sub=1 psub=0 ssub=0 multi=-1 user=worker resp=2',
  'id=5 addr=127.0.0.1:5003 laddr=127.0.0.1:6379 fd=10 name=fl-run1-kill age=1 idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 user=default resp=2',
  'id=6 addr=127.0.0.1:5004 laddr=127.0.0.1:6379 fd=11 name= age=1 idle=0 flags=S db=0 sub=0 psub=0 ssub=0 multi=-1 user=default resp=2',
].join('\r\n');

describe('redis CLIENT LIST selection', () => {
  const clients = parseClientList(LIST);

  it('parses ids, names, users and types', () => {
    assert.deepEqual(
      clients.map((c) => [c.id, c.name, c.user, c.type]),
      [
        ['3', 'app-1', 'default', 'normal'],
        ['4', '', 'worker', 'pubsub'],
        ['5', 'fl-run1-kill', 'default', 'normal'],
        ['6', '', 'default', 'replica'],
      ],
    );
  });

  it("never selects faultline's own connections, nor replication links unless asked", () => {
    assert.deepEqual(
      selectClients(clients, undefined, 'fl-').map((c) => c.id),
      ['3', '4'],
    );
    assert.deepEqual(
      selectClients(clients, { type: 'replica' }, 'fl-').map((c) => c.id),
      ['6'],
    );
    assert.deepEqual(selectClients(clients, { name: 'fl-*' }, 'fl-'), []);
  });

  it('matches by name (exact or prefix*), user, address (ip or ip:port) and type', () => {
    assert.deepEqual(
      selectClients(clients, { name: 'app-*' }, 'fl-').map((c) => c.id),
      ['3'],
    );
    assert.deepEqual(selectClients(clients, { name: 'app' }, 'fl-'), []);
    assert.deepEqual(
      selectClients(clients, { user: 'worker' }, 'fl-').map((c) => c.id),
      ['4'],
    );
    assert.deepEqual(
      selectClients(clients, { address: '10.0.0.2' }, 'fl-').map((c) => c.id),
      ['4'],
    );
    assert.deepEqual(
      selectClients(clients, { address: '127.0.0.1:5001' }, 'fl-').map((c) => c.id),
      ['3'],
    );
    assert.deepEqual(
      selectClients(clients, { type: 'pubsub' }, 'fl-').map((c) => c.id),
      ['4'],
    );
  });
});

describe('redis maxmemory sizes', () => {
  it('reads binary units and percentages of used memory, never 0 (which means no limit)', () => {
    assert.equal(maxmemoryBytes('64MB', 0), 64 * 1024 * 1024);
    assert.equal(maxmemoryBytes('1.5KB', 0), 1536);
    assert.equal(maxmemoryBytes('50%', 2_000_000), 1_000_000);
    assert.equal(maxmemoryBytes('0B', 0), 1);
    assert.throws(() => maxmemoryBytes('lots', 0), /expected a size/);
  });
});
