import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RewireSweep, SWEEP_BATCH, type Rewirable } from './rewire-sweep.js';
import type { StreamDirection } from './toxics/toxic.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function connections(n: number): { calls: (StreamDirection | undefined)[][]; all: Rewirable[] } {
  const calls: (StreamDirection | undefined)[][] = [];
  const all = Array.from({ length: n }, (_, i) => {
    calls[i] = [];
    return { rewire: (direction?: StreamDirection) => calls[i]!.push(direction) };
  });
  return { calls, all };
}

describe('RewireSweep', () => {
  it('rewires nothing inside the call, then a batch per loop turn until every connection is done', async () => {
    const { calls, all } = connections(SWEEP_BATCH * 2 + 5);
    const sweep = new RewireSweep();
    sweep.start(all, 'downstream');
    assert.equal(calls.filter((c) => c.length > 0).length, 0, 'the call itself rewires nothing');
    await turn();
    assert.equal(calls.filter((c) => c.length > 0).length, SWEEP_BATCH);
    await turn();
    await turn();
    await turn();
    assert.ok(calls.every((c) => c.length === 1 && c[0] === 'downstream'));
  });

  it('a change of the other direction during a sweep makes it cover both, from the start', async () => {
    const { calls, all } = connections(SWEEP_BATCH + 10);
    const sweep = new RewireSweep();
    sweep.start(all, 'downstream');
    await turn();
    sweep.start(all, 'upstream');
    for (let i = 0; i < 4; i++) await turn();
    assert.ok(
      calls.every((c) => c.at(-1) === undefined),
      'every connection rewired both ways',
    );
  });

  it('stop drops what is still waiting', async () => {
    const { calls, all } = connections(SWEEP_BATCH + 10);
    const sweep = new RewireSweep();
    sweep.start(all, undefined);
    sweep.stop();
    for (let i = 0; i < 3; i++) await turn();
    assert.equal(calls.filter((c) => c.length > 0).length, 0);
  });
});
