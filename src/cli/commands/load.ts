/**
 * `faultline load URL --rate 500/s --duration 30s`: the load generator on its own, for a
 * baseline or a quick check. Prints HDR percentiles, status classes, errors and the
 * generator's own health; `--json` prints the whole report, per-second series included.
 */
import type { Command } from 'commander';
import { ExitCode, UsageError } from '../../errors.js';
import { parseDuration } from '../../experiment/duration.js';
import type { LoadReport } from '../../load/generator.js';
import { println, type CliIo } from '../io.js';

interface LoadFlags {
  rate?: string;
  duration: string;
  concurrency?: string;
  connections: string;
  method: string;
  header?: string[];
  body?: string;
  timeout: string;
  sendWindow?: string;
  json?: boolean;
}

const RATE = /^(\d+(?:\.\d+)?)\/s$/;

/** `500/s`, or a ramp `100/s..500/s`. */
export function parseRateFlag(text: string): { from: number; to: number } | undefined {
  const [a, b, extra] = text.split('..');
  if (extra !== undefined || a === undefined) return undefined;
  const from = RATE.exec(a);
  const to = b === undefined ? from : RATE.exec(b);
  if (!from || !to) return undefined;
  return { from: Number(from[1]), to: Number(to[1]) };
}

export function registerLoadCommand(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  program
    .command('load')
    .description(
      'send HTTP load at a constant (or ramping) arrival rate and print latency percentiles',
    )
    .argument('<url>', 'the URL to load')
    .option('--rate <rate>', 'arrival rate, e.g. 500/s, or a ramp 100/s..500/s (open model)')
    .option('--duration <duration>', 'how long', '30s')
    .option('--concurrency <n>', 'closed model instead: n loops, each waiting for its answer')
    .option('--connections <n>', 'keep-alive connections at most', '100')
    .option('--method <method>', 'HTTP method', 'GET')
    .option('--header <name:value...>', 'request headers')
    .option('--body <text>', 'request body')
    .option('--timeout <duration>', 'per-request timeout (counted as an error)', '10s')
    .option(
      '--send-window <duration>',
      'open model: send what is due within this window at each wake-up (default adaptive, ~20 arrivals, ≤ 50 ms and within the second; 0.5ms spaces sends exactly at twice the CPU)',
    )
    .option('--json', 'print the whole report as JSON')
    .action(async (url: string, flags: LoadFlags) => {
      const durationMs = parseDuration(flags.duration);
      if (durationMs === undefined)
        throw new UsageError(`--duration ${flags.duration} is not a duration`, {
          hint: 'e.g. 30s, 2m',
        });
      const timeoutMs = parseDuration(flags.timeout);
      if (timeoutMs === undefined)
        throw new UsageError(`--timeout ${flags.timeout} is not a duration`);
      const connections = Number(flags.connections);
      if (!Number.isInteger(connections) || connections < 1)
        throw new UsageError(`--connections ${flags.connections} is not a positive integer`);
      const headers: Record<string, string> = {};
      for (const h of flags.header ?? []) {
        const colon = h.indexOf(':');
        if (colon <= 0) throw new UsageError(`--header ${h}: expected name:value`);
        headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
      }
      let closed: { concurrency: number; durationMs: number } | undefined;
      let stages: { durationMs: number; from: number; to: number }[] | undefined;
      if (flags.concurrency !== undefined) {
        const concurrency = Number(flags.concurrency);
        if (!Number.isInteger(concurrency) || concurrency < 1)
          throw new UsageError(`--concurrency ${flags.concurrency} is not a positive integer`);
        closed = { concurrency, durationMs };
      } else {
        const rate = parseRateFlag(flags.rate ?? '');
        if (!rate)
          throw new UsageError(
            flags.rate
              ? `--rate ${flags.rate} is not a rate`
              : 'give --rate (open model) or --concurrency (closed model)',
            { hint: 'e.g. --rate 500/s, or --rate 100/s..500/s for a ramp' },
          );
        stages = [{ durationMs, from: rate.from, to: rate.to }];
      }
      let sendWindowMs: number | undefined;
      if (flags.sendWindow !== undefined) {
        sendWindowMs = parseDuration(flags.sendWindow);
        if (sendWindowMs === undefined || sendWindowMs <= 0 || sendWindowMs > 100)
          throw new UsageError(
            `--send-window ${flags.sendWindow}: expected a duration from 0.1ms to 100ms, e.g. 0.5ms`,
          );
      }
      const progress = flags.json ? io.stderr : io.stdout;
      const { runLoad } = await import('../../load/generator.js');
      const report = await runLoad({
        url,
        method: flags.method,
        headers,
        body: flags.body,
        stages,
        sendWindowMs,
        closed,
        connections,
        timeoutMs,
        signal: io.signal,
        onSecond: (second, s) =>
          println(
            progress,
            `[${String(second + 1).padStart(4)}s] ${s.completed} done  p50 ${s.p50} ms  p99 ${s.p99} ms  errors ${s.errors + s.status['5xx']}${s.late ? `  late ${s.late}` : ''}${s.dropped ? `  dropped ${s.dropped}` : ''}`,
          ),
      });
      if (flags.json) println(io.stdout, JSON.stringify(report, null, 2));
      else for (const line of formatReport(report)) println(io.stdout, line);
      if (io.signal.aborted) setExit(ExitCode.interrupted);
    });
}

export function formatReport(r: LoadReport): string[] {
  const t = r.total;
  const lines = [
    '',
    `${r.method} ${r.url} — ${r.model} model, ${r.duration_s} s${r.health.target_rate !== undefined ? `, target ${r.health.target_rate}/s, sent ${r.health.achieved_rate}/s` : ''}`,
    `latency (ms, ${r.model === 'open' ? 'from the scheduled send time' : 'from the send'}):  p50 ${t.p50}  p90 ${t.p90}  p99 ${t.p99}  p99.9 ${t.p999}  max ${t.max}  mean ${t.mean}`,
    `requests: ${t.completed} completed (${t.rps.toFixed(1)}/s)  2xx ${t.status['2xx']}  3xx ${t.status['3xx']}  4xx ${t.status['4xx']}  5xx ${t.status['5xx']}  errors ${t.errors} (timeouts ${t.timeouts})  error rate ${(t.error_rate * 100).toFixed(2)}%`,
    `generator: late sends ${r.health.late}, dropped ${r.health.dropped}, event-loop lag p99 ${r.health.event_loop_p99_ms} ms — ${r.health.trustworthy ? 'measurement trustworthy' : `NOT trustworthy: ${r.health.problems.join('; ')}`}`,
  ];
  return lines;
}
