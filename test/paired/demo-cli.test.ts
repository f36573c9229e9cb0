// `faultline demo` itself, start to finish, as a user runs it: the real CLI in a child process,
// embedded PostgreSQL (PGlite), its own Redis, both builds, a verdict for each and nothing left
// running. Paired (test/paired/: two files at a time, nothing else beside them): the resilient
// build must hold and the demo end within two minutes, which a machine busy with the parallel
// group can spoil. Ctrl-C and SIGKILL in the
// middle of a fault are in test/e2e/demo-cli-signals.test.ts.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { leftovers, startDemo } from '../helpers/demo-cli.js';

describe('faultline demo (the CLI, embedded PostgreSQL)', () => {
  let cwd: string;
  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'faultline-demo-cli-'));
  });
  after(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  it(
    'runs start to finish: fragile found out, resilient held, exit 0, nothing left running',
    { timeout: 180_000 },
    async () => {
      const started = Date.now();
      const demo = startDemo(cwd);
      const code = await demo.exited;
      const out = demo.output();
      assert.equal(code, 0, out);
      assert.ok(Date.now() - started < 120_000, 'under two minutes');
      assert.match(out, /embedded PostgreSQL \(PGlite over pglite-socket\)/);
      assert.match(out, /run 1\/2 — the fragile build/);
      assert.match(out, /verdict: (DEVIATED|ABORTED)/);
      assert.match(out, /verdict: HELD/);
      assert.match(out, /load: \d+ req\/s, p50/, 'live numbers');
      assert.match(out, /^fragile +(deviated|aborted) /m);
      assert.match(out, /^resilient +held /m);
      assert.match(out, /as expected/);
      const journals = out.match(/journal: +(\S+)/g) ?? [];
      assert.equal(journals.length, 2);
      for (const line of journals) assert.ok(existsSync(line.replace(/journal: +/, '')), line);
      const reports = out.match(/report: +(\S+)/g) ?? [];
      assert.equal(reports.length, 2);
      for (const line of reports)
        assert.match(readFileSync(line.replace(/report: +/, ''), 'utf8'), /<html[\s>]/i, line);
      assert.deepEqual(await leftovers(demo), []);
    },
  );
});
