/**
 * `faultline schedule SCHEDULE.yaml` (the long-lived scheduler; SIGTERM stops it cleanly,
 * rolling back what is running) and `faultline schedule status` (what runs now, the history of
 * runs and their verdicts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { isAlive, stateDir } from '../../runner/recover.js';
import { loadSchedule } from '../../schedule/schedule-load.js';
import { historyPath, runSchedule, statusPath, type HistoryEntry, type SchedulerStatus } from '../../schedule/scheduler.js';
import { println, type CliIo } from '../io.js';
import { UsageError } from '../../errors.js';

export function registerScheduleCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('schedule')
    .description('scheduled chaos (Chaos Monkey style): cron windows, mean time between faults, blackouts, a health gate; leashed by default. "schedule status" shows the history')
    .argument('<schedule>', 'the schedule file (YAML), or "status"')
    .option('--unleash', 'run the experiments for real (default: leashed, log what would run)')
    .option('--dir <dir>', 'where the history, status and run journals are kept', '.faultline/schedule')
    .option('--last <n>', 'status: how many history entries to show', '20')
    .action(async (file: string, flags: { unleash?: boolean; dir: string; last: string }) => {
      const dir = resolve(io.cwd, flags.dir);
      if (file === 'status') {
        setExit(status(dir, Number(flags.last) || 20, io));
        return;
      }
      const loaded = await loadSchedule(resolve(io.cwd, file), file);
      await runSchedule(loaded, { dir, stateDir: stateDir(io.env, io.cwd), env: io.env, signal: io.signal, print: (l) => println(io.stdout, l), unleash: flags.unleash });
      println(io.stdout, `schedule stopped; history in ${join(flags.dir, 'history.jsonl')}`);
    });
}

function status(dir: string, last: number, io: CliIo): number {
  if (!existsSync(statusPath(dir))) throw new UsageError(`no schedule has run with ${dir}`, { hint: 'start one with faultline schedule SCHEDULE.yaml (or pass --dir)' });
  const s = JSON.parse(readFileSync(statusPath(dir), 'utf8')) as SchedulerStatus;
  const alive = !s.stopped && isAlive(s.pid);
  println(io.stdout, `schedule "${s.title}" (${s.file}): ${alive ? `running (pid ${s.pid}) since ${s.started}` : s.stopped ? `stopped at ${s.stopped}` : `not running (pid ${s.pid} is gone without a clean stop)`}${s.leashed ? ', leashed' : ', unleashed'}`);
  for (const r of alive ? s.running : []) println(io.stdout, `  running: ${r.experiment} on ${r.group} since ${r.started}`);
  const history = existsSync(historyPath(dir)) ? readFileSync(historyPath(dir), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as HistoryEntry) : [];
  const counts = new Map<string, number>();
  for (const h of history) {
    const key = h.action === 'ran' ? `ran → ${h.outcome}` : h.action === 'skipped' ? `skipped (${(h.reason ?? '').split(':')[0]!.split(' ')[0]})` : h.action;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  println(io.stdout, `history: ${history.length} entr${history.length === 1 ? 'y' : 'ies'}${counts.size ? `: ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')}` : ''}`);
  for (const h of history.slice(-last)) println(io.stdout, `  ${h.at} ${h.group}: ${h.action} ${h.experiment}${h.outcome ? ` → ${h.outcome} (exit ${h.exitCode ?? '?'})` : ''}${h.reason ? ` — ${h.reason}` : ''}`);
  return 0;
}
