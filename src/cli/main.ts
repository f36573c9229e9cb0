#!/usr/bin/env node
/**
 * The `faultline` command line. This file is the only place that decides the process's exit
 * code: commands return normally or throw; errors become messages here.
 *
 * Exit codes (stable; see ExitCode in ../errors.ts): 0 success, 1 a hypothesis deviated,
 * 2 invalid input or usage, 3 aborted by a stop condition, 4 inconclusive, 5 residue, 70 internal error,
 * 130 interrupted.
 *
 * Start-up loads only the command tree: each ./commands/*.ts registers its options with light
 * imports and loads its implementation with `import()` inside its action. So `faultline proxy
 * serve` holds the proxy and its control API, not the Kubernetes client, the planner or the
 * reports (9 MB of V8 heap instead of 20): a smaller old generation means fewer mark-compacts
 * under bulk transfers (BENCHMARKS.md). Keep new commands' top-level imports light.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import {
  ExitCode,
  formatIssue,
  isFaultlineError,
  RemoteError,
  ValidationError,
  type ValidationIssue,
} from '../errors.js';
import { VERSION } from '../version.js';
import { registerCompileCommand } from './commands/compile.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerDnsCommands } from './commands/dns.js';
import { registerGameDayCommand } from './commands/gameday.js';
import { registerScheduleCommand } from './commands/schedule.js';
import { registerLoadCommand } from './commands/load.js';
import { registerPlanCommand } from './commands/plan.js';
import { registerProxyCommands } from './commands/proxy.js';
import { registerReportCommand } from './commands/report.js';
import { registerRunCommands } from './commands/run.js';
import { registerValidateCommands } from './commands/validate.js';
import { survivePipeClose } from './closed-pipe.js';
import { addExamples } from './examples.js';
import { println, type CliIo } from './io.js';
import { GracefulStop } from '../shared/graceful-stop.js';

/**
 * Builds the command tree; each command writes to `io` and reports its exit code through
 * `setExit`. Exported so tests can walk every command's help.
 */
export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('faultline')
    .description(
      'Chaos engineering for Node.js services: prove with numbers that they survive failure.',
    )
    .version(VERSION, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  registerDemoCommand(program, io, setExit);
  registerProxyCommands(program, io, setExit);
  registerDnsCommands(program, io, setExit);
  registerRunCommands(program, io, setExit);
  registerLoadCommand(program, io, setExit);
  registerValidateCommands(program, io, setExit);
  registerCompileCommand(program, io, setExit);
  registerReportCommand(program, io, setExit);
  registerPlanCommand(program, io, setExit);
  registerGameDayCommand(program, io, setExit);
  registerScheduleCommand(program, io, setExit);
  addExamples(program);
  return program;
}

/** Runs the CLI with the given io and resolves to the exit code. Never calls process.exit. */
export async function main(io: CliIo): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(io.argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    return reportError(err, io);
  }
}

function reportError(err: unknown, io: CliIo): number {
  if (err instanceof CommanderError) {
    // Help and version are "errors" to commander; everything else is bad usage.
    if (
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.version' ||
      err.code === 'commander.help'
    ) {
      return ExitCode.ok;
    }
    return ExitCode.usage;
  }
  if (isFaultlineError(err)) {
    println(io.stderr, `faultline: ${err.message}`);
    const issues = err instanceof ValidationError || err instanceof RemoteError ? err.issues : [];
    const listed = issuesToList(err.message, issues);
    for (const issue of listed) println(io.stderr, `  ${formatIssue(issue)}`);
    // A lone issue's hint is often the error's own: print it once.
    if (err.hint && !listed.some((issue) => issue.hint === err.hint)) {
      println(io.stderr, `  hint: ${err.hint}`);
    }
    return err.exitCode;
  }
  println(
    io.stderr,
    'faultline: internal error (this is a bug; please report it with the output below)',
  );
  println(io.stderr, err instanceof Error ? (err.stack ?? err.message) : String(err));
  return ExitCode.internal;
}

/**
 * Every problem is printed with its location and hint, one or many: a summary such as
 * "1 configuration value missing" says nothing a user can act on. A lone issue whose message
 * the summary already carries (the located reader's `file:line:col: path: message`) is not
 * repeated.
 */
function issuesToList(
  message: string,
  issues: readonly ValidationIssue[],
): readonly ValidationIssue[] {
  const only = issues.length === 1 ? issues[0] : undefined;
  if (only && message.includes(only.message)) return [];
  return issues;
}

/**
 * The signals that end a run as interrupted (exit 130) — every fault removed, the rollbacks run
 * by the strategy, the journal written — whatever sent them: Ctrl-C (SIGINT), `kill` and
 * `faultline halt` (SIGTERM), a closed terminal or SSH session (SIGHUP), and Chaos Toolkit's
 * two (SIGUSR1, its graceful stop: the activities in progress finish first; SIGUSR2, its
 * immediate one, which in faultline still removes every fault first: a stop that leaves a
 * fault behind is not one faultline offers). Listening
 * to SIGUSR1 also keeps Node from opening its inspector on 127.0.0.1:9229 when one arrives: a
 * chaos tool must not hand a debugger to whoever can signal it.
 */
export const INTERRUPTING_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const;

/**
 * The real process: signals abort the run; the first one asks for a clean stop, a second forces
 * exit. SIGUSR1 first asks for a graceful stop (the activities in progress finish,
 * src/shared/graceful-stop.ts); a signal after it hurries that into a clean stop now, and only a
 * third forces exit.
 */
async function runAsProcess(): Promise<void> {
  const controller = new AbortController();
  let signals = 0;
  let graceful: GracefulStop | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals === 1 && signal === 'SIGUSR1') {
      graceful = new GracefulStop(`received ${signal}`);
      controller.abort(graceful);
    } else if (signals === 1) {
      controller.abort(new Error(`received ${signal}`));
    } else if (signals === 2 && graceful) {
      process.stderr.write(`faultline: ${signal}: stopping now\n`);
      graceful.escalate(`received ${signal}`);
    } else {
      process.stderr.write(`faultline: second ${signal}: exiting now; cleanup may be incomplete\n`);
      process.exit(ExitCode.interrupted);
    }
  };
  for (const signal of INTERRUPTING_SIGNALS) process.on(signal, onSignal);
  survivePipeClose(process.stdout, (message) => process.stderr.write(`${message}\n`));
  survivePipeClose(process.stderr);
  const code = await main({
    argv: process.argv.slice(2),
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    signal: controller.signal,
  });
  // SIGUSR1 stays handled to the end: without a listener it would open the inspector.
  for (const signal of INTERRUPTING_SIGNALS)
    if (signal !== 'SIGUSR1') process.off(signal, onSignal);
  process.exitCode = code;
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  void runAsProcess();
}
