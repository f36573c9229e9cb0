// defineExperiment() is typed from the zod schema: this file is type-checked by `tsc` (it is in
// tsconfig.json's include), so each `@ts-expect-error` below is a compile-time assertion — if a
// misspelt key or an unknown fault type ever compiled, tsc would report the directive as unused
// and the type check would fail. At run time it checks that the value is passed through as is.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineExperiment, planOf, type ExperimentInput } from '../../src/index.js';

const valid = {
  title: 'payments survive a slow database',
  targets: { db: { type: 'proxy', listen: '127.0.0.1:15432', upstream: '127.0.0.1:5432' } },
  method: [{ fault: 'latency', target: 'db', delay: '500ms', duration: '10s' }],
} satisfies ExperimentInput;

it('a typo fails to compile (checked by tsc); a valid experiment passes through unchanged', async () => {
  const experiment = defineExperiment(valid);
  assert.equal(experiment, valid, 'the same object, not a copy');

  const typos = (): unknown[] => [
    defineExperiment({
      ...valid,
      // @ts-expect-error -- a misspelt top-level key: `steadyState`
      steadyStat: {},
    }),
    defineExperiment({
      ...valid,
      // @ts-expect-error -- no such fault type: `latency`
      method: [{ fault: 'latancy', target: 'db', delay: '500ms', duration: '10s' }],
    }),
    defineExperiment({
      ...valid,
      // @ts-expect-error -- a proxy target has no `upstrem`
      targets: { db: { type: 'proxy', listen: '127.0.0.1:15432', upstrem: '127.0.0.1:5432' } },
    }),
    // @ts-expect-error -- `title` is required
    defineExperiment({ targets: valid.targets, method: valid.method }),
  ];
  assert.equal(typeof typos, 'function'); // never called: they exist for the type checker

  // What types cannot check (a target's name in a step) is the run's validation.
  const plan = await planOf(experiment, { env: {} });
  assert.equal(plan.title, valid.title);
  assert.equal(plan.method.length, 1);
});
