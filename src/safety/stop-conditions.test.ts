// The stop-condition monitor's rules on signals, with scripted checks (the real sources are in
// test/serial/stop-conditions.test.ts): the check before the first fault, `for`, the failed
// checks that stop a run (onError: stop) or do not (continue), checks that never overlap, and
// checks cancelled when the run ends.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PlannedStopCondition, StopReading } from '../run-plan/plan.js';
import { ERROR_LIMIT, StopConditionMonitor, type Breach } from './stop-conditions.js';
import { waitFor } from '../../test/helpers/wait-for.js';

type Step = StopReading | Error;

/** A condition whose checks answer `steps` in turn (the last one again after that). */
function scripted(
  steps: Step[],
  overrides: Partial<PlannedStopCondition> = {},
): PlannedStopCondition & { calls: number; inFlight: number; maxInFlight: number } {
  const condition = {
    name: 'c',
    kind: 'http' as const,
    describe: 'scripted',
    everyMs: 100,
    forMs: 0,
    timeoutMs: 10_000,
    onError: 'stop' as const,
    source: {},
    calls: 0,
    inFlight: 0,
    maxInFlight: 0,
    async evaluate(signal: AbortSignal): Promise<StopReading> {
      const step = steps[Math.min(condition.calls, steps.length - 1)]!;
      condition.calls++;
      condition.inFlight++;
      condition.maxInFlight = Math.max(condition.maxInFlight, condition.inFlight);
      try {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (signal.aborted) throw signal.reason;
        if (step instanceof Error) throw step;
        return step;
      } finally {
        condition.inFlight--;
      }
    },
    ...overrides,
  };
  return condition;
}

const ok: StopReading = { breached: false, value: 'fine' };
const bad: StopReading = { breached: true, value: 'broken' };
const down = new Error('ECONNREFUSED');

function watch(condition: PlannedStopCondition): {
  monitor: StopConditionMonitor;
  breach: Promise<Breach>;
  warnings: string[];
} {
  const warnings: string[] = [];
  let fire!: (b: Breach) => void;
  const breach = new Promise<Breach>((resolve) => (fire = resolve));
  const monitor = new StopConditionMonitor([], undefined, fire, {
    signals: [condition],
    onWarning: (m) => warnings.push(m),
  });
  return { monitor, breach, warnings };
}

const within = <T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> =>
  Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);

describe('StopConditionMonitor on signals', () => {
  it('a breach at the first check fires before start() returns: no fault is applied', async () => {
    const { monitor, breach } = watch(scripted([bad]));
    let fired = false;
    void breach.then(() => (fired = true));
    await monitor.start();
    await Promise.resolve();
    assert.equal(fired, true);
    const b = await breach;
    assert.equal(b.condition, 'c');
    assert.equal(b.value, 'broken');
    assert.equal(b.details?.['kind'], 'http');
    assert.equal(monitor.records[0]!.state, 'breached');
  });

  it('for: fires only once every check has breached for that long', async () => {
    const condition = scripted([ok, bad], { forMs: 300 });
    const { monitor, breach } = watch(condition);
    const started = performance.now();
    await monitor.start();
    const b = await breach;
    const since = Date.parse(String(b.details?.['breaching_since']));
    assert.ok(Date.parse(b.measurable_at) - since >= 300, 'breaching for 300 ms at least');
    assert.ok(performance.now() - started >= 300);
    // ok, then two breached checks 300 ms apart at the least (more when the checks run on time:
    // a process short of CPU, as the unit group in the idle class can be, checks less often).
    assert.ok(condition.calls >= 3, `${condition.calls} checks`);
    monitor.stop();
  });

  it('a failed check breaks a `for`: the breach must be seen lasting', async () => {
    const condition = scripted([bad, bad, down, bad, bad, bad, bad, bad, bad], { forMs: 250 });
    const { monitor, breach } = watch(condition);
    await monitor.start();
    await breach;
    // bad at 0, 100 ms; unknown at 200 ms; bad again from 300 ms: on time it fires at ≥ 550 ms
    // (the 7th check), not 250 ms. Whatever the timing, the streak starts after the failed 3rd
    // check and needs two breached checks: the 5th at the earliest (a kept streak would fire at
    // the 4th, or the 2nd when the checks come late).
    assert.ok(condition.calls >= 5, `${condition.calls} checks before the breach`);
    assert.equal(monitor.records[0]!.errors, 1);
    monitor.stop();
  });

  it(`onError: stop — the first check failing stops at once; later, ${ERROR_LIMIT} in a row`, async () => {
    const first = watch(scripted([down]));
    await first.monitor.start();
    const b = await first.breach;
    assert.match(b.value, /could not be evaluated before the method: ECONNREFUSED/);
    assert.equal(b.details?.['unevaluable'], true);

    const later = scripted([ok, down, ok, down, down, down]);
    const second = watch(later);
    await second.monitor.start();
    const b2 = await second.breach;
    assert.match(b2.value, new RegExp(`could not be evaluated ${ERROR_LIMIT} times in a row`));
    const record = second.monitor.records[0]!;
    assert.equal(record.errors, 4);
    assert.deepEqual(
      record.unevaluable?.map((u) => [u.checks, u.to !== undefined]),
      [
        [1, true],
        [3, false],
      ],
    );
    assert.equal(second.warnings.filter((w) => /could not be evaluated/.test(w)).length, 2);
    assert.equal(second.warnings.filter((w) => /can be evaluated again/.test(w)).length, 1);
  });

  it('onError: continue — never fires on failures, records each', async () => {
    const condition = scripted([down], { onError: 'continue' });
    const { monitor, breach, warnings } = watch(condition);
    let fired = false;
    void breach.then(() => (fired = true));
    await monitor.start();
    await waitFor('four failed checks', () => monitor.records[0]!.errors >= 4, {
      timeoutMs: 20_000,
      intervalMs: 20,
    });
    monitor.stop();
    assert.equal(fired, false, 'no breach from failed checks');
    const record = monitor.records[0]!;
    assert.equal(record.state, 'unknown');
    assert.equal(record.errors, record.checks);
    assert.equal(warnings.length, 1, 'one warning per stretch, not per check');
    assert.match(warnings[0]!, /onError: continue/);
  });

  it('a slow check delays the next one: checks never overlap, and each has its timeout', async () => {
    let calls = 0;
    let inFlight = 0;
    let most = 0;
    const slow = scripted([ok], {
      everyMs: 100,
      timeoutMs: 150,
      async evaluate(signal: AbortSignal): Promise<StopReading> {
        calls++;
        inFlight++;
        most = Math.max(most, inFlight);
        try {
          await new Promise((resolve, reject) => {
            const t = setTimeout(resolve, 400);
            signal.addEventListener('abort', () => {
              clearTimeout(t);
              reject(new Error('aborted'));
            });
          });
          return ok;
        } finally {
          inFlight--;
        }
      },
    });
    const { monitor, breach } = watch({ ...slow, onError: 'continue' });
    const started = performance.now();
    await monitor.start();
    await waitFor('a second check', () => calls >= 2, { timeoutMs: 20_000, intervalMs: 10 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    monitor.stop();
    const elapsed = performance.now() - started;
    assert.equal(most, 1, 'never two checks of one condition at once');
    // Each check lasts its 150 ms timeout: no more of them than fit one after the other.
    assert.ok(
      calls <= Math.floor(elapsed / 150) + 1,
      `${calls} checks in ${elapsed.toFixed(0)} ms with a 150 ms timeout`,
    );
    assert.match(monitor.records[0]!.unevaluable![0]!.error, /no answer within 150 ms/);
    assert.equal(await within(breach, 10), 'timeout');
  });

  it("the run's signal cancels the checks in flight", async () => {
    let aborted = false;
    const hanging = scripted([ok], {
      timeoutMs: 10_000,
      evaluate: (signal) =>
        new Promise<StopReading>((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          });
        }),
    });
    const { monitor } = watch(hanging);
    const run = new AbortController();
    const started = monitor.start(run.signal);
    setTimeout(() => run.abort(), 50);
    assert.notEqual(await within(started, 10_000), 'timeout', 'start() returns once the run ends');
    assert.equal(aborted, true);
    assert.equal(monitor.records[0]!.checks, 0, 'a cancelled check is not a failed one');
  });
});
