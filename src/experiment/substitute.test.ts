import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFaultlineError } from '../errors.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readVarFile, resolveVariables, substitute } from './substitute.js';

describe('substitute', () => {
  const vars = new Map<string, unknown>([
    ['url', 'http://127.0.0.1:3000'],
    ['count', 3],
    ['list', [1, 2]],
  ]);

  it('keeps the type of a whole placeholder and stringifies inside text', () => {
    assert.equal(substitute('${count}', vars), 3);
    assert.deepEqual(substitute('${list}', vars), [1, 2]);
    assert.equal(substitute('${url}/health', vars), 'http://127.0.0.1:3000/health');
    assert.equal(substitute('n=${count}', vars), 'n=3');
  });

  it('leaves bare $name alone, escapes $${, and reports unknown names', () => {
    const unknown = new Set<string>();
    assert.equal(
      substitute('price $count and $${url} and ${nope}', vars, unknown),
      'price $count and ${url} and ${nope}',
    );
    assert.deepEqual([...unknown], ['nope']);
  });

  it('walks objects and arrays', () => {
    assert.deepEqual(substitute({ a: ['${count}', { b: '${url}' }] }, vars), {
      a: [3, { b: 'http://127.0.0.1:3000' }],
    });
  });
});

describe('resolveVariables', () => {
  it('reads the environment, falls back to defaults, lets --var win, and coerces like the default', () => {
    const vars = resolveVariables(
      {
        configuration: {
          a: { env: 'A' },
          b: { env: 'B', default: 5 },
          c: 'lit',
          d: { env: 'D', default: 1 },
        },
        secrets: { s: { env: 'S', default: 'x' } },
      },
      { A: 'from-env', D: '42' },
      { c: 'override' },
    );
    assert.equal(vars.get('a'), 'from-env');
    assert.equal(vars.get('b'), 5);
    assert.equal(vars.get('c'), 'override');
    assert.equal(vars.get('d'), 42);
    assert.equal(vars.get('s'), 'x');
  });

  it('reports every missing environment variable at once', () => {
    try {
      resolveVariables(
        { configuration: { a: { env: 'NOPE_A' } }, secrets: { b: { env: 'NOPE_B' } } },
        {},
      );
      assert.fail('expected an error');
    } catch (err) {
      assert.ok(isFaultlineError(err) && 'issues' in err);
      const issues = (err as { issues: { path: string }[] }).issues;
      assert.deepEqual(
        issues.map((i) => i.path),
        ['configuration.a', 'secrets.b'],
      );
    }
  });
});

describe('readVarFile', () => {
  it('reads flat maps and Chaos Toolkit-shaped files, keeping types', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-vars-'));
    try {
      await writeFile(join(dir, 'flat.yaml'), 'url: http://x\ncount: 3\n');
      await writeFile(
        join(dir, 'ctk.json'),
        JSON.stringify({ configuration: { a: 1 }, secrets: { db: { password: 'p' } } }),
      );
      assert.deepEqual(await readVarFile(join(dir, 'flat.yaml')), { url: 'http://x', count: 3 });
      assert.deepEqual(await readVarFile(join(dir, 'ctk.json')), { a: 1, password: 'p' });
      await assert.rejects(readVarFile(join(dir, 'missing.yaml')), /no such file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
