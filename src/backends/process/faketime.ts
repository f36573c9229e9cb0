/**
 * Clock skew through libfaketime (Debian's `faketime` package): a service whose experiment has a
 * clock-skew fault is started with the library preloaded and pointed at a timestamp file that
 * holds its offset ("+0" until the fault writes one). libfaketime re-reads the file on every
 * clock call (FAKETIME_NO_CACHE=1), so the fault and its removal take effect at once without
 * touching the process; the monotonic clock is left alone (FAKETIME_DONT_FAKE_MONOTONIC=1) so
 * timers, timeouts and event loops keep their pace while the wall clock jumps.
 */
import { accessSync, constants } from 'node:fs';
import { FaultError } from '../../errors.js';

/** Where Debian and its derivatives put the library; FAULTLINE_LIBFAKETIME overrides. */
const CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
  '/usr/local/lib/faketime/libfaketime.so.1',
];

/** The libfaketime shared object, or a plain error saying how to get it. */
export function findLibfaketime(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const candidates = env['FAULTLINE_LIBFAKETIME'] ? [env['FAULTLINE_LIBFAKETIME']] : CANDIDATES;
  for (const path of candidates) {
    try {
      accessSync(path, constants.R_OK);
      return path;
    } catch {
      // next
    }
  }
  throw new FaultError(
    `clock-skew needs libfaketime, which is not installed (looked for ${candidates.join(', ')})`,
    {
      hint:
        process.platform === 'linux'
          ? 'install it (Debian/Ubuntu: apt-get install faketime), or set FAULTLINE_LIBFAKETIME to the path of libfaketime.so.1'
          : 'clock-skew on a service target works on Linux with libfaketime',
    },
  );
}

const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** A signed duration ("-1.5h", "30s", "-250ms") as libfaketime's relative offset ("-5400", "+30", "-0.25"). */
export function faketimeOffset(offset: string): string {
  const m = /^(-?)(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(offset);
  if (!m) throw new FaultError(`"${offset}" is not a signed duration such as "-1h" or "30s"`);
  const seconds = Number(m[2]) * UNIT_SECONDS[m[3]!]!;
  // Up to microseconds, without exponent notation or trailing zeros.
  const text = seconds.toFixed(6).replace(/\.?0+$/, '');
  return `${m[1] === '-' ? '-' : '+'}${text}`;
}

/** The environment that puts a process under the timestamp file `file`. */
export function faketimeEnv(
  library: string,
  file: string,
  base: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const preload = base['LD_PRELOAD'];
  return {
    LD_PRELOAD: preload ? `${library}:${preload}` : library,
    FAKETIME_TIMESTAMP_FILE: file,
    FAKETIME_NO_CACHE: '1',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  };
}

/** What the timestamp file holds when no skew is applied. */
export const NO_SKEW = '+0';
