/**
 * Who a pid is: its start time. A pid alone does not name a process — once a runner dies, the
 * kernel hands its pid to the next process that starts — so the kill switch (`faultline halt`,
 * `faultline recover`) records a runner's pid together with when that process started, and takes
 * a pid now held by a process that started at another time for what it is: someone else, and the
 * runner dead.
 *
 * On Linux the start time is field 22 of /proc/<pid>/stat (clock ticks since boot: exact, and
 * readable for any process). Elsewhere it is `ps -o lstart=` (the start to the second), which
 * macOS and the BSDs have. Each is tagged with how it was read, so two tokens are only ever
 * compared when read the same way.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The start time of process `pid` as an opaque token (`stat:<ticks>`, `ps:<date>`), or undefined. */
export function processStart(pid: number): string | undefined {
  const stat = readProcStat(pid);
  if (stat) return `stat:${stat.start}`;
  if (process.platform === 'linux') return undefined; // no such process
  try {
    const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 2_000,
    }).trim();
    return out ? `ps:${out.replace(/\s+/g, ' ')}` : undefined;
  } catch {
    return undefined;
  }
}

/** The fields of /proc/<pid>/stat this module needs, or undefined (no such process, not Linux). */
function readProcStat(pid: number): { state: string; start: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields restart after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '?', start: Number(fields[19]) };
}

/** Whether a process with this pid exists (EPERM: it does, it is someone else's). */
function exists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the process that was `pid`, started at `start`, is still running: the pid exists, is
 * not a zombie, and — when the start time was recorded and can be read now — started at that
 * very time (a pid reused by another process is not the runner). Without a recorded start time
 * (a journal of an older faultline) the pid alone decides, as it used to. This process is
 * always alive.
 */
export function isSameLiveProcess(pid: number, start: string | undefined): boolean {
  if (pid === process.pid) return true;
  if (!exists(pid)) return false;
  const stat = readProcStat(pid);
  if (stat && (stat.state === 'Z' || stat.state === 'X')) return false;
  if (start === undefined) return true;
  const now = processStart(pid);
  // Unreadable now (gone meanwhile, or a platform without either source): the pid decides.
  if (now === undefined) return exists(pid);
  const kind = (token: string): string => token.slice(0, token.indexOf(':'));
  if (kind(now) !== kind(start)) return true;
  return now === start;
}
