// docs/library.md's node:test example is run as it is printed: the block that starts with
// `// checkout.test.ts` is written to a file (its `from 'faultline'` pointed at this checkout's
// src/index.ts, as a package's own name cannot resolve before a build) and run by node:test in a
// child process. A doc example that stopped working would fail here.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

test(
  "docs/library.md's node:test example passes, all three tests",
  { timeout: 60_000 },
  async () => {
    const doc = await readFile(new URL('../../docs/library.md', import.meta.url), 'utf8');
    const block = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)]
      .map((m) => m[1]!)
      .find((code) => code.startsWith('// checkout.test.ts\n'));
    assert.ok(block, 'the example is in the page');
    const index = new URL('../../src/index.ts', import.meta.url).href;
    const code = block.replace("from 'faultline';", `from ${JSON.stringify(index)};`);
    assert.notEqual(code, block, 'the example imports faultline');
    const dir = await mkdtemp(join(tmpdir(), 'faultline-library-docs-'));
    try {
      const file = join(dir, 'checkout.test.ts');
      const { NODE_TEST_CONTEXT: _ours, ...childEnv } = process.env;
      await writeFile(file, code);
      const child = spawn(
        process.execPath,
        ['--import', import.meta.resolve('tsx'), '--test', '--test-reporter=tap', file],
        // Without the parent's NODE_TEST_CONTEXT, or node:test takes the child for one of its own.
        {
          cwd: dir,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: childEnv,
        },
      );
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
      const exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(exitCode, 0, out);
      assert.match(out, /^# pass 3$/m, out);
      assert.match(out, /^# fail 0$/m, out);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
