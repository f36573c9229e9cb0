import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { parseExperiment } from '../run-plan/read-experiment.js';
import { planExperiment } from '../run-plan/from-experiment.js';
import { ControlRoom } from './server.js';

const dir = mkdtempSync(join(tmpdir(), 'faultline-room-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const plan = planExperiment(
  parseExperiment(stringify({ title: 'room', method: [{ wait: '1s' }] }), 'room.yaml'),
  { file: 'room.yaml', env: {} },
);

describe('control room server', () => {
  // The run a HALT stops ends, and closes the room, while the HALT's own direct removals can
  // still be at work: cutting that request made the page report a HALT that worked as failed.
  it('close() lets a HALT in progress answer before the connections go', async () => {
    // The HALT reads the live journal first: a FIFO holds it there until the test writes.
    const fifo = join(dir, 'journal.fifo');
    execFileSync('mkfifo', [fifo]);
    const room = new ControlRoom(plan, { journalPath: () => fifo });
    const url = new URL(await room.start());
    const halting = fetch(new URL(`/halt?token=${room.token}`, url.origin), { method: 'POST' });
    await once(room.haltSignal, 'abort'); // the HALT is being answered
    const closing = room.close();
    await writeFile(fifo, '{}'); // the journal read ends; the HALT answers
    const res = await halting;
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { halted: true, faults: [] });
    await closing;
    await assert.rejects(fetch(url), 'the server is closed');
  });
});
