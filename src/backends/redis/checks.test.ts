// Load-time checks of the redis and rabbitmq families, through the experiment loader: every
// problem in one pass, each with its JSON path, line and column, and a hint.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError, type ValidationIssue } from '../../errors.js';
import { parseExperiment } from '../../run-plan/read-experiment.js';

function issues(text: string): ValidationIssue[] {
  try {
    parseExperiment(text, 'bad.yaml');
  } catch (err) {
    if (err instanceof ValidationError) return [...err.issues];
    throw err;
  }
  return [];
}

const BAD = `title: bad broker faults
targets:
  cache: { type: redis, url: "http://127.0.0.1:6379" }
  broker: { type: rabbitmq, url: "amqp://127.0.0.1:5672", node: "rabbit" }
method:
  - fault: redis-kill-clients
    target: cache
    duration: 10s
  - fault: redis-kill-clients
    target: cache
    duration: 2s
    match: { name: app }
    every: 5s
  - fault: redis-maxmemory
    target: cache
    duration: 10s
    maxmemory: 0MB
    policy: lru
  - fault: redis-maxmemory
    target: cache
    duration: 10s
    maxmemory: 150%
  - fault: rabbitmq-close-connections
    target: broker
    duration: 10s
    match: {}
    every: 10ms
`;

describe('redis and rabbitmq load-time checks', () => {
  it('reports every problem, located, with a hint', () => {
    const found = issues(BAD);
    const at = (path: string): ValidationIssue => {
      const issue = found.find((i) => i.path === path);
      assert.ok(issue, `an issue at ${path}; got ${found.map((i) => i.path).join(', ')}`);
      assert.ok(issue.hint, `a hint at ${path}`);
      assert.equal(issue.file, 'bad.yaml');
      return issue;
    };
    assert.match(at('targets.cache.url').message, /redis:\/\//);
    assert.equal(at('targets.cache.url').line, 3);
    assert.match(at('targets.broker.node').message, /Erlang node/);
    assert.match(at('method[0]').message, /needs match/);
    assert.equal(at('method[0]').line, 6);
    assert.match(at('method[1].every').message, /not shorter than the duration/);
    assert.match(at('method[2].maxmemory').message, /no limit/);
    assert.match(at('method[2].policy').message, /not a maxmemory-policy/);
    assert.match(at('method[3].maxmemory').message, /no pressure/);
    assert.match(at('method[4].match').message, /every connection/);
    assert.match(at('method[4].every').message, /too often/);
    assert.equal(found.length, 9, found.map((i) => `${i.path}: ${i.message}`).join('\n'));
  });

  it('accepts well-formed faults', () => {
    assert.deepEqual(
      issues(`title: ok
targets:
  cache: { type: redis, url: "redis://127.0.0.1:6379" }
  broker: { type: rabbitmq, node: "rabbit@localhost" }
method:
  - { fault: redis-pause, target: cache, duration: 5s, mode: write }
  - { fault: redis-kill-clients, target: cache, duration: 5s, match: { name: "app-*" }, every: 1s }
  - { fault: redis-maxmemory, target: cache, duration: 5s, maxmemory: 50%, policy: allkeys-lru }
  - { fault: rabbitmq-close-connections, target: broker, duration: 5s, match: { vhost: orders } }
  - { fault: rabbitmq-memory-alarm, target: broker, duration: 5s }
`),
      [],
    );
  });
});
