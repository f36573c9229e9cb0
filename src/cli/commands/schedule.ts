/**
 * `faultline schedule SCHEDULE.yaml` (the long-lived scheduler; SIGTERM stops it cleanly,
 * rolling back what is running) and its subcommand `faultline schedule status` (what runs now, the history of
 * runs and their verdicts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { HistoryEntry, SchedulerStatus } from '../../schedule/scheduler.js';
import { addDeprecatedAlias } from '../deprecated-option.js';
import { println, type CliIo } from '../io.js';
import { UsageError, ValidationError } from '../../errors.js';
import { DEFAULT_GATE_IMAGE } from '../../schedule/gate-image.js';

export function registerScheduleCommand(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  const schedule = program
    .command('schedule')
    .description(
      'scheduled chaos (Chaos Monkey style): cron windows, mean time between faults, blackouts, a health gate; leashed by default',
    )
    .argument('<schedule>', 'the schedule file (YAML)')
    .option('--unleash', 'run the experiments for real (default: leashed, log what would run)')
    .option(
      '--dir <dir>',
      'where the history, status and run journals are kept',
      '.faultline/schedule',
    )
    .option(
      '--platform <platform>',
      'kubernetes: compile to Chaos Mesh Schedule objects instead of running (leashed → created paused)',
    )
    .option(
      '--out-dir <dir>',
      'with --platform: one file per object into this directory (default: stdout)',
    )
    .option(
      '--allow-ungated',
      'with --platform: compile although blackout dates cannot be enforced by a Schedule',
    )
    .option('--allow-wide-blast', 'with --platform: accept mode all and more than 50 % of the pods')
    .option('--allow-production', 'with --platform: accept a production environment')
    .option(
      '--gate-image <image>',
      `with --platform: the health gate's container image (curl and sh)`,
      DEFAULT_GATE_IMAGE,
    )
    .action(async (file: string, flags: ScheduleFlags) => {
      const dir = resolve(io.cwd, flags.dir);
      if (flags.platform !== undefined) {
        setExit(await compileSchedule(file, flags, io));
        return;
      }
      if (flags.outDir !== undefined)
        throw new UsageError('--out-dir applies to --platform kubernetes', {
          hint: 'the local scheduler keeps its history in --dir',
        });
      const [{ readSchedule }, { runSchedule }, { stateDir }] = await Promise.all([
        import('../../schedule/schedule-read.js'),
        import('../../schedule/scheduler.js'),
        import('../../safety/recover.js'),
      ]);
      const loaded = await readSchedule(resolve(io.cwd, file), file);
      await runSchedule(loaded, {
        dir,
        stateDir: stateDir(io.env, io.cwd),
        env: io.env,
        signal: io.signal,
        print: (l) => println(io.stdout, l),
        unleash: flags.unleash,
      });
      println(io.stdout, `schedule stopped; history in ${join(flags.dir, 'history.jsonl')}`);
    });
  addDeprecatedAlias(schedule, io, {
    flags: '--target <platform>',
    replacement: 'platform',
    replacementFlag: '--platform',
  });
  addDeprecatedAlias(schedule, io, {
    flags: '-o, --output <dir>',
    replacement: 'outDir',
    replacementFlag: '--out-dir',
  });
  schedule
    .command('status')
    .description('what the scheduler runs now, and the history of its runs and their verdicts')
    .option('--dir <dir>', 'where the scheduler keeps its history', '.faultline/schedule')
    .option('--last <n>', 'how many history entries to show', '20')
    .action(async (_flags: unknown, command: Command) => {
      // `schedule status --dir X`: the parent knows --dir too and takes it wherever it stands,
      // so the value is read from both (the parent's wins, being the one the user gave).
      const flags = command.optsWithGlobals<{ dir: string; last: string }>();
      setExit(await status(resolve(io.cwd, flags.dir), Number(flags.last) || 20, io));
    });
}

interface ScheduleFlags {
  unleash?: boolean;
  dir: string;
  platform?: string;
  outDir?: string;
  allowUngated?: boolean;
  allowWideBlast?: boolean;
  allowProduction?: boolean;
  gateImage?: string;
}

/**
 * `--platform kubernetes`: the schedule as Chaos Mesh Schedules (src/schedule/chaos-mesh-schedule.ts).
 * Here rather than under `compile`, because the input is a schedule file, read by the same
 * loader, and `--unleash` means the same thing: leashed objects are created paused.
 */
async function compileSchedule(file: string, flags: ScheduleFlags, io: CliIo): Promise<number> {
  if (flags.platform !== 'kubernetes' && flags.platform !== 'chaos-mesh') {
    throw new UsageError(
      `--platform ${String(flags.platform)}: schedules compile to kubernetes (Chaos Mesh Schedule objects) only`,
      { hint: 'use --platform kubernetes, or leave --platform out to run the scheduler locally' },
    );
  }
  const [
    { readSchedule },
    { readDocument },
    { compileScheduleForChaosMesh, loadScheduledExperiments },
  ] = await Promise.all([
    import('../../schedule/schedule-read.js'),
    import('../../run-plan/read-experiment.js'),
    import('../../schedule/chaos-mesh-schedule.js'),
  ]);
  const path = resolve(io.cwd, file);
  const loaded = await readSchedule(path, file);
  const read = readDocument(await readFile(path, 'utf8'), file);
  const { experiments, issues } = await loadScheduledExperiments(loaded, path, read, io.cwd);
  if (issues.length > 0)
    throw new ValidationError(
      issues.length === 1 ? `${file}: ${issues[0]!.message}` : `${file}: ${issues.length} problems`,
      issues,
    );
  const output = compileScheduleForChaosMesh(loaded.schedule, experiments, {
    file,
    read,
    env: io.env,
    unleash: flags.unleash,
    allowUngated: flags.allowUngated,
    allowWideBlast: flags.allowWideBlast,
    allowProduction: flags.allowProduction,
    gateImage: flags.gateImage,
  });
  for (const note of output.notes) println(io.stderr, `note: ${note}`);
  if (flags.outDir) {
    const out = resolve(io.cwd, flags.outDir);
    await mkdir(out, { recursive: true });
    for (const f of output.files) {
      await writeFile(join(out, f.name), f.text);
      println(io.stderr, `wrote ${join(flags.outDir, f.name)}`);
    }
  } else {
    io.stdout.write(output.files.map((f) => f.text).join('---\n'));
  }
  return 0;
}

async function status(dir: string, last: number, io: CliIo): Promise<number> {
  const [{ historyPath, statusPath }, { isAlive }] = await Promise.all([
    import('../../schedule/scheduler.js'),
    import('../../safety/recover.js'),
  ]);
  if (!existsSync(statusPath(dir)))
    throw new UsageError(`no schedule has run with ${dir}`, {
      hint: 'start one with faultline schedule SCHEDULE.yaml (or pass --dir)',
    });
  const s = JSON.parse(readFileSync(statusPath(dir), 'utf8')) as SchedulerStatus;
  const alive = !s.stopped && isAlive(s.pid);
  println(
    io.stdout,
    `schedule "${s.title}" (${s.file}): ${alive ? `running (pid ${s.pid}) since ${s.started}` : s.stopped ? `stopped at ${s.stopped}` : `not running (pid ${s.pid} is gone without a clean stop)`}${s.leashed ? ', leashed' : ', unleashed'}`,
  );
  for (const r of alive ? s.running : [])
    println(io.stdout, `  running: ${r.experiment} on ${r.group} since ${r.started}`);
  const history = existsSync(historyPath(dir))
    ? readFileSync(historyPath(dir), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as HistoryEntry)
    : [];
  const counts = new Map<string, number>();
  for (const h of history) {
    const key =
      h.action === 'ran'
        ? `ran → ${String(h.outcome)}`
        : h.action === 'skipped'
          ? `skipped (${String((h.reason ?? '').split(':')[0]!.split(' ')[0])})`
          : h.action;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  println(
    io.stdout,
    `history: ${history.length} entr${history.length === 1 ? 'y' : 'ies'}${counts.size ? `: ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')}` : ''}`,
  );
  for (const h of history.slice(-last))
    println(
      io.stdout,
      `  ${h.at} ${h.group}: ${h.action} ${h.experiment}${h.outcome ? ` → ${h.outcome} (exit ${h.exitCode ?? '?'})` : ''}${h.reason ? ` — ${h.reason}` : ''}`,
    );
  return 0;
}
