// Who a pid is, on real processes: this one, a child that runs, the same child once it has
// exited (and been reaped), and a live pid paired with another process's start time — what a
// reused pid looks like.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isSameLiveProcess, processStart } from './process-identity.js';

const linux = process.platform === 'linux';

test('the start time is field 22 of /proc/<pid>/stat on Linux', { skip: !linux }, () => {
  const text = readFileSync('/proc/self/stat', 'utf8');
  const field22 = text.slice(text.lastIndexOf(')') + 2).split(' ')[19];
  assert.equal(processStart(process.pid), `stat:${field22}`);
});

test('a live child is itself; with another start time, or once gone, it is not', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const pid = child.pid!;
    const start = processStart(pid);
    assert.ok(start, 'a running process has a start time');
    assert.equal(isSameLiveProcess(pid, start), true);
    assert.equal(
      isSameLiveProcess(pid, undefined),
      true,
      'no start time recorded: the pid decides',
    );
    // The pid of a process that started at another time (as after pid reuse) is not the same one.
    const other = start.replace(/\d+$/, (ticks) => String(Number(ticks) - 1));
    assert.equal(isSameLiveProcess(pid, other), false);
  } finally {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
  assert.equal(processStart(child.pid!), undefined, 'a reaped process has none');
  assert.equal(isSameLiveProcess(child.pid!, undefined), false);
});

test('this process is always alive; nonsense pids never are', () => {
  assert.equal(isSameLiveProcess(process.pid, 'stat:0'), true);
  assert.equal(isSameLiveProcess(0, undefined), false);
  assert.equal(isSameLiveProcess(-1, undefined), false);
});
