/**
 * Round bookkeeping for the side-by-side stages: the machine's load at each round, a verdict on
 * whether the round was too busy to count, and per-round ratios.
 *
 * The reference machine is a shared 2-core VM where other tenants' test suites come and go.
 * A round measures every system within a second or two, so a burst of noise hits all of them
 * about equally: the ratio of two systems *within* a round cancels most of it, while the ratio
 * of two medians taken over different rounds does not. A round that starts or ends while the
 * machine is much busier than it has cores is skipped and run again (up to a budget), and
 * every round's load is recorded so that a reader can see what the figures were taken under.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

/** The machine's load when a round started or ended (Linux /proc/loadavg). */
export interface LoadSample {
  /** 1-minute load average. */
  one: number;
  /** Runnable tasks at that instant (the 4th field's numerator): a short-term busy figure. */
  runnable: number;
}

export function loadSample(): LoadSample {
  try {
    const fields = readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/);
    return { one: Number(fields[0]), runnable: Number(fields[3]?.split('/')[0] ?? Number.NaN) };
  } catch {
    return { one: loadavg()[0] ?? Number.NaN, runnable: Number.NaN };
  }
}

/** One round as recorded: its load at start and end, and whether it counted. */
export interface RoundRecord {
  round: number;
  attempt: number;
  loadStart: LoadSample;
  loadEnd: LoadSample;
  /** The load exceeded the limit (a busy round counts only when the re-run budget is spent). */
  busy: boolean;
  skipped: boolean;
}

/**
 * Above this 1-minute load average a round is "busy". The bench itself keeps about two
 * processes runnable, so the default allows that plus one other busy process per core.
 */
export function defaultMaxLoad(): number {
  return cpus().length + 2;
}

/**
 * Runs `rounds` rounds of `body`, skipping (and re-running) a round whose load average at its
 * start or end exceeded `maxLoad`, until `rounds` rounds counted or `rounds` extra attempts were
 * spent; after that, busy rounds count (and stay marked) so that a stage always finishes.
 * Returns the records of every attempt, counted or not; `body` tells which round it runs and
 * whether its figures will be kept is known only after it returns, so `body` returns its figures
 * and `keep` receives those of the rounds that counted.
 */
export async function runRounds<T>(
  rounds: number,
  maxLoad: number,
  body: (round: number, attempt: number) => Promise<T>,
  keep: (figures: T, record: RoundRecord) => void,
  onSkip?: (record: RoundRecord) => void,
): Promise<RoundRecord[]> {
  const records: RoundRecord[] = [];
  let extra = rounds;
  let attempt = 0;
  for (let round = 1; round <= rounds;) {
    attempt++;
    const loadStart = loadSample();
    const figures = await body(round, attempt);
    const loadEnd = loadSample();
    const busy = Math.max(loadStart.one, loadEnd.one) > maxLoad;
    const skipped = busy && extra > 0;
    const record: RoundRecord = { round, attempt, loadStart, loadEnd, busy, skipped };
    records.push(record);
    if (skipped) {
      extra--;
      onSkip?.(record);
      continue;
    }
    keep(figures, record);
    round++;
  }
  return records;
}

/** `a[i] / b[i]` per round. */
export function perRound(a: readonly number[], b: readonly number[]): number[] {
  return a.map((v, i) => v / b[i]!);
}

/**
 * CPU affinity of processes (Linux `taskset`), for the round trip: a request that wakes a
 * process on the other vCPU costs ≈ 20–25 µs on this VM, which makes unpinned round trips
 * bimodal and hides the proxy's own cost. Returns false when taskset is not available.
 */
export function pin(pids: readonly number[], cpuList: string): boolean {
  let ok = true;
  for (const pid of pids) {
    const r = spawnSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' });
    if (r.error || r.status !== 0) ok = false;
  }
  return ok;
}

/** Every CPU of the machine, as a taskset list ("0-1"). */
export function allCpus(): string {
  return `0-${cpus().length - 1}`;
}
