import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Repeats } from './repeats.js';
import { waitFor } from '../../../test/helpers/wait-for.js';

describe('Repeats', () => {
  it('repeats a round, retries after a failed one, and never runs two at once', async () => {
    const repeats = new Repeats();
    let rounds = 0;
    let running = 0;
    let overlap = false;
    repeats.start('t', { every: '20ms', minMs: 10, until: Date.now() + 60_000 }, async () => {
      overlap ||= running > 0;
      running++;
      rounds++;
      await new Promise((r) => setTimeout(r, 50)); // longer than the interval
      running--;
      if (rounds === 1) throw new Error('the server is restarting');
    });
    assert.equal(repeats.has('t'), true);
    await waitFor('three rounds', () => rounds >= 3, { timeoutMs: 10_000, intervalMs: 10 });
    assert.equal(overlap, false);
    await repeats.stop('t');
    assert.equal(running, 0, 'stop waited for the round in progress');
    assert.equal(repeats.has('t'), false);
    const stoppedAt = rounds;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(rounds, stoppedAt, 'no round after stop');
  });

  it('stops by itself at the deadline', async () => {
    const repeats = new Repeats();
    let rounds = 0;
    repeats.start(
      't',
      { every: '10ms', minMs: 10, until: Date.now() + 100 },
      async () => void rounds++,
    );
    await waitFor('the deadline', () => !repeats.has('t'), { timeoutMs: 10_000, intervalMs: 10 });
    const atDeadline = rounds;
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(rounds, atDeadline);
  });

  it('without every, repeats nothing; stopAll clears every tag', async () => {
    const repeats = new Repeats();
    repeats.start('none', { every: undefined, minMs: 10, until: Date.now() + 60_000 }, async () =>
      assert.fail('no round expected'),
    );
    assert.equal(repeats.has('none'), false);
    repeats.start(
      'a',
      { every: '1s', minMs: 10, until: Date.now() + 60_000 },
      async () => undefined,
    );
    repeats.start(
      'b',
      { every: '1s', minMs: 10, until: Date.now() + 60_000 },
      async () => undefined,
    );
    repeats.stopAll();
    assert.equal(repeats.has('a') || repeats.has('b'), false);
  });
});
