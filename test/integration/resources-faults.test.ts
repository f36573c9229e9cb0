// The resources family on this machine, observed from OUTSIDE the agents: CPU time of the agent
// (/proc/<pid>/stat) against wall time, its resident set (/proc/<pid>/status), and free space
// (statfs) of a tmpfs the test mounts for itself — never the machine's real disk. Each fault
// goes through the runner from an experiment, is removed and proven gone; a SIGKILLed runner's
// fault ends at its lease, and `faultline recover` removes it at once.
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { parseExperiment } from '../../src/experiment/load.js';
import { findAgents } from '../../src/faults/local/agent.js';
import type { Journal } from '../../src/runner/journal.js';
import { runUntilApplied, killRunner, runFaultline } from '../helpers/runner-child.js';
import { runExperimentDoc, type FaultApplied } from '../helpers/run-experiment.js';

const MB = 1024 ** 2;
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime + stime (fields 14, 15)
}

async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

async function free(dir: string): Promise<number> {
  const st = await statfs(dir);
  return st.bavail * st.bsize;
}

async function until(check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('resources faults (host target, through the runner)', () => {
  let dir: string;
  let disk: string;
  let mounted = false;
  const children: ChildProcess[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-resources-'));
    disk = join(dir, 'disk');
    await mkdir(disk);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=160M', 'faultline-test', disk]);
    mounted = true;
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    if (mounted) execFileSync('umount', ['-l', disk]);
    await rm(dir, { recursive: true, force: true });
  });

  let runs = 0;
  async function run(doc: Record<string, unknown>, during?: (event: FaultApplied) => Promise<void>): Promise<Journal> {
    const file = `resources-${++runs}.yaml`;
    return runExperimentDoc({ title: file, safety: { maxDuration: '1m' }, ...doc }, { file, journalPath: join(dir, `${runs}.json`), during });
  }

  async function agentOf(event: FaultApplied): Promise<number> {
    const pids = await findAgents(event.fault.location.tag!);
    assert.equal(pids.length, 1, 'one agent holds the fault');
    return pids[0]!;
  }

  it('cpu-stress: the agent burns about load% of a CPU per worker, and is gone after', { timeout: 60_000 }, async () => {
    let ratio = 0;
    let agent = 0;
    const journal = await run({ targets: { box: { type: 'host' } }, method: [{ fault: 'cpu-stress', target: 'box', duration: '4s', workers: 2, load: 30, name: 'burn' }] }, async (event) => {
      const pid = await agentOf(event);
      agent = pid;
      const cpu0 = await cpuSeconds(pid);
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, 2_000));
      ratio = ((await cpuSeconds(pid)) - cpu0) / ((performance.now() - t0) / 1000);
    });
    // 2 workers × 30% = 0.6 CPU-seconds per second; the machine is shared, so roughly.
    assert.ok(ratio > 0.35 && ratio < 0.9, `CPU/wall ${ratio.toFixed(2)} should be about 0.6`);
    const fault = journal.faultline.faults[0]!;
    assert.equal(fault.state, 'removed', journal.faultline.reason);
    assert.deepEqual(fault.touched?.items, [`agent pid ${agent}: CPU`], 'the journal says what held the pressure');
    assert.deepEqual(await findAgents(fault.location.tag!), []);
    assert.deepEqual(journal.faultline.verification, [{ fault: 'burn', gone: true }]);
  });

  it('memory-stress: the agent holds size resident at once; with growth it climbs to size (the leak)', { timeout: 60_000 }, async () => {
    const held = await run({ targets: { box: { type: 'host' } }, method: [{ fault: 'memory-stress', target: 'box', duration: '3s', size: '128MB' }] }, async (event) => {
      const pid = await agentOf(event);
      assert.ok((await rss(pid)) >= 128 * MB, `RSS ${(await rss(pid)) / MB} MB holds 128 MB`);
    });
    assert.equal(held.faultline.faults[0]!.state, 'removed', held.faultline.reason);
    assert.deepEqual(await findAgents(held.faultline.faults[0]!.location.tag!), []);

    const samples: number[] = [];
    const leak = await run({ targets: { box: { type: 'host' } }, method: [{ fault: 'memory-stress', target: 'box', duration: '6s', size: '96MB', growth: '48MB/s' }] }, async (event) => {
      const pid = await agentOf(event);
      samples.push(await rss(pid));
      await until(async () => (await rss(pid)) >= 96 * MB, 5_000, 'the leak to reach 96 MB');
      samples.push(await rss(pid));
    });
    assert.ok(samples[0]! < 80 * MB, `starts small (${(samples[0]! / MB).toFixed(0)} MB)`);
    assert.ok(samples[1]! >= 96 * MB);
    assert.equal(leak.faultline.faults[0]!.state, 'removed', leak.faultline.reason);
  });

  it('disk-fill: free space drops to remaining, the floor holds against another writer, and comes back after', { timeout: 90_000 }, async () => {
    const before = await free(disk);
    assert.ok(before > 150 * MB);
    let file = '';
    const journal = await run({ targets: { box: { type: 'host' } }, method: [{ fault: 'disk-fill', target: 'box', duration: '6s', path: disk, remaining: '64MB', name: 'full' }] }, async (event) => {
      file = event.fault.location.handle!['file'] as string;
      assert.ok(file.includes(event.fault.location.tag!), 'the file name carries the tag');
      const left = await free(disk);
      assert.ok(left >= 64 * MB && left < 64 * MB + 9 * MB, `free ${(left / MB).toFixed(1)} MB ≈ 64 MB`);
      // Someone else writes 20 MB: the agent gives space back rather than cross the floor.
      await writeFile(join(disk, 'other-writer'), Buffer.alloc(20 * MB, 1));
      await until(async () => (await free(disk)) >= 64 * MB, 5_000, 'the agent to restore the floor');
      await rm(join(disk, 'other-writer'));
    });
    assert.equal(journal.faultline.faults[0]!.state, 'removed', journal.faultline.reason);
    assert.equal(existsSync(file), false, 'the fill file is deleted');
    assert.ok((await free(disk)) > before - MB, 'free space is back');
    assert.deepEqual(journal.faultline.verification, [{ fault: 'full', gone: true }]);
  });

  it('refuses a floor below the safe minimum and a missing path before anything is applied', { timeout: 30_000 }, async () => {
    const text = stringify({ title: 'x', targets: { box: { type: 'host' } }, method: [{ fault: 'disk-fill', target: 'box', duration: '5s', path: disk, remaining: '1MB' }] });
    assert.throws(() => parseExperiment(text, 'floor.yaml'), (err: Error & { issues?: { path: string; line?: number }[] }) => {
      assert.equal(err.issues?.[0]?.path, 'method[0].remaining');
      assert.equal(err.issues?.[0]?.line, text.split('\n').findIndex((l) => l.includes('remaining: 1MB')) + 1, 'located at its line');
      return true;
    });
    const missing = await run({ targets: { box: { type: 'host' } }, method: [{ fault: 'disk-fill', target: 'box', duration: '5s', path: join(dir, 'nope'), remaining: '64MB' }] });
    assert.equal(missing.faultline.faults.length, 0, 'nothing applied');
    assert.match(missing.faultline.reason ?? '', /path .*nope is not a directory/);
    const below = await run({ targets: { box: { type: 'host' } }, method: [{ fault: 'disk-fill', target: 'box', duration: '5s', path: disk, remaining: '200MB' }] });
    assert.equal(below.faultline.faults.length, 0);
    assert.match(below.faultline.reason ?? '', /already no more than remaining 200MB/);
    assert.deepEqual(await readdir(disk), []);
  });

  describe('a SIGKILLed runner (faultline run as a child process)', () => {
    let stateDir: string;
    before(async () => {
      stateDir = await mkdtemp(join(dir, 'state-'));
    });

    async function startRun(name: string, doc: Record<string, unknown>): Promise<void> {
      const child = await runUntilApplied(name, doc, { stateDir, cwd: dir });
      children.push(child);
      await killRunner(child);
    }

    async function agentsOf(pattern: RegExp): Promise<number[]> {
      const found: number[] = [];
      for (const entry of await readdir('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
        if (pattern.test(cmdline)) found.push(Number(entry));
      }
      return found;
    }

    it('cpu-stress: the agent ends at its lease by itself', { timeout: 60_000 }, async () => {
      await startRun('lease-cpu.yaml', { targets: { box: { type: 'host' } }, method: [{ fault: 'cpu-stress', target: 'box', duration: '1s', workers: 1, load: 20, name: 'lease-burn' }, { wait: '60s' }] });
      const killedAt = Date.now();
      assert.ok((await agentsOf(/resources\/cpu\0--faultline-agent=fl-.*-lease-burn/)).length === 1, 'the agent outlives the runner');
      await until(async () => (await agentsOf(/--faultline-agent=fl-.*-lease-burn/)).length === 0, 30_000, 'the agent to end at its lease');
      assert.ok(Date.now() - killedAt < 15_000, 'lease = 1 s + grace');
    });

    it('disk-fill: faultline recover deletes the file and stops the agent at once', { timeout: 60_000 }, async () => {
      const before = await free(disk);
      await startRun('recover-disk.yaml', { targets: { box: { type: 'host' } }, method: [{ fault: 'disk-fill', target: 'box', duration: '60s', path: disk, remaining: '64MB', name: 'recover-fill' }] });
      assert.ok((await free(disk)) < 70 * MB, 'still full after the runner died');
      const { code, output: out } = await runFaultline(['recover'], { stateDir, cwd: dir });
      assert.equal(code, 0, out);
      assert.deepEqual(await readdir(disk), [], 'no fill file left');
      assert.ok((await free(disk)) > before - MB, 'free space is back');
      assert.deepEqual(await agentsOf(/--faultline-agent=fl-.*-recover-fill/), []);
    });
  });
});
