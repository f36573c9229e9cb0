import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateTolerance } from './tolerance.js';
import { jsonPath } from '../shared/json-path.js';

const signal = new AbortController().signal;
const check = async (tolerance: unknown, output: unknown): Promise<boolean> =>
  (await evaluateTolerance(tolerance, output, undefined, signal)).met;

describe('Chaos Toolkit tolerances', () => {
  it('bool, int against a status dict or a value, string equality', async () => {
    assert.equal(await check(true, true), true);
    assert.equal(await check(true, 1), true, 'Python: True == 1');
    assert.equal(await check(false, true), false);
    assert.equal(await check(0, { status: 0, stdout: '', stderr: '' }), true);
    assert.equal(await check(200, { status: 503, headers: {}, body: '' }), false);
    assert.equal(await check(3, 3), true);
    assert.equal(await check('OK', 'OK'), true);
    assert.equal(await check('OK', 'OK!'), false, 'no regex');
  });

  it('lists: membership for status dicts even with two elements, an inclusive range otherwise', async () => {
    assert.equal(await check([200, 301], { status: 301 }), true);
    assert.equal(
      await check([200, 301], { status: 250 }),
      false,
      'two elements on a status dict is membership, not a range',
    );
    assert.equal(await check([4, 9], 9), true, 'inclusive range');
    assert.equal(await check([4, 9], 10), false);
    assert.equal(await check([4, 9], '5'), true);
    assert.equal(await check(['a', 'b', 'c'], 'b'), true);
  });

  it('floats and null compare by equality (Chaos Toolkit rejects them)', async () => {
    assert.equal(await check(0.5, 0.5), true);
    assert.equal(await check(null, null), true);
    assert.equal(await check(0.5, 0.6), false);
  });

  it('regex with a target, and a default target that never crashes', async () => {
    assert.equal(
      await check(
        { type: 'regex', pattern: '[0-9]{3}', target: 'body' },
        { status: 200, body: 'id 123' },
      ),
      true,
    );
    assert.equal(
      await check(
        { type: 'regex', pattern: '^hello', target: 'stdout' },
        { status: 0, stdout: 'hello\n', stderr: '' },
      ),
      true,
    );
    // Chaos Toolkit crashes the run here (no target on a dict output); faultline searches stdout.
    assert.equal(
      await check(
        { type: 'regex', pattern: 'hello' },
        { status: 0, stdout: 'say hello', stderr: '' },
      ),
      true,
    );
    assert.equal(await check({ type: 'regex', pattern: 'x' }, 'y'), false);
  });

  it('range over a target, with numeric strings', async () => {
    assert.equal(
      await check(
        { type: 'range', range: [4.6, 8.9], target: 'body' },
        { status: 200, body: '5.1' },
      ),
      true,
    );
    assert.equal(
      await check(
        { type: 'range', range: [4.6, 8.9], target: 'body' },
        { status: 200, body: 'five' },
      ),
      false,
    );
  });

  it('jsonpath: any match, count, scalar and list expect', async () => {
    const body = { foo: [{ baz: 4 }, { baz: 4 }, { baz: 5 }] };
    assert.equal(
      await check(
        { type: 'jsonpath', path: '$.foo[*].baz', target: 'body' },
        { status: 200, body },
      ),
      true,
    );
    assert.equal(
      await check(
        { type: 'jsonpath', path: '$.foo[*].baz', count: 3, target: 'body' },
        { status: 200, body },
      ),
      true,
    );
    assert.equal(
      await check(
        { type: 'jsonpath', path: '$.foo[0].baz', expect: 4, target: 'body' },
        { status: 200, body },
      ),
      true,
    );
    assert.equal(
      await check(
        { type: 'jsonpath', path: '$.foo[*].baz', expect: [4, 4, 5], target: 'body' },
        { status: 200, body },
      ),
      true,
    );
    assert.equal(
      await check(
        { type: 'jsonpath', path: '$.nope', target: 'body' },
        { status: 200, body: JSON.stringify(body) },
      ),
      false,
    );
    assert.deepEqual(jsonPath({ a: { b: 1, c: { b: 2 } } }, '$..b'), [1, 2]);
    assert.deepEqual(jsonPath({ 'a-b': [1, 2] }, "$['a-b'][1]"), [2]);
  });

  it('never throws: a broken tolerance is "not met" with a reason', async () => {
    const verdict = await evaluateTolerance(
      { type: 'jsonpath', path: 'no-dollar', target: 'body' },
      { body: '{}' },
      undefined,
      signal,
    );
    assert.equal(verdict.met, false);
    assert.match(verdict.reason ?? '', /could not be evaluated/);
    const probe = await evaluateTolerance(
      { type: 'probe', name: 'p', provider: { type: 'process', path: 'true' } },
      1,
      undefined,
      signal,
    );
    assert.equal(probe.met, false);
  });
});
