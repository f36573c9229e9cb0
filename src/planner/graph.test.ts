import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArchitecture } from './architecture-read.js';
import { DependencyGraph, findCycles } from './graph.js';

// gateway → auth → cache; gateway → pay → db; pay → fraud (with a fallback); pay → queue (async)
const ARCH = `
name: t
environment: staging
services:
  gateway: { criticality: critical, replicas: 2, dependsOn: [{ on: auth }, { on: pay }, { on: reports }] }
  auth: { criticality: critical, replicas: 2, dependsOn: [{ on: cache }] }
  pay: { criticality: critical, revenueImpact: direct, replicas: 2, dependsOn: [{ on: db }, { on: fraud, fallback: approve small ones }, { on: queue, mode: async }] }
  fraud: { criticality: high, replicas: 1 }
  reports: { criticality: low, replicas: 1, dependsOn: [{ on: db }] }
  worker: { criticality: medium, replicas: 1, dependsOn: [{ on: queue, mode: async, consumes: true }] }
dependencies:
  cache: { kind: cache, address: "127.0.0.1:6379" }
  db: { kind: database, address: "127.0.0.1:5432" }
  queue: { kind: queue }
  dns: { kind: dns, usedBy: all }
criticalPaths:
  - { name: pay, steps: [gateway, auth, pay, db], criticality: critical, revenueImpact: direct }
`;
const graph = new DependencyGraph(parseArchitecture(ARCH, 't.yaml'));

describe('DependencyGraph', () => {
  it('spreads a failure against sync edges, stops at fallbacks, delays async users', () => {
    const db = graph.impair({ nodes: ['db'] });
    assert.deepEqual([...db.broken].sort(), ['gateway', 'pay', 'reports']);
    const fraud = graph.impair({ nodes: ['fraud'] });
    assert.deepEqual([...fraud.broken], ['fraud']);
    assert.deepEqual([...fraud.degraded], ['pay']);
    const queue = graph.impair({ nodes: ['queue'] });
    assert.deepEqual([...queue.broken], []);
    assert.deepEqual([...queue.delayed].sort(), ['pay', 'worker']);
  });

  it('adds usedBy edges for every service when usedBy is all', () => {
    assert.equal(graph.dependentsOf('dns').length, 6);
    assert.ok(graph.dependentsOf('dns').every((e) => e.implicit));
  });

  it('breaks a path on it, or through a step after the entry, but not through the entry losing a route', () => {
    const onPath = graph.impair({ nodes: ['db'] });
    assert.deepEqual(
      graph.brokenPaths({ nodes: ['db'] }, onPath).map((b) => b.how),
      ['on'],
    );
    const cache = graph.impair({ nodes: ['cache'] });
    assert.deepEqual(
      graph.brokenPaths({ nodes: ['cache'] }, cache).map((b) => b.how),
      ['through'],
    );
    // reports failing breaks the gateway's route to it, not the pay path through the gateway
    const reports = graph.impair({ nodes: ['reports'] });
    assert.ok(reports.broken.has('gateway'));
    assert.deepEqual(graph.brokenPaths({ nodes: ['reports'] }, reports), []);
  });

  it('takes each hop from the nearest earlier step that depends on it', () => {
    const path = graph.architecture.criticalPaths[0]!;
    assert.deepEqual(graph.hops(path), [
      { from: 'gateway', to: 'auth' },
      { from: 'gateway', to: 'pay' },
      { from: 'pay', to: 'db' },
    ]);
  });

  it('counts transitive sync dependents as the reach', () => {
    assert.deepEqual([...graph.transitiveDependents(['cache'])].sort(), ['auth', 'gateway']);
    assert.deepEqual([...graph.transitiveDependents(['pay'])].sort(), ['gateway', 'pay']);
  });
});

describe('findCycles', () => {
  const edges = (
    list: Array<[string, string]>,
  ): Map<string, Array<{ from: string; to: string }>> => {
    const map = new Map<string, Array<{ from: string; to: string }>>();
    for (const [from, to] of list) map.set(from, [...(map.get(from) ?? []), { from, to }]);
    return map;
  };

  it('names each cycle once, whatever node it is entered from', () => {
    const found = findCycles(
      edges([
        ['a', 'b'],
        ['b', 'c'],
        ['c', 'a'],
        ['d', 'b'],
      ]),
    );
    assert.deepEqual(
      found.map((f) => f.cycle.join(' → ')),
      ['a → b → c → a'],
    );
  });

  it('finds two cycles sharing a node, and none in a DAG', () => {
    assert.equal(
      findCycles(
        edges([
          ['a', 'b'],
          ['b', 'a'],
          ['b', 'c'],
          ['c', 'b'],
        ]),
      ).length,
      2,
    );
    assert.deepEqual(
      findCycles(
        edges([
          ['a', 'b'],
          ['a', 'c'],
          ['b', 'c'],
        ]),
      ),
      [],
    );
  });
});
