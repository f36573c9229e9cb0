// The load generator's cost and accuracy, side by side with autocannon against the same
// trivial local HTTP server (in its own process). Each generator runs in a child process of its
// own, so its CPU time (user + system) per request is measured alone. Figures: requests sent,
// achieved rate against the target (faultline must hold it within 1 %), client CPU per request,
// and latency percentiles as each tool reports them. faultline runs twice per round: with its
// default send window (what `faultline load` does) and with the finest one (0.5 ms), to show
// what batching the sends buys.
//
//   node --import tsx bench/load-generator.ts [--rate 2000] [--duration 10] [--rounds 2] [--json]
import { spawn, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { loadSample } from './lib/rounds.js';
import { median } from './lib/stats.js';

interface Result {
  tool: string;
  model: string;
  target_rate: number;
  requests: number;
  achieved_rate: number;
  rate_error_pct: number;
  worst_second_error_pct: number | null;
  /** Sends that left more than 10 ms after their due time (faultline only). */
  late: number | null;
  cpu_us_per_request: number;
  p50_ms: number;
  p99_ms: number;
}

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};

async function child(): Promise<void> {
  const [, , , tool, url, rateText, durationText] = process.argv;
  const rate = Number(rateText);
  const duration = Number(durationText);
  // Load the code first: only the run itself is measured.
  const { runLoad } = await import('../src/load/generator.js');
  const autocannon = (await import('autocannon')).default;
  const cpu0 = process.cpuUsage();
  let result: Omit<Result, 'cpu_us_per_request'>;
  if (tool === 'faultline' || tool === 'faultline-fine') {
    const fine = tool === 'faultline-fine';
    const report = await runLoad({
      url: url!,
      stages: [{ durationMs: duration * 1000, from: rate }],
      connections: 50,
      sendWindowMs: fine ? 0.5 : undefined,
    });
    const full = report.series.filter((s) => s.second < duration);
    const worst = Math.max(...full.map((s) => Math.abs(s.scheduled - rate) / rate));
    result = {
      tool: fine ? 'faultline load, 0.5 ms window' : 'faultline load',
      model: fine
        ? 'open, sends within 0.5 ms of due'
        : 'open, adaptive send window (≈ 20 arrivals, ≤ 50 ms, within the second)',
      target_rate: rate,
      requests: report.total.completed,
      achieved_rate: report.health.achieved_rate,
      rate_error_pct: (Math.abs(report.health.achieved_rate - rate) / rate) * 100,
      worst_second_error_pct: worst * 100,
      late: report.health.late,
      p50_ms: report.total.p50,
      p99_ms: report.total.p99,
    };
  } else {
    const out = await autocannon({ url: url!, connections: 50, duration, overallRate: rate });
    result = {
      tool: 'autocannon 8',
      model: 'closed loops, rate-limited (overallRate)',
      target_rate: rate,
      requests: out.requests.total,
      achieved_rate: out.requests.total / duration,
      rate_error_pct: (Math.abs(out.requests.total / duration - rate) / rate) * 100,
      worst_second_error_pct: null,
      late: null,
      p50_ms: out.latency.p50,
      p99_ms: out.latency.p99,
    };
  }
  const cpu = process.cpuUsage(cpu0);
  process.send!({
    ...result,
    cpu_us_per_request: (cpu.user + cpu.system) / Math.max(1, result.requests),
  });
}

async function main(): Promise<void> {
  const rate = Number(flag('rate', '2000'));
  const duration = Number(flag('duration', '10'));
  const rounds = Number(flag('rounds', '2'));
  // The server runs in its own process: a trivial 200 "ok".
  const server = spawn(
    process.execPath,
    [
      '-e',
      "const s=require('http').createServer((q,r)=>r.end('ok'));s.keepAliveTimeout=60000;s.listen(0,'127.0.0.1',()=>console.log(s.address().port))",
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [portLine] = (await once(server.stdout, 'data')) as [Buffer];
  const url = `http://127.0.0.1:${portLine.toString().trim()}/`;
  const results: Result[] = [];
  // Warm the server up (JIT, sockets) before the first measured round, unmeasured: otherwise
  // whichever tool runs first meets a slower server, and answers that trickle in cost wake-ups.
  {
    const warm = fork(
      fileURLToPath(import.meta.url),
      ['--child', 'autocannon', url, String(rate), '2'],
      { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
    );
    await once(warm, 'exit');
  }
  // Interleaved rounds, judged on per-round ratios (a round's noise cancels in its own ratio),
  // each round's load average recorded (bench/lib/rounds.ts).
  const perRoundRatio: number[] = [];
  const roundLoads: string[] = [];
  for (let round = 1; round <= rounds; round++) {
    const loadStart = loadSample();
    const inRound: Result[] = [];
    for (const tool of ['faultline', 'autocannon', 'faultline-fine']) {
      process.stderr.write(`round ${round}/${rounds}: ${tool} at ${rate}/s for ${duration} s…\n`);
      const c = fork(
        fileURLToPath(import.meta.url),
        ['--child', tool, url, String(rate), String(duration)],
        { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
      );
      const [message] = (await once(c, 'message')) as [Result];
      inRound.push(message);
      await once(c, 'exit');
    }
    const loadEnd = loadSample();
    results.push(...inRound);
    const [f, a] = inRound;
    perRoundRatio.push(f!.cpu_us_per_request / a!.cpu_us_per_request);
    roundLoads.push(`${loadStart.one.toFixed(2)} → ${loadEnd.one.toFixed(2)}`);
  }
  server.kill();
  if (args.includes('--json')) {
    console.log(JSON.stringify(results, null, 2));
    return;
  }
  console.log(
    `\nload generators against one local HTTP server (own process), ${rate}/s for ${duration} s, 50 connections, ${rounds} interleaved rounds\n`,
  );
  console.log(
    '| tool | model | requests | achieved/s | rate error | worst second | late sends | CPU µs/request | p50 ms | p99 ms |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.tool} | ${r.model} | ${r.requests} | ${r.achieved_rate.toFixed(1)} | ${r.rate_error_pct.toFixed(2)} % | ${r.worst_second_error_pct === null ? 'n/a' : `${r.worst_second_error_pct.toFixed(2)} %`} | ${r.late ?? 'n/a'} | ${r.cpu_us_per_request.toFixed(1)} | ${r.p50_ms} | ${r.p99_ms} |`,
    );
  }
  const f = results.filter((r) => r.tool === 'faultline load');
  const fine = results.filter((r) => r.tool !== 'faultline load' && r.tool.startsWith('faultline'));
  const a = results.filter((r) => r.tool.startsWith('autocannon'));
  const mean = (xs: Result[]): number =>
    xs.reduce((s, r) => s + r.cpu_us_per_request, 0) / xs.length;
  const worst = Math.max(...[...f, ...fine].map((r) => r.worst_second_error_pct ?? 0));
  console.log(
    `\nCPU per request, faultline / autocannon, per round: ${perRoundRatio.map((x) => x.toFixed(2)).join(', ')}; median **${median(perRoundRatio).toFixed(2)}** (≤ 1.00 is the target); ratio of means ${(mean(f) / mean(a)).toFixed(2)}; with the 0.5 ms window: ${(mean(fine) / mean(a)).toFixed(2)}`,
  );
  console.log(`load average (1 min) per round, start → end: ${roundLoads.join('; ')}`);
  console.log(
    `faultline's worst second: ${worst.toFixed(2)} % off the target rate (≤ 1 % is the target)`,
  );
}

if (process.argv[2] === '--child') await child();
else await main();
