import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describeSession,
  globToLike,
  isAddressPattern,
  matchingSessionsQuery,
} from './sessions.js';

describe('pg-terminate selection', () => {
  it('turns globs into LIKE patterns, escaping LIKE wildcards', () => {
    assert.equal(globToLike('orders-*'), 'orders-%');
    assert.equal(globToLike('a_b%c?'), 'a\\_b\\%c_');
    assert.equal(globToLike('back\\slash'), 'back\\\\slash');
  });

  it('accepts addresses and networks, refuses anything else', () => {
    for (const ok of ['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/64'])
      assert.ok(isAddressPattern(ok), ok);
    for (const bad of ['localhost', '10.0.0.0/33', '1.2.3', '10.0.0.0/8/1', '::1/129', ''])
      assert.ok(!isAddressPattern(bad), bad);
  });

  it("builds one parameterised query: every criterion given, never faultline's own sessions nor the asking one", () => {
    const q = matchingSessionsQuery({
      application: 'app-*',
      user: 'shop',
      address: '127.0.0.1',
      database: 'orders',
    });
    assert.deepEqual(q.values, ['fl-%', 'app-%', 'shop', '127.0.0.1', 'orders']);
    assert.match(q.text, /application_name NOT LIKE \$1/);
    assert.match(q.text, /pid <> pg_backend_pid\(\)/);
    assert.match(q.text, /backend_type = 'client backend'/);
    assert.match(
      q.text,
      /application_name LIKE \$2 .*usename = \$3 .*client_addr <<= \$4::inet .*datname = \$5/,
    );
    assert.deepEqual(matchingSessionsQuery({ user: 'x' }).values, ['fl-%', 'x']);
  });

  it('describes a session for the journal', () => {
    assert.equal(
      describeSession({
        pid: 42,
        user: 'shop',
        address: '127.0.0.1',
        database: 'orders',
        application: 'api',
      }),
      '42 shop@127.0.0.1/orders api',
    );
    assert.equal(
      describeSession({ pid: 7, user: 'shop', address: null, database: 'orders', application: '' }),
      '7 shop@local/orders',
    );
  });
});
