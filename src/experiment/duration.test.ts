import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration, parsePercentage, parseRate } from './duration.js';

describe('duration literals', () => {
  const cases: Array<[string, number | undefined]> = [
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1.5h', 5_400_000],
    ['0s', 0],
    ['30', undefined],
    ['30 s', undefined],
    ['-1s', undefined],
    ['1d', undefined],
    ['s', undefined],
  ];
  for (const [text, expected] of cases) {
    it(`parses ${JSON.stringify(text)} as ${String(expected)}`, () => {
      assert.equal(parseDuration(text), expected);
    });
  }

  it('formats milliseconds as the shortest exact literal and parses back', () => {
    for (const ms of [1, 999, 1000, 1500, 60_000, 90_000, 3_600_000]) {
      assert.equal(parseDuration(formatDuration(ms)), ms);
    }
    assert.equal(formatDuration(120_000), '2m');
    assert.equal(formatDuration(1500), '1500ms');
  });
});

describe('percentage literals', () => {
  it('turns percentages into fractions and refuses values above 100 %', () => {
    assert.equal(parsePercentage('5%'), 0.05);
    assert.equal(parsePercentage('100%'), 1);
    assert.equal(parsePercentage('0.5%'), 0.005);
    assert.equal(parsePercentage('101%'), undefined);
    assert.equal(parsePercentage('5'), undefined);
  });
});

describe('rate literals', () => {
  it('uses decimal units as Toxiproxy does (1 KB = 1000 B)', () => {
    assert.equal(parseRate('100KB/s'), 100_000);
    assert.equal(parseRate('10MB/s'), 10_000_000);
    assert.equal(parseRate('512B/s'), 512);
    assert.equal(parseRate('1GB/s'), 1e9);
    assert.equal(parseRate('10 MB/s'), undefined);
    assert.equal(parseRate('10Mb/s'), undefined);
  });
});
