/**
 * `faultline run FILE` and `faultline recover`.
 *
 * `run` loads and validates the experiment, compiles it to a plan, and runs it; `--dry-run`
 * stops after resolving the targets and prints the plan. The exit code follows the run's
 * outcome (0 held, 1 deviated, 3 aborted by a safety limit, 4 inconclusive, 130 interrupted,
 * 70 when a fault could not be removed). The live journal sits in the state directory while
 * the run lasts — that is what `faultline recover` reads after a crash — and is copied to
 * `--journal` at the end.
 */
import { copyFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ExitCode, UsageError } from '../../errors.js';
import { parseDuration } from '../../experiment/duration.js';
import { parseVarArgs, readVarFile } from '../../experiment/substitute.js';
import type { HypothesisStrategy, RollbackStrategy } from '../../runner/plan.js';
import { clusterOptions, kubernetesRunOptions, recoverKubernetes, type ClusterFlags } from './cluster.js';
import { println, type CliIo } from '../io.js';
import { startRunOutputs, type RunReportFlags } from './report.js';

interface RunFlags extends RunReportFlags, ClusterFlags {
  target?: string;
  allowWideBlast?: boolean;
  allowProduction?: boolean;
  var?: string[];
  varFile?: string[];
  journal: string;
  dryRun?: boolean;
  json?: boolean;
  quiet?: boolean;
  rollbackStrategy?: string;
  hypothesisStrategy?: string;
  hypothesisFrequency?: string;
  failFast?: boolean;
  ui?: boolean;
  uiPort?: string;
}

const ROLLBACK_STRATEGIES = ['default', 'always', 'never', 'deviated'];
const HYPOTHESIS_STRATEGIES = ['default', 'before-method-only', 'after-method-only', 'during-method-only', 'continuously', 'skip'];

export function registerRunCommands(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const runCommand = program
    .command('run')
    .description('run an experiment (faultline or Chaos Toolkit format)')
    .argument('<file>', 'experiment file (YAML or JSON)')
    .option('--var <name=value...>', 'set a configuration value (wins over the file and the environment)')
    .option('--var-file <file...>', 'configuration values from a YAML/JSON file (flat, or Chaos Toolkit\'s shape); --var wins')
    .option('--journal <path>', 'where to write the journal', 'faultline-journal.json')
    .option('--dry-run', 'validate, resolve the targets and print the plan; apply nothing')
    .option('--json', 'print the journal as JSON on stdout (progress goes to stderr)')
    .option('--quiet', 'print only the summary')
    .option('--rollback-strategy <strategy>', `when rollback actions run: ${ROLLBACK_STRATEGIES.join(', ')}`)
    .option('--hypothesis-strategy <strategy>', `when the steady state is checked: ${HYPOTHESIS_STRATEGIES.join(', ')}`)
    .option('--hypothesis-frequency <duration>', 'wait between steady-state checks during the method (e.g. 1s)')
    .option('--fail-fast', 'stop the method at the first deviation seen during it')
    .option('--ui', 'open a live control room: charts, active faults, time left and a HALT button, on 127.0.0.1 with a token in its address')
    .option('--ui-port <port>', 'port of the control room (default: a free one)')
    .option('--report <file>', 'write a self-contained HTML report when the run ends')
    .option('--junit <file>', 'write JUnit XML when the run ends (a test case per hypothesis and phase)')
    .option('--md <file>', 'write a Markdown summary when the run ends')
    .option('--no-step-summary', 'do not append the Markdown summary to $GITHUB_STEP_SUMMARY')
    .option('--metrics-port <port>', 'serve Prometheus metrics on 127.0.0.1:PORT/metrics while the run lasts (0: a free port): the run\'s status, faults, checks and load, and its proxies\' bytes, connections and toxics')
    .option('--metrics-linger <duration>', 'keep serving the final metrics this long after the run ends (e.g. 30s), so Prometheus scrapes the outcome')
    .option('--target <backend>', 'kubernetes: apply faults on kubernetes targets to the cluster, through Chaos Mesh')
    .option('--allow-wide-blast', 'kubernetes: accept mode all and more than 50 % of the pods')
    .option('--allow-production', 'kubernetes: accept a production environment');
  clusterOptions(runCommand).action(async (file: string, flags: RunFlags) => setExit(await run(file, flags, io)));

  program
    .command('halt')
    .description('kill switch: remove every fault of every experiment running on this machine, now')
    .option('--state-dir <dir>', 'where run journals are kept (default .faultline/runs, or FAULTLINE_STATE_DIR)')
    .option('--token <token>', 'bearer token for remote proxy servers (or FAULTLINE_PROXY_TOKEN)')
    .action(async (flags: { stateDir?: string; token?: string }) => {
      const [{ stateDir }, { halt }] = await Promise.all([import('../../runner/recover.js'), import('../../safety/halt.js')]);
      const dir = flags.stateDir ?? stateDir(io.env, io.cwd);
      const started = Date.now();
      const result = await halt(dir, { token: flags.token ?? io.env['FAULTLINE_PROXY_TOKEN'] });
      if (result.runs.length === 0 && result.recovered.length === 0) {
        println(io.stdout, `no running experiment in ${dir}`);
        return;
      }
      for (const f of result.faults) {
        const what = { removed: 'removed', 'left-to-runner': 'removed by its runner (in-process proxy)', failed: `NOT removed: ${f.error ?? ''}` }[f.result];
        println(io.stdout, `fault ${f.fault} on ${f.target} (run ${f.run.slice(0, 8)}): ${what}`);
      }
      for (const r of result.runs) println(io.stdout, `run ${r.run.slice(0, 8)} "${r.title}" (pid ${r.pid}): ${r.exited ? 'stopped, its faults removed' : 'did not stop within 30 s'}`);
      for (const r of result.recovered) println(io.stdout, `fault ${r.fault} on ${r.target} (run ${r.run.slice(0, 8)}): ${r.result}${r.error ? `: ${r.error}` : ''}`);
      println(io.stdout, `halt took ${Date.now() - started} ms`);
      if (result.faults.some((f) => f.result === 'failed') || result.runs.some((r) => !r.exited) || result.recovered.some((r) => r.result === 'failed')) setExit(ExitCode.internal);
    });

  const recoverCommand = program
    .command('recover')
    .description('remove every fault a crashed or interrupted run left behind')
    .option('--state-dir <dir>', 'where run journals are kept (default .faultline/runs, or FAULTLINE_STATE_DIR)')
    .option('--token <token>', 'bearer token for remote proxy servers (or FAULTLINE_PROXY_TOKEN)')
    .option('--kubernetes', 'also delete chaos objects on the cluster: those in the journals, then any labelled by a faultline run that is not alive');
  clusterOptions(recoverCommand).action(async (flags: ClusterFlags & { stateDir?: string; token?: string; kubernetes?: boolean }) => {
      const { recover, stateDir } = await import('../../runner/recover.js');
      const dir = flags.stateDir ?? stateDir(io.env, io.cwd);
      const cluster = flags.kubernetes ? await recoverKubernetes(dir, flags, io) : undefined;
      const results = await recover(dir, { signal: io.signal, token: flags.token ?? io.env['FAULTLINE_PROXY_TOKEN'], kubernetes: cluster?.remove });
      const swept = cluster ? await cluster.sweep() : [];
      for (const o of swept) {
        const what = { removed: 'deleted', 'skipped-live-run': 'left alone: its run is still in progress', failed: `NOT deleted: ${o.error ?? ''}` }[o.result];
        println(io.stdout, `orphan ${o.kind} ${o.namespace}/${o.name} (run ${o.runId.slice(0, 8)}): ${what}`);
      }
      if (swept.some((o) => o.result === 'failed')) setExit(ExitCode.internal);
      if (results.length === 0) {
        if (swept.length > 0) return;
        println(io.stdout, `nothing to recover in ${dir}`);
        return;
      }
      for (const r of results) {
        const what = {
          removed: 'removed',
          'gone-with-process': 'gone with its runner (in-process proxy)',
          failed: `NOT removed: ${r.error ?? ''}`,
          'skipped-live-run': 'left alone: its run is still in progress',
        }[r.result];
        println(io.stdout, `fault ${r.fault} on ${r.target} (run ${r.run.slice(0, 8)}): ${what}`);
      }
      if (results.some((r) => r.result === 'failed')) setExit(ExitCode.internal);
    });
}

async function run(file: string, flags: RunFlags, io: CliIo): Promise<number> {
  const rollbackStrategy = choice(flags.rollbackStrategy, ROLLBACK_STRATEGIES, '--rollback-strategy') as RollbackStrategy | undefined;
  const hypothesisStrategy = choice(flags.hypothesisStrategy, HYPOTHESIS_STRATEGIES, '--hypothesis-strategy') as HypothesisStrategy | undefined;
  let frequencyMs: number | undefined;
  if (flags.hypothesisFrequency !== undefined) {
    frequencyMs = parseDuration(flags.hypothesisFrequency);
    if (frequencyMs === undefined) throw new UsageError(`--hypothesis-frequency ${flags.hypothesisFrequency} is not a duration`, { hint: 'e.g. 500ms, 1s, 5s' });
  }
  const [
    { ProxyCollection },
    { createProgressReporter, describePlan, summarize },
    { loadPlan },
    { stateDir },
    { createDrivers, runExperiment },
    { LocalProxyDriver },
    { assertKubernetesPreflight, KubernetesDriver },
    { ControlRoom },
  ] = await Promise.all([
    import('../../faults/proxy/proxy-collection.js'),
    import('../../reporting/terminal.js'),
    import('../../runner/load-plan.js'),
    import('../../runner/recover.js'),
    import('../../runner/runner.js'),
    import('../../targets/fault-driver.js'),
    import('../../targets/kubernetes/kubernetes-driver.js'),
    import('../../control-room/server.js'),
  ]);
  const plan = await loadPlan(resolve(io.cwd, file), {
    displayName: file,
    env: io.env,
    vars: await collectVars(flags, io),
    rollbackStrategy,
    hypothesisStrategy,
    frequencyMs,
    failFast: flags.failFast,
  });
  const progress = flags.json ? io.stderr : io.stdout;
  const print = (line: string): void => println(progress, line);
  const kubernetes = kubernetesRunOptions(flags, io);
  // Guardrails before anything reaches a cluster (exit 2 with every problem).
  if (kubernetes) assertKubernetesPreflight(plan, kubernetes);

  if (flags.dryRun) {
    const drivers = createDrivers(plan, new ProxyCollection(), { kubernetes });
    for (const line of describePlan(plan, drivers)) print(line);
    // Resolve remote targets read-only: the proxy must exist on its server.
    let problems = 0;
    for (const driver of drivers.values()) {
      if (driver instanceof LocalProxyDriver) continue; // started by the run itself
      try {
        if (driver instanceof KubernetesDriver) for (const line of await driver.preview(io.signal)) print(line);
        await driver.prepare(io.signal);
        print(`target ${driver.target}: reachable`);
      } catch (err) {
        problems++;
        print(`target ${driver.target}: NOT reachable: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    print(problems === 0 ? 'dry run: nothing was applied' : `dry run: ${problems} target(s) cannot be reached; nothing was applied`);
    return problems === 0 ? ExitCode.ok : ExitCode.inconclusive;
  }

  const dir = stateDir(io.env, io.cwd);
  const livePath = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.json`);
  if (!flags.quiet) {
    for (const line of describePlan(plan, createDrivers(plan, new ProxyCollection(), { kubernetes }))) print(line);
    print('');
  }
  const outputs = await startRunOutputs(flags, plan, io);
  if (outputs.metricsUrl) print(`metrics: ${outputs.metricsUrl}`);
  const progressEvents = flags.quiet ? undefined : createProgressReporter(plan, print);
  const room = flags.ui || flags.uiPort !== undefined ? new ControlRoom(plan, { port: parsePort(flags.uiPort, '--ui-port'), journalPath: () => livePath, proxyToken: io.env['FAULTLINE_PROXY_TOKEN'] }) : undefined;
  if (room) print(`control room: ${await room.start()}`);
  const journal = await runExperiment(plan, {
    signal: io.signal,
    halt: room?.haltSignal,
    journalPath: livePath,
    kubernetes,
    proxies: outputs.proxies,
    onEvent: (event) => {
      progressEvents?.(event);
      outputs.onEvent(event);
      room?.onEvent(event);
    },
  }).catch(async (err: unknown) => {
    await outputs.close();
    await room?.close();
    throw err;
  });
  room?.finish(journal);
  await room?.close();
  const journalPath = resolve(io.cwd, flags.journal);
  await copyFile(livePath, journalPath);
  if (flags.json) println(io.stdout, JSON.stringify(journal, null, 2));
  for (const line of summarize(journal, journalPath)) println(flags.json ? io.stderr : io.stdout, line);
  try {
    for (const line of await outputs.finish(journal)) println(flags.json ? io.stderr : io.stdout, line);
    if (outputs.lingerMs > 0) {
      print(`metrics: final values served at ${outputs.metricsUrl} for ${Math.round(outputs.lingerMs / 1000)} s (Ctrl-C to stop now)`);
      await outputs.linger(io.signal);
    }
  } finally {
    await outputs.close();
  }
  return journal.faultline.exit_code ?? ExitCode.internal;
}

/** A TCP port (0: a free one). */
export function parsePort(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`${flag} ${value} is not a port`, { hint: 'a number from 0 (a free port) to 65535' });
  return port;
}

function choice(value: string | undefined, allowed: string[], flag: string): string | undefined {
  if (value === undefined) return undefined;
  const normalized = value === 'continously' ? 'continuously' : value;
  if (!allowed.includes(normalized)) throw new UsageError(`${flag} ${value} is not one of ${allowed.join(', ')}`);
  return normalized;
}

async function collectVars(flags: RunFlags, io: CliIo): Promise<Record<string, unknown>> {
  const vars: Record<string, unknown> = {};
  for (const file of flags.varFile ?? []) Object.assign(vars, await readVarFile(resolve(io.cwd, file)));
  return { ...vars, ...parseVarArgs(flags.var ?? []) };
}
