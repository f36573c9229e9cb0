/**
 * `faultline report JOURNAL` (HTML / JUnit / Markdown from a journal), `faultline report
 * --summary DIR` (resilience score per service from every journal in a directory), and the
 * report and metrics flags of `faultline run` (`--report`, `--junit`, `--md`,
 * `--metrics-port`, `--metrics-linger`, declared in run.ts), kept here so `run` only wires them in.
 *
 * When `GITHUB_STEP_SUMMARY` is set (GitHub Actions), the Markdown summary is appended to it
 * unless `--no-step-summary` is given.
 */
import { appendFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ExitCode, ListenError, UsageError } from '../../errors.js';
import { parseDuration } from '../../experiment/duration.js';
import type { ProxyCollection } from '../../engines/proxy/proxy-collection.js';
import type { RunMetrics } from '../../runner/run-metrics.js';
import type { MetricsServer } from '../../reporting/metrics-server.js';
import type { ScoredJournal, ServiceScore } from '../../reporting/score.js';
import type { Journal } from '../../journal/journal.js';
import type { RunPlan } from '../../run-plan/plan.js';
import type { RunEvent } from '../../runner/runner.js';
import { println, type CliIo } from '../io.js';

interface ReportFlags {
  html?: string;
  junit?: string;
  md?: string;
  stepSummary: boolean;
  summary?: string;
  weight?: string[];
  failUnder?: string;
  json?: boolean;
}

export function registerReportCommand(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  program
    .command('report')
    .description(
      'reports from a journal (HTML, JUnit, Markdown), or resilience scores per service from a directory of journals',
    )
    .argument(
      '[journal]',
      'a journal written by `faultline run` (default: print its Markdown summary)',
    )
    .option('--html <file>', 'write a self-contained HTML report (charts inlined; opens offline)')
    .option('--junit <file>', 'write JUnit XML: one test case per hypothesis and phase')
    .option('--md <file>', 'write a Markdown summary')
    .option('--no-step-summary', 'do not append the Markdown summary to $GITHUB_STEP_SUMMARY')
    .option(
      '--summary <dir>',
      'resilience score per service from every journal (*.json) in the directory',
    )
    .option(
      '--weight <title=n...>',
      'weight (0-10) of an experiment in the score (default its weight:N tag, else 10)',
    )
    .option('--fail-under <percent>', 'with --summary: exit 1 when a service scores below this')
    .option('--json', 'with --summary: print the scores as JSON')
    .action(async (journal: string | undefined, flags: ReportFlags) =>
      setExit(await report(journal, flags, io)),
    );
}

async function report(
  journalPath: string | undefined,
  flags: ReportFlags,
  io: CliIo,
): Promise<number> {
  if (flags.summary !== undefined) {
    if (journalPath !== undefined)
      throw new UsageError('give either a journal or --summary DIR, not both');
    return summary(flags, io);
  }
  if (journalPath === undefined) {
    throw new UsageError('no journal given', {
      hint: 'faultline report faultline-journal.json --html report.html, or faultline report --summary .faultline/runs',
    });
  }
  const stepSummary = flags.stepSummary ? io.env['GITHUB_STEP_SUMMARY'] || undefined : undefined;
  const abs = (p: string | undefined): string | undefined =>
    p === undefined ? undefined : resolve(io.cwd, p);
  const [{ writeReports }, { renderMarkdown }] = await Promise.all([
    import('../../reporting/write-reports.js'),
    import('../../reporting/markdown.js'),
  ]);
  const written = await writeReports(resolve(io.cwd, journalPath), {
    html: abs(flags.html),
    junit: abs(flags.junit),
    md: abs(flags.md),
    stepSummary,
  });
  if (!flags.html && !flags.junit && !flags.md) io.stdout.write(renderMarkdown(written.model));
  for (const file of written.files) println(io.stderr, `${file.kind}: ${file.path}`);
  return ExitCode.ok;
}

function parseWeights(values: readonly string[]): Record<string, number> {
  const weights: Record<string, number> = {};
  const bad: string[] = [];
  for (const value of values) {
    const i = value.lastIndexOf('=');
    const n = i > 0 ? Number(value.slice(i + 1)) : Number.NaN;
    if (i <= 0 || !Number.isFinite(n) || n < 0 || n > 10) bad.push(value);
    else weights[value.slice(0, i)] = n;
  }
  if (bad.length)
    throw new UsageError(`--weight ${bad.join(', ')}: expected TITLE=N with N from 0 to 10`, {
      hint: '--weight "db latency=7"',
    });
  return weights;
}

async function summary(flags: ReportFlags, io: CliIo): Promise<number> {
  const dir = resolve(io.cwd, flags.summary!);
  const weights = parseWeights(flags.weight ?? []);
  let failUnder: number | undefined;
  if (flags.failUnder !== undefined) {
    failUnder = Number(flags.failUnder.replace(/%$/, ''));
    if (!Number.isFinite(failUnder) || failUnder < 0 || failUnder > 100)
      throw new UsageError(`--fail-under ${flags.failUnder} is not a percentage`, {
        hint: 'a number from 0 to 100',
      });
  }
  const [{ readJournal }, { resilienceByService }, { renderScoreMarkdown }] = await Promise.all([
    import('../../reporting/journal-input.js'),
    import('../../reporting/score.js'),
    import('../../reporting/markdown.js'),
  ]);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (err) {
    throw new UsageError(
      `--summary ${String(flags.summary)}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (err as Error).message}`,
    );
  }
  const journals: ScoredJournal[] = [];
  for (const name of names) {
    const path = join(dir, name);
    try {
      journals.push({ path, journal: await readJournal(path) });
    } catch {
      println(io.stderr, `skipped ${path}: not a faultline journal`);
    }
  }
  if (journals.length === 0)
    throw new UsageError(`no faultline journal in ${dir}`, {
      hint: 'journals are written by `faultline run --journal FILE`; live ones sit in .faultline/runs',
    });
  const services = resilienceByService(journals, { weights });
  if (flags.json) println(io.stdout, JSON.stringify(services, null, 2));
  else for (const line of scoreLines(services)) println(io.stdout, line);
  const markdown = renderScoreMarkdown(services);
  if (flags.md) {
    const path = resolve(io.cwd, flags.md);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, markdown);
  }
  const stepSummary = flags.stepSummary ? io.env['GITHUB_STEP_SUMMARY'] : undefined;
  if (stepSummary) await appendFile(stepSummary, `${markdown}\n`);
  const below =
    failUnder === undefined
      ? []
      : services.filter((s) => s.percent !== null && s.percent < failUnder);
  if (below.length > 0) {
    println(
      io.stderr,
      `below ${String(failUnder)} %: ${below.map((s) => `${s.service} (${String(s.percent)} %)`).join(', ')}`,
    );
    return ExitCode.deviated;
  }
  return ExitCode.ok;
}

function scoreLines(services: readonly ServiceScore[]): string[] {
  const lines: string[] = [];
  for (const s of services) {
    lines.push(`${s.service}: ${s.percent === null ? 'not scored' : `${s.percent} %`}`);
    for (const e of s.experiments) {
      const pct = e.counted?.score.percent;
      // The note starts with the outcome already (`deviated: 5 of 6 hypotheses held…`).
      const counted = e.counted
        ? `${e.counted.score.note}, run of ${e.counted.start}`
        : 'no scored run';
      const latest = e.latestUnscored ? `; latest run ${e.latestUnscored.outcome}, not scored` : '';
      lines.push(
        `  ${(pct === undefined || pct === null ? '–' : `${pct} %`).padStart(6)}  weight ${e.weight}  ${e.title} (${counted}; ${e.runs} run${e.runs === 1 ? '' : 's'}${latest})`,
      );
    }
  }
  return lines;
}

// --- `faultline run` outputs -------------------------------------------------------------

/** The report and metrics flags `faultline run` takes. */
export interface RunReportFlags {
  report?: string;
  junit?: string;
  md?: string;
  stepSummary?: boolean;
  metricsPort?: string;
  metricsLinger?: string;
}

export interface RunOutputs {
  /** Feed every runner event. */
  onEvent(event: RunEvent): void;
  /** The run ended: record it, write the reports; returns lines to print. */
  finish(journal: Journal): Promise<string[]>;
  /**
   * Keeps serving the final values for `--metrics-linger` after the run (so a scrape interval
   * longer than a short run still sees the outcome and the proxies' last counters); returns at
   * once without it, early when `signal` aborts.
   */
  linger(signal: AbortSignal): Promise<void>;
  /** How long {@link RunOutputs.linger} waits, in ms (0: not at all). */
  lingerMs: number;
  /** Stops the metrics server (call in finally). */
  close(): Promise<void>;
  /** Where the metrics are served, when they are. */
  metricsUrl: string | undefined;
  /**
   * The collection to run the experiment's in-process proxies in (pass it as the runner's
   * `proxies`), so /metrics shows their live bytes, connections and toxics; set with --metrics-port.
   */
  proxies: ProxyCollection | undefined;
}

/**
 * Starts what a run's report flags ask for (the metrics server at once; the files at the end).
 *
 * @throws {@link UsageError} on a bad port, {@link ListenError} when it cannot be bound.
 */
export async function startRunOutputs(
  flags: RunReportFlags,
  plan: RunPlan,
  io: CliIo,
): Promise<RunOutputs> {
  let metrics: RunMetrics | undefined;
  let server: MetricsServer | undefined;
  let proxies: ProxyCollection | undefined;
  let lingerMs = 0;
  if (flags.metricsLinger !== undefined) {
    const ms = parseDuration(flags.metricsLinger);
    if (ms === undefined)
      throw new UsageError(`--metrics-linger ${flags.metricsLinger} is not a duration`, {
        hint: "e.g. 15s, 30s, 1m (a little more than Prometheus's scrape interval)",
      });
    if (flags.metricsPort === undefined)
      throw new UsageError('--metrics-linger needs --metrics-port', {
        hint: 'add --metrics-port N (0: any free port)',
      });
    lingerMs = ms;
  }
  if (flags.metricsPort !== undefined) {
    const port = Number(flags.metricsPort);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--metrics-port ${flags.metricsPort} is not a port number`, {
        hint: 'a number from 0 to 65535 (0: any free port)',
      });
    const [
      { createRunMetrics },
      { ProxyCollection },
      { createMetricsRegistry, retainProxies },
      { startMetricsServer },
    ] = await Promise.all([
      import('../../runner/run-metrics.js'),
      import('../../engines/proxy/proxy-collection.js'),
      import('../../engines/proxy/api/metrics.js'),
      import('../../reporting/metrics-server.js'),
    ]);
    metrics = createRunMetrics(plan);
    // The run's own proxies, with the names `faultline proxy serve` exports (one dashboard for both).
    proxies = new ProxyCollection();
    const proxyRegistry = createMetricsRegistry(retainProxies(proxies));
    server = await startMetricsServer({
      registries: [metrics.registry, proxyRegistry],
      port,
    }).catch((caught: unknown) => {
      const err = caught as NodeJS.ErrnoException;
      throw new ListenError(
        `cannot serve metrics on 127.0.0.1:${port}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`,
        { hint: 'choose another --metrics-port' },
      );
    });
  }
  const abs = (p: string | undefined): string | undefined =>
    p === undefined ? undefined : resolve(io.cwd, p);
  const stepSummary =
    flags.stepSummary !== false ? io.env['GITHUB_STEP_SUMMARY'] || undefined : undefined;
  return {
    metricsUrl: server?.url,
    proxies,
    lingerMs: server ? lingerMs : 0,
    linger: async (signal) => {
      if (server && lingerMs > 0)
        await (await import('../../shared/wait.js')).sleep(lingerMs, signal);
    },
    onEvent: (event) => metrics?.onEvent(event),
    async finish(journal) {
      metrics?.finish(journal);
      if (!flags.report && !flags.junit && !flags.md && !stepSummary) return [];
      const { writeReports } = await import('../../reporting/write-reports.js');
      const written = await writeReports(journal, {
        html: abs(flags.report),
        junit: abs(flags.junit),
        md: abs(flags.md),
        stepSummary,
      });
      return written.files.map((f) => `${f.kind === 'html' ? 'report' : f.kind}: ${f.path}`);
    },
    close: async () => server?.close(),
  };
}
