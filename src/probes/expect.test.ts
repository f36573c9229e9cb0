import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkHttp, checkValue, monotonic } from './expect.js';

const http = (headers: Record<string, string>, body: unknown = '') => ({
  status: 200,
  headers,
  body,
  elapsedMs: 5,
});

describe('expectations', () => {
  it('freshness: a stale Last-Modified fails, a recent one passes, a missing one cannot pass', () => {
    const fresh = { header: 'last-modified', maxAgeMs: 30_000 };
    assert.equal(
      checkHttp(http({ 'last-modified': new Date(Date.now() - 5_000).toUTCString() }), { fresh })
        .met,
      true,
    );
    const stale = checkHttp(
      http({ 'last-modified': new Date(Date.now() - 3_600_000).toUTCString() }),
      { fresh },
    );
    assert.equal(stale.met, false);
    assert.match(stale.reason ?? '', /stale: last-modified is 360\d s old, expected at most 30 s/);
    assert.match(checkHttp(http({}), { fresh }).reason ?? '', /no date/);
  });

  it('freshness from a timestamp in the JSON body: ISO, epoch seconds or milliseconds', () => {
    const fresh = { header: 'last-modified', path: '$.data.updatedAt', maxAgeMs: 30_000 };
    const body = (updatedAt: unknown): unknown => ({ data: { updatedAt } });
    assert.equal(checkHttp(http({}, body(new Date().toISOString())), { fresh }).met, true);
    assert.equal(checkHttp(http({}, body(Math.floor(Date.now() / 1000))), { fresh }).met, true);
    const stale = checkHttp(http({}, body(Date.now() - 120_000)), { fresh });
    assert.equal(stale.met, false);
    assert.match(stale.reason ?? '', /stale: the body at \$\.data\.updatedAt is 1[12]\d s old/);
    assert.match(
      checkHttp(http({}, body(undefined)), { fresh }).reason ?? '',
      /no date in the body/,
    );
  });

  it('a monotonic counter must grow between checks', () => {
    const grows = monotonic('$.count');
    assert.equal(grows({ count: 1 }), undefined);
    assert.equal(grows({ count: 5 }), undefined);
    assert.match(grows({ count: 5 }) ?? '', /did not grow: 5 after 5/);
    assert.match(grows({}) ?? '', /no number/);
  });

  it('values: numeric strings compare as numbers; bounds and text', () => {
    assert.equal(checkValue('0', 1, { equals: 0 }).met, true);
    assert.equal(checkValue(3, 1, { below: 3 }).met, false);
    assert.equal(checkValue(3, 1, { atMost: 3, atLeast: 3 }).met, true);
    assert.equal(checkValue('PONG', 1, { regex: '^PO' }).met, true);
    assert.equal(checkValue('PONG', 500, { latencyMs: 100 }).met, false);
  });

  it('slowerThan: an answer must take at least that long (a latency fault shows)', () => {
    assert.equal(checkValue(1, 40, { slowerThanMs: 200 }).met, false);
    assert.equal(checkValue(1, 250, { slowerThanMs: 200 }).met, true);
    const fast = checkHttp(http({}), { slowerThanMs: 200 });
    assert.equal(fast.met, false);
    assert.match(fast.reason ?? '', /answered in 5 ms, expected to take at least 200 ms/);
    assert.equal(checkHttp({ ...http({}), elapsedMs: 300 }, { slowerThanMs: 200 }).met, true);
  });
});
