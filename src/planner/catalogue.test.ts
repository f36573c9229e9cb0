import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { parseArchitecture } from './architecture-read.js';
import {
  buildCatalogue,
  FAILURE_FAMILIES,
  FAILURE_MODE,
  WEIGHTS,
  type Scenario,
} from './catalogue.js';

const fintechText = readFileSync(
  new URL('../../examples/architectures/fintech.yaml', import.meta.url),
  'utf8',
);
const fintech = parseArchitecture(fintechText, 'fintech.yaml');

/** A family's variant anywhere in the catalogue, by its own id (`pool-exhaustion:a->b`). */
function variant(catalogue: readonly Scenario[], id: string): Scenario['variants'][number] {
  const found = catalogue.flatMap((s) => s.variants).find((v) => v.id === id);
  assert.ok(found, `no variant ${id}`);
  return found;
}

/** The parts of the fintech file's data that the edits below touch. */
interface FintechDoc {
  services: Record<string, { dependsOn: { on: string }[] }>;
  dependencies: Record<string, object>;
}

/** The fintech file with one edit applied to its data. */
function edited(edit: (doc: FintechDoc) => void): ReturnType<typeof parseArchitecture> {
  const doc = parse(fintechText) as FintechDoc;
  edit(doc);
  return parseArchitecture(stringify(doc), 'edited.yaml');
}

describe('buildCatalogue', () => {
  const catalogue = buildCatalogue(fintech);

  it('puts payment-service → PostgreSQL timeout and the Redis outage on top for the fintech example', () => {
    assert.deepEqual(
      catalogue.slice(0, 2).map((s) => s.id),
      ['slow-dependency:payment-service->postgresql', 'dependency-outage:redis'],
    );
    assert.equal(catalogue[0]!.family, 'dependency-timeout');
  });

  it('makes one row per failure mode and component, its variants scored on their own', () => {
    const ids = catalogue.map((s) => `${s.mode}|${s.component}`);
    assert.equal(new Set(ids).size, ids.length);
    const first = catalogue[0]!;
    assert.deepEqual(
      first.variants.map((v) => [v.family, v.score]),
      [
        ['dependency-timeout', 83.1],
        ['pool-exhaustion', 77.1],
      ],
    );
    for (const s of catalogue) {
      assert.equal(s.variants[0]!.id.split(':')[0], s.family, s.id);
      assert.equal(s.score, s.variants[0]!.score, s.id);
      for (const v of s.variants) assert.equal(FAILURE_MODE[v.family], s.mode, v.id);
      for (let i = 1; i < s.variants.length; i++)
        assert.ok(s.variants[i - 1]!.score >= s.variants[i]!.score, s.id);
    }
    // payment-service → redis: a timeout, an exhausted pool and the incident's retry storm, one row.
    const redis = catalogue.find((s) => s.id === 'slow-dependency:payment-service->redis')!;
    assert.deepEqual(redis.variants.map((v) => v.family).sort(), [
      'dependency-timeout',
      'pool-exhaustion',
      'retry-storm',
    ]);
  });

  it('scores every scenario as the sum of its four weighted parts', () => {
    assert.equal(WEIGHTS.impact + WEIGHTS.reach + WEIGHTS.likelihood + WEIGHTS.exposure, 100);
    for (const s of catalogue) {
      const sum =
        s.parts.impact.points +
        s.parts.reach.points +
        s.parts.likelihood.points +
        s.parts.exposure.points;
      assert.ok(Math.abs(sum - s.score) < 1e-9, `${s.id}: ${sum} vs ${s.score}`);
      for (const [factor, part] of Object.entries(s.parts)) {
        assert.ok(part.value >= 0 && part.value <= 1, `${s.id} ${factor}`);
        assert.equal(
          part.points,
          Math.round(part.value * part.weight * 10) / 10,
          `${s.id} ${factor}`,
        );
        assert.ok(part.why.length > 0);
      }
    }
    for (let i = 1; i < catalogue.length; i++)
      assert.ok(catalogue[i - 1]!.score >= catalogue[i]!.score);
  });

  it('covers every failure family on the fintech example', () => {
    const families = new Set(catalogue.flatMap((s) => s.variants.map((v) => v.family)));
    assert.deepEqual(
      [...FAILURE_FAMILIES].filter((f) => !families.has(f)),
      [],
    );
  });

  it('gives the same ranking for the same file', () => {
    assert.deepEqual(
      buildCatalogue(fintech).map((s) => [s.id, s.score]),
      catalogue.map((s) => [s.id, s.score]),
    );
  });

  it('moves a scenario down when its mitigations are declared', () => {
    const mitigated = buildCatalogue(
      edited((doc) => {
        const edge = doc.services['payment-service']!.dependsOn.find((d) => d.on === 'postgresql');
        Object.assign(edge!, {
          timeout: '1s',
          circuitBreaker: true,
          fallback: 'queue the payment',
        });
      }),
    );
    const after = variant(mitigated, 'dependency-timeout:payment-service->postgresql');
    assert.equal(after.parts.exposure.points, 0);
    const row = mitigated.find((s) => s.id === 'slow-dependency:payment-service->postgresql')!;
    assert.ok(row.rank > 1, `rank ${row.rank}`);
    assert.deepEqual(row.broken, []);
    assert.deepEqual(row.degraded, ['payment-service']);
  });

  it('follows the declared replicas and failover in the outage likelihood', () => {
    const redis = (arch: ReturnType<typeof parseArchitecture>) =>
      buildCatalogue(arch).find((s) => s.id === 'dependency-outage:redis')!;
    const single = redis(fintech);
    const replicated = redis(
      edited((doc) => Object.assign(doc.dependencies['redis']!, { replicas: 3, failover: true })),
    );
    assert.equal(single.parts.likelihood.value, 0.6);
    assert.equal(replicated.parts.likelihood.value, 0.12);
    assert.ok(replicated.score < single.score);
  });

  it("uses Little's law on declared pools and traffic", () => {
    const pool = variant(catalogue, 'pool-exhaustion:payment-service->postgresql');
    assert.match(pool.parts.likelihood.why, /20 connections \/ 25 req\/s = 800ms/);
  });
});
