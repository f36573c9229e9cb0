// Fault agents (src/backends/local/agent.ts): real detached child processes that hold a fault,
// end it by themselves at their lease deadline, and are found again by their tag.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findAgents, startAgent, stopAgents } from '../../src/backends/local/agent.js';
import { waitFor } from '../helpers/wait-for.js';

describe('fault agents', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fl-agent-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts detached, reports ready, is found by its tag and stopped, running its end action', async () => {
    const tag = `fl-test-${process.pid}-stop`;
    const marker = join(dir, 'ended');
    const agent = await startAgent({
      kind: 'local/hold',
      tag,
      leaseSeconds: 60,
      params: { onEnd: ['touch', marker] },
    });
    assert.deepEqual(agent.info, { pid: agent.pid });
    assert.deepEqual(await findAgents(tag), [agent.pid]);
    await stopAgents(tag);
    assert.deepEqual(await findAgents(tag), []);
    assert.equal(existsSync(marker), true, 'the agent undid its fault on SIGTERM');
  });

  it('ends its fault by itself at the lease deadline', async () => {
    const tag = `fl-test-${process.pid}-lease`;
    const marker = join(dir, 'lease-ended');
    const t0 = Date.now();
    await startAgent({
      kind: 'local/hold',
      tag,
      leaseSeconds: 1,
      params: { onEnd: ['touch', marker] },
    });
    await waitFor(
      'the agent to end at its lease',
      async () => (await findAgents(tag)).length === 0,
      { timeoutMs: 10_000 },
    );
    assert.ok(Date.now() - t0 >= 900, 'not before its deadline');
    assert.equal(existsSync(marker), true);
  });

  it('reports an agent that cannot start with its own message', async () => {
    await assert.rejects(
      startAgent({ kind: 'local/no-such', tag: `fl-test-${process.pid}-bad`, leaseSeconds: 5 }),
      /Cannot find module|ERR_MODULE_NOT_FOUND|no-such/,
    );
    await assert.rejects(
      startAgent({ kind: '../etc', tag: 'x', leaseSeconds: 5 }),
      /bad agent kind/,
    );
  });
});
