/**
 * `faultline run FILE`, `faultline halt` and `faultline recover`.
 *
 * `run` loads and validates the experiment, compiles it to a plan, and runs it; `--dry-run`
 * stops after resolving the targets and prints the plan. The exit code follows the run's
 * outcome (0 held, 1 deviated, 3 aborted, 4 inconclusive, 5 residue, 130 interrupted; 70 is an
 * internal error). The live journal sits in the state directory while
 * the run lasts — that is what `faultline recover` reads after a crash — and is copied to
 * `--journal` at the end.
 */
import { copyFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { ExitCode, UsageError } from '../../errors.js';
import { parseDuration } from '../../experiment/duration.js';
import { parseVarArgs, readEnvFile, readVarFile } from '../../experiment/substitute.js';
import type { HypothesisStrategy, RollbackStrategy } from '../../run-plan/plan.js';
import {
  clusterOptions,
  kubernetesRunOptions,
  recoverKubernetes,
  type ClusterFlags,
} from './cluster.js';
import { println, type CliIo } from '../io.js';
import { startRunOutputs, type RunReportFlags } from './report.js';

interface RunFlags extends RunReportFlags, ClusterFlags {
  target?: string;
  allowWideBlast?: boolean;
  allowProduction?: boolean;
  reach?: string;
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
  /** Chaos Toolkit's spelling of --journal. */
  journalPath?: string;
  verifyTls?: boolean;
  validation?: boolean;
  maxDuration?: string;
  dry?: 'probes' | 'actions' | 'activities' | 'pause';
  settings?: string;
}

const ROLLBACK_STRATEGIES = ['default', 'always', 'never', 'deviated'];
const HYPOTHESIS_STRATEGIES = [
  'default',
  'before-method-only',
  'after-method-only',
  'during-method-only',
  'continuously',
  'skip',
];

export function registerRunCommands(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  const runCommand = program
    .command('run')
    .description('run an experiment (faultline or Chaos Toolkit format)')
    .addHelpText(
      'after',
      '\nExit codes: 0 held, 1 a hypothesis deviated, 2 invalid input or usage, 3 aborted (stop\n' +
        'condition, HALT, safety limit), 4 inconclusive (a fault not shown to reach the system, or a\n' +
        'probe could not run), 5 residue (a fault or its effect outlived the run), 70 internal\n' +
        'error, 130 interrupted (after rollback).',
    )
    .argument('<file>', 'experiment file (YAML or JSON)')
    .option(
      '--var <name=value...>',
      'set a configuration value (wins over the file and the environment)',
    )
    .option(
      '--var-file <file...>',
      "configuration values from a YAML/JSON file (flat, or Chaos Toolkit's shape); --var wins",
    )
    .option('--journal <path>', 'where to write the journal', 'faultline-journal.json')
    .option('--dry-run', 'validate, resolve the targets and print the plan; apply nothing')
    .option('--json', 'print the journal as JSON on stdout (progress goes to stderr)')
    .option('--quiet', 'print only the summary')
    .option(
      '--rollback-strategy <strategy>',
      `when rollback actions run: ${ROLLBACK_STRATEGIES.join(', ')}`,
    )
    .option(
      '--hypothesis-strategy <strategy>',
      `when the steady state is checked: ${HYPOTHESIS_STRATEGIES.join(', ')}`,
    )
    .option(
      '--hypothesis-frequency <duration>',
      'wait between steady-state checks during the method (e.g. 1s)',
    )
    .option('--fail-fast', 'stop the method at the first deviation seen during it')
    .option(
      '--ui',
      'open a live control room: charts, active faults, time left and a HALT button, on 127.0.0.1 with a token in its address',
    )
    .option('--ui-port <port>', 'port of the control room (default: a free one)')
    .option('--report <file>', 'write a self-contained HTML report when the run ends')
    .option(
      '--junit <file>',
      'write JUnit XML when the run ends (a test case per hypothesis and phase)',
    )
    .option('--md <file>', 'write a Markdown summary when the run ends')
    .option('--no-step-summary', 'do not append the Markdown summary to $GITHUB_STEP_SUMMARY')
    .option(
      '--metrics-port <port>',
      "serve Prometheus metrics on 127.0.0.1:PORT/metrics while the run lasts (0: a free port): the run's status, faults, checks and load, and its proxies' bytes, connections and toxics",
    )
    .option(
      '--metrics-linger <duration>',
      'keep serving the final metrics this long after the run ends (e.g. 30s), so Prometheus scrapes the outcome',
    )
    .option(
      '--target <backend>',
      'kubernetes: apply faults on kubernetes targets to the cluster, through Chaos Mesh',
    )
    .option('--allow-wide-blast', 'kubernetes: accept mode all and more than 50 % of the pods')
    .option('--allow-production', 'kubernetes: accept a production environment')
    .option(
      '--reach <how>',
      'kubernetes: how load and probe URLs naming a Service (http://NAME.NAMESPACE.svc:PORT) are reached: auto (in-cluster in a pod, else a port-forward faultline opens), in-cluster, port-forward',
    )
    // Chaos Toolkit's run flags, so `chaos run …` command lines work with faultline.
    .addOption(new Option('--journal-path <path>', "Chaos Toolkit's spelling of --journal"))
    .addOption(
      new Option(
        '--dry <mode>',
        'Chaos Toolkit experiments: go through the run without running its probes, actions, activities or pauses (the verdict is inconclusive)',
      ).choices(['probes', 'actions', 'activities', 'pause']),
    )
    .option(
      '--settings <file>',
      'Chaos Toolkit experiments: a chaos settings file (its auths go to http providers; controls and notifications are reported as not run)',
    )
    .option('--no-verify-tls', 'Chaos Toolkit experiments: do not check https certificates')
    .option(
      '--no-validation',
      "Chaos Toolkit experiments: do not import the Python providers' modules before the run",
    )
    .option(
      '--max-duration <duration>',
      'the run limit, over safety.maxDuration (default 10m; Chaos Toolkit experiments have no field for it)',
    );
  clusterOptions(runCommand).action(async (file: string, flags: RunFlags) =>
    setExit(await run(file, flags, io)),
  );

  const haltCommand = program
    .command('halt')
    .description(
      'kill switch: remove every fault of every experiment running on this machine, now, even when a runner is stuck',
    )
    .option('--token <token>', 'bearer token for remote proxy servers (or FAULTLINE_PROXY_TOKEN)')
    .option(
      '--wait <duration>',
      'how long runners get to stop after SIGTERM before they are SIGKILLed (e.g. 2s, 500ms)',
      '30s',
    )
    .option(
      '--kubernetes',
      'also delete chaos objects on the cluster directly (without it, their runner deletes them)',
    );
  scopeOptions(haltCommand);
  clusterOptions(haltCommand).action(
    async (
      flags: ClusterFlags &
        ScopeFlags & {
          token?: string;
          wait: string;
          kubernetes?: boolean;
        },
    ) => {
      const waitMs = parseDuration(flags.wait);
      if (waitMs === undefined)
        throw new UsageError(`--wait ${flags.wait} is not a duration`, {
          hint: 'e.g. 500ms, 2s, 30s',
        });
      const scope = await runScope(flags, io);
      const { halt, describeWait } = await import('../../safety/halt.js');
      const started = Date.now();
      const cluster = flags.kubernetes ? await recoverKubernetes(scope, flags, io) : undefined;
      const result = await halt(scope, {
        token: flags.token ?? io.env['FAULTLINE_PROXY_TOKEN'],
        waitMs,
        signal: io.signal,
        kubernetes: cluster?.remove,
      });
      if (result.runs.length === 0 && result.recovered.length === 0) {
        println(io.stdout, `no running experiment ${describeScope(scope)}`);
        return;
      }
      for (const f of result.faults) {
        const what = {
          halt: `removed by halt${f.detail ? ` (${f.detail})` : ''}`,
          runner: 'removed by its runner',
          'gone-with-runner': `gone with its runner (${f.detail ?? 'it ended'})`,
          'not-removed': `NOT removed: ${f.error ?? 'unknown'}`,
        }[f.by];
        println(io.stdout, `fault ${f.fault} on ${f.target} (run ${f.run.slice(0, 8)}): ${what}`);
      }
      for (const r of result.runs) {
        const how = r.exited
          ? 'stopped'
          : r.killed && !r.alive
            ? `killed after ${describeWait(r.waitedMs)} (did not stop after SIGTERM)`
            : `STILL RUNNING: did not stop within ${describeWait(r.waitedMs)} and could not be killed`;
        println(io.stdout, `run ${r.run.slice(0, 8)} "${r.title}" (pid ${r.pid}): ${how}`);
      }
      for (const r of result.recovered) {
        const what = {
          removed: 'removed by recover (its runner was already dead)',
          'gone-with-process': 'gone with its runner (already dead)',
          failed: `NOT removed: ${r.error ?? ''}`,
          'skipped-live-run': 'left alone: its run is still in progress',
        }[r.result];
        println(io.stdout, `fault ${r.fault} on ${r.target} (run ${r.run.slice(0, 8)}): ${what}`);
      }
      println(io.stdout, `halt took ${Date.now() - started} ms`);
      if (
        result.faults.some((f) => f.by === 'not-removed') ||
        result.runs.some((r) => r.alive) ||
        result.recovered.some((r) => r.result === 'failed')
      )
        setExit(ExitCode.internal);
    },
  );

  const recoverCommand = program
    .command('recover')
    .description(
      'remove every fault a crashed or interrupted run left behind, wherever on this machine it ran',
    )
    .option('--token <token>', 'bearer token for remote proxy servers (or FAULTLINE_PROXY_TOKEN)')
    .option(
      '--kubernetes',
      'also delete chaos objects on the cluster: those in the journals, then any labelled by a faultline run that is not alive',
    );
  scopeOptions(recoverCommand);
  clusterOptions(recoverCommand).action(
    async (flags: ClusterFlags & ScopeFlags & { token?: string; kubernetes?: boolean }) => {
      const scope = await runScope(flags, io);
      const { recover } = await import('../../safety/recover.js');
      const cluster = flags.kubernetes ? await recoverKubernetes(scope, flags, io) : undefined;
      const results = await recover(scope, {
        signal: io.signal,
        token: flags.token ?? io.env['FAULTLINE_PROXY_TOKEN'],
        kubernetes: cluster?.remove,
      });
      const swept = cluster ? await cluster.sweep() : [];
      for (const o of swept) {
        const what = {
          removed: 'deleted',
          'skipped-live-run': 'left alone: its run is still in progress',
          failed: `NOT deleted: ${o.error ?? ''}`,
        }[o.result];
        println(
          io.stdout,
          `orphan ${o.kind} ${o.namespace}/${o.name} (run ${o.runId.slice(0, 8)}): ${what}`,
        );
      }
      if (swept.some((o) => o.result === 'failed')) setExit(ExitCode.internal);
      if (results.length === 0) {
        if (swept.length > 0) return;
        println(io.stdout, `nothing to recover ${describeScope(scope)}`);
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
    },
  );
}

interface ScopeFlags {
  stateDir?: string;
  run?: string;
  pid?: string;
  here?: boolean;
}

/** The options halt and recover share: where runs are found, and how to narrow them. */
function scopeOptions(command: Command): Command {
  return command
    .option(
      '--state-dir <dir>',
      "faultline's state directory: the registry of every run on this machine and, when set, where journals are kept (default FAULTLINE_STATE_DIR, else ~/.local/state/faultline/runs with journals in ./.faultline/runs)",
    )
    .option('--run <id>', 'only the run whose id starts with this (the 8 characters printed)')
    .option('--pid <pid>', "only the run whose runner's pid this is")
    .option('--here', 'only the runs started in the current directory');
}

/**
 * Where halt and recover look: the registry of every run on the machine, plus the journals of
 * this directory as before (`$FAULTLINE_STATE_DIR`/`--state-dir` is both at once).
 */
async function runScope(
  flags: ScopeFlags,
  io: CliIo,
): Promise<import('../../safety/recover.js').RunScope> {
  const [{ stateDir }, { registryDir }] = await Promise.all([
    import('../../safety/recover.js'),
    import('../../safety/registry.js'),
  ]);
  const env =
    flags.stateDir !== undefined ? { ...io.env, FAULTLINE_STATE_DIR: flags.stateDir } : io.env;
  if (flags.stateDir !== undefined && flags.stateDir.trim() === '')
    throw new UsageError('--state-dir is empty', { hint: 'a directory, e.g. /var/lib/faultline' });
  let pid: number | undefined;
  if (flags.pid !== undefined) {
    pid = Number(flags.pid);
    if (!/^\d+$/.test(flags.pid) || !Number.isSafeInteger(pid) || pid <= 0)
      throw new UsageError(`--pid ${flags.pid} is not a process id`, {
        hint: 'a positive integer, e.g. --pid 4242 (the pid halt printed)',
      });
  }
  if (flags.run !== undefined && !/^[0-9a-f-]+$/i.test(flags.run))
    throw new UsageError(`--run ${flags.run} is not a run id`, {
      hint: 'the run id or its first characters, e.g. --run 3f2a9c1e (as halt and recover print it)',
    });
  return {
    journals: resolve(io.cwd, stateDir(env, io.cwd)),
    registry: resolve(io.cwd, registryDir(env)),
    run: flags.run?.toLowerCase(),
    pid,
    cwd: flags.here ? io.cwd : undefined,
  };
}

/** "on this machine (…)", narrowed as asked. */
function describeScope(scope: import('../../safety/recover.js').RunScope): string {
  const narrowed = [
    scope.run !== undefined ? `run ${scope.run}` : undefined,
    scope.pid !== undefined ? `pid ${scope.pid}` : undefined,
    scope.cwd !== undefined ? `started in ${scope.cwd}` : undefined,
  ].filter(Boolean);
  const where =
    scope.registry === scope.journals
      ? scope.journals
      : `registry ${String(scope.registry)}, journals ${scope.journals}`;
  return `${narrowed.length > 0 ? `matching ${narrowed.join(', ')} ` : ''}on this machine (${where})`;
}

async function run(file: string, flags: RunFlags, io: CliIo): Promise<number> {
  const rollbackStrategy = choice(
    flags.rollbackStrategy,
    ROLLBACK_STRATEGIES,
    '--rollback-strategy',
  ) as RollbackStrategy | undefined;
  const hypothesisStrategy = choice(
    flags.hypothesisStrategy,
    HYPOTHESIS_STRATEGIES,
    '--hypothesis-strategy',
  ) as HypothesisStrategy | undefined;
  let frequencyMs: number | undefined;
  if (flags.hypothesisFrequency !== undefined) {
    // A bare number is seconds, as Chaos Toolkit's --hypothesis-frequency takes it.
    frequencyMs = /^\d+(\.\d+)?$/.test(flags.hypothesisFrequency)
      ? Number(flags.hypothesisFrequency) * 1000
      : parseDuration(flags.hypothesisFrequency);
    if (frequencyMs === undefined)
      throw new UsageError(
        `--hypothesis-frequency ${flags.hypothesisFrequency} is not a duration`,
        { hint: 'e.g. 500ms, 1s, 5s, or seconds as a number (0.5)' },
      );
  }
  if (flags.journalPath !== undefined) flags.journal = flags.journalPath;
  let maxDurationMs: number | undefined;
  if (flags.maxDuration !== undefined) {
    maxDurationMs = parseDuration(flags.maxDuration);
    if (maxDurationMs === undefined || maxDurationMs <= 0)
      throw new UsageError(`--max-duration ${flags.maxDuration} is not a duration`, {
        hint: 'e.g. 30m, 2h',
      });
  }
  const [
    { ProxyCollection },
    { createProgressReporter, describePlan, liveLoadLine, summarize },
    { dryRunChecks },
    { readPlan },
    { stateDir },
    { registryDir },
    { createDrivers, runExperiment },
    { LocalProxyDriver },
    { assertKubernetesPreflight, KubernetesDriver },
    { ControlRoom },
  ] = await Promise.all([
    import('../../engines/proxy/proxy-collection.js'),
    import('../terminal.js'),
    import('../dry-run-checks.js'),
    import('../../run-plan/read-plan.js'),
    import('../../safety/recover.js'),
    import('../../safety/registry.js'),
    import('../../runner/runner.js'),
    import('../../backends/proxy/driver.js'),
    import('../../backends/kubernetes/driver.js'),
    import('../../control-room/server.js'),
  ]);
  const { vars, env } = await collectVars(flags, io);
  const settings = flags.settings
    ? await (
        await import('../../chaostoolkit/settings.js')
      ).readChaosToolkitSettings(resolve(io.cwd, flags.settings))
    : undefined;
  const { previewServices, serviceReachMode } =
    await import('../../backends/kubernetes/service-reach.js');
  let plan = await readPlan(resolve(io.cwd, file), {
    displayName: file,
    env,
    vars,
    signal: io.signal,
    noVerifyTls: flags.verifyTls === false,
    checkPython: flags.validation !== false,
    auths: settings?.auths,
    maxDurationMs,
    rollbackStrategy,
    hypothesisStrategy,
    frequencyMs,
    failFast: flags.failFast,
  });
  if (flags.dry)
    plan = (await import('../../chaostoolkit/dry-mode.js')).applyDryMode(plan, flags.dry);
  if (settings?.warnings.length) plan.warnings = [...(plan.warnings ?? []), ...settings.warnings];
  const progress = flags.json ? io.stderr : io.stdout;
  const print = (line: string): void => println(progress, line);
  const kubernetes = kubernetesRunOptions(flags, io);
  // Guardrails before anything reaches a cluster (exit 2 with every problem).
  if (kubernetes) assertKubernetesPreflight(plan, kubernetes);
  const services = plan.services?.services ?? [];
  const servicesForwarded =
    services.length > 0 && serviceReachMode(kubernetes, io.env) === 'port-forward';

  if (flags.dryRun) {
    const drivers = createDrivers(plan, new ProxyCollection(), { kubernetes });
    for (const line of describePlan(plan, drivers)) print(line);
    // Without applying anything: listen ports free, upstreams answering, URLs resolving.
    let problems = 0;
    print('checks:');
    for (const check of await dryRunChecks(plan, { signal: io.signal, servicesForwarded })) {
      if (check.ok) print(`  ✔ ${check.what}`);
      else {
        problems++;
        print(`  ✗ ${check.problem ?? check.what}`);
      }
    }
    // The Services the URLs name: how the run would reach each (read-only).
    for (const { line, ok } of await previewServices(services, kubernetes, io.env, io.signal)) {
      if (!ok) problems++;
      print(line);
    }
    // Resolve remote targets read-only: the proxy must exist on its server.
    for (const driver of drivers.values()) {
      if (driver instanceof LocalProxyDriver) continue; // started by the run itself
      try {
        if (driver instanceof KubernetesDriver)
          for (const line of await driver.preview(io.signal)) print(line);
        await driver.prepare(io.signal);
        print(`target ${driver.target}: reachable`);
      } catch (err) {
        problems++;
        print(
          `target ${driver.target}: NOT reachable: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    print(
      problems === 0
        ? 'dry run: every check passed; nothing was applied'
        : `dry run: ${problems} problem(s); nothing was applied`,
    );
    return problems === 0 ? ExitCode.ok : ExitCode.inconclusive;
  }

  const leaseGraceSeconds = leaseGrace(io.env);
  const dir = stateDir(io.env, io.cwd);
  const livePath = join(
    dir,
    `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.json`,
  );
  if (!flags.quiet) {
    for (const line of describePlan(
      plan,
      createDrivers(plan, new ProxyCollection(), { kubernetes }),
    ))
      print(line);
    print('');
  }
  // A port already in use or an upstream that is down, named where the experiment says it,
  // before anything starts (not a bare exit 4, not only "gate not met").
  const preflight = (await dryRunChecks(plan, { signal: io.signal, servicesForwarded })).filter(
    (c) => !c.ok,
  );
  for (const check of preflight) println(io.stderr, `faultline: ${check.problem ?? check.what}`);
  if (preflight.some((c) => c.kind === 'listen')) return ExitCode.inconclusive;
  const outputs = await startRunOutputs(flags, plan, io);
  if (outputs.metricsUrl) print(`metrics: ${outputs.metricsUrl}`);
  const progressLines = flags.quiet ? undefined : createProgressReporter(plan, print);
  // On a terminal, the load's live numbers rewrite one line in place, as the demo's do; every
  // other line clears it first. Piped output (CI logs) gets the event lines only.
  const tty = !flags.quiet && (progress as { isTTY?: boolean }).isTTY === true;
  let liveShown = false as boolean;
  const progressEvents = progressLines
    ? (event: Parameters<typeof progressLines>[0]): void => {
        if (event.type === 'load') {
          if (tty) {
            progress.write(`\r\x1b[2K${liveLoadLine(event)}`);
            liveShown = true;
          }
          return;
        }
        if (liveShown) progress.write('\r\x1b[2K');
        liveShown = false;
        progressLines(event);
      }
    : undefined;
  const room =
    flags.ui || flags.uiPort !== undefined
      ? new ControlRoom(plan, {
          port: parsePort(flags.uiPort, '--ui-port'),
          journalPath: () => livePath,
          proxyToken: io.env['FAULTLINE_PROXY_TOKEN'],
        })
      : undefined;
  if (room) print(`control room: ${await room.start()}`);
  const journal = await runExperiment(plan, {
    signal: io.signal,
    halt: room?.haltSignal,
    journalPath: livePath,
    leaseGraceSeconds,
    kubernetes,
    registry: registryDir(io.env),
    cwd: io.cwd,
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
  if (liveShown) progress.write('\r\x1b[2K');
  room?.finish(journal);
  await room?.close();
  const journalPath = resolve(io.cwd, flags.journal);
  await copyFile(livePath, journalPath);
  if (flags.json) println(io.stdout, JSON.stringify(journal, null, 2));
  for (const line of summarize(journal, journalPath))
    println(flags.json ? io.stderr : io.stdout, line);
  try {
    for (const line of await outputs.finish(journal))
      println(flags.json ? io.stderr : io.stdout, line);
    if (outputs.lingerMs > 0) {
      print(
        `metrics: final values served at ${String(outputs.metricsUrl)} for ${Math.round(outputs.lingerMs / 1000)} s (Ctrl-C to stop now)`,
      );
      await outputs.linger(io.signal);
    }
  } finally {
    await outputs.close();
  }
  return journal.faultline.exit_code ?? ExitCode.internal;
}

/**
 * FAULTLINE_LEASE_GRACE_SECONDS, a testing knob (docs/experiments.md): the seconds a fault's lease
 * lasts past its planned end (unset: the runner's default, 5). Tests that SIGKILL a runner set
 * it low so as not to wait out the grace.
 */
export function leaseGrace(env: NodeJS.ProcessEnv): number | undefined {
  const value = env['FAULTLINE_LEASE_GRACE_SECONDS'];
  if (value === undefined || value === '') return undefined;
  const seconds = Number(value);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value) || !Number.isFinite(seconds)) {
    throw new UsageError(`FAULTLINE_LEASE_GRACE_SECONDS ${value} is not a number of seconds`, {
      hint: 'a non-negative number, e.g. 0, 1 or 2.5 (unset: 5)',
    });
  }
  return seconds;
}

/** A TCP port (0: a free one). */
export function parsePort(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`${flag} ${value} is not a port`, {
      hint: 'a number from 0 (a free port) to 65535',
    });
  return port;
}

function choice(value: string | undefined, allowed: string[], flag: string): string | undefined {
  if (value === undefined) return undefined;
  const normalized = value === 'continously' ? 'continuously' : value;
  if (!allowed.includes(normalized))
    throw new UsageError(`${flag} ${value} is not one of ${allowed.join(', ')}`);
  return normalized;
}

/**
 * --var-file and --var values. A `.env` var file sets environment variables for the run (as
 * Chaos Toolkit's does), which the configuration's `{type: env}` entries then read.
 */
async function collectVars(
  flags: RunFlags,
  io: CliIo,
): Promise<{ vars: Record<string, unknown>; env: NodeJS.ProcessEnv }> {
  const vars: Record<string, unknown> = {};
  const env: NodeJS.ProcessEnv = { ...io.env };
  for (const file of flags.varFile ?? []) {
    if (file.endsWith('.env')) Object.assign(env, await readEnvFile(resolve(io.cwd, file)));
    else Object.assign(vars, await readVarFile(resolve(io.cwd, file)));
  }
  return { vars: { ...vars, ...parseVarArgs(flags.var ?? []) }, env };
}
