// Subcommands instead of positional words (`gameday init`, `schedule status`), flags that mean
// one thing each (`--platform`, `--out-dir`, the old spellings still working with a note), and
// help texts that describe their own command.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

// A planner output compiled to Chaos Mesh; its secret comes from $TOKEN.
const EXPERIMENT =
  'test/fixtures/planner/golden/fintech/experiments/03-latency-spike-auth-service.kubernetes.yaml';
const ENV = { TOKEN: 't' };

describe('CLI subcommands and flags', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-cli-sub-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("gameday init --help shows init's own help, not gameday's", async () => {
    const { code, stdout } = await runCli(['gameday', 'init', '--help']);
    assert.equal(code, 0);
    assert.match(stdout, /^Usage: faultline gameday init \[options\] \[file\]/);
    assert.match(stdout, /--force/);
    assert.doesNotMatch(stdout, /--interactive/);
  });

  it('gameday init FILE writes a plan, refuses to overwrite it, and --force overwrites', async () => {
    const first = await runCli(['gameday', 'init', 'day.yaml'], { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    assert.match(await readFile(join(dir, 'day.yaml'), 'utf8'), /stages/);
    const again = await runCli(['gameday', 'init', 'day.yaml'], { cwd: dir });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /day\.yaml exists\n {2}hint: .*--force/);
    const forced = await runCli(['gameday', 'init', 'day.yaml', '--force'], { cwd: dir });
    assert.equal(forced.code, 0, forced.stderr);
  });

  it('schedule status is a subcommand with its own help, and takes --dir', async () => {
    const help = await runCli(['schedule', 'status', '--help']);
    assert.match(help.stdout, /^Usage: faultline schedule status \[options\]/);
    assert.match(help.stdout, /--last <n>/);
    const missing = join(dir, 'no-schedule');
    const status = await runCli(['schedule', 'status', '--dir', missing, '--last', '3']);
    assert.equal(status.code, 2);
    assert.match(status.stderr, new RegExp(`no schedule has run with ${missing}`));
  });

  it('compile --platform and --out-dir; --help shows neither --target nor -o', async () => {
    const out = join(dir, 'manifests');
    const result = await runCli(
      ['compile', EXPERIMENT, '--platform', 'chaos-mesh', '--out-dir', out],
      { env: ENV },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /deprecated/);
    assert.ok((await readdir(out)).some((f) => f.endsWith('.yaml')));
    const help = await runCli(['compile', '--help']);
    assert.match(help.stdout, /--platform <platform>/);
    assert.match(help.stdout, /--out-dir <dir>/);
    assert.doesNotMatch(help.stdout, /--target|-o, --output/);
  });

  it('the old spellings --target and -o still work, with a one-line note each', async () => {
    const out = join(dir, 'old');
    const result = await runCli(['compile', EXPERIMENT, '--target', 'chaos-mesh', '-o', out], {
      env: ENV,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^faultline: --target is deprecated: use --platform$/m);
    assert.match(result.stderr, /^faultline: -o\/--output is deprecated: use --out-dir$/m);
    assert.ok((await readdir(out)).length > 0);
  });

  it('compile without --platform says so, with an example', async () => {
    const result = await runCli(['compile', EXPERIMENT], { env: ENV });
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /compile needs --platform\n {2}hint: one of chaos-mesh, .*--platform chaos-mesh/,
    );
  });

  it('plan --out-dir writes the files; plan -o still does', async () => {
    const architecture = 'test/fixtures/planner/minimal.yaml';
    for (const flag of ['--out-dir', '-o']) {
      const out = join(dir, `plan${flag}`);
      const result = await runCli(['plan', architecture, flag, out]);
      assert.equal(result.code, 0, result.stderr);
      assert.ok(existsSync(join(out, 'catalogue.md')));
      assert.equal(/deprecated/.test(result.stderr), flag === '-o');
    }
  });

  it('run, halt and recover each describe --namespace in their own words', async () => {
    const texts = await Promise.all(
      ['run', 'halt', 'recover'].map(async (command) => {
        const { stdout } = await runCli([command, '--help']);
        return stdout
          .slice(stdout.indexOf('--namespace'))
          .split(/\n {2}-/)[0]!
          .replace(/\s+/g, ' ');
      }),
    );
    assert.match(texts[0]!, /create the chaos objects in this namespace/);
    assert.doesNotMatch(texts[0]!, /recover/);
    assert.match(texts[1]!, /not used by halt/);
    assert.match(texts[2]!, /sweep for orphaned chaos objects/);
  });

  it('gameday PLAN still reaches the game day itself beside its init subcommand', async () => {
    await writeFile(join(dir, 'x.yaml'), 'not: a plan\n');
    const result = await runCli(['gameday', 'x.yaml', '--yes'], { cwd: dir });
    assert.equal(result.code, 2, result.stderr);
  });
});
