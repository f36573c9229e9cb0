// Blast-radius guardrails: each rule refuses what it should and lets the safe case through.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExperiment } from '../../run-plan/read-experiment.js';
import { checkGuardrails, checkSelection, podsHit, type GuardrailOptions } from './guardrails.js';

function experiment(
  target: string,
  extra = '',
  method = '  - { fault: pod-failure, target: api, duration: 30s }',
): string {
  return `
title: t
environment: staging
${extra}
targets:
  api: ${target}
  db: { type: kubernetes, namespace: shop-staging, selector: { app: db }, mode: all }
method:
${method}
`;
}

function issues(text: string, options: GuardrailOptions = {}): string[] {
  return checkGuardrails(parseExperiment(text, 'g.yaml'), options).map(
    (i) => `${i.path}: ${i.message}`,
  );
}

const SAFE = '{ type: kubernetes, namespace: shop, selector: { app: api, environment: staging } }';

describe('guardrails', () => {
  it('accepts one pod of a qualified selector in staging', () => {
    assert.deepEqual(issues(experiment(SAFE)), []);
  });

  const refused: {
    name: string;
    target: string;
    path: RegExp;
    options?: GuardrailOptions;
    extra?: string;
    method?: string;
  }[] = [
    {
      name: 'mode all',
      target:
        '{ type: kubernetes, namespace: shop, selector: { app: api, environment: staging }, mode: all }',
      path: /targets\.api\.mode/,
    },
    {
      name: 'more than 50 %',
      target:
        '{ type: kubernetes, namespace: shop, selector: { app: api, environment: staging }, mode: fixed-percent, value: "60" }',
      path: /targets\.api\.value/,
    },
    {
      name: 'a percent mode without value',
      target:
        '{ type: kubernetes, namespace: shop, selector: { app: api, environment: staging }, mode: random-max-percent }',
      path: /targets\.api\.value/,
    },
    {
      name: 'a value with mode one',
      target:
        '{ type: kubernetes, namespace: shop, selector: { app: api, environment: staging }, value: "3" }',
      path: /targets\.api\.value/,
    },
    {
      name: 'a fixed count that is not a number',
      target:
        '{ type: kubernetes, namespace: shop, selector: { app: api, environment: staging }, mode: fixed, value: "two" }',
      path: /targets\.api\.value/,
    },
    {
      name: 'an empty selector',
      target: '{ type: kubernetes, namespace: shop-staging, selector: {} }',
      path: /targets\.api\.selector/,
    },
    {
      name: 'a wildcard namespace',
      target: '{ type: kubernetes, namespace: "*", selector: { app: api, environment: staging } }',
      path: /targets\.api\.namespace/,
    },
    {
      name: 'no environment qualifier (the shared-tag escape)',
      target: '{ type: kubernetes, namespace: shop, selector: { service: product-service } }',
      path: /targets\.api\.selector: .*no environment qualifier/,
    },
    {
      name: 'a qualifier for another environment',
      target: '{ type: kubernetes, namespace: shop, selector: { app: api, env: qa } }',
      path: /targets\.api\.selector: .*"qa"/,
    },
    {
      name: 'production pods',
      target:
        '{ type: kubernetes, namespace: shop-production, selector: { app: api, environment: staging } }',
      path: /targets\.api\.selector: .*production/,
    },
    {
      name: 'a fault longer than the maximum',
      target: SAFE,
      extra: 'safety: { maxDuration: 1m }',
      method: '  - { fault: pod-failure, target: api, duration: 2m }',
      path: /method\[0\]\.duration/,
    },
    {
      name: 'a peer injected too (direction both) with mode all',
      target: SAFE,
      method: '  - { fault: partition, target: api, peer: db, direction: both, duration: 30s }',
      path: /targets\.db\.mode/,
    },
  ];
  for (const row of refused) {
    it(`refuses ${row.name}`, () => {
      const found = issues(experiment(row.target, row.extra, row.method), row.options);
      assert.ok(
        found.some((i) => row.path.test(i)),
        found.join('\n') || '(no issue)',
      );
    });
  }

  it('a peer only receiving traffic (direction to) may select all its pods', () => {
    assert.deepEqual(
      issues(
        experiment(
          SAFE,
          '',
          '  - { fault: latency, target: api, peer: db, delay: 1s, duration: 30s }',
        ),
      ),
      [],
    );
  });

  it('--allow-wide-blast accepts mode all and 60 %; --allow-production accepts production', () => {
    assert.deepEqual(
      issues(
        experiment(
          '{ type: kubernetes, namespace: shop, selector: { app: api, environment: staging }, mode: all }',
        ),
        { allowWideBlast: true },
      ),
      [],
    );
    assert.deepEqual(
      issues(
        experiment(
          '{ type: kubernetes, namespace: shop, selector: { app: api, environment: staging }, mode: fixed-percent, value: "60" }',
        ),
        { allowWideBlast: true },
      ),
      [],
    );
    const prod = experiment(
      '{ type: kubernetes, namespace: shop, selector: { app: api, environment: production } }',
    ).replace('environment: staging', 'environment: production');
    assert.ok(issues(prod).some((i) => i.startsWith('environment:')));
    assert.deepEqual(issues(prod, { allowProduction: true }), []);
  });

  it('needs the experiment to name its environment', () => {
    const found = issues(experiment(SAFE).replace('environment: staging\n', ''));
    assert.ok(
      found.some((i) => i.startsWith('environment:')),
      found.join('\n'),
    );
  });

  it('ignores experiments without kubernetes faults', () => {
    const text =
      'title: t\ntargets: { db: { type: proxy, upstream: "127.0.0.1:5432" } }\nmethod: [{ fault: latency, target: db, delay: 1s, duration: 1s }]\n';
    assert.deepEqual(issues(text), []);
  });
});

describe('selection against the pods a cluster reports', () => {
  const target = (
    mode: 'one' | 'all' | 'fixed' | 'fixed-percent' | 'random-max-percent',
    value?: string,
  ) => ({ type: 'kubernetes' as const, namespace: 'shop', selector: { app: 'api' }, mode, value });
  it('refuses an empty selection and a fixed count above half the pods', () => {
    assert.match(
      checkSelection(target('one'), 0) ?? '',
      /no pod matches app=api in namespace shop/,
    );
    assert.match(checkSelection(target('fixed', '3'), 4) ?? '', /more than 50 %/);
    assert.equal(checkSelection(target('fixed', '2'), 4), undefined);
    assert.equal(checkSelection(target('fixed', '3'), 4, { allowWideBlast: true }), undefined);
  });
  it('counts the pods a mode hits', () => {
    assert.equal(podsHit(target('one'), 5), 1);
    assert.equal(podsHit(target('all'), 5), 5);
    assert.equal(podsHit(target('fixed', '2'), 5), 2);
    assert.equal(podsHit(target('fixed-percent', '50'), 5), 2);
  });
});
