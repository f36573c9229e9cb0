import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActivityRun, Journal } from '../journal/journal.js';
import { hypothesisRows } from './hypotheses.js';

/** One threshold check as the runner journals it (src/runner/load-watch.ts `judge`). */
const threshold = (source: string, value: string, met: boolean): ActivityRun => ({
  activity: { type: 'threshold', threshold: source, window_ms: 1000, phase: 'during' },
  name: `load: ${source}`,
  output: { value },
  start: '',
  end: '',
  duration: 1,
  status: 'succeeded',
  tolerance_met: met,
});

const probe = (name: string, status: number, met: boolean): ActivityRun => ({
  activity: { type: 'probe', expect: { status: 200 } },
  name,
  output: { status, headers: {} },
  start: '',
  end: '',
  duration: 0.01,
  status: 'succeeded',
  tolerance_met: met,
});

function journalWith(during: ActivityRun[][]): Journal {
  return {
    steady_states: {
      before: null,
      after: null,
      during: during.map((probes) => ({ steady_state_met: false, probes })),
    },
    run: [],
  } as unknown as Journal;
}

describe('hypothesis rows: measured', () => {
  it('a threshold over an upper bound shows its worst window, not the first failing one', () => {
    const rows = hypothesisRows(
      journalWith(
        ['300.0 ms', '1045.0 ms', '1268.0 ms', '990.0 ms'].map((v, i) => [
          threshold('p99 < 400ms', v, i === 0),
        ]),
      ),
    );
    assert.equal(rows.length, 1);
    assert.deepEqual([rows[0]!.measured, rows[0]!.failed, rows[0]!.checks], ['1268.0 ms', 3, 4]);
  });

  it('under a lower bound the worst window is the lowest; "≥ N ms" waits compare by N', () => {
    const rps = hypothesisRows(
      journalWith(['80.0/s', '42.5/s', '61.0/s'].map((v) => [threshold('rps > 100', v, false)])),
    );
    assert.equal(rps[0]!.measured, '42.5/s');
    const waited = hypothesisRows(
      journalWith([
        [threshold('p99 < 2s', '2400.0 ms', false)],
        [
          threshold(
            'p99 < 2s',
            '≥ 3001.0 ms (nothing completed; the oldest request has waited that long)',
            false,
          ),
        ],
        [threshold('p99 < 2s', '2100.0 ms', false)],
      ]),
    );
    assert.match(waited[0]!.measured, /^≥ 3001\.0 ms/);
  });

  it('a probe shows its first failing check (what broke first)', () => {
    const rows = hypothesisRows(
      journalWith([
        [probe('health', 200, true)],
        [probe('health', 503, false)],
        [probe('health', 500, false)],
      ]),
    );
    assert.equal(rows[0]!.measured, 'HTTP 503');
  });
});
