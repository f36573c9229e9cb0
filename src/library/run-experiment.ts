/**
 * `runExperiment(fileOrObject, options)`: what `faultline run FILE` does, from code, returning
 * the journal. A file goes through the CLI's own reader (faultline's format or Chaos Toolkit's,
 * located errors); an object goes through the same zod schema and the same backend checks, its
 * problems located by JSON path. Nothing is printed and nothing exits: errors are the CLI's typed
 * errors ({@link ValidationError} with every issue), progress is `onEvent`, the outcome and exit
 * code are in the journal (`journal.faultline.outcome`, `.exit_code`).
 */
import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { ValidationError, type ValidationIssue } from '../errors.js';
import type { ProxyCollection } from '../engines/proxy/proxy-collection.js';
import { Target as TargetSchema, type ExperimentInput, type Target } from '../experiment/schema.js';
import { formatPath } from '../experiment/read.js';
import { backendFor } from '../backends/registry.js';
import { suggest } from '../shared/suggest.js';
import type { Journal } from '../journal/journal.js';
import type { KubernetesRunOptions } from '../backends/kubernetes/driver.js';
import { planChaosToolkitRun } from '../chaostoolkit/dynamic-configuration.js';
import { loadDocument, readExperimentText } from '../run-plan/read-plan.js';
import { planExperiment, type RunPlanOptions } from '../run-plan/from-experiment.js';
import type { RunPlan } from '../run-plan/plan.js';
import { runExperiment as runPlan, type RunEvent } from '../runner/runner.js';
import { stateDir as defaultStateDir } from '../safety/recover.js';
import { registryDir } from '../safety/registry.js';

export interface RunExperimentOptions {
  /** Aborting it interrupts the run: every fault is removed, the journal says `interrupted`. */
  signal?: AbortSignal | undefined;
  /**
   * A kill switch: aborting it removes every fault at once and ends the run `aborted`, as a
   * stop condition would (the CLI's HALT).
   */
  halt?: AbortSignal | undefined;
  /** Progress: phases, activities, faults applied and removed, a load line once a second. */
  onEvent?: ((event: RunEvent) => void) | undefined;
  /**
   * Where the live journal is written (the ledger `faultline recover` reads if this process
   * dies). Default: a new file in `stateDir`.
   */
  journalPath?: string | undefined;
  /** Default `$FAULTLINE_STATE_DIR` or `.faultline/runs` under `cwd` — where `recover` looks. */
  stateDir?: string | undefined;
  /** Relative paths (a file, `stateDir`, `journalPath`) resolve against it; default process.cwd(). */
  cwd?: string | undefined;
  /** `${var}` values; they win over the experiment's `configuration` and the environment. */
  vars?: Readonly<Record<string, unknown>> | undefined;
  /** Environment for `${env}` configuration; default process.env. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Overrides of the experiment's `runtime`, as `faultline run`'s flags. */
  rollbackStrategy?: RunPlanOptions['rollbackStrategy'];
  hypothesisStrategy?: RunPlanOptions['hypothesisStrategy'];
  frequencyMs?: number | undefined;
  failFast?: boolean | undefined;
  /** Extra seconds a fault's lease lasts past its planned end (default 5). */
  leaseGraceSeconds?: number | undefined;
  /** How faults on kubernetes targets reach the cluster; without it they are refused. */
  kubernetes?: KubernetesRunOptions | undefined;
  /** The collection in-process proxies are created in (to watch them); the run closes it. */
  proxies?: ProxyCollection | undefined;
  /**
   * Fields that replace a target's, by target name: the addresses a test chose at run time,
   * without `${vars}` in the file (`{ db: { upstream: '127.0.0.1:54321' } }`). Checked as the
   * file's targets are; a target's type cannot change.
   */
  targets?: Readonly<Record<string, Readonly<Record<string, unknown>>>> | undefined;
  /** The name an object experiment has in messages (default `experiment`). */
  name?: string | undefined;
}

/**
 * Runs an experiment: a path to a YAML or JSON file (either format), or an experiment object
 * (see {@link defineExperiment} for a typed one). Resolves with the journal whatever the outcome;
 * rejects only when the experiment is invalid (ValidationError, exit code 2 in the CLI) or cannot
 * start (UsageError).
 */
export async function runExperiment(
  experiment: string | ExperimentInput | Readonly<Record<string, unknown>>,
  options: RunExperimentOptions = {},
): Promise<Journal> {
  const cwd = options.cwd ?? process.cwd();
  const plan = await planOf(experiment, options, cwd);
  const journalPath = options.journalPath
    ? resolve(cwd, options.journalPath)
    : await newJournalPath(options, cwd);
  return runPlan(plan, {
    signal: options.signal,
    halt: options.halt,
    onEvent: options.onEvent,
    journalPath,
    leaseGraceSeconds: options.leaseGraceSeconds,
    kubernetes: options.kubernetes,
    proxies: options.proxies,
    // Registered machine-wide like a CLI run: `faultline halt` anywhere reaches it.
    registry: registryDir(options.env ?? process.env),
    cwd,
  });
}

/** Reads and plans without running: the checks `runExperiment` makes before anything starts. */
export async function planOf(
  experiment: string | ExperimentInput | Readonly<Record<string, unknown>>,
  options: RunExperimentOptions = {},
  cwd = options.cwd ?? process.cwd(),
): Promise<RunPlan> {
  const planOptions = {
    env: options.env ?? process.env,
    vars: options.vars,
    rollbackStrategy: options.rollbackStrategy,
    hypothesisStrategy: options.hypothesisStrategy,
    frequencyMs: options.frequencyMs,
    failFast: options.failFast,
  };
  const fromFile = typeof experiment === 'string';
  const file = fromFile ? experiment : (options.name ?? 'experiment');
  const text = fromFile
    ? await readExperimentText(isAbsolute(experiment) ? experiment : resolve(cwd, experiment), file)
    : objectText(experiment, file);
  // An object's problems lose the line and column of a text the caller never saw.
  const rethrow = (err: unknown): never => {
    throw err instanceof ValidationError && !fromFile ? unlocated(err, file) : err;
  };
  let loaded: ReturnType<typeof loadDocument>;
  try {
    loaded = loadDocument(text, file, Object.keys(options.vars ?? {}));
  } catch (err) {
    return rethrow(err);
  }
  let plan: RunPlan;
  try {
    if (loaded.format === 'chaostoolkit') {
      // Dynamic configuration: its probes run first, their outputs are vars of the plan.
      plan = await planChaosToolkitRun(loaded.data, { ...planOptions, file }, options.signal);
      // Its targets are made from its providers: overridden once they exist.
      plan.targets = overrideTargets(plan.targets, options.targets);
    } else {
      const { experiment: checked } = loaded;
      plan = planExperiment(
        { ...checked, targets: overrideTargets(checked.targets, options.targets) },
        { ...planOptions, file },
      );
      const read = loaded.read;
      if (fromFile) plan.locate = (jsonPath) => read.locatePath(jsonPath);
    }
  } catch (err) {
    return rethrow(err);
  }
  plan.warnings = loaded.warnings;
  return plan;
}

/**
 * An object is read as the JSON text it would be in a file, so it meets exactly the file's
 * checks (schema, cross-references, every backend's).
 */
function objectText(experiment: unknown, name: string): string {
  // Callers without types (JavaScript) may pass anything.
  if (experiment === null || typeof experiment !== 'object' || Array.isArray(experiment))
    throw new ValidationError(`${name}: expected an experiment object`, [
      { path: '', message: 'expected an object with title, targets and method' },
    ]);
  try {
    return JSON.stringify(experiment, null, 2);
  } catch (err) {
    throw new ValidationError(`${name}: not plain data`, [
      {
        path: '',
        message: `the experiment cannot be read as JSON (${err instanceof Error ? err.message : String(err)})`,
        hint: 'an experiment is plain data: strings, numbers, booleans, arrays and objects',
      },
    ]);
  }
}

/**
 * `options.targets`: fields that replace a target's (a test's own ports), checked as a file's
 * target is — the schema and the target type's backend — before anything is planned, so the
 * faults are planned for the target as it will be. A target's type stays what the file says.
 */
function overrideTargets(
  targets: Record<string, Target>,
  overrides: RunExperimentOptions['targets'],
): Record<string, Target> {
  if (!overrides) return targets;
  const issues: ValidationIssue[] = [];
  const result = { ...targets };
  for (const [name, patch] of Object.entries(overrides)) {
    const path = `targets.${name}`;
    const original = targets[name];
    if (!original) {
      issues.push({
        path,
        message: `no target "${name}" in the experiment`,
        hint: suggest(name, Object.keys(targets)),
      });
      continue;
    }
    if (patch['type'] !== undefined && patch['type'] !== original.type) {
      issues.push({
        path: `${path}.type`,
        message: `an override cannot change a target's type (${original.type})`,
        hint: 'override its address fields; a different kind of target is a different experiment',
      });
      continue;
    }
    const merged: Record<string, unknown> = { ...original, ...patch };
    const parsed = TargetSchema.safeParse(merged);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
        const at = formatPath([...issue.path, ...keys.slice(0, 1)]);
        issues.push({
          path: at ? `${path}.${at}` : path,
          message: keys[0]
            ? `unknown key "${keys[0]}" for a ${original.type} target`
            : issue.message,
          ...(keys[0] ? { hint: suggest(keys[0], Object.keys(original)) } : {}),
        });
      }
      continue;
    }
    const own = backendFor(original.type).targetIssues?.(merged, path) ?? [];
    if (own.length > 0) issues.push(...own);
    else result[name] = parsed.data;
  }
  if (issues.length > 0)
    throw new ValidationError(
      issues.length === 1 && issues[0]
        ? `options.targets: ${issues[0].path}: ${issues[0].message}`
        : `options.targets: ${issues.length} problems`,
      issues,
    );
  return result;
}

/** The same problems by JSON path only: a line of the serialized object would mislead. */
function unlocated(err: ValidationError, name: string): ValidationError {
  const issues: ValidationIssue[] = err.issues.map((issue) => ({
    path: issue.path,
    message: issue.message,
    ...(issue.hint ? { hint: issue.hint } : {}),
  }));
  const first = issues[0];
  const message =
    issues.length === 1 && first
      ? `${name}: ${first.path ? `${first.path}: ` : ''}${first.message}`
      : `${name}: ${issues.length} problems`;
  return new ValidationError(message, issues, { hint: err.hint });
}

async function newJournalPath(options: RunExperimentOptions, cwd: string): Promise<string> {
  const dir = resolve(cwd, options.stateDir ?? defaultStateDir(options.env ?? process.env, cwd));
  await mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return join(dir, `${stamp}-${process.pid}-${Math.random().toString(36).slice(2, 8)}.json`);
}
