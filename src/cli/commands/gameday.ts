/**
 * `faultline gameday PLAN.yaml` and its subcommand `faultline gameday init [FILE]`.
 *
 * Runs a game day (src/gameday/): the operator types continue/abort and the scribe types
 * observations at the terminal; `--yes`, a CI environment or a stdin that is not a terminal make
 * stages advance on their timers (`--interactive` forces prompts on a piped stdin, for scripts).
 * `--ui` opens the control room for the whole day. Reports (Markdown, HTML, the record as JSON)
 * and each stage's journal go to `--out-dir`.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { ControlRoom } from '../../control-room/server.js';
import { addDeprecatedAlias } from '../deprecated-option.js';
import { println, type CliIo } from '../io.js';
import { parsePort } from './run.js';

interface GameDayFlags {
  yes?: boolean;
  interactive?: boolean;
  outDir: string;
  ui?: boolean;
  uiPort?: string;
}

export function registerGameDayCommand(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  const gameday = program
    .command('gameday')
    .description(
      'run a game day: pre-check, stages 10 % → 50 % → 100 % held by the operator, observations, a report',
    )
    .argument('<plan>', 'the game day plan (YAML); faultline gameday init writes one')
    .option(
      '--yes',
      'non-interactive: stages advance on their timers (also in CI or without a terminal)',
    )
    .option(
      '--interactive',
      'hold stages for the operator even when stdin is not a terminal (scripted input)',
    )
    .option('--out-dir <dir>', 'where the reports and stage journals go', 'gameday-report')
    .option('--ui', 'open the live control room (charts, faults, HALT) for the whole day')
    .option('--ui-port <port>', 'port of the control room (default: a free one)');
  addDeprecatedAlias(gameday, io, {
    flags: '--out <dir>',
    replacement: 'outDir',
    replacementFlag: '--out-dir',
  });
  gameday
    .command('init')
    .description('write a commented game day plan to start from')
    .argument('[file]', 'where to write the plan', 'gameday.yaml')
    .option('--force', 'overwrite an existing file')
    .action(async (file: string, flags: { force?: boolean }) => {
      const target = resolve(io.cwd, file);
      if (existsSync(target) && !flags.force)
        throw new UsageError(`${file} exists`, {
          hint: 'choose another name, or --force to overwrite it',
        });
      const { GAMEDAY_TEMPLATE } = await import('../../gameday/init-template.js');
      await writeFile(target, GAMEDAY_TEMPLATE);
      println(
        io.stdout,
        `wrote ${file}: edit it (experiments, stages, criteria), then run faultline gameday ${file}`,
      );
    });
  gameday.action(async (planFile: string, flags: GameDayFlags) => {
    const print = (line: string): void => println(io.stdout, line);
    const [
      { ControlRoom },
      { runGameDay },
      { readGameDay },
      { gameDayHtml, gameDayMarkdown },
      { precheckPlan },
      { stateDir },
    ] = await Promise.all([
      import('../../control-room/server.js'),
      import('../../gameday/gameday.js'),
      import('../../gameday/gameday-read.js'),
      import('../../gameday/report.js'),
      import('../../gameday/stage-plan.js'),
      import('../../safety/recover.js'),
    ]);
    const loaded = await readGameDay(resolve(io.cwd, planFile), planFile);
    const ci = Boolean(io.env['CI']) && io.env['CI'] !== 'false';
    const interactive =
      !flags.yes && (flags.interactive === true || (!ci && io.stdin?.isTTY === true));
    const outDir = resolve(io.cwd, flags.outDir);
    await mkdir(outDir, { recursive: true });
    const dir = stateDir(io.env, io.cwd);
    await mkdir(dir, { recursive: true });
    let room: ControlRoom | undefined;
    if (flags.ui || flags.uiPort !== undefined) {
      const first = loaded.experiments[0]!;
      room = new ControlRoom(precheckPlan(first.experiment, { file: first.file, env: io.env }), {
        port: parsePort(flags.uiPort, '--ui-port'),
      });
      print(`control room: ${await room.start()}`);
    }
    try {
      const record = await runGameDay(loaded, {
        outDir,
        stateDir: dir,
        env: io.env,
        print,
        input: interactive || flags.interactive ? io.stdin : io.stdin?.isTTY ? io.stdin : undefined,
        interactive,
        signal: io.signal,
        room,
      });
      await writeFile(join(outDir, 'gameday.json'), `${JSON.stringify(record, null, 2)}\n`);
      await writeFile(join(outDir, 'gameday.md'), gameDayMarkdown(record));
      await writeFile(join(outDir, 'gameday.html'), gameDayHtml(record));
      print('');
      print(`game day ${record.outcome.toUpperCase()} (exit ${record.exitCode}): ${record.reason}`);
      for (const c of record.criteria)
        print(
          `  criterion ${c.index} ${c.name}: ${c.measured} — ${c.met === null ? 'not measured' : c.met ? 'met' : 'MISSED'}`,
        );
      print(
        `reports: ${join(flags.outDir, 'gameday.md')}, ${join(flags.outDir, 'gameday.html')} (journals of each stage beside them)`,
      );
      setExit(record.exitCode);
    } finally {
      await room?.close();
    }
  });
}
