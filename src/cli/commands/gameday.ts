/**
 * `faultline gameday PLAN.yaml` and `faultline gameday init [FILE]`.
 *
 * Runs a game day (src/gameday/): the operator types continue/abort and the scribe types
 * observations at the terminal; `--yes`, a CI environment or a stdin that is not a terminal make
 * stages advance on their timers (`--interactive` forces prompts on a piped stdin, for scripts).
 * `--ui` opens the control room for the whole day. Reports (Markdown, HTML, the record as JSON)
 * and each stage's journal go to `--out`.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { ControlRoom } from '../../control-room/server.js';
import { println, type CliIo } from '../io.js';
import { parsePort } from './run.js';

interface GameDayFlags {
  yes?: boolean;
  interactive?: boolean;
  out: string;
  ui?: boolean;
  uiPort?: string;
  force?: boolean;
}

export function registerGameDayCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('gameday')
    .description('run a game day: pre-check, stages 10 % → 50 % → 100 % held by the operator, observations, a report (gameday init FILE writes a commented plan)')
    .argument('<plan>', 'the game day plan (YAML), or "init" to write one')
    .argument('[file]', 'with init: where to write the plan (default gameday.yaml)')
    .option('--yes', 'non-interactive: stages advance on their timers (also in CI or without a terminal)')
    .option('--interactive', 'hold stages for the operator even when stdin is not a terminal (scripted input)')
    .option('--out <dir>', 'where the reports and stage journals go', 'gameday-report')
    .option('--ui', 'open the live control room (charts, faults, HALT) for the whole day')
    .option('--ui-port <port>', 'port of the control room (default: a free one)')
    .option('--force', 'with init: overwrite an existing file')
    .action(async (planFile: string, file: string | undefined, flags: GameDayFlags) => {
      const print = (line: string): void => println(io.stdout, line);
      if (planFile === 'init') {
        const target = resolve(io.cwd, file ?? 'gameday.yaml');
        if (existsSync(target) && !flags.force) throw new UsageError(`${file ?? 'gameday.yaml'} exists`, { hint: 'choose another name, or --force to overwrite it' });
        const { GAMEDAY_TEMPLATE } = await import('../../gameday/init-template.js');
        await writeFile(target, GAMEDAY_TEMPLATE);
        print(`wrote ${file ?? 'gameday.yaml'}: edit it (experiments, stages, criteria), then run faultline gameday ${file ?? 'gameday.yaml'}`);
        return;
      }
      if (file !== undefined) throw new UsageError(`unexpected argument ${file}`, { hint: 'faultline gameday PLAN.yaml, or faultline gameday init [FILE]' });
      const [{ ControlRoom }, { runGameDay }, { loadGameDay }, { gameDayHtml, gameDayMarkdown }, { precheckPlan }, { stateDir }] = await Promise.all([
        import('../../control-room/server.js'),
        import('../../gameday/gameday.js'),
        import('../../gameday/plan-load.js'),
        import('../../gameday/report.js'),
        import('../../gameday/stage-plan.js'),
        import('../../runner/recover.js'),
      ]);
      const loaded = await loadGameDay(resolve(io.cwd, planFile), planFile);
      const ci = Boolean(io.env['CI']) && io.env['CI'] !== 'false';
      const interactive = !flags.yes && (flags.interactive === true || (!ci && io.stdin?.isTTY === true));
      const outDir = resolve(io.cwd, flags.out);
      await mkdir(outDir, { recursive: true });
      const dir = stateDir(io.env, io.cwd);
      await mkdir(dir, { recursive: true });
      let room: ControlRoom | undefined;
      if (flags.ui || flags.uiPort !== undefined) {
        const first = loaded.experiments[0]!;
        room = new ControlRoom(precheckPlan(first.experiment, { file: first.file, env: io.env }), { port: parsePort(flags.uiPort, '--ui-port') });
        print(`control room: ${await room.start()}`);
      }
      try {
        const record = await runGameDay(loaded, { outDir, stateDir: dir, env: io.env, print, input: interactive || flags.interactive ? io.stdin : io.stdin?.isTTY ? io.stdin : undefined, interactive, signal: io.signal, room });
        await writeFile(join(outDir, 'gameday.json'), `${JSON.stringify(record, null, 2)}\n`);
        await writeFile(join(outDir, 'gameday.md'), gameDayMarkdown(record));
        await writeFile(join(outDir, 'gameday.html'), gameDayHtml(record));
        print('');
        print(`game day ${record.outcome.toUpperCase()} (exit ${record.exitCode}): ${record.reason}`);
        for (const c of record.criteria) print(`  criterion ${c.index} ${c.name}: ${c.measured} — ${c.met === null ? 'not measured' : c.met ? 'met' : 'MISSED'}`);
        print(`reports: ${join(flags.out, 'gameday.md')}, ${join(flags.out, 'gameday.html')} (journals of each stage beside them)`);
        setExit(record.exitCode);
      } finally {
        await room?.close();
      }
    });
}
