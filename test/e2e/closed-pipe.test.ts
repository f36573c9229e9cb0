// Output that survives a closed pipe: `faultline schema | head` used to end in an EPIPE stack
// trace. A real child process, its stdout read end closed, as head does once it has its lines.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { entryArgs } from '../helpers/entry.js';

describe('a closed stdout pipe', () => {
  it('faultline schema exits 0 with nothing on stderr when its reader goes away', async () => {
    const child = spawn(process.execPath, entryArgs('cli/main', 'schema'), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    // The read end closes before the child writes anything (it is still loading): its first
    // write meets a closed pipe for certain, as a write after head's tenth line does.
    await once(child, 'spawn');
    child.stdout.destroy();
    const [code, signal] = await exited;
    assert.equal(signal, null);
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });
});
