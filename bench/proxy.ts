/**
 * faultline proxy benchmarks: throughput, round trip, connection rate, toxic accuracy, control
 * API under load, memory per idle connection. Everything side by side in one run.
 *
 *   npm run bench                       # full run (≈ 4 min on 2 cores)
 *   npm run bench -- --quick            # reduced run (≈ 1 min)
 *   npm run -s bench -- --json          # machine-readable results on stdout (-s: no npm banner)
 *   npm run bench -- --only=rtt,cps     # some stages: throughput rtt cps latency bandwidth control memory
 *   npm run bench -- --cpu-prof         # proxy children write V8 CPU profiles to $TMPDIR/faultline-bench-prof/
 *   npm run bench -- --source           # run faultline from src/ through tsx instead of its tsc build
 *   npm run bench -- --max-load=4       # skip (and re-run) rounds whose 1-min load average is above 4
 *   npm run bench -- --no-pin           # do not pin the round trip's processes to CPU 0
 *
 * Figures are judged on per-round ratios: each round measures direct, bare pipe and faultline
 * back to back, so a burst of noise from another tenant lands in one round's three figures and
 * cancels in their ratio; the median of those ratios is the verdict (bench/lib/rounds.ts). Each
 * round's load average is recorded, and a busy round is skipped and run again.
 *
 * Diagnosis (environment variables):
 *   BENCH_SUT_FLAGS="--trace-gc"        extra node flags for the proxy children
 *   BENCH_BARE_BALLAST=1                the bare pipe's process also imports faultline (unused)
 *   BENCH_BARE_BALLAST=module:zod       … or one module; BENCH_BARE_BALLAST=objects: 14 MB of plain objects
 *
 * By default faultline is first compiled with tsc (tsconfig.build.json) into
 * node_modules/.cache/faultline-bench/ and the proxy child loads that build: it is what the
 * package ships, and tsx's transform (esbuild `keepNames`) adds a `__name()` call to every
 * closure it creates, which costs faultline several per cent of its connection rate and more
 * than half of the time it takes to rewire connections when a toxic is added. The proxy
 * children's own script (bench/lib/sut.ts) is transpiled beside it and runs in plain node, as
 * users run faultline: tsx would add ≈ 2.5 MB to each child's V8 heap (BENCHMARKS.md).
 *
 * Processes (all loopback):
 *
 *   this process (load generator) ──▶ [ bare pipe proxy ]  ──▶ upstream servers
 *                                 ──▶ [ faultline proxy ]  ──▶ (echo, sink, source, stream)
 *                                 ──────────── direct ───────▶
 *   clients child (1,000 streams / 10,000 idle connections) ──▶ proxy ──▶ upstream
 *
 * Each system under test is a child process of its own (bench/lib/sut.ts), the upstream
 * servers are another (bench/lib/upstream.ts). Measurements of the three systems are
 * interleaved round by round so that noise from the shared machine spreads over all of them.
 * Progress goes to stderr, the tables (or JSON) to stdout.
 */
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { timedRequest, closeAgent } from './lib/http.js';
import { spawnChild, type Child, type IoCounters, type MemorySample } from './lib/ipc.js';
import {
  concurrentRoundTrips,
  connectRate,
  download,
  pingPong,
  upload,
  type ConnectRate,
} from './lib/load.js';
import {
  allCpus,
  defaultMaxLoad,
  perRound,
  pin,
  runRounds,
  type RoundRecord,
} from './lib/rounds.js';
import { fmt, fmtInt, median, pct, summarize, table, type Summary } from './lib/stats.js';
import type { SutInfo, SutMode } from './lib/sut.js';
import type { UpstreamInfo } from './lib/upstream.js';

// --- options ---------------------------------------------------------------------------------

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const asJson = argv.includes('--json');
const cpuProf = argv.includes('--cpu-prof');
const fromSource = argv.includes('--source');
const onlyArg = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const maxLoadArg = argv.find((a) => a.startsWith('--max-load='))?.slice('--max-load='.length);
/** A round whose 1-minute load average exceeds this is skipped and run again (bench/lib/rounds.ts). */
const maxLoad = maxLoadArg === undefined ? defaultMaxLoad() : Number(maxLoadArg);
const noPin = argv.includes('--no-pin');
const STAGES = ['throughput', 'rtt', 'cps', 'latency', 'bandwidth', 'control', 'memory'] as const;
type Stage = (typeof STAGES)[number];
const only = new Set<string>(onlyArg ? onlyArg.split(',') : STAGES);
for (const s of only) {
  if (!(STAGES as readonly string[]).includes(s)) {
    process.stderr.write(`unknown stage "${s}"; stages: ${STAGES.join(', ')}\n`);
    process.exit(2);
  }
}
const KNOWN = ['--quick', '--json', '--cpu-prof', '--source', '--no-pin', '--help', '-h'];
const USAGE =
  'usage: npm run bench -- [--quick] [--json] [--only=stage,…] [--cpu-prof] [--source] [--max-load=N] [--no-pin]';
if (!Number.isFinite(maxLoad) || maxLoad <= 0) {
  process.stderr.write(`--max-load must be a positive number\n${USAGE}\n`);
  process.exit(2);
}
for (const a of argv) {
  if (!KNOWN.includes(a) && !a.startsWith('--only=') && !a.startsWith('--max-load=')) {
    process.stderr.write(`unknown option "${a}"; ${USAGE}\n`);
    process.exit(2);
  }
}
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const MiB = 1024 * 1024;
const config = quick
  ? {
      throughputBytes: 128 * MiB,
      throughputRounds: 1,
      throughputWarmupBytes: 32 * MiB,
      rttCount: 2_000,
      rttRounds: 2,
      rttWarmup: 500,
      cpsMs: 500,
      cpsRounds: 3,
      cpsConcurrency: 50,
      latencySequential: 30,
      latencyConnections: 20,
      latencyRounds: 10,
      bandwidthRates: [10, 100, 1_000, 10_000, 100_000],
      bandwidthSeconds: 1,
      controlConnections: 200,
      controlCycles: 30,
      controlCapSeconds: 3,
      controlBareSeconds: 1.5,
      controlSettleMs: 500,
      idleConnections: 1_000,
      idleApiCycles: 6,
    }
  : {
      throughputBytes: 1024 * MiB,
      throughputRounds: 3,
      throughputWarmupBytes: 128 * MiB,
      rttCount: 5_000,
      rttRounds: 4,
      rttWarmup: 2_000,
      cpsMs: 1_000,
      cpsRounds: 7,
      cpsConcurrency: 50,
      latencySequential: 300,
      latencyConnections: 25,
      latencyRounds: 48,
      bandwidthRates: [10, 100, 1_000, 10_000, 100_000],
      bandwidthSeconds: 2.5,
      controlConnections: 1_000,
      controlCycles: 100,
      controlCapSeconds: 60,
      controlBareSeconds: 3,
      controlSettleMs: 1_000,
      idleConnections: 10_000,
      idleApiCycles: 21,
    };

// --- progress --------------------------------------------------------------------------------

const t0 = performance.now();
function progress(message: string): void {
  const s = ((performance.now() - t0) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[${s}s] ${message}\n`);
}

const systems = ['direct', 'bare', 'faultline'] as const;
type System = (typeof systems)[number];
const label: Record<System, string> = {
  direct: 'direct',
  bare: 'bare pipe',
  faultline: 'faultline',
};

// --- results -----------------------------------------------------------------------------------

interface ThroughputResult {
  /** MB/s (10^6 bytes per second), median of the rounds. */
  mbps: number;
  /** Best round, MB/s: on a shared machine noise only ever slows a transfer down. */
  bestMbps: number;
  samplesMbps: number[];
  /** CPU milliseconds the proxy process spent per GiB moved (median of rounds), user + system. */
  proxyCpuMsPerGiB?: number;
  proxyUserMsPerGiB?: number;
  proxySystemMsPerGiB?: number;
  /** Bytes moved per read() and per write() system call of the proxy (Linux /proc/PID/io). */
  proxyBytesPerRead?: number;
  proxyBytesPerWrite?: number;
}

/** Per-round ratios of a side-by-side stage (each round's noise cancels in its own ratio). */
interface RoundRatios {
  flOverBare: number[];
  flOverDirect: number[];
  records: RoundRecord[];
}

interface CpsFigures {
  perSecond: number;
  best: number;
  samples: number[];
  errors: number;
  cycleP50Us: number;
  cycleP99Us: number;
}

function busyNote(r: RoundRecord): string {
  return `round ${r.round} (attempt ${r.attempt}) skipped: load average ${fmt(r.loadStart.one, 2)} → ${fmt(r.loadEnd.one, 2)} > ${fmt(maxLoad, 1)} (--max-load); run again`;
}

interface Results {
  machine: {
    nproc: number;
    cpu: string;
    node: string;
    platform: string;
    fdLimit: number;
    quick: boolean;
    date: string;
    loadavgStart: number[];
    loadavgEnd?: number[];
    /** Rounds whose 1-minute load average exceeded this were skipped and run again. */
    maxLoad: number;
    faultlineCode?: string;
    diagnosisEnv?: Record<string, string>;
  };
  config: typeof config;
  throughput?: {
    upload: Record<System, ThroughputResult>;
    download: Record<System, ThroughputResult>;
    bytes: number;
    rounds: Record<'upload' | 'download', RoundRatios>;
  };
  rtt?: Record<System, Summary> & {
    /** Client, proxies and upstream pinned to CPU 0 during the stage. */
    pinned: boolean;
    /** Each round's p50 per system, and what each proxy added to that round's direct p50. */
    roundP50Us: Record<System, number[]>;
    addedBareUs: number[];
    addedFaultlineUs: number[];
    records: RoundRecord[];
  };
  cps?: Record<System, CpsFigures> & {
    rounds: RoundRatios;
    /** Each proxy's CPU time (user + system) per completed cycle, µs, per round. */
    cpuUsPerConnection: { bare: number[]; faultline: number[] };
    cpuFlOverBare: number[];
  };
  /** Connections the proxies still held 1 s after the connection-rate stage (a leak check). */
  cpsLeftoverConnections?: { bare: number; faultline: number };
  latency?: {
    set: number;
    baselineP50Ms: number;
    sequential: LatencyFigures;
    concurrent: LatencyFigures;
    /** The same figures for a plain setTimeout delay proxy (the host's timer noise). */
    reference: { sequential: LatencyFigures; concurrent: LatencyFigures };
  };
  bandwidth?: {
    rateKBps: number;
    bytes: number;
    seconds: number;
    measuredKBps: number;
    errorPct: number;
  }[];
  control?: Partial<Record<StreamLoad, ControlVariant>>;
  memory?: {
    connections: number;
    requested: number;
    perConnection: Record<
      SutMode,
      {
        rss: number;
        heap: number;
        external: number;
        before: MemorySample;
        after: MemorySample;
        active: number;
      }
    >;
    /** Control API calls (add/remove a latency toxic) with that many idle connections through faultline. */
    idleApi?: Summary & { connections: number };
  };
  elapsedSeconds?: number;
}

const fdLimit = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim()) || 1024;
const results: Results = {
  machine: {
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    fdLimit,
    quick,
    date: new Date().toISOString(),
    loadavgStart: loadavg(),
    maxLoad,
  },
  config,
};

// --- children ----------------------------------------------------------------------------------

const profDir = join(tmpdir(), 'faultline-bench-prof');
function sutExecArgv(mode: SutMode): string[] {
  // Diagnosis: extra node flags for the proxy children, e.g. BENCH_SUT_FLAGS=--trace-gc.
  const extra = (process.env['BENCH_SUT_FLAGS'] ?? '').split(' ').filter(Boolean);
  if (!cpuProf || mode === 'delay') return extra;
  mkdirSync(profDir, { recursive: true });
  return [...extra, '--cpu-prof', `--cpu-prof-dir=${profDir}`];
}

/** Compiles faultline with tsc for the proxy child; undefined means "load src/ through tsx". */
function buildFaultline(): string | undefined {
  if (fromSource) return undefined;
  const root = fileURLToPath(new URL('../', import.meta.url));
  // Inside node_modules so that the build resolves faultline's dependencies, and git ignores it.
  const outDir = join(root, 'node_modules', '.cache', 'faultline-bench');
  rmSync(outDir, { recursive: true, force: true });
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const run = spawnSync(
    process.execPath,
    [
      tsc,
      '-p',
      join(root, 'tsconfig.build.json'),
      '--outDir',
      outDir,
      '--declaration',
      'false',
      '--sourceMap',
      'false',
    ],
    { encoding: 'utf8' },
  );
  const entry = join(outDir, 'index.js');
  if (!existsSync(entry)) {
    throw new Error(
      `could not build faultline with tsc (use --source to run src/ through tsx):\n${run.stdout}${run.stderr}`,
    );
  }
  if (run.status !== 0) {
    const lines = run.stdout.trim().split('\n');
    progress(
      `tsc reported ${lines.length} type error lines in src/ (the build was emitted anyway):\n${lines.slice(0, 10).join('\n')}`,
    );
  }
  compileSut(root, outDir);
  return pathToFileURL(entry).href;
}

/**
 * The proxy children's script (bench/lib/sut.ts and its ipc.ts), transpiled beside the build,
 * so that both proxies (bare and faultline alike) run in plain node as users run them: under
 * tsx each child's heap holds ≈ 2.5 MB more, enough to push faultline's process past V8's 8 MB
 * threshold for incremental marking (see BENCHMARKS.md). Type-only imports are erased.
 */
function compileSut(root: string, outDir: string): void {
  const require = createRequire(import.meta.url);
  const ts = require('typescript') as typeof import('typescript');
  const dir = join(outDir, 'bench-lib');
  mkdirSync(dir, { recursive: true });
  for (const name of ['sut', 'ipc']) {
    const source = readFileSync(join(root, 'bench', 'lib', `${name}.ts`), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: false,
      },
      fileName: `${name}.ts`,
    });
    writeFileSync(join(dir, `${name}.js`), outputText);
  }
  sutScript = join(dir, 'sut.js');
}

let faultlineEntry: string | undefined;
/** The compiled proxy-child script (undefined with --source: bench/lib/sut.ts through tsx). */
let sutScript: string | undefined;

async function startSut(mode: SutMode, upstream: Child<UpstreamInfo>): Promise<Child<SutInfo>> {
  // faultline prints a TimeoutOverflowWarning per stalled connection (bandwidth rate 0): see BENCHMARKS.md.
  const quiet = ['--disable-warning=TimeoutOverflowWarning'];
  // The bare pipe gets the entry too, for BENCH_BARE_BALLAST=1 (a compiled child cannot load src/).
  const args = [
    mode,
    JSON.stringify(upstream.info),
    ...(mode !== 'delay' && faultlineEntry ? [faultlineEntry] : []),
  ];
  return spawnChild<SutInfo>(mode, 'sut', args, {
    execArgv: [...quiet, ...sutExecArgv(mode)],
    compiled: sutScript,
  });
}

const children: Child<unknown>[] = [];
async function track<T>(child: Promise<Child<T>>): Promise<Child<T>> {
  const c = await child;
  children.push(c);
  return c;
}

async function stopAll(): Promise<void> {
  await Promise.all(children.splice(0).map((c) => c.stop()));
}

function portsOf(
  system: System,
  upstream: UpstreamInfo,
  bare?: Child<SutInfo>,
  fl?: Child<SutInfo>,
): UpstreamInfo {
  if (system === 'direct') return upstream;
  const child = system === 'bare' ? bare : fl;
  if (!child) throw new Error(`${system} is not running`);
  return child.info.ports;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// --- stages ------------------------------------------------------------------------------------

async function stageThroughput(
  upstream: Child<UpstreamInfo>,
  bare: Child<SutInfo>,
  fl: Child<SutInfo>,
): Promise<void> {
  const bytes = config.throughputBytes;
  const out = {
    upload: {} as Record<System, ThroughputResult>,
    download: {} as Record<System, ThroughputResult>,
    bytes,
  };
  const roundRatios = {} as Record<'upload' | 'download', RoundRatios>;
  for (const direction of ['upload', 'download'] as const) {
    const samples: Record<System, number[]> = { direct: [], bare: [], faultline: [] };
    const cpu: Record<System, { user: number; system: number }[]> = {
      direct: [],
      bare: [],
      faultline: [],
    };
    const io: Record<System, { reads: number; writes: number }[]> = {
      direct: [],
      bare: [],
      faultline: [],
    };
    // Unrecorded warm-up through each system: JIT, and the V8 background work that follows
    // start-up (faultline's process has loaded a much larger module graph than the bare pipe).
    for (const system of systems) {
      const ports = portsOf(system, upstream.info, bare, fl);
      if (direction === 'upload') await upload(ports.sink, config.throughputWarmupBytes);
      else await download(ports.source, config.throughputWarmupBytes);
    }
    type Cpu = { user: number; system: number };
    interface Figures {
      mbps: number;
      cpu?: Cpu;
      io?: { reads: number; writes: number };
    }
    const records = await runRounds(
      config.throughputRounds,
      maxLoad,
      async (round, attempt) => {
        const figures = {} as Record<System, Figures>;
        for (const system of systems) {
          const ports = portsOf(system, upstream.info, bare, fl);
          const proxy = system === 'bare' ? bare : system === 'faultline' ? fl : undefined;
          const cpuBefore = proxy ? await proxy.call<Cpu>('cpuSplit') : undefined;
          const ioBefore = proxy ? await proxy.call<IoCounters>('io') : undefined;
          const ms =
            direction === 'upload'
              ? await upload(ports.sink, bytes)
              : await download(ports.source, bytes);
          const cpuAfter = proxy ? await proxy.call<Cpu>('cpuSplit') : undefined;
          const ioAfter = proxy ? await proxy.call<IoCounters>('io') : undefined;
          const mbps = bytes / 1e6 / (ms / 1000);
          const perGiB = (1024 * MiB) / bytes;
          figures[system] = {
            mbps,
            ...(cpuBefore && cpuAfter
              ? {
                  cpu: {
                    user: (cpuAfter.user - cpuBefore.user) * perGiB,
                    system: (cpuAfter.system - cpuBefore.system) * perGiB,
                  },
                }
              : {}),
            ...(ioBefore && ioAfter
              ? {
                  io: {
                    reads: ioAfter.syscr - ioBefore.syscr,
                    writes: ioAfter.syscw - ioBefore.syscw,
                  },
                }
              : {}),
          };
          progress(
            `throughput ${direction} round ${round}/${config.throughputRounds} (attempt ${attempt}) ${label[system]}: ${fmt(mbps, 0)} MB/s`,
          );
          await sleep(200);
        }
        return figures;
      },
      (figures) => {
        for (const system of systems) {
          const f = figures[system];
          samples[system].push(f.mbps);
          if (f.cpu) cpu[system].push(f.cpu);
          if (f.io) io[system].push(f.io);
        }
      },
      (r) => progress(`throughput ${direction}: ${busyNote(r)}`),
    );
    roundRatios[direction] = {
      flOverBare: perRound(samples.faultline, samples.bare),
      flOverDirect: perRound(samples.faultline, samples.direct),
      records,
    };
    for (const system of systems) {
      const c = cpu[system];
      out[direction][system] = {
        mbps: median(samples[system]),
        bestMbps: Math.max(...samples[system]),
        samplesMbps: samples[system],
        ...(c.length
          ? {
              proxyCpuMsPerGiB: median(c.map((x) => x.user + x.system)),
              proxyUserMsPerGiB: median(c.map((x) => x.user)),
              proxySystemMsPerGiB: median(c.map((x) => x.system)),
            }
          : {}),
        ...(io[system].length && io[system].some((x) => x.reads > 0)
          ? {
              proxyBytesPerRead: median(io[system].map((x) => bytes / x.reads)),
              proxyBytesPerWrite: median(io[system].map((x) => bytes / x.writes)),
            }
          : {}),
      };
    }
  }
  results.throughput = { ...out, rounds: roundRatios };
}

async function stageRtt(
  upstream: Child<UpstreamInfo>,
  bare: Child<SutInfo>,
  fl: Child<SutInfo>,
): Promise<void> {
  // Client (this process), proxies and upstream on one CPU: a wake-up across vCPUs costs
  // ≈ 20–25 µs here and makes unpinned round trips bimodal (bench/lib/rounds.ts, pin()).
  const pids = [process.pid, upstream.process.pid, bare.process.pid, fl.process.pid].filter(
    (p): p is number => p !== undefined,
  );
  const pinned = !noPin && pin(pids, '0');
  progress(
    pinned
      ? `round trip: client, proxies and upstream pinned to CPU 0 (taskset)`
      : `round trip: not pinned (${noPin ? '--no-pin' : 'taskset unavailable'})`,
  );
  const samples: Record<System, number[]> = { direct: [], bare: [], faultline: [] };
  const p50s: Record<System, number[]> = { direct: [], bare: [], faultline: [] };
  let records: RoundRecord[];
  try {
    records = await runRounds(
      config.rttRounds,
      maxLoad,
      async (round, attempt) => {
        const got = {} as Record<System, Float64Array>;
        for (const system of systems) {
          const ports = portsOf(system, upstream.info, bare, fl);
          got[system] = await pingPong(ports.echo, config.rttCount, config.rttWarmup, 64);
          progress(
            `round trip 64 B round ${round}/${config.rttRounds} (attempt ${attempt}) ${label[system]}: p50 ${fmt(summarize([...got[system]]).p50)} µs`,
          );
        }
        return got;
      },
      (got) => {
        for (const system of systems) {
          for (const v of got[system]) samples[system].push(v);
          p50s[system].push(summarize([...got[system]]).p50);
        }
      },
      (r) => progress(`round trip: ${busyNote(r)}`),
    );
  } finally {
    if (pinned) pin(pids, allCpus());
  }
  const added = (system: 'bare' | 'faultline'): number[] =>
    p50s[system].map((v, i) => v - p50s.direct[i]!);
  results.rtt = {
    direct: summarize(samples.direct),
    bare: summarize(samples.bare),
    faultline: summarize(samples.faultline),
    pinned,
    roundP50Us: p50s,
    addedBareUs: added('bare'),
    addedFaultlineUs: added('faultline'),
    records,
  };
}

async function stageCps(
  upstream: Child<UpstreamInfo>,
  bare: Child<SutInfo>,
  fl: Child<SutInfo>,
): Promise<void> {
  const out = {} as Record<System, CpsFigures>;
  const perRoundRate: Record<System, number[]> = { direct: [], bare: [], faultline: [] };
  const cycles: Record<System, number[]> = { direct: [], bare: [], faultline: [] };
  const errors: Record<System, number> = { direct: 0, bare: 0, faultline: 0 };
  /** The proxy process's CPU time per completed cycle, µs, per round. */
  const cpuPerConn = { bare: [] as number[], faultline: [] as number[] };
  // One untimed pass per system: JIT and first-use allocations are not a round's figure.
  for (const system of systems) {
    await connectRate(portsOf(system, upstream.info, bare, fl).echo, config.cpsConcurrency, 200);
    await sleep(300);
  }
  const records = await runRounds(
    config.cpsRounds,
    maxLoad,
    async (round, attempt) => {
      // Each system twice for half the time, in mirrored order (direct, bare, faultline,
      // faultline, bare, direct): a load that rises or falls during the round weighs on all
      // three alike instead of on whichever came last.
      const got = {} as Record<System, ConnectRate & { cpuMs: number }>;
      for (const system of [...systems, ...[...systems].reverse()]) {
        const ports = portsOf(system, upstream.info, bare, fl);
        const proxy = system === 'bare' ? bare : system === 'faultline' ? fl : undefined;
        const cpu0 = proxy ? await proxy.call<number>('cpu') : 0;
        const measured = await connectRate(ports.echo, config.cpsConcurrency, config.cpsMs / 2);
        // The proxy's own CPU time for these cycles (its teardown included: it is idle after).
        await sleep(300);
        const r = { ...measured, cpuMs: proxy ? (await proxy.call<number>('cpu')) - cpu0 : 0 };
        const prior = got[system] as (ConnectRate & { cpuMs: number }) | undefined;
        got[system] = prior
          ? {
              cycles: prior.cycles + r.cycles,
              errors: prior.errors + r.errors,
              ms: prior.ms + r.ms,
              cycleUs: [...prior.cycleUs, ...r.cycleUs],
              cpuMs: prior.cpuMs + r.cpuMs,
            }
          : r;
      }
      for (const system of systems) {
        const r = got[system];
        progress(
          `connections/s round ${round}/${config.cpsRounds} (attempt ${attempt}) ${label[system]}: ${fmtInt(r.cycles / (r.ms / 1000))}/s${r.errors ? ` (${r.errors} errors)` : ''}`,
        );
      }
      return got;
    },
    (got) => {
      for (const system of systems) {
        const r = got[system];
        if (system !== 'direct') cpuPerConn[system].push((r.cpuMs * 1000) / r.cycles);
        perRoundRate[system].push(r.cycles / (r.ms / 1000));
        errors[system] += r.errors;
        for (const c of r.cycleUs) cycles[system].push(c);
      }
    },
    (r) => progress(`connections/s: ${busyNote(r)}`),
  );
  // Leak check: every cycle closed its connection, so nothing should remain open.
  await sleep(1_000);
  const leftover = {
    bare: await bare.call<number>('active'),
    faultline: await fl.call<number>('active'),
  };
  progress(
    `connections/s: connections still open 1 s later: bare pipe ${leftover.bare}, faultline ${leftover.faultline}`,
  );
  results.cpsLeftoverConnections = leftover;
  for (const system of systems) {
    const s = summarize(cycles[system]);
    out[system] = {
      perSecond: median(perRoundRate[system]),
      best: Math.max(...perRoundRate[system]),
      samples: perRoundRate[system],
      errors: errors[system],
      cycleP50Us: s.p50,
      cycleP99Us: s.p99,
    };
  }
  const ratios: RoundRatios = {
    flOverBare: perRound(perRoundRate.faultline, perRoundRate.bare),
    flOverDirect: perRound(perRoundRate.faultline, perRoundRate.direct),
    records,
  };
  progress(
    `connections/s: faultline / bare pipe per round ${ratios.flOverBare.map((x) => fmt(x, 2)).join(' ')}; median ${fmt(median(ratios.flOverBare), 2)}`,
  );
  results.cps = {
    ...out,
    rounds: ratios,
    cpuUsPerConnection: cpuPerConn,
    cpuFlOverBare: perRound(cpuPerConn.faultline, cpuPerConn.bare),
  };
}

interface LatencyFigures extends Summary {
  /** Round trip minus the no-toxic baseline p50, at p50 and p99 (ms). */
  addedP50: number;
  addedP99: number;
  connections: number;
}

async function latencyRuns(
  port: number,
  baselineMs: number,
): Promise<{ sequential: LatencyFigures; concurrent: LatencyFigures }> {
  const seq = summarize(
    [...(await pingPong(port, config.latencySequential, 5, 64))].map((us) => us / 1000),
  );
  const conc = summarize(
    await concurrentRoundTrips(port, config.latencyConnections, config.latencyRounds, 2, 64),
  );
  return {
    sequential: {
      ...seq,
      addedP50: seq.p50 - baselineMs,
      addedP99: seq.p99 - baselineMs,
      connections: 1,
    },
    concurrent: {
      ...conc,
      addedP50: conc.p50 - baselineMs,
      addedP99: conc.p99 - baselineMs,
      connections: config.latencyConnections,
    },
  };
}

async function stageLatency(upstream: Child<UpstreamInfo>, fl: Child<SutInfo>): Promise<void> {
  const set = 50;
  // Baselines: the same paths without a delay, so "added" is what the delay adds.
  const base = summarize(
    [...(await pingPong(fl.info.ports.echo, 2_000, 500, 64))].map((us) => us / 1000),
  );
  const what = `${config.latencySequential} round trips on 1 connection, then ${config.latencyConnections} connections × ${config.latencyRounds}`;
  await fl.call('addToxic', {
    proxy: 'echo',
    spec: {
      name: 'bench_latency',
      type: 'latency',
      stream: 'downstream',
      attributes: { latency: set, jitter: 0 },
    },
  });
  let faultline: Awaited<ReturnType<typeof latencyRuns>>;
  try {
    progress(`latency toxic ${set} ms (faultline): ${what}`);
    faultline = await latencyRuns(fl.info.ports.echo, base.p50);
  } finally {
    await fl.call('removeToxic', { proxy: 'echo', name: 'bench_latency' });
  }
  progress(
    `latency toxic: 1 connection added p50 ${fmt(faultline.sequential.addedP50, 2)} p99 ${fmt(faultline.sequential.addedP99, 2)} ms; ${config.latencyConnections} connections p50 ${fmt(faultline.concurrent.addedP50, 2)} p99 ${fmt(faultline.concurrent.addedP99, 2)} ms`,
  );
  // The reference: a plain setTimeout(50) per chunk in a bare Node proxy, same host, same run.
  const delay = await track(startSut('delay', upstream));
  let reference: Awaited<ReturnType<typeof latencyRuns>>;
  try {
    progress(`latency reference (setTimeout 50 ms proxy): ${what}`);
    reference = await latencyRuns(delay.info.ports.echo, base.p50);
  } finally {
    await delay.stop();
    children.splice(children.indexOf(delay), 1);
  }
  progress(
    `latency reference: 1 connection added p50 ${fmt(reference.sequential.addedP50, 2)} p99 ${fmt(reference.sequential.addedP99, 2)} ms; ${config.latencyConnections} connections p50 ${fmt(reference.concurrent.addedP50, 2)} p99 ${fmt(reference.concurrent.addedP99, 2)} ms`,
  );
  results.latency = { set, baselineP50Ms: base.p50, ...faultline, reference };
}

async function stageBandwidth(fl: Child<SutInfo>): Promise<void> {
  const out: NonNullable<Results['bandwidth']> = [];
  for (const rate of config.bandwidthRates) {
    const bytes = Math.round(rate * 1000 * config.bandwidthSeconds);
    await fl.call('addToxic', {
      proxy: 'source',
      spec: {
        name: 'bench_bandwidth',
        type: 'bandwidth',
        stream: 'downstream',
        attributes: { rate },
      },
    });
    try {
      const ms = await download(fl.info.ports.source, bytes);
      const measured = bytes / ms; // bytes per ms = KB/s
      const errorPct = ((measured - rate) / rate) * 100;
      out.push({ rateKBps: rate, bytes, seconds: ms / 1000, measuredKBps: measured, errorPct });
      progress(
        `bandwidth ${fmtInt(rate)} KB/s: ${fmtInt(bytes)} bytes in ${fmt(ms / 1000, 2)} s = ${fmt(measured, 1)} KB/s (${errorPct >= 0 ? '+' : ''}${fmt(errorPct, 2)} %)`,
      );
    } finally {
      await fl.call('removeToxic', { proxy: 'source', name: 'bench_bandwidth' });
    }
  }
  results.bandwidth = out;
}

interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

type StreamLoad = 'paced' | 'saturating';

interface ControlVariant {
  load: StreamLoad;
  connections: number;
  /** Calls made (add + remove); fewer than planned when the time cap was reached. */
  calls: number;
  timeCapped: boolean;
  add: Summary;
  remove: Summary;
  all: Summary;
  byType: { type: string; add: Summary; remove: Summary }[];
  failures: number;
  /** Total rate of all streams, MB/s, before and during the calls. */
  streamMBpsBefore: number;
  streamMBpsDuring: number;
  /** Event-loop delay of the faultline process during the calls. */
  eventLoopDelayMs: LoopDelay;
  /** The same load through the bare pipe proxy (no API to call): its event-loop delay. */
  bare: { connections: number; streamMBps: number; eventLoopDelayMs: LoopDelay };
}

const CONTROL_TOXICS = [
  { label: 'latency 10 ms', spec: { type: 'latency', attributes: { latency: 10, jitter: 0 } } },
  { label: 'bandwidth 1 MB/s', spec: { type: 'bandwidth', attributes: { rate: 1_000 } } },
  {
    label: 'latency 100±20 ms',
    spec: { type: 'latency', attributes: { latency: 100, jitter: 20 } },
  },
  { label: 'bandwidth 0 (stall)', spec: { type: 'bandwidth', attributes: { rate: 0 } } },
];

async function stageControl(upstream: Child<UpstreamInfo>): Promise<void> {
  const n = config.controlConnections;
  const variants = {} as Record<StreamLoad, ControlVariant>;
  for (const load of ['paced', 'saturating'] as const) {
    let bareFigures: ControlVariant['bare'] | undefined;
    for (const mode of ['bare', 'faultline'] as const) {
      const sut = await track(startSut(mode, upstream));
      const clients = await track(spawnChild<{ pid: number }>('clients', 'clients', []));
      progress(`control API (${load}): opening ${fmtInt(n)} connections through ${label[mode]}`);
      await clients.call('stream', { port: sut.info.ports.stream, count: n });
      await clients.call('go', { paced: load === 'paced' });
      await sleep(config.controlSettleMs);
      const active = await sut.call<number>('active');
      const rate = async (ms: number): Promise<number> => {
        const b0 = await clients.call<number>('bytes');
        const s = performance.now();
        await sleep(ms);
        return (
          ((await clients.call<number>('bytes')) - b0) / 1e6 / ((performance.now() - s) / 1000)
        );
      };
      const before = await rate(config.controlSettleMs);
      await sut.call('eldStart');
      if (mode === 'bare') {
        const streamMBps = await rate(config.controlBareSeconds * 1000);
        const loop = await sut.call<LoopDelay>('eldStop');
        bareFigures = { connections: active, streamMBps, eventLoopDelayMs: loop };
        progress(
          `control API (${load}): bare pipe, ${fmtInt(active)} streams at ${fmt(streamMBps, 0)} MB/s: event-loop delay p50 ${fmt(loop.p50, 1)} ms, p99 ${fmt(loop.p99, 1)} ms`,
        );
      } else {
        progress(
          `control API (${load}): faultline, ${fmtInt(active)} streams at ${fmt(before, 0)} MB/s; ${config.controlCycles} add/remove cycles (cap ${config.controlCapSeconds} s)`,
        );
        const add: number[] = [];
        const remove: number[] = [];
        const byType = new Map<string, { add: number[]; remove: number[] }>();
        let failures = 0;
        let timeCapped = false;
        // One untimed round of each toxic type first (JIT, first-use allocations).
        for (const [i, toxic] of CONTROL_TOXICS.entries()) {
          await timedRequest(`${String(sut.info.api)}/proxies/stream/toxics`, 'POST', {
            name: `warm_${i}`,
            stream: 'downstream',
            ...toxic.spec,
          });
          await timedRequest(`${String(sut.info.api)}/proxies/stream/toxics/warm_${i}`, 'DELETE');
        }
        await sleep(200);
        const b0 = await clients.call<number>('bytes');
        const s0 = performance.now();
        for (let i = 0; i < config.controlCycles; i++) {
          if (performance.now() - s0 > config.controlCapSeconds * 1000) {
            timeCapped = true;
            break;
          }
          const name = `bench_${i}`;
          const toxic = CONTROL_TOXICS[i % CONTROL_TOXICS.length]!;
          const slot = byType.get(toxic.label) ?? { add: [], remove: [] };
          byType.set(toxic.label, slot);
          const a = await timedRequest(`${String(sut.info.api)}/proxies/stream/toxics`, 'POST', {
            name,
            stream: 'downstream',
            ...toxic.spec,
          });
          if (a.status !== 200) failures++;
          add.push(a.ms);
          slot.add.push(a.ms);
          // Let the toxic act (hold bytes) for a moment before it is removed.
          await sleep(20);
          const d = await timedRequest(
            `${String(sut.info.api)}/proxies/stream/toxics/${name}`,
            'DELETE',
          );
          if (d.status !== 204) failures++;
          remove.push(d.ms);
          slot.remove.push(d.ms);
          await sleep(5);
        }
        const during =
          ((await clients.call<number>('bytes')) - b0) / 1e6 / ((performance.now() - s0) / 1000);
        const loop = await sut.call<LoopDelay>('eldStop');
        closeAgent();
        const all = summarize([...add, ...remove]);
        variants[load] = {
          load,
          connections: active,
          calls: all.n,
          timeCapped,
          add: summarize(add),
          remove: summarize(remove),
          all,
          byType: [...byType].map(([type, t]) => ({
            type,
            add: summarize(t.add),
            remove: summarize(t.remove),
          })),
          failures,
          streamMBpsBefore: before,
          streamMBpsDuring: during,
          eventLoopDelayMs: loop,
          bare: bareFigures!,
        };
        for (const t of variants[load].byType) {
          progress(
            `control API (${load}): ${t.type}: add p50 ${fmt(t.add.p50, 2)} p99 ${fmt(t.add.p99, 2)} ms, remove p50 ${fmt(t.remove.p50, 2)} p99 ${fmt(t.remove.p99, 2)} ms`,
          );
        }
        progress(
          `control API (${load}): ${all.n} calls p50 ${fmt(all.p50, 2)} ms, p99 ${fmt(all.p99, 2)} ms, max ${fmt(all.max, 2)} ms, ${failures} failures${timeCapped ? ' (time cap reached)' : ''}; event-loop delay p50 ${fmt(loop.p50, 1)} ms, p99 ${fmt(loop.p99, 1)} ms`,
        );
      }
      await clients.call('closeAll');
      await upstream.call('closeAll');
      for (const c of [clients, sut] as Child<unknown>[]) {
        await c.stop();
        children.splice(children.indexOf(c), 1);
      }
      await sleep(500);
    }
  }
  results.control = variants;
}

async function stageMemory(upstream: Child<UpstreamInfo>): Promise<void> {
  // A proxied connection costs the proxy two descriptors; leave headroom for everything else.
  const maxByFd = Math.floor((fdLimit - 300) / 2);
  const n = Math.min(config.idleConnections, maxByFd);
  if (n < config.idleConnections) {
    progress(
      `memory: the fd limit is ${fdLimit} (ulimit -n), so ${fmtInt(n)} connections instead of ${fmtInt(config.idleConnections)}`,
    );
  }
  const perConnection = {} as NonNullable<Results['memory']>['perConnection'];
  let idleApi: (Summary & { connections: number }) | undefined;
  for (const mode of ['bare', 'faultline'] as const) {
    const sut = await track(startSut(mode, upstream));
    const clients = await track(spawnChild<{ pid: number }>('clients', 'clients', []));
    // Warm the path with a few connections so one-time costs (code, buffers) are not counted.
    await clients.call('idle', { port: sut.info.ports.echo, count: 50 });
    await clients.call('closeAll');
    await sleep(300);
    const before = await sut.call<MemorySample>('mem');
    progress(`memory ${label[mode]}: opening ${fmtInt(n)} idle connections`);
    await clients.call('idle', { port: sut.info.ports.echo, count: n });
    await sleep(500);
    const active = await sut.call<number>('active');
    const after = await sut.call<MemorySample>('mem');
    const heapOf = (m: MemorySample): number => m.heapUsed;
    const extOf = (m: MemorySample): number => m.external;
    perConnection[mode] = {
      rss: (after.rss - before.rss) / n,
      heap: (heapOf(after) - heapOf(before)) / n,
      external: (extOf(after) - extOf(before)) / n,
      before,
      after,
      active,
    };
    progress(
      `memory ${label[mode]}: ${fmtInt(active)} active, rss +${fmtInt(after.rss - before.rss)} B = ${fmtInt(perConnection[mode].rss)} B/conn, heap ${fmtInt(perConnection[mode].heap)} B/conn`,
    );
    if (mode === 'faultline' && sut.info.api) {
      // Adding or removing a toxic rewires every live connection: time it with this many.
      const calls: number[] = [];
      for (let i = 0; i < config.idleApiCycles; i++) {
        const a = await timedRequest(`${sut.info.api}/proxies/echo/toxics`, 'POST', {
          name: `idle_${i}`,
          type: 'latency',
          attributes: { latency: 10 },
        });
        const d = await timedRequest(`${sut.info.api}/proxies/echo/toxics/idle_${i}`, 'DELETE');
        if (a.status !== 200 || d.status !== 204)
          throw new Error(`control API answered ${a.status} / ${d.status}`);
        if (i > 0) calls.push(a.ms, d.ms); // the first cycle warms up
      }
      closeAgent();
      idleApi = { connections: active, ...summarize(calls) };
      progress(
        `memory faultline: add/remove toxic with ${fmtInt(active)} idle connections: p50 ${fmt(idleApi.p50, 2)} ms, p99 ${fmt(idleApi.p99, 2)} ms`,
      );
    }
    await clients.call('closeAll');
    await clients.stop();
    await sut.stop();
    children.splice(children.indexOf(clients), 1);
    children.splice(children.indexOf(sut), 1);
    await upstream.call('closeAll');
  }
  results.memory = {
    connections: n,
    requested: config.idleConnections,
    perConnection,
    ...(idleApi ? { idleApi } : {}),
  };
}

// --- report ------------------------------------------------------------------------------------

function verdict(ok: boolean | undefined): string {
  return ok === undefined ? '' : ok ? 'met' : 'MISSED';
}

/** "n of N" rounds where faultline's figure was above the pipe's (ratio > 1). */
function ahead(ratios: readonly number[]): string {
  return `${ratios.filter((x) => x > 1).length} of ${ratios.length}`;
}

/** "n of N" rounds where faultline added less than the pipe (ratio < 1). */
function behind(ratios: readonly number[]): string {
  return `less in ${ratios.filter((x) => x < 1).length} of ${ratios.length}`;
}

function report(r: Results): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`faultline proxy benchmark — ${m.quick ? 'QUICK run' : 'full run'}, ${m.date}`);
  out.push(
    `machine: ${m.nproc} × ${m.cpu}, ${m.platform}, node ${m.node}, ulimit -n ${m.fdLimit}; faultline: ${m.faultlineCode ?? 'n/a'}`,
  );
  const la = (v: number[] | undefined): string =>
    v ? v.map((x) => x.toFixed(2)).join(' ') : 'n/a';
  out.push(
    `load average (1/5/15 min) at start: ${la(m.loadavgStart)}; at end: ${la(m.loadavgEnd)}`,
  );
  if (m.diagnosisEnv)
    out.push(
      `DIAGNOSIS SETTINGS IN EFFECT (not a reference run): ${JSON.stringify(m.diagnosisEnv)}`,
    );
  out.push('');

  const rows: string[][] = [];
  const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
    a !== undefined && b ? a / b : undefined;
  if (r.throughput) {
    const mib = Math.round(r.throughput.bytes / MiB);
    for (const direction of ['upload', 'download'] as const) {
      const t = r.throughput[direction];
      const ofDirect = ratio(t.faultline.mbps, t.direct.mbps);
      rows.push([
        `throughput ${direction === 'upload' ? 'client→upstream' : 'upstream→client'}, ${mib} MiB (MB/s)`,
        fmt(t.direct.mbps, 0),
        fmt(t.bare.mbps, 0),
        fmt(t.faultline.mbps, 0),
        fmt(ratio(t.faultline.mbps, t.bare.mbps), 2),
        pct(ofDirect),
        '≥ 35 % of direct, > bare',
        verdict(ofDirect !== undefined && ofDirect >= 0.35 && t.faultline.mbps > t.bare.mbps),
      ]);
      const best = ratio(t.faultline.bestMbps, t.direct.bestMbps);
      rows.push([
        `  best round (MB/s)`,
        fmt(t.direct.bestMbps, 0),
        fmt(t.bare.bestMbps, 0),
        fmt(t.faultline.bestMbps, 0),
        fmt(ratio(t.faultline.bestMbps, t.bare.bestMbps), 2),
        pct(best),
        '',
        '',
      ]);
      const rr = r.throughput.rounds[direction];
      rows.push([
        `  per-round fl/bare, median (ahead in rounds)`,
        '',
        '',
        '',
        `${fmt(median(rr.flOverBare), 2)} (${ahead(rr.flOverBare)})`,
        pct(median(rr.flOverDirect)),
        '',
        '',
      ]);
      rows.push([
        `  proxy CPU per GiB, user + system (ms)`,
        '',
        `${fmt(t.bare.proxyUserMsPerGiB, 0)} + ${fmt(t.bare.proxySystemMsPerGiB, 0)}`,
        `${fmt(t.faultline.proxyUserMsPerGiB, 0)} + ${fmt(t.faultline.proxySystemMsPerGiB, 0)}`,
        fmt(ratio(t.faultline.proxyCpuMsPerGiB, t.bare.proxyCpuMsPerGiB), 2),
        '',
        '',
        '',
      ]);
      if (t.bare.proxyBytesPerRead !== undefined) {
        const kib = (v: number | undefined): string =>
          fmt(v === undefined ? undefined : v / 1024, 1);
        rows.push([
          `  proxy KiB per read / per write syscall`,
          '',
          `${kib(t.bare.proxyBytesPerRead)} / ${kib(t.bare.proxyBytesPerWrite)}`,
          `${kib(t.faultline.proxyBytesPerRead)} / ${kib(t.faultline.proxyBytesPerWrite)}`,
          fmt(ratio(t.faultline.proxyBytesPerRead, t.bare.proxyBytesPerRead), 2),
          '',
          '',
          '',
        ]);
      }
    }
  }
  if (r.rtt) {
    const d = r.rtt.direct;
    for (const p of ['p50', 'p99'] as const) {
      rows.push([
        `round trip 64 B, ${p} (µs)`,
        fmt(d[p]),
        fmt(r.rtt.bare[p]),
        fmt(r.rtt.faultline[p]),
        fmt(ratio(r.rtt.faultline[p], r.rtt.bare[p]), 2),
        fmt(ratio(r.rtt.faultline[p], d[p]), 2) + '×',
        '',
        '',
      ]);
    }
    const addedFl = median(r.rtt.addedFaultlineUs);
    const addedBare = median(r.rtt.addedBareUs);
    const perRoundAdded = perRound(r.rtt.addedFaultlineUs, r.rtt.addedBareUs);
    rows.push([
      `  added by the proxy, p50, median of rounds (µs)${r.rtt.pinned ? ', pinned to 1 CPU' : ', NOT pinned'}`,
      '',
      `+${fmt(addedBare)}`,
      `+${fmt(addedFl)}`,
      `${fmt(median(perRoundAdded), 2)} (${behind(perRoundAdded)})`,
      '',
      '≤ +35 µs',
      verdict(addedFl <= 35),
    ]);
  }
  if (r.cps) {
    const ofDirect = ratio(r.cps.faultline.perSecond, r.cps.direct.perSecond);
    rows.push([
      `new connections/s (${config.cpsConcurrency} loops)`,
      fmtInt(r.cps.direct.perSecond),
      fmtInt(r.cps.bare.perSecond),
      fmtInt(r.cps.faultline.perSecond),
      fmt(ratio(r.cps.faultline.perSecond, r.cps.bare.perSecond), 2),
      pct(ofDirect),
      '≥ 30 % of direct',
      verdict(ofDirect !== undefined && ofDirect >= 0.3),
    ]);
    rows.push([
      `  per-round fl/bare, median (ahead in rounds)`,
      '',
      '',
      '',
      `${fmt(median(r.cps.rounds.flOverBare), 2)} (${ahead(r.cps.rounds.flOverBare)})`,
      pct(median(r.cps.rounds.flOverDirect)),
      '≥ 1.10 × bare',
      verdict(median(r.cps.rounds.flOverBare) >= 1.1 && r.cpsLeftoverConnections?.faultline === 0),
    ]);
    rows.push([
      '  proxy CPU per connection, median of rounds (µs); per-round fl/bare',
      '',
      fmt(median(r.cps.cpuUsPerConnection.bare), 0),
      fmt(median(r.cps.cpuUsPerConnection.faultline), 0),
      fmt(median(r.cps.cpuFlOverBare), 2),
      '',
      '',
      '',
    ]);
    rows.push([
      '  best round',
      fmtInt(r.cps.direct.best),
      fmtInt(r.cps.bare.best),
      fmtInt(r.cps.faultline.best),
      fmt(ratio(r.cps.faultline.best, r.cps.bare.best), 2),
      pct(ratio(r.cps.faultline.best, r.cps.direct.best)),
      '',
      '',
    ]);
    rows.push([
      '  connect + 1 B round trip + close, p50 / p99 (µs)',
      `${fmtInt(r.cps.direct.cycleP50Us)} / ${fmtInt(r.cps.direct.cycleP99Us)}`,
      `${fmtInt(r.cps.bare.cycleP50Us)} / ${fmtInt(r.cps.bare.cycleP99Us)}`,
      `${fmtInt(r.cps.faultline.cycleP50Us)} / ${fmtInt(r.cps.faultline.cycleP99Us)}`,
      fmt(ratio(r.cps.faultline.cycleP50Us, r.cps.bare.cycleP50Us), 2),
      '',
      '',
      '',
    ]);
  }
  if (r.cpsLeftoverConnections) {
    rows.push([
      '  connections still open 1 s after the stage',
      '',
      String(r.cpsLeftoverConnections.bare),
      String(r.cpsLeftoverConnections.faultline),
      '',
      '',
      '0',
      verdict(r.cpsLeftoverConnections.faultline === 0),
    ]);
  }
  if (rows.length) {
    out.push('Side by side (median of interleaved rounds; ratio = faultline / bare pipe)');
    out.push(
      table(
        ['figure', 'direct', 'bare pipe', 'faultline', 'fl/bare', 'fl/direct', 'target', 'verdict'],
        rows,
      ),
    );
    out.push('');
  }

  const acc: string[][] = [];
  if (r.latency) {
    const l = r.latency;
    for (const [name, s, ref] of [
      ['1 connection', l.sequential, l.reference.sequential],
      [`${l.concurrent.connections} connections`, l.concurrent, l.reference.concurrent],
    ] as const) {
      acc.push([
        `latency ${l.set} ms, ${name}, n=${s.n}: added p50`,
        `${fmt(s.addedP50, 2)} ms`,
        `${fmt(s.addedP50 - l.set, 2)} ms`,
        `${fmt(ref.addedP50, 2)} ms`,
        '± 1 ms',
        verdict(Math.abs(s.addedP50 - l.set) <= 1),
      ]);
      acc.push([
        `latency ${l.set} ms, ${name}, n=${s.n}: added p99`,
        `${fmt(s.addedP99, 2)} ms`,
        `${fmt(s.addedP99 - l.set, 2)} ms`,
        `${fmt(ref.addedP99, 2)} ms`,
        '± 3 ms',
        verdict(Math.abs(s.addedP99 - l.set) <= 3),
      ]);
    }
  }
  if (r.bandwidth) {
    for (const b of r.bandwidth) {
      acc.push([
        `bandwidth ${fmtInt(b.rateKBps)} KB/s (${fmtInt(b.bytes)} B in ${fmt(b.seconds, 2)} s)`,
        `${fmt(b.measuredKBps, 1)} KB/s`,
        `${b.errorPct >= 0 ? '+' : ''}${fmt(b.errorPct, 2)} %`,
        '',
        '± 5 %',
        verdict(Math.abs(b.errorPct) <= 5),
      ]);
    }
  }
  if (acc.length) {
    out.push('Toxic accuracy (faultline)');
    out.push(table(['toxic', 'measured', 'error', 'setTimeout proxy', 'target', 'verdict'], acc));
    out.push('');
  }

  const misc: string[][] = [];
  if (r.control) {
    for (const load of ['paced', 'saturating'] as const) {
      const c = r.control[load];
      if (!c) continue;
      const what =
        load === 'paced' ? 'paced streams (64 KB/s each)' : 'streams as fast as possible';
      misc.push([
        `control API, ${fmtInt(c.connections)} ${what}: ${c.calls} calls p50 / p99 / max${c.timeCapped ? ' (time cap)' : ''}`,
        `${fmt(c.all.p50, 2)} / ${fmt(c.all.p99, 2)} / ${fmt(c.all.max, 2)} ms`,
        'p99 < 20 ms',
        verdict(c.all.p99 < 20 && c.failures === 0),
      ]);
      misc.push([
        `  add toxic p50 / p99`,
        `${fmt(c.add.p50, 2)} / ${fmt(c.add.p99, 2)} ms`,
        '',
        '',
      ]);
      misc.push([
        `  remove toxic p50 / p99`,
        `${fmt(c.remove.p50, 2)} / ${fmt(c.remove.p99, 2)} ms`,
        '',
        '',
      ]);
      for (const t of c.byType) {
        misc.push([
          `  ${t.type}: add p99 / remove p99`,
          `${fmt(t.add.p99, 2)} / ${fmt(t.remove.p99, 2)} ms`,
          '',
          '',
        ]);
      }
      misc.push([
        `  streams' total rate before / during the calls`,
        `${fmt(c.streamMBpsBefore, 0)} / ${fmt(c.streamMBpsDuring, 0)} MB/s`,
        '',
        '',
      ]);
      misc.push([
        `  event-loop delay p50 / p99, faultline`,
        `${fmt(c.eventLoopDelayMs.p50, 1)} / ${fmt(c.eventLoopDelayMs.p99, 1)} ms`,
        '',
        '',
      ]);
      misc.push([
        `  event-loop delay p50 / p99, bare pipe, same load (${fmt(c.bare.streamMBps, 0)} MB/s)`,
        `${fmt(c.bare.eventLoopDelayMs.p50, 1)} / ${fmt(c.bare.eventLoopDelayMs.p99, 1)} ms`,
        '',
        '',
      ]);
    }
  }
  if (r.memory) {
    const mm = r.memory;
    const note =
      mm.connections < mm.requested
        ? ` (fd limit: ${fmtInt(mm.connections)}, not ${fmtInt(mm.requested)})`
        : '';
    for (const mode of ['bare', 'faultline'] as const) {
      const p = mm.perConnection[mode];
      misc.push([
        `memory per idle connection, ${label[mode]}, ${fmtInt(p.active)} conns${note}: rss / heap`,
        `${fmt(p.rss / 1024, 1)} / ${fmt(p.heap / 1024, 1)} KiB`,
        mode === 'faultline' ? '≤ 64 KiB' : '',
        mode === 'faultline' ? verdict(p.rss <= 64 * 1024) : '',
      ]);
    }
    if (mm.idleApi) {
      misc.push([
        `control API with ${fmtInt(mm.idleApi.connections)} idle connections: ${mm.idleApi.n} calls p50 / p99`,
        `${fmt(mm.idleApi.p50, 2)} / ${fmt(mm.idleApi.p99, 2)} ms`,
        '',
        '',
      ]);
    }
    misc.push([
      'memory: faultline / bare pipe (rss)',
      fmt(mm.perConnection.faultline.rss / mm.perConnection.bare.rss, 2),
      '',
      '',
    ]);
  }
  if (misc.length) {
    out.push('Control API and memory');
    out.push(table(['figure', 'measured', 'target', 'verdict'], misc));
    out.push('');
  }
  const roundRows: string[][] = [];
  const addRounds = (stage: string, records: readonly RoundRecord[], ratios?: number[]): void => {
    let kept = 0;
    for (const rec of records) {
      const value = rec.skipped ? undefined : ratios?.[kept++];
      roundRows.push([
        stage,
        `${rec.round} (attempt ${rec.attempt})`,
        `${fmt(rec.loadStart.one, 2)} → ${fmt(rec.loadEnd.one, 2)}`,
        `${fmt(rec.loadStart.runnable, 0)} → ${fmt(rec.loadEnd.runnable, 0)}`,
        rec.skipped
          ? 'skipped (busy)'
          : `${value === undefined ? '' : fmt(value, 2)}${rec.busy ? ' (busy, kept: re-runs spent)' : ''}`,
      ]);
    }
  };
  if (r.throughput) {
    addRounds(
      'throughput client→upstream',
      r.throughput.rounds.upload.records,
      r.throughput.rounds.upload.flOverBare,
    );
    addRounds(
      'throughput upstream→client',
      r.throughput.rounds.download.records,
      r.throughput.rounds.download.flOverBare,
    );
  }
  if (r.rtt)
    addRounds(
      'round trip (added µs)',
      r.rtt.records,
      perRound(r.rtt.addedFaultlineUs, r.rtt.addedBareUs),
    );
  if (r.cps) addRounds('connections/s', r.cps.rounds.records, r.cps.rounds.flOverBare);
  if (roundRows.length) {
    out.push(
      `Rounds (load average 1 min, and runnable tasks, at start → end; busy: > ${fmt(m.maxLoad, 1)})`,
    );
    out.push(table(['stage', 'round', 'load average', 'runnable', 'fl/bare'], roundRows));
    out.push('');
  }
  if (r.elapsedSeconds !== undefined) out.push(`elapsed: ${fmt(r.elapsedSeconds, 0)} s`);
  return out.join('\n');
}

// --- main --------------------------------------------------------------------------------------

async function main(): Promise<void> {
  progress(
    `faultline bench (${quick ? 'quick' : 'full'}): ${[...only].join(', ')}; ${results.machine.nproc} CPUs, node ${process.version}, ulimit -n ${fdLimit}`,
  );
  if (!fromSource)
    progress(
      'building faultline with tsc (tsconfig.build.json → node_modules/.cache/faultline-bench)',
    );
  faultlineEntry = buildFaultline();
  results.machine.faultlineCode = faultlineEntry
    ? 'tsc build of src/, proxy children in plain node'
    : 'src/ and proxy children through tsx';
  const diagnosisEnv = Object.fromEntries(
    ['BENCH_SUT_FLAGS', 'BENCH_BARE_BALLAST'].flatMap((k) =>
      process.env[k] ? [[k, process.env[k]]] : [],
    ),
  );
  if (Object.keys(diagnosisEnv).length) {
    results.machine.diagnosisEnv = diagnosisEnv;
    progress(`diagnosis settings in effect: ${JSON.stringify(diagnosisEnv)}`);
  }
  const upstream = await track(spawnChild<UpstreamInfo>('upstream', 'upstream', []));
  const want = (s: Stage): boolean => only.has(s);
  if (want('throughput') || want('rtt') || want('cps') || want('latency') || want('bandwidth')) {
    const bare = await track(startSut('bare', upstream));
    const fl = await track(startSut('faultline', upstream));
    progress(
      `children: upstream pid ${String(upstream.process.pid)}, bare pid ${bare.info.pid}, faultline pid ${fl.info.pid}`,
    );
    if (want('throughput')) {
      progress(
        `stage 1/7 throughput: ${Math.round(config.throughputBytes / MiB)} MiB per transfer, ${config.throughputRounds} rounds, both directions`,
      );
      await stageThroughput(upstream, bare, fl);
    }
    if (want('rtt')) {
      progress(
        `stage 2/7 round trip: 64 B, ${config.rttRounds} × ${config.rttCount} per system after ${config.rttWarmup} warm-up each`,
      );
      await stageRtt(upstream, bare, fl);
    }
    if (want('cps')) {
      progress(
        `stage 3/7 connections/s: ${config.cpsConcurrency} loops, ${config.cpsRounds} × ${config.cpsMs} ms per system`,
      );
      await stageCps(upstream, bare, fl);
    }
    if (want('latency')) {
      progress('stage 4/7 latency toxic accuracy');
      await stageLatency(upstream, fl);
    }
    if (want('bandwidth')) {
      progress('stage 5/7 bandwidth toxic accuracy');
      await stageBandwidth(fl);
    }
    for (const c of [bare, fl]) {
      await c.stop();
      children.splice(children.indexOf(c), 1);
    }
  }
  if (want('control')) {
    progress(
      `stage 6/7 control API under ${fmtInt(config.controlConnections)} streaming connections`,
    );
    await stageControl(upstream);
  }
  if (want('memory')) {
    progress(`stage 7/7 memory per idle connection`);
    await stageMemory(upstream);
  }
  await stopAll();
  results.elapsedSeconds = (performance.now() - t0) / 1000;
  results.machine.loadavgEnd = loadavg();
  if (cpuProf)
    progress(`CPU profiles of the proxy children (CPU.<date>.<time>.<pid>.…): ${profDir}`);
  progress('done');
  process.stdout.write(asJson ? `${JSON.stringify(results, null, 2)}\n` : `${report(results)}\n`);
}

main().catch(async (err: unknown) => {
  process.stderr.write(
    `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  await stopAll().catch(() => undefined);
  process.exit(1);
});
