/**
 * The scheduler: a long-lived process that, every tick, draws for each target group whether a
 * fault starts now (Chaos Monkey's probability: a Poisson process with the group's mean time
 * between faults, so `p = 1 − e^(−tick/MTBF)`), inside the cron windows only, and never within
 * the group's minimum gap. A draw that fires then meets, in order: blackout dates, the cap on
 * concurrent experiments, the health gate (every probe must answer: no chaos during an
 * incident) and the leash (leashed: log what would run, run nothing). Whatever happens is
 * appended to the history (JSON lines); `status.json` beside it says what is running now.
 *
 * A clean stop (SIGTERM/SIGINT → the signal) stops drawing and interrupts the runs in flight:
 * the runner removes their faults and they end `interrupted`, recorded as such.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Cron } from 'croner';
import { parseDuration } from '../experiment/duration.js';
import { readPlan } from '../run-plan/read-plan.js';
import { runExperiment } from '../runner/runner.js';
import { realClock, type Clock } from './clock.js';
import type { ReadSchedule } from './schedule-read.js';

export interface HistoryEntry {
  at: string;
  group: string;
  experiment: string;
  action: 'ran' | 'would-run' | 'skipped';
  /** Skips: blackout, busy, unhealthy; would-run: leashed. */
  reason?: string | undefined;
  outcome?: string | undefined;
  exitCode?: number | undefined;
  ended?: string | undefined;
  journal?: string | undefined;
}

export interface SchedulerStatus {
  pid: number;
  title: string;
  file: string;
  leashed: boolean;
  started: string;
  stopped?: string | undefined;
  running: { group: string; experiment: string; started: string }[];
}

export interface SchedulerOptions {
  /** History, status and run journals go here. */
  dir: string;
  /** Where live journals are kept for `faultline recover`/`halt`. */
  stateDir: string;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  print: (line: string) => void;
  clock?: Clock | undefined;
  /** Uniform in [0, 1): the draws (seed it in tests). */
  random?: (() => number) | undefined;
  /** `--unleash`: run for real even if the file is leashed. */
  unleash?: boolean | undefined;
  /** Stop by itself at this time (tests; a bounded run). */
  until?: Date | undefined;
}

export const historyPath = (dir: string): string => join(dir, 'history.jsonl');
export const statusPath = (dir: string): string => join(dir, 'status.json');

/** YYYY-MM-DD of `date` in `timeZone`. */
export function localDay(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(date);
}

export function inBlackout(date: Date, schedule: ReadSchedule['schedule']): string | undefined {
  const day = localDay(date, schedule.timezone);
  for (const b of schedule.blackouts) {
    if (typeof b === 'string' ? b === day : b.from <= day && day <= b.to)
      return typeof b === 'string'
        ? `blackout ${b}`
        : `blackout ${b.from} … ${b.to}${b.reason ? ` (${b.reason})` : ''}`;
  }
  return undefined;
}

/** The health gate: every probe answers its status in time; else why not. */
export async function checkHealth(
  schedule: ReadSchedule['schedule'],
  signal: AbortSignal,
): Promise<string | undefined> {
  for (const probe of schedule.healthGate?.probes ?? []) {
    try {
      const res = await fetch(probe.url, {
        signal: AbortSignal.any([
          signal,
          AbortSignal.timeout(parseDuration(probe.timeout) ?? 3000),
        ]),
      });
      await res.body?.cancel();
      if (res.status !== probe.status)
        return `${probe.url} answered ${res.status}, expected ${probe.status}`;
    } catch (err) {
      return `${probe.url}: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  return undefined;
}

export async function runSchedule(
  loaded: ReadSchedule,
  options: SchedulerOptions,
): Promise<HistoryEntry[]> {
  const { schedule } = loaded;
  const clock = options.clock ?? realClock;
  const random = options.random ?? Math.random;
  const leashed = !(schedule.unleashed || options.unleash);
  const tickMs = parseDuration(schedule.tick) ?? 60_000;
  const windows = schedule.windows.map(
    (w) => new Cron(w, { paused: true, timezone: schedule.timezone }),
  );
  const last = new Map<string, number>();
  const running = new Map<Promise<void>, { group: string; experiment: string; started: string }>();
  const history: HistoryEntry[] = [];
  mkdirSync(options.dir, { recursive: true });
  mkdirSync(options.stateDir, { recursive: true });
  const status: SchedulerStatus = {
    pid: process.pid,
    title: schedule.title,
    file: loaded.file,
    leashed,
    started: clock.now().toISOString(),
    running: [],
  };
  const saveStatus = (): void => {
    status.running = [...running.values()];
    writeFileSync(statusPath(options.dir), `${JSON.stringify(status, null, 2)}\n`);
  };
  const record = (entry: HistoryEntry): void => {
    history.push(entry);
    appendFileSync(historyPath(options.dir), `${JSON.stringify(entry)}\n`);
    options.print(
      `${entry.at} ${entry.group}: ${entry.action} ${entry.experiment}${entry.reason ? ` (${entry.reason})` : ''}${entry.outcome ? ` → ${entry.outcome}` : ''}`,
    );
  };
  saveStatus();
  options.print(
    `schedule "${schedule.title}": ${schedule.groups.length} group(s), windows ${schedule.windows.join(', ')} (${schedule.timezone})${leashed ? ' — LEASHED: logging what would run, running nothing (unleashed: true or --unleash to run)' : ' — UNLEASHED'}`,
  );
  let runs = 0;

  while (!options.signal.aborted && !(options.until && clock.now() >= options.until)) {
    const now = clock.now();
    if (windows.some((w) => w.match(now))) {
      for (const group of schedule.groups) {
        const gap = parseDuration(group.minimumGap) ?? 0;
        const previous = last.get(group.name);
        if (previous !== undefined && now.getTime() - previous < gap) continue;
        const mtbf = parseDuration(group.meanTimeBetweenFaults) ?? Infinity;
        if (random() >= 1 - Math.exp(-tickMs / mtbf)) continue;
        const paths = loaded.experiments.get(group.name) ?? [];
        const path = paths[Math.floor(random() * paths.length)] ?? paths[0]!;
        const experiment = relative(options.dir, path);
        const at = now.toISOString();
        const blackout = inBlackout(now, schedule);
        if (blackout) {
          record({ at, group: group.name, experiment, action: 'skipped', reason: blackout });
          continue;
        }
        if (running.size >= schedule.maxConcurrent) {
          record({
            at,
            group: group.name,
            experiment,
            action: 'skipped',
            reason: `busy: ${running.size} experiment(s) running, at most ${schedule.maxConcurrent}`,
          });
          continue;
        }
        const unhealthy = await checkHealth(schedule, options.signal);
        if (unhealthy) {
          record({
            at,
            group: group.name,
            experiment,
            action: 'skipped',
            reason: `unhealthy: ${unhealthy}`,
          });
          continue;
        }
        last.set(group.name, now.getTime());
        if (leashed) {
          record({ at, group: group.name, experiment, action: 'would-run', reason: 'leashed' });
          continue;
        }
        const n = ++runs;
        const journal = join(options.dir, `run-${String(n).padStart(4, '0')}.json`);
        const info = { group: group.name, experiment, started: at };
        const task = (async () => {
          try {
            const plan = await readPlan(path, { displayName: experiment, env: options.env });
            const result = await runExperiment(plan, {
              signal: options.signal,
              journalPath: join(options.stateDir, `schedule-${process.pid}-${n}.json`),
            });
            writeFileSync(journal, `${JSON.stringify(result, null, 2)}\n`);
            record({
              ...info,
              at,
              action: 'ran',
              outcome: result.faultline.outcome,
              exitCode: result.faultline.exit_code,
              ended: clock.now().toISOString(),
              journal: relative(options.dir, journal),
            });
          } catch (err) {
            record({
              ...info,
              at,
              action: 'ran',
              outcome: 'failed',
              reason: err instanceof Error ? err.message : String(err),
              ended: clock.now().toISOString(),
            });
          }
        })();
        running.set(task, info);
        clock.track?.(task);
        saveStatus();
        void task.finally(() => {
          running.delete(task);
          saveStatus();
        });
      }
    }
    await clock.sleep(tickMs, options.signal);
  }
  // A clean stop: the runs in flight were given the same signal; wait for their clean-up.
  await Promise.all(running.keys());
  status.stopped = clock.now().toISOString();
  saveStatus();
  return history;
}
