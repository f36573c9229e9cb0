import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectConnections, type AmqpConnectionInfo } from './connections.js';

const CONNECTIONS: AmqpConnectionInfo[] = [
  {
    pid: '<rabbit@h.1.1.0>',
    name: '127.0.0.1:50001 -> 127.0.0.1:5672',
    user: 'guest',
    vhost: '/',
    clientName: 'orders-1',
  },
  {
    pid: '<rabbit@h.1.2.0>',
    name: '127.0.0.1:50002 -> 127.0.0.1:5672',
    user: 'billing',
    vhost: 'billing',
    clientName: undefined,
  },
  {
    pid: '<rabbit@h.1.3.0>',
    name: '127.0.0.1:50003 -> 127.0.0.1:5672',
    user: 'guest',
    vhost: '/',
    clientName: 'fl-run-probe',
  },
];

describe('rabbitmq connection selection', () => {
  it("selects by client name or broker name, user and vhost, never faultline's own", () => {
    const ids = (m: Parameters<typeof selectConnections>[1]): string[] =>
      selectConnections(CONNECTIONS, m).map((c) => c.name.slice(10, 15));
    assert.deepEqual(ids(undefined), ['50001', '50002']);
    assert.deepEqual(ids({ name: 'orders-*' }), ['50001']);
    assert.deepEqual(ids({ name: '127.0.0.1:50002 -> 127.0.0.1:5672' }), ['50002']);
    assert.deepEqual(ids({ user: 'guest' }), ['50001']);
    assert.deepEqual(ids({ vhost: 'billing' }), ['50002']);
    assert.deepEqual(ids({ name: 'fl-*' }), []);
  });
});
