import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkHttp, checkValue, monotonic } from './expect.js';

const http = (headers: Record<string, string>, body: unknown = '') => ({ status: 200, headers, body, elapsedMs: 5 });

describe('expectations', () => {
  it('freshness: a stale Last-Modified fails, a recent one passes, a missing one cannot pass', () => {
    const fresh = { header: 'last-modified', maxAgeMs: 30_000 };
    assert.equal(checkHttp(http({ 'last-modified': new Date(Date.now() - 5_000).toUTCString() }), { fresh }).met, true);
    const stale = checkHttp(http({ 'last-modified': new Date(Date.now() - 3_600_000).toUTCString() }), { fresh });
    assert.equal(stale.met, false);
    assert.match(stale.reason ?? '', /stale: last-modified is 360\d s old, expected at most 30 s/);
    assert.match(checkHttp(http({}), { fresh }).reason ?? '', /no date/);
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
});
