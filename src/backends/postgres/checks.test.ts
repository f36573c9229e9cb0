import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { postgresStepIssues, postgresTargetIssues } from './checks.js';
import { poolTarget } from './pool-agent.js';

describe('postgres load-time checks', () => {
  it('pg-pool-exhaustion takes exactly one of connections and leave', () => {
    assert.match(
      postgresStepIssues({ fault: 'pg-pool-exhaustion' }, 'method[0]')[0]!.message,
      /needs connections or leave/,
    );
    assert.match(
      postgresStepIssues({ fault: 'pg-pool-exhaustion', connections: 2, leave: 1 }, 'method[0]')[0]!
        .message,
      /not both/,
    );
    assert.deepEqual(
      postgresStepIssues({ fault: 'pg-pool-exhaustion', leave: 0 }, 'method[0]'),
      [],
    );
    assert.deepEqual(
      postgresStepIssues({ fault: 'pg-pool-exhaustion', connections: 5 }, 'method[0]'),
      [],
    );
  });

  it('pg-terminate needs a criterion and a real address', () => {
    assert.equal(postgresStepIssues({ fault: 'pg-terminate', match: {} }, 'm')[0]!.path, 'm.match');
    assert.equal(
      postgresStepIssues({ fault: 'pg-terminate', match: { address: 'db.local' } }, 'm')[0]!.path,
      'm.match.address',
    );
    assert.deepEqual(
      postgresStepIssues({ fault: 'pg-terminate', match: { address: '10.0.0.0/8' } }, 'm'),
      [],
    );
  });

  it('pg-slow-queries takes table or statement, not both; pg-lock a non-empty table', () => {
    assert.equal(
      postgresStepIssues({ fault: 'pg-slow-queries', table: 't', statement: 'SELECT 1' }, 'm')[0]!
        .path,
      'm.statement',
    );
    assert.equal(
      postgresStepIssues({ fault: 'pg-slow-queries', statement: '  ' }, 'm')[0]!.path,
      'm.statement',
    );
    assert.equal(postgresStepIssues({ fault: 'pg-lock', table: '' }, 'm')[0]!.path, 'm.table');
  });

  it('a target URL must be postgres:// (a variable is checked once resolved)', () => {
    assert.equal(
      postgresTargetIssues({ url: 'mysql://x' }, 'targets.db')[0]!.path,
      'targets.db.url',
    );
    assert.deepEqual(postgresTargetIssues({ url: 'postgresql://u@h/d' }, 'targets.db'), []);
    assert.deepEqual(postgresTargetIssues({ url: '${dbUrl}' }, 'targets.db'), []);
  });
});

describe('pg-pool-exhaustion: how many to hold', () => {
  const figures = { maxConnections: 20, reserved: 3, inUse: 5, available: 12 };
  it('counts the agent’s own first session as a slot it keeps', () => {
    assert.deepEqual(poolTarget(figures, 1, { connections: 13 }), { hold: 13 });
    assert.deepEqual(poolTarget(figures, 1, { leave: 0 }), { hold: 13 });
    assert.deepEqual(poolTarget(figures, 1, { leave: 3 }), { hold: 10 });
  });
  it('refuses what would need a reserved slot, naming the figures', () => {
    const refused = poolTarget(figures, 1, { connections: 14 });
    assert.ok('refuse' in refused);
    assert.match(
      refused.refuse,
      /cannot hold 14 connections without taking reserved slots \(max_connections 20, 3 reserved for superusers, 4 in use by other sessions: 13 free\)/,
    );
    assert.ok('refuse' in poolTarget(figures, 1, { leave: 13 }));
  });
});
