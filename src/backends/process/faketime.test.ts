import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { needTool, TOOLS } from '../../../test/helpers/tools.js';
import { faketimeEnv, faketimeOffset, findLibfaketime } from './faketime.js';

describe('libfaketime offsets', () => {
  it('turns signed durations into libfaketime relative offsets in seconds', () => {
    assert.equal(faketimeOffset('-1h'), '-3600');
    assert.equal(faketimeOffset('30s'), '+30');
    assert.equal(faketimeOffset('-1.5h'), '-5400');
    assert.equal(faketimeOffset('-250ms'), '-0.25');
    assert.equal(faketimeOffset('2m'), '+120');
    assert.equal(faketimeOffset('0s'), '+0');
  });

  it('refuses what is not a signed duration', () => {
    assert.throws(() => faketimeOffset('soon'), /not a signed duration/);
  });

  it('names the missing library and how to install it', () => {
    assert.throws(
      () => findLibfaketime({ FAULTLINE_LIBFAKETIME: '/nonexistent/libfaketime.so.1' }),
      (err: Error & { hint?: string }) => {
        assert.match(err.message, /clock-skew needs libfaketime/);
        assert.match(err.hint ?? '', /apt-get install faketime/);
        return true;
      },
    );
  });

  it(
    'moves a real `date` by the offset written in the timestamp file',
    { skip: needTool(TOOLS.faketime) },
    () => {
      const library = findLibfaketime();
      const file = join(mkdtempSync(join(tmpdir(), 'faultline-faketime-')), 'clock');
      const env = { ...process.env, ...faketimeEnv(library, file, process.env) };
      const dateNow = (): number =>
        Number(spawnSync('date', ['+%s'], { env, encoding: 'utf8' }).stdout.trim());
      // `date`'s clock against this process's, read just before and just after it: within that
      // bracket (±1 s for whole seconds) however long the child took to run.
      const offset = (): { low: number; high: number } => {
        const before = Date.now() / 1000;
        const seen = dateNow();
        const after = Date.now() / 1000;
        return { low: seen - Math.ceil(after) - 1, high: seen - Math.floor(before) + 1 };
      };
      writeFileSync(file, `${faketimeOffset('-1h')}\n`);
      const skewed = offset();
      writeFileSync(file, '+0\n');
      const restored = offset();
      assert.ok(
        skewed.low <= -3600 && -3600 <= skewed.high,
        `skewed by ${JSON.stringify(skewed)} s`,
      );
      assert.ok(
        restored.low <= 0 && 0 <= restored.high,
        `restored to ${JSON.stringify(restored)} s`,
      );
    },
  );

  it('keeps an LD_PRELOAD the service already had', () => {
    assert.equal(
      faketimeEnv('/lib/ft.so', '/tmp/f', { LD_PRELOAD: '/lib/other.so' }).LD_PRELOAD,
      '/lib/ft.so:/lib/other.so',
    );
  });
});
