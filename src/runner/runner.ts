/**
 * The experiment lifecycle.
 *
 * ```
 *  prepare targets ─▶ gate (steady state before) ─▶ method ──────────────▶ after ─▶ remove faults (LIFO) ─▶ rollbacks ─▶ verify
 *                        │ not met: nothing applied   │ faults, waits,        (steady      every applied fault,    actions, per    every fault
 *                        ▼ → inconclusive             │ probes, actions       state)       whatever happened        strategy        gone from its
 *                                                     └ steady state during, every frequency                                          target
 * ```
 *
 * No leftover faults: a fault is written to the on-disk journal before it is applied; it
 * carries a lease on its proxy (so even `kill -9` of the runner leaves nothing past the
 * deadline); and every path out of the run — success, deviation, action error, exception,
 * abort, signal — goes through the same clean-up, which removes faults newest first with a
 * signal of its own (the run's signal is already aborted by then). `faultline recover` reads
 * the journals of runs that died and removes what is left.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ProxyCollection } from '../engines/proxy/proxy-collection.js';
import type { FaultDriver } from '../backends/driver.js';
import { describeTouched, touchedNothing } from '../journal/touched.js';
import { OwnTraffic } from './own-traffic.js';
import { loadShowsFault, residueOf, type LoadSample } from './evidence.js';
import type { Backend, DriverContext, TargetOf, TargetType } from '../backends/backend.js';
import { BACKENDS, backendFor, type BackendRegistry } from '../backends/registry.js';
import { latencyShift } from '../load/latency-shift.js';
import type { KubernetesRunOptions } from '../backends/kubernetes/driver.js';
import { reachServices, type ServiceReach } from '../backends/kubernetes/service-reach.js';
import { UsageError, ExitCode } from '../errors.js';
import { VERSION } from '../version.js';
import {
  writeJournal,
  type ActivityRun,
  type FaultRecord,
  type Journal,
  type Outcome,
  type SteadyState,
  type StopConditionRecord,
} from '../journal/journal.js';
import type {
  PlannedActivity,
  PlannedFault,
  PlannedFaultRemoval,
  PlannedStep,
  RunPlan,
} from '../run-plan/plan.js';
import { LoadWatch } from './load-watch.js';
import { StatedEffectWatch } from './stated-effect.js';
import { formatDuration } from '../experiment/duration.js';
import type { Summary } from '../load/metrics.js';
import { StopConditionMonitor, type Breach } from '../safety/stop-conditions.js';
import { sleep } from '../shared/wait.js';
import { gracefulStopOf, type GracefulStop } from '../shared/graceful-stop.js';
import { processStart } from '../shared/process-identity.js';
import { register, registryDir, unregister } from '../safety/registry.js';

/** The chaoslib journal format a Chaos Toolkit experiment's journal follows (for `chaos report`). */
const CHAOSLIB_JOURNAL_FORMAT = '1.45.0';

export type Phase =
  'prepare' | 'before' | 'method' | 'after' | 'cleanup' | 'rollbacks' | 'verification' | 'done';

/** What the runner reports as it goes; the CLI renders these. */
export type RunEvent =
  | { type: 'phase'; phase: Phase; elapsedMs: number }
  | { type: 'activity-start'; phase: Phase; name: string; describe: string }
  | { type: 'activity-end'; phase: Phase; run: ActivityRun }
  | { type: 'hypothesis'; phase: 'before' | 'during' | 'after'; state: SteadyState }
  | { type: 'fault-applied'; fault: FaultRecord }
  | { type: 'fault-removed'; fault: FaultRecord }
  | { type: 'wait'; ms: number }
  /** An activity's `pauses.before`/`pauses.after` begins (an interruption during it ends the pause). */
  | { type: 'pause'; when: 'before' | 'after'; name: string; ms: number }
  | { type: 'warning'; message: string }
  /** How a Service named by a load or probe URL is reached (in-cluster, a port-forward). */
  | { type: 'service'; message: string }
  /** After each check of a stop condition on a signal (`safety.stopWhen`). */
  | { type: 'stop-condition'; record: StopConditionRecord }
  /** Once a second while load runs: the last second's numbers, for live progress lines. */
  | { type: 'load'; elapsedMs: number; second: Summary };

export interface RunOptions {
  /** Aborting it interrupts the run (SIGINT/SIGTERM): faults are removed, then it ends. */
  signal?: AbortSignal | undefined;
  /** Where the live journal is kept while running (the ledger `faultline recover` reads). */
  journalPath: string;
  onEvent?: ((event: RunEvent) => void) | undefined;
  /** Extra seconds a fault's lease lasts past its planned end (default 5). */
  leaseGraceSeconds?: number | undefined;
  /** Longest time clean-up may take before giving up (default 30 s). */
  cleanupTimeoutMs?: number | undefined;
  /** How faults on kubernetes targets reach the cluster; without it such faults are refused. */
  kubernetes?: KubernetesRunOptions | undefined;
  /**
   * The collection the run's in-process proxies are created in (default: a private one). Pass
   * one to watch them live — `faultline run --metrics-port` serves their bytes, connections and
   * toxics from it. The run still removes its proxies and closes the collection at its end.
   */
  proxies?: ProxyCollection | undefined;
  /**
   * The HALT button (the control room, a game day's abort): when it aborts, every fault is
   * removed at once — the stop-condition path, recorded in `faultline.stop` with its reaction
   * time — and the run ends `aborted` (exit 3), not `interrupted`: a person pulled the kill
   * switch on purpose, as a stop condition would have. Its reason (an Error's message) is the
   * `condition` recorded.
   */
  halt?: AbortSignal | undefined;
  /** The target types' backends (default the registry, src/backends/registry.ts). */
  backends?: BackendRegistry | undefined;
  /**
   * The machine-wide registry of runs the kill switch reads (src/safety/registry.ts; default
   * from `process.env`: `$FAULTLINE_STATE_DIR`, `$XDG_STATE_HOME/faultline/runs` or
   * `~/.local/state/faultline/runs`); `false` registers nowhere.
   */
  registry?: string | false | undefined;
  /** The directory the run counts as started in (the registration's `cwd`; default process.cwd()). */
  cwd?: string | undefined;
}

/** Thrown inside the method to stop it; carries why. */
class MethodStop extends Error {}

/**
 * The load's phases as the run measures them, shared by the gate, the method and the after
 * phase: the journal's `faultline.load.phases`, and the baseline's span on the load's clock.
 */
interface LoadPhases {
  /** Filled in phase by phase (before, method, shift, after); recorded at the end. */
  readonly phases: NonNullable<Journal['faultline']['load']>['phases'];
  /** When the gate measured a baseline: its window, for the method's latency shift. */
  baselineSpan: [number, number] | undefined;
}

const iso = (): string => new Date().toISOString();

/** Exit code for an outcome (the brief's table). */
export function exitCodeFor(outcome: Outcome): number {
  switch (outcome) {
    case 'held':
      return ExitCode.ok;
    case 'deviated':
      return ExitCode.deviated;
    case 'aborted':
      return ExitCode.aborted;
    case 'inconclusive':
      return ExitCode.inconclusive;
    case 'interrupted':
      return ExitCode.interrupted;
    case 'residue':
      return ExitCode.residue;
  }
}

/**
 * Builds one driver per target a fault uses, each by its target type's backend; targets whose
 * backend starts them without faults (proxies, services) too, so their addresses work. Each
 * backend's preflight (the cluster guardrails) runs once, before any of its drivers exists.
 */
export function createDrivers(
  plan: RunPlan,
  collection: ProxyCollection,
  context: {
    runId?: string | undefined;
    kubernetes?: KubernetesRunOptions | undefined;
    backends?: BackendRegistry | undefined;
  } = {},
): Map<string, FaultDriver> {
  const backends = context.backends ?? BACKENDS;
  const faults = new Map<string, PlannedFault[]>();
  for (const step of plan.method)
    if (step.kind === 'fault') faults.set(step.target, [...(faults.get(step.target) ?? []), step]);
  const driverContext = (name: string): DriverContext => ({
    runId: context.runId ?? 'plan',
    title: plan.title,
    faults: faults.get(name) ?? [],
    targets: plan.targets,
    kubernetes: context.kubernetes,
    proxies: collection,
    plan,
  });
  const preflighted = new Set<string>();
  const drivers = new Map<string, FaultDriver>();
  const create = <T extends TargetType>(name: string, target: TargetOf<T>): void => {
    const backend: Backend<T> = backendFor(target.type, backends);
    if (!preflighted.has(backend.type)) {
      preflighted.add(backend.type);
      backend.preflight?.(driverContext(name));
    }
    drivers.set(name, backend.createDriver(name, target, driverContext(name)));
  };
  for (const name of faults.keys()) {
    const target = plan.targets[name];
    if (!target) throw new UsageError(`fault on unknown target "${name}"`);
    create(name, target);
  }
  for (const [name, target] of Object.entries(plan.targets)) {
    if (!drivers.has(name) && backendFor(target.type, backends).startedWithoutFaults)
      create(name, target);
  }
  return drivers;
}

export async function runExperiment(plan: RunPlan, options: RunOptions): Promise<Journal> {
  return new Run(plan, options).execute();
}

class Run {
  private readonly journal: Journal;
  private readonly emit: (event: RunEvent) => void;
  private readonly started = performance.now();
  /** Aborted to stop the method and everything running in it. */
  private readonly stop = new AbortController();
  private stopReason: 'interrupted' | 'aborted' | 'fail-fast' | 'failed' | undefined;
  private reason: string | undefined;
  /**
   * A graceful stop was asked for (src/shared/graceful-stop.ts): aborted then, it cuts the
   * pauses short while the activities and fault applications in progress (`busy`) finish; the
   * run is halted as interrupted once none is left.
   */
  private readonly graceful = new AbortController();
  private gracefulReason = '';
  private busy = 0;
  private readonly collection: ProxyCollection;
  private drivers = new Map<string, FaultDriver>();
  private readonly pendingFaults: Promise<void>[] = [];
  private gateFailed = false;
  private methodFailed = false;
  /** The method's first step began (the rollbacks' `default` strategy). */
  private methodStarted = false;
  private load: LoadWatch | undefined;
  private loadTicker: NodeJS.Timeout | undefined;
  private monitor: StopConditionMonitor | undefined;
  /** How the Services the URLs name are reached (a port-forward to close at the end). */
  private services: ServiceReach | undefined;
  /** faultline's own connections (probes, actions, load), told apart from the service's. */
  private readonly own = new OwnTraffic();
  /** The gate's baseline window of the load (its clock), when there was one. */
  private baselineSpan: [number, number] | undefined;
  /** Each applied fault's window: performance.now() and the load's clock at application. */
  /** Faults with a stated effect (`shows:`): its watch, from applied to removal. */
  private readonly statedEffects = new Map<FaultRecord, StatedEffectWatch>();
  private readonly windows = new Map<
    FaultRecord,
    { applied: number; loadFrom: number | undefined }
  >();
  /** The latency shift the method caused, for judging what is left after it (0 unknown). */
  private faultEffectMs = 0;

  constructor(
    private readonly plan: RunPlan,
    private readonly options: RunOptions,
  ) {
    this.emit = options.onEvent ?? (() => undefined);
    this.collection = options.proxies ?? new ProxyCollection();
    this.journal = {
      'faultline-version': VERSION,
      ...(plan.format === 'chaostoolkit' ? { 'chaoslib-version': CHAOSLIB_JOURNAL_FORMAT } : {}),
      platform: `${process.platform} ${process.arch}`,
      node: hostname(),
      experiment: plan.experiment,
      start: iso(),
      status: 'running',
      deviated: false,
      steady_states: { before: null, after: null, during: [] },
      run: [],
      rollbacks: [],
      faultline: {
        run_id: randomUUID(),
        pid: process.pid,
        node_version: process.version,
        pid_start: processStart(process.pid),
        cwd: options.cwd ?? process.cwd(),
        file: plan.file,
        format: plan.format,
        strategies: {
          rollbacks: plan.strategies.rollbacks,
          hypothesis: plan.strategies.hypothesis,
          frequency_ms: plan.strategies.frequencyMs,
          fail_fast: plan.strategies.failFast,
        },
        max_duration_ms: plan.maxDurationMs,
        faults: [],
        ...(plan.warnings?.length ? { warnings: [...plan.warnings] } : {}),
      },
    };
  }

  /** A warning the terminal summary, the journal and every report show. */
  private warn(message: string): void {
    (this.journal.faultline.warnings ??= []).push(message);
  }

  private save(): void {
    writeJournal(this.options.journalPath, this.journal);
  }

  private elapsed(): number {
    return performance.now() - this.started;
  }

  private phase(phase: Phase): void {
    this.emit({ type: 'phase', phase, elapsedMs: this.elapsed() });
  }

  private halt(why: NonNullable<Run['stopReason']>, reason: string): void {
    if (this.stopReason) return;
    this.stopReason = why;
    this.reason = reason;
    this.stop.abort(new MethodStop(reason));
  }

  /**
   * Chaos Toolkit's SIGUSR1: nothing new starts, the activities in progress finish (their
   * pauses cut short), then the run is halted as interrupted — faults removed, rollbacks by the
   * strategy. Hurried (a second signal), it halts at once.
   */
  private stopGracefully(request: GracefulStop): void {
    if (this.stopReason || this.graceful.signal.aborted) return;
    const why = `interrupted after the activities in progress (${request.message})`;
    this.graceful.abort(request);
    this.emit({
      type: 'warning',
      message: `${request.message}: stopping once the ${this.busy} activit${this.busy === 1 ? 'y' : 'ies'} in progress end; a second signal stops at once`,
    });
    const now = (): void =>
      this.halt('interrupted', `interrupted (${describeReason(request.now.reason)})`);
    if (request.now.aborted) now();
    else request.now.addEventListener('abort', now, { once: true });
    this.gracefulReason = why;
    if (this.busy === 0) this.halt('interrupted', why);
  }

  /** Runs work a graceful stop lets finish (an activity, a fault's application). */
  private async finishing<T>(work: () => Promise<T>): Promise<T> {
    this.busy++;
    try {
      return await work();
    } finally {
      this.busy--;
      if (this.busy === 0 && this.graceful.signal.aborted)
        this.halt('interrupted', this.gracefulReason);
    }
  }

  async execute(): Promise<Journal> {
    const external = this.options.signal;
    const onExternal = (): void => {
      const graceful = gracefulStopOf(external);
      if (graceful) this.stopGracefully(graceful);
      else this.halt('interrupted', `interrupted (${describeReason(external?.reason)})`);
    };
    if (external?.aborted) onExternal();
    external?.addEventListener('abort', onExternal, { once: true });
    const haltSignal = this.options.halt;
    const onHalt = (): void =>
      this.abortNow({
        condition: describeReason(haltSignal?.reason),
        value: 'HALT',
        measurable_at: iso(),
        measurableMs: performance.now(),
      });
    if (haltSignal?.aborted) onHalt();
    haltSignal?.addEventListener('abort', onHalt, { once: true });
    const safety = setTimeout(
      () =>
        this.halt(
          'aborted',
          `safety: the run reached its maximum duration (${Math.round(this.plan.maxDurationMs / 1000)} s)`,
        ),
      this.plan.maxDurationMs,
    );
    this.save();
    try {
      this.register();
    } catch (err) {
      clearTimeout(safety);
      external?.removeEventListener('abort', onExternal);
      haltSignal?.removeEventListener('abort', onHalt);
      throw err;
    }
    this.own.start();
    try {
      await this.lifecycle();
    } catch (err) {
      // An unexpected error must still go through clean-up.
      this.halt('failed', `internal error: ${err instanceof Error ? err.message : String(err)}`);
      this.methodFailed = true;
    } finally {
      clearTimeout(safety);
      external?.removeEventListener('abort', onExternal);
      haltSignal?.removeEventListener('abort', onHalt);
      // Clean-up closes them; should it throw, the port-forwards are still closed.
      await this.cleanup().finally(() => this.closeServices());
      clearInterval(this.loadTicker);
      this.own.stop();
      this.unregister();
    }
    return this.journal;
  }

  /**
   * Registers the run machine-wide, before anything is applied, so that `faultline halt` and
   * `faultline recover` started in any directory find it (src/safety/registry.ts).
   */
  private register(): void {
    const dir = this.options.registry ?? registryDir(process.env);
    if (dir === false) return;
    const f = this.journal.faultline;
    try {
      f.registration = register(dir, {
        run_id: f.run_id,
        pid: f.pid,
        pid_start: f.pid_start,
        cwd: f.cwd ?? process.cwd(),
        journal: this.options.journalPath,
        title: this.plan.title,
        started_at: this.journal.start,
      });
    } catch (err) {
      throw new UsageError(
        `the run cannot register in ${dir}, where faultline halt and recover look for runs: ${errorMessage(err)}`,
        { hint: 'make it writable, or set FAULTLINE_STATE_DIR to a directory that is' },
      );
    }
    if (f.registration) this.save();
  }

  /** The run ended: its registration goes, unless a fault is still in place (recover needs it then). */
  private unregister(): void {
    const path = this.journal.faultline.registration;
    if (!path) return;
    const open = this.journal.faultline.faults.some(
      (f) =>
        f.state === 'applied' ||
        f.state === 'applying' ||
        f.state === 'residue' ||
        (f.state === 'failed' && !f.removed_at),
    );
    if (open) return;
    if (unregister(path)) {
      this.journal.faultline.registration = undefined;
      this.save();
    }
  }

  /** Is there anything to check in a steady state: probes, or thresholds on load? */
  private hasHypothesis(): boolean {
    return this.plan.hypothesis.length > 0 || (this.plan.load?.thresholds.length ?? 0) > 0;
  }

  /**
   * The run, phase by phase (the diagram at the top of this file); clean-up, rollbacks and
   * verification follow in {@link Run.cleanup}, whatever happens here. A phase that ends the
   * run early (a target not prepared, the gate not met, an abort) makes the rest not happen.
   */
  private async lifecycle(): Promise<void> {
    const signal = this.stop.signal;
    if (!(await this.prepareTargets(signal))) return;
    this.startLoad();
    const loadPhases = await this.gate(signal);
    if (!loadPhases) return;
    await this.runMethod(signal, loadPhases);
    // A stopped method (interrupted, aborted, fail-fast, failed) has no after phase; its load phases are still recorded.
    if (!this.stopReason) await this.afterMethod(signal, loadPhases);
    this.recordPhases(loadPhases.phases);
  }

  /**
   * Builds the drivers and prepares every target before anything is measured or injected;
   * false when a target could not be prepared — the run is then failed and goes no further.
   */
  private async prepareTargets(signal: AbortSignal): Promise<boolean> {
    this.phase('prepare');
    try {
      this.drivers = createDrivers(this.plan, this.collection, {
        runId: this.journal.faultline.run_id,
        kubernetes: this.options.kubernetes,
        backends: this.options.backends,
      });
      for (const driver of this.drivers.values()) await driver.prepare(signal);
      await this.reachServices(signal);
    } catch (err) {
      this.methodFailed = true;
      this.halt('failed', `a target could not be prepared: ${errorMessage(err)}`);
      return false;
    }
    return true;
  }

  /**
   * Opens the way to the Kubernetes Services the load and probe URLs name, before anything is
   * measured: in a pod, the URLs as written; elsewhere, a port-forward per Service
   * (src/backends/kubernetes/service-reach.ts). Said on the terminal and in the journal; a
   * forward that breaks later is a warning in the journal, not a silent loss of traffic.
   */
  private async reachServices(signal: AbortSignal): Promise<void> {
    const routes = this.plan.services;
    const refs = routes?.services ?? [];
    if (!routes || refs.length === 0) return;
    const reach = await reachServices(refs, {
      kubernetes: this.options.kubernetes,
      signal,
      onProblem: (message) => {
        this.warn(message);
        this.emit({ type: 'warning', message });
        this.save();
      },
    });
    this.services = reach;
    routes.use(reach.routes);
    this.journal.faultline.services = reach.records;
    for (const [i, message] of reach.messages.entries()) {
      if (reach.records[i]?.via === 'as-written') {
        this.warn(message);
        this.emit({ type: 'warning', message });
      } else this.emit({ type: 'service', message });
    }
    this.save();
  }

  /** Closes the port-forwards (idempotent): after it, nothing of the run listens. */
  private async closeServices(): Promise<void> {
    const reach = this.services;
    if (!reach) return;
    this.services = undefined;
    await reach.close().catch(() => undefined);
    this.plan.services?.use(new Map());
  }

  /**
   * Starts the plan's load, if it has one, with its once-a-second `load` events: it must run
   * from before the baseline until the clean-up stops it, so every phase can read its windows.
   */
  private startLoad(): void {
    const load = this.plan.load;
    if (load) {
      // Inside faultline's own context: its connections are never taken for the service's.
      // A URL naming a Service goes where the run routes it (in-cluster, or a port-forward).
      const url = this.plan.services?.resolve(load.url) ?? load.url;
      const watch = this.own.run(() => new LoadWatch({ ...load, url }, this.plan.maxDurationMs));
      this.load = watch;
      this.loadTicker = setInterval(() => {
        const now = watch.now();
        const second = watch.window(Math.max(0, now - 1000), now);
        if (second)
          this.emit({ type: 'load', elapsedMs: performance.now() - this.started, second });
      }, 1000);
      this.loadTicker.unref();
    }
  }

  /**
   * The gate: the steady state before the method, with the load baseline, so that no fault is
   * injected into a system that is already unhealthy. Returns the load phases the later phases
   * fill in, or undefined when the run goes no further (aborted, or the gate not met).
   */
  private async gate(signal: AbortSignal): Promise<LoadPhases | undefined> {
    const load = this.plan.load;
    const loadPhases: LoadPhases = { phases: {}, baselineSpan: undefined };
    const phases = loadPhases.phases;

    // The warm-up: load that nothing judges, so that neither the baseline nor the first fault
    // meets a service's first requests (its pool's connections, its caches, its JIT).
    if (this.load && load && load.warmupMs > 0) {
      await sleep(load.warmupMs, signal);
      if (signal.aborted) return undefined;
    }
    const strategy = this.plan.strategies.hypothesis;
    if (
      ['default', 'before-method-only', 'continuously'].includes(strategy) &&
      this.hasHypothesis()
    ) {
      this.phase('before');
      let loadRuns: ActivityRun[] = [];
      if (this.load && load) {
        // The baseline: load on the untouched system; the thresholds must hold on it.
        const from = this.load.now();
        await sleep(load.baselineMs, signal);
        if (signal.aborted) return undefined;
        loadRuns = this.load.judge(load.thresholds, from, this.load.now(), 'before');
        phases.before = this.load.window(from, this.load.now());
        loadPhases.baselineSpan = [from, this.load.now()];
        this.baselineSpan = loadPhases.baselineSpan;
      }
      const before = await this.hypothesis('before', signal, loadRuns);
      this.journal.steady_states.before = before;
      this.save();
      if (signal.aborted) return undefined;
      if (!before.steady_state_met) {
        this.gateFailed = true;
        this.reason =
          'the steady state was not met before the method: the system was unhealthy before any fault, so nothing was injected';
        return undefined;
      }
    }
    return loadPhases;
  }

  /**
   * The method — faults, waits, probes, actions — with the stop-condition monitor and the
   * during-method hypothesis loop around it, then the load over the whole method judged and
   * compared with the baseline (the latency shift).
   */
  private async runMethod(signal: AbortSignal, loadPhases: LoadPhases): Promise<void> {
    const load = this.plan.load;
    const { phases, baselineSpan } = loadPhases;
    const strategy = this.plan.strategies.hypothesis;
    this.phase('method');
    const methodFrom = this.load?.now() ?? 0;
    const signals = this.plan.stopWhen ?? [];
    if ((this.load && load && load.abortWhen.length > 0) || signals.length > 0) {
      // The load's thresholds and the system's own signals; the signals are checked once
      // before the first fault (already breached, or blind with onError: stop: nothing applied).
      this.monitor = new StopConditionMonitor(
        load?.abortWhen ?? [],
        this.load,
        (breach) => this.abortNow(breach),
        {
          signals,
          onWarning: (message) => {
            this.warn(message);
            this.emit({ type: 'warning', message });
          },
          onCheck: (record) => this.emit({ type: 'stop-condition', record }),
          save: () => this.save(),
        },
      );
      if (signals.length > 0) this.journal.faultline.stop_conditions = this.monitor.records;
      await this.monitor.start(signal);
    }
    const methodDone = new AbortController();
    const during =
      ['during-method-only', 'continuously'].includes(strategy) && this.hasHypothesis()
        ? this.duringLoop(
            // A graceful stop ends the checks too: a check cut short is not judged.
            AbortSignal.any([signal, methodDone.signal, this.graceful.signal]),
          )
        : Promise.resolve();
    try {
      await this.method(signal);
    } finally {
      methodDone.abort();
      await during;
    }
    if (this.load && load) {
      phases.method = this.load.window(methodFrom, this.load.now());
      this.noticeSilence(methodFrom, this.load.now(), 'during the method');
      // Did the fault really move the latency distribution? A rank test over every request.
      const baselineHistogram = baselineSpan ? this.load.histogram(...baselineSpan) : undefined;
      const methodHistogram = this.load.histogram(methodFrom, this.load.now());
      const shift =
        baselineHistogram && methodHistogram
          ? latencyShift(baselineHistogram, methodHistogram)
          : undefined;
      if (shift) {
        phases.shift = shift;
        this.faultEffectMs = Math.max(0, shift.shift_ms);
      }
      // Over the whole method, too: a breach there is a deviation even if no check caught it.
      for (const run of this.load.judge(
        load.thresholds,
        methodFrom,
        this.load.now(),
        'the whole method',
      )) {
        if (run.tolerance_met === false && !this.stopReason)
          this.deviate(`over the whole method, ${run.reason ?? run.name}`);
      }
    }
  }

  /**
   * The steady state after the method, with the load's recovery: did the system come back once
   * the faults were gone? Not met is a deviation.
   */
  private async afterMethod(signal: AbortSignal, loadPhases: LoadPhases): Promise<void> {
    const strategy = this.plan.strategies.hypothesis;
    if (
      ['default', 'after-method-only', 'continuously'].includes(strategy) &&
      this.hasHypothesis()
    ) {
      this.phase('after');
      const loadRuns = await this.recovery(signal, loadPhases.phases);
      const after = await this.hypothesis('after', signal, loadRuns);
      if (!signal.aborted) {
        this.journal.steady_states.after = after;
        if (!after.steady_state_met) this.deviate('the steady state was not met after the method');
      }
      this.save();
    }
  }

  /**
   * The load's part of the after phase, recorded as `phases.after`; its verdicts (the
   * thresholds, and a `load: back to the baseline` residue when it did not come back) are the
   * probe runs it returns for the after steady state — none without load.
   */
  private async recovery(
    signal: AbortSignal,
    phases: LoadPhases['phases'],
  ): Promise<ActivityRun[]> {
    const load = this.plan.load;
    let loadRuns: ActivityRun[] = [];
    if (this.load && load) {
      // Recovery: slide a window over the load after the method until every threshold holds
      // on it *and* latency and errors are back near the baseline (the time to recovery), or
      // until the recovery time is up: then the system did not recover — residue.
      const from = this.load.now();
      const window = Math.min(1000, load.recoveryMs / 2);
      const baseline = phases.before as Summary | undefined;
      let recoveredMs: number | undefined;
      let lastGap: string | undefined;
      for (;;) {
        await sleep(100, signal);
        if (signal.aborted) break;
        const now = this.load.now();
        if (now - from < window) continue;
        loadRuns = this.load.judge(load.thresholds, now - window, now, 'after');
        const current = this.load.window(now - window, now);
        lastGap =
          baseline && current ? baselineGap(baseline, current, load.recoveryTolerance) : undefined;
        if (loadRuns.every((r) => r.tolerance_met) && lastGap === undefined) {
          recoveredMs = now - from;
          break;
        }
        if (now - from >= load.recoveryMs) break;
      }
      phases.after = {
        ...this.load.window(from, this.load.now()),
        recovered_after_ms: recoveredMs === undefined ? null : Math.round(recoveredMs),
        ...(recoveredMs === undefined && lastGap !== undefined ? { not_back: lastGap } : {}),
      };
      if (recoveredMs === undefined && !signal.aborted) {
        for (const r of loadRuns)
          if (r.tolerance_met === false)
            r.reason = `not recovered within ${load.recoveryMs} ms: ${r.reason ?? ''}`;
        // Not back to the baseline (`not_back`) is not a deviation of the hypothesis: it is
        // judged, robustly and after the rollbacks, as residue (afterRollbacks).
      }
    }
    return loadRuns;
  }

  private recordPhases(phases: NonNullable<Journal['faultline']['load']>['phases']): void {
    if (!this.plan.load) return;
    this.journal.faultline.load = {
      url: this.plan.load.url,
      rate: this.plan.load.rate,
      started_at: this.load?.startedAt(),
      total: null,
      health: null,
      phases,
      series: [],
    };
  }

  /** A stop condition was breached: remove every fault now, then let the run unwind. */
  private abortNow(breach: Breach): void {
    if (this.stopReason) return;
    const stop: NonNullable<Journal['faultline']['stop']> = {
      condition: breach.condition,
      value: breach.value,
      measurable_at: breach.measurable_at,
      ...breach.details,
    };
    this.journal.faultline.stop = stop;
    this.halt(
      'aborted',
      breach.value === 'HALT'
        ? `HALT: ${breach.condition}: every fault was removed and the run aborted`
        : `stop condition "${breach.condition}" ${breach.details?.['unevaluable'] ? 'could not be evaluated' : 'was breached'} (${breach.value}): every fault was removed and the run aborted`,
    );
    void (async () => {
      for (const record of [...this.journal.faultline.faults].reverse())
        await this.removeFault(record);
      stop.faults_removed_at = iso();
      stop.reaction_ms = Math.round((performance.now() - breach.measurableMs) * 10) / 10;
      this.save();
    })();
  }

  private deviate(reason: string): void {
    if (!this.journal.deviated) this.reason = reason;
    this.journal.deviated = true;
  }

  private async duringLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const load = this.plan.load;
      const loadRuns = (): ActivityRun[] => {
        if (!this.load || !load) return [];
        const now = this.load.now();
        // Each threshold on its own sliding window (its `over`, else the check interval, at least 1 s).
        return load.thresholds.flatMap((t) => {
          const over = t.overMs ?? Math.max(1000, this.plan.strategies.frequencyMs);
          return this.load!.judge([t], Math.max(0, now - over), now, 'during');
        });
      };
      const state = await this.hypothesis('during', signal, loadRuns);
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the signal may abort during the await above
      if (signal.aborted) break;
      this.journal.steady_states.during.push(state);
      this.save();
      if (!state.steady_state_met) {
        this.deviate('the steady state was not met during the method');
        if (this.plan.strategies.failFast) {
          this.halt(
            'fail-fast',
            'fail-fast: the steady state deviated during the method, which was stopped',
          );
          break;
        }
      }
      await sleep(this.plan.strategies.frequencyMs, signal);
    }
  }

  private async hypothesis(
    phase: 'before' | 'during' | 'after',
    signal: AbortSignal,
    extra: ActivityRun[] | (() => ActivityRun[]) = [],
  ): Promise<SteadyState> {
    // Every probe runs, even after one failed: the data of the others matters too.
    const probes: ActivityRun[] = typeof extra === 'function' ? [] : [...extra];
    for (const probe of this.plan.hypothesis) {
      if (signal.aborted) break;
      if (probe.phases && !probe.phases.has(phase)) continue;
      probes.push(
        await this.activity(
          probe,
          phase === 'during' ? 'method' : phase,
          signal,
          phase !== 'during',
        ),
      );
    }
    // Judged after the probes: a probe that goes through the fault can take the whole check
    // interval, and the load's window must be the one just before the check ends, not one
    // taken before the fault had time to show.
    if (typeof extra === 'function') probes.unshift(...extra());
    // A check with nothing to run in this phase (every probe is SOT/EOT/…) is met.
    const state = { steady_state_met: probes.every((p) => p.tolerance_met === true), probes };
    this.emit({ type: 'hypothesis', phase, state });
    return state;
  }

  private activity(
    activity: PlannedActivity,
    phase: Phase,
    signal: AbortSignal,
    announce = true,
  ): Promise<ActivityRun> {
    return this.finishing(() => this.runActivity(activity, phase, signal, announce));
  }

  private async runActivity(
    activity: PlannedActivity,
    phase: Phase,
    signal: AbortSignal,
    announce: boolean,
  ): Promise<ActivityRun> {
    // A graceful stop cuts the pauses of the steady state and the method short (the work itself
    // runs on `signal` and finishes); a rollback's pauses are its own and are waited out.
    const pause = phase === 'rollbacks' ? signal : AbortSignal.any([signal, this.graceful.signal]);
    if (announce)
      this.emit({
        type: 'activity-start',
        phase,
        name: activity.name,
        describe: activity.describe,
      });
    const run: ActivityRun = {
      activity: activity.source,
      name: activity.name,
      output: null,
      start: iso(),
      end: '',
      duration: 0,
      status: 'succeeded',
    };
    const t0 = performance.now();
    try {
      if (activity.pauseBeforeMs > 0) {
        this.emit({
          type: 'pause',
          when: 'before',
          name: activity.name,
          ms: activity.pauseBeforeMs,
        });
        await sleep(activity.pauseBeforeMs, pause, true);
      }
      // Asked to stop gracefully during its pause before: it never starts.
      if (pause.aborted) throw pause.reason;
      run.output = await this.own.run(() => activity.execute(signal));
      if (activity.verify) {
        try {
          const output = run.output;
          const verdict = await this.own.run(() => activity.verify!(output, signal));
          run.tolerance_met = verdict.met;
          if (!verdict.met) run.reason = verdict.reason;
        } catch (err) {
          run.tolerance_met = false;
          run.reason = `the expectation could not be evaluated: ${errorMessage(err)}`;
        }
      }
    } catch (err) {
      if (pause.aborted) {
        run.status = 'interrupted';
      } else {
        run.status = 'failed';
        run.exception = [errorMessage(err)];
        if (activity.verify) run.tolerance_met = false;
        run.reason = errorMessage(err);
      }
    }
    run.end = iso();
    run.duration = (performance.now() - t0) / 1000;
    // An interruption during the pause after ends the pause, not the activity: it ran, and it
    // stays in the journal as it ended (a pause before is part of the try: `interrupted`).
    if (activity.pauseAfterMs > 0 && !pause.aborted) {
      this.emit({ type: 'pause', when: 'after', name: activity.name, ms: activity.pauseAfterMs });
      await sleep(activity.pauseAfterMs, pause);
    }
    // Checks during the method are reported once per check (the 'hypothesis' event), not per probe.
    if (announce) this.emit({ type: 'activity-end', phase, run });
    return run;
  }

  private async method(signal: AbortSignal): Promise<void> {
    const background: Promise<void>[] = [];
    try {
      for (const step of this.plan.method) {
        // A graceful stop lets a background activity finish, but starts nothing after it.
        if (signal.aborted || this.graceful.signal.aborted) break;
        this.methodStarted = true;
        await this.step(step, signal, background);
      }
      await Promise.all(background);
      // The method lasts until its timed faults have run their course.
      await Promise.all(this.pendingFaults);
    } catch (err) {
      if (!(err instanceof MethodStop) && !signal.aborted) throw err;
    }
  }

  private async step(
    step: PlannedStep,
    signal: AbortSignal,
    background: Promise<void>[],
  ): Promise<void> {
    switch (step.kind) {
      case 'activity': {
        const record = async (): Promise<void> => {
          const run = await this.activity(step, 'method', signal);
          this.journal.run.push(run);
          this.save();
          if (run.status === 'failed' && step.activity === 'action') {
            this.methodFailed = true;
            this.halt('failed', `action "${step.name}" failed: ${run.reason ?? 'error'}`);
          } else if (run.status === 'failed' || run.tolerance_met === false) {
            if (step.activity === 'action') {
              this.methodFailed = true;
              this.halt(
                'failed',
                `action "${step.name}" did not meet its expectation: ${run.reason ?? ''}`,
              );
            } else {
              this.deviate(`method probe "${step.name}" was not met: ${run.reason ?? ''}`);
            }
          }
        };
        if (step.background) background.push(record());
        else await record();
        return;
      }
      case 'fault':
        await this.finishing(() => this.applyFault(step, signal));
        return;
      case 'remove-fault':
        this.journalRemoval(await this.removeMatching(step), 'run');
        return;
      case 'wait':
        this.emit({ type: 'wait', ms: step.ms });
        await sleep(step.ms, signal);
        return;
    }
  }

  private remainingMs(): number {
    return Math.max(0, this.plan.maxDurationMs - this.elapsed());
  }

  private async applyFault(fault: PlannedFault, signal: AbortSignal): Promise<void> {
    const driver = this.drivers.get(fault.target);
    if (!driver) throw new UsageError(`no driver for target ${fault.target}`);
    const plannedMs = Math.min(fault.durationMs ?? this.remainingMs(), this.remainingMs());
    const leaseSeconds = Math.ceil(plannedMs / 1000) + (this.options.leaseGraceSeconds ?? 5);
    const record: FaultRecord = {
      name: fault.name,
      target: fault.target,
      describe: fault.describe,
      location: driver.locate(fault),
      state: 'applying',
      expires_at: new Date(Date.now() + leaseSeconds * 1000).toISOString(),
    };
    this.journal.faultline.faults.push(record);
    this.save(); // on disk before it exists anywhere else
    // The fault is also an entry of run[], as the action that applied it would be in Chaos Toolkit.
    const run: ActivityRun = {
      activity: fault.source,
      name: fault.name,
      output: null,
      start: iso(),
      end: '',
      duration: 0,
      status: 'succeeded',
    };
    const t0 = performance.now();
    const finish = (): void => {
      run.end = iso();
      run.duration = (performance.now() - t0) / 1000;
      run.output = {
        fault: record.name,
        target: record.target,
        location: record.location,
        expires_at: record.expires_at,
      };
      this.journal.run.push(run);
    };
    try {
      await driver.apply(fault, leaseSeconds, signal, {
        location: record.location,
        save: () => this.save(),
      });
    } catch (err) {
      record.state = 'failed';
      record.error = errorMessage(err);
      run.status = signal.aborted ? 'interrupted' : 'failed';
      run.exception = [record.error];
      finish();
      this.save();
      if (signal.aborted) throw new MethodStop('stopped');
      this.methodFailed = true;
      this.halt(
        'failed',
        `fault "${fault.name}" could not be applied to ${fault.target}: ${record.error}`,
      );
      throw new MethodStop(this.reason);
    }
    record.state = 'applied';
    record.applied_at = iso();
    this.windows.set(record, { applied: performance.now(), loadFrom: this.load?.now() });
    if (fault.shows)
      this.statedEffects.set(
        record,
        new StatedEffectWatch(fault.shows, signal, (fn) => this.own.run(fn)),
      );
    finish();
    this.save();
    this.emit({ type: 'fault-applied', fault: record });
    if (fault.durationMs !== undefined) {
      this.pendingFaults.push(
        sleep(fault.durationMs, signal, true).then(
          () => this.removeFault(record),
          () => undefined, // stopped early: clean-up removes it
        ),
      );
    }
  }

  private async removeMatching(step: PlannedFaultRemoval): Promise<ActivityRun> {
    const start = iso();
    const began = performance.now();
    const named = this.journal.faultline.faults.filter((f) =>
      step.all
        ? step.all.target === undefined || f.target === step.all.target
        : f.name === step.fault,
    );
    const matches = named.filter((f) => f.state === 'applied');
    for (const record of [...matches].reverse()) await this.removeFault(record);
    const failed = matches.filter((f) => f.state !== 'removed');
    return {
      activity: step.source,
      name: step.name,
      // Removed now, or already by the run (which removes every fault before the rollbacks).
      output: {
        removed: matches.filter((f) => f.state === 'removed').map((f) => f.name),
        already_removed: named
          .filter((f) => !matches.includes(f) && f.state === 'removed')
          .map((f) => f.name),
      },
      start,
      end: iso(),
      duration: (performance.now() - began) / 1000,
      status: failed.length > 0 ? 'failed' : 'succeeded',
      ...(failed.length > 0
        ? { exception: failed.map((f) => `${f.name}: ${f.error ?? f.state}`) }
        : {}),
    };
  }

  /**
   * A step that removes faults, journaled as the activity it is in a Chaos Toolkit experiment
   * (`delete_toxic`, `enable_proxy`, `reset`): Chaos Toolkit's journal lists every activity, and
   * its reports read `run[]` and `rollbacks[]`. A faultline experiment's removals are in
   * `faultline.faults` with their times.
   */
  private journalRemoval(run: ActivityRun, list: 'run' | 'rollbacks'): void {
    if (this.plan.format !== 'chaostoolkit') return;
    this.journal[list].push(run);
    this.save();
  }

  /**
   * Removes one fault, recording what it touched; never throws (a failure is recorded as
   * residue). A fault whose application *failed* is removed too, as a precaution: an apply that
   * timed out or was interrupted may still have reached the server. Such a record keeps its
   * `failed` state; a removal that does not go through is noted on it and left to the lease and
   * to `faultline recover`.
   */
  /** Removals in progress: a stop condition and the clean-up may both reach the same fault. */
  private readonly removals = new Map<FaultRecord, Promise<void>>();

  private removeFault(record: FaultRecord, signal?: AbortSignal): Promise<void> {
    let removal = this.removals.get(record);
    if (!removal) {
      removal = this.removeFaultOnce(
        record,
        signal ?? AbortSignal.timeout(this.options.cleanupTimeoutMs ?? 30_000),
      ).finally(() => this.removals.delete(record));
      this.removals.set(record, removal);
    }
    return removal;
  }

  private async removeFaultOnce(record: FaultRecord, signal: AbortSignal): Promise<void> {
    if (
      record.state !== 'applied' &&
      record.state !== 'applying' &&
      !(record.state === 'failed' && !record.removed_at)
    )
      return;
    const driver = this.drivers.get(record.target);
    if (!driver) return;
    const failed = record.state === 'failed';
    try {
      if (!failed) {
        record.touched =
          (await driver.touched(record.location, signal).catch(() => undefined)) ?? record.touched;
        this.attribute(record, driver);
        record.efficacy = await this.efficacyOf(record);
      }
      await driver.remove(record.location, signal);
      record.removed_at = iso();
      if (!failed) {
        record.state = 'removed';
        record.error = undefined;
      }
    } catch (err) {
      if (failed)
        record.error = `${record.error ?? ''}; its removal could not be confirmed: ${errorMessage(err)}`;
      else {
        record.state = 'residue';
        record.error = errorMessage(err);
      }
    }
    this.save();
    if (!failed) this.emit({ type: 'fault-removed', fault: record });
  }

  /** Separates faultline's own connections through the fault's target from the service's. */
  private attribute(record: FaultRecord, driver: FaultDriver): void {
    const window = this.windows.get(record);
    const address = driver.trafficAddress?.();
    if (!record.touched || !window || !address) return;
    const own = this.own.connectionsTo(address, window.applied, performance.now());
    if (own > 0) record.touched.own = { connections: Math.min(own, record.touched.connections) };
  }

  /**
   * How the fault was shown to reach the system: its target's own count of the service's
   * traffic or items, else (a target that cannot count, or counts only part) the load moving in
   * the fault's window against the baseline. `none` makes the run inconclusive.
   */
  private async efficacyOf(record: FaultRecord): Promise<NonNullable<FaultRecord['efficacy']>> {
    const stated = await this.statedEffects.get(record)?.stop();
    if (stated) {
      // The experiment said what the fault does: that, and nothing weaker, shows it bit.
      if (stated.seenAfterMs !== undefined)
        return {
          by: 'stated-effect',
          detail: `its stated effect "${stated.name}" was seen ${formatDuration(Math.round(stated.seenAfterMs))} after it was applied`,
        };
      return {
        by: 'none',
        detail: `its stated effect "${stated.name}" was never seen while it was applied (${stated.checks} check(s)${stated.last ? `; the last: ${stated.last}` : ''})${record.touched && !touchedNothing(record.touched) ? `, although it touched ${describeTouched(record.touched)}` : ''}`,
      };
    }
    const touched = record.touched;
    if (touched && !touchedNothing(touched))
      return { by: 'counted', detail: `touched ${describeTouched(touched)}` };
    if (touched === undefined || touched.partial) {
      const shown = this.loadShift(record);
      if (shown) return { by: 'load-shift', detail: shown };
      return {
        by: 'none',
        detail:
          touched === undefined
            ? `its target cannot count what it touched, and ${this.load ? 'the load did not change in its window' : 'there is no load to show its effect'}`
            : `it touched none of the service's traffic (${describeTouched(touched)}), and ${this.load ? 'the load did not change in its window' : 'there is no load to show its effect'}`,
      };
    }
    return {
      by: 'none',
      detail: `it touched none of the service's traffic (${describeTouched(touched)}): is the service connected through it?`,
    };
  }

  /** The load in a fault's window against the baseline: a description when it moved. */
  private loadShift(record: FaultRecord): string | undefined {
    const from = this.windows.get(record)?.loadFrom;
    const baseline = this.baselineSpan && this.sample(...this.baselineSpan);
    const during = this.load && from !== undefined ? this.sample(from, this.load.now()) : undefined;
    return baseline && during ? loadShowsFault(baseline, during) : undefined;
  }

  /**
   * A service that stops answering at all (every request a connection error, no HTTP status
   * for a whole second) has crashed or lost its port: named as a warning, whatever the verdict.
   */
  private noticeSilence(from: number, to: number, when: string): void {
    let silent = 0;
    let longest = 0;
    for (let t = from; t + 1000 <= to; t += 1000) {
      const second = this.load?.window(t, t + 1000);
      silent =
        second && second.completed > 0 && second.errors === second.completed ? silent + 1 : 0;
      longest = Math.max(longest, silent);
    }
    if (longest > 0)
      this.warn(
        `the service under test gave no HTTP answer at all for ${longest} s ${when} (every request a connection error or timeout): it crashed, or its port was cut`,
      );
  }

  private sample(from: number, to: number): LoadSample | undefined {
    const summary = this.load?.window(from, to);
    const histogram = this.load?.histogram(from, to);
    return summary && histogram ? { summary, histogram } : undefined;
  }

  /**
   * After the rollbacks, whatever removed the faults: is every target as the run found it, and
   * is the load back to its baseline? The load is measured twice before anything is called
   * residue, so that a busy host's noise in one window is not.
   */
  private async afterRollbacks(signal: AbortSignal): Promise<void> {
    const checks: { what: string; residue: boolean; detail: string }[] = [];
    for (const [name, driver] of this.drivers) {
      if (!driver.leftovers) continue;
      try {
        const left = await driver.leftovers(signal);
        checks.push({
          what: `target ${name}`,
          residue: left.length > 0,
          detail: left.length > 0 ? left.join('; ') : 'as the run found it',
        });
      } catch (err) {
        checks.push({
          what: `target ${name}`,
          residue: false,
          detail: `not checked: ${errorMessage(err)}`,
        });
      }
    }
    const load = this.plan.load;
    const baseline = this.baselineSpan && this.sample(...this.baselineSpan);
    const applied = this.journal.faultline.faults.some((f) => f.applied_at !== undefined);
    if (this.load && load && baseline && applied && !this.stopReason) {
      const windowMs = Math.max(1000, Math.min(load.recoveryMs, load.baselineMs, 3000));
      let gap: string | undefined;
      for (let attempt = 0; attempt < 2; attempt++) {
        const from = this.load.now();
        await sleep(windowMs, signal);
        const after = this.sample(from, this.load.now());
        gap = after
          ? residueOf(baseline, after, load.recoveryTolerance, this.faultEffectMs)
          : undefined;
        if (
          after &&
          after.summary.completed > 0 &&
          after.summary.errors === after.summary.completed
        )
          gap =
            'the service under test gives no HTTP answer after the rollbacks (every request a connection error or timeout): it crashed and did not come back';
        if (gap === undefined || signal.aborted) break;
      }
      checks.push({
        what: 'load against the baseline',
        residue: gap !== undefined,
        detail: gap ?? 'back to the baseline',
      });
    }
    if (checks.length > 0) this.journal.faultline.after_rollbacks = { checks };
  }

  private async cleanup(): Promise<void> {
    this.phase('cleanup');
    this.monitor?.stop();
    const signal = AbortSignal.timeout(this.options.cleanupTimeoutMs ?? 30_000);
    // Newest first: a later fault may depend on an earlier one's state.
    for (const record of [...this.journal.faultline.faults].reverse())
      await this.removeFault(record, signal);

    const strategy = this.plan.strategies.rollbacks;
    // Started: its first step began, whatever became of it (an interruption in its pause or wait
    // included) — docs/chaostoolkit.md: `default` plays the rollbacks whenever the method started.
    const methodStarted =
      !this.gateFailed &&
      (this.methodStarted || this.journal.faultline.faults.length + this.journal.run.length > 0);
    const play =
      strategy === 'always' ||
      (strategy === 'default' && methodStarted) ||
      (strategy === 'deviated' && this.journal.deviated);
    if (play && this.plan.rollbacks.length > 0) {
      this.phase('rollbacks');
      for (const step of this.plan.rollbacks) {
        if (step.kind === 'remove-fault') {
          this.journalRemoval(await this.removeMatching(step), 'rollbacks');
          continue;
        }
        const run = await this.activity(step, 'rollbacks', signal);
        this.journal.rollbacks.push(run);
        this.save();
      }
    }

    this.phase('verification');
    const verification: NonNullable<Journal['faultline']['verification']> = [];
    for (const record of this.journal.faultline.faults) {
      if (record.state === 'failed') continue;
      const driver = this.drivers.get(record.target);
      try {
        const gone = driver ? await driver.isGone(record.location, signal) : null;
        verification.push({ fault: record.name, gone });
        if (gone === false) record.state = 'residue';
      } catch (err) {
        verification.push({ fault: record.name, gone: null, error: errorMessage(err) });
      }
    }
    this.journal.faultline.verification = verification;
    await this.afterRollbacks(signal);
    for (const driver of this.drivers.values())
      for (const message of driver.notices?.() ?? []) {
        this.warn(message);
        this.emit({ type: 'warning', message });
      }

    if (this.load) {
      clearInterval(this.loadTicker);
      const report = await this.load.stop();
      if (!this.journal.faultline.load) this.recordPhases({});
      const record = this.journal.faultline.load!;
      if (report) {
        record.total = report.total;
        record.health = report.health;
        record.series = report.series;
        if (!report.health.trustworthy) {
          const message = `load measurement not trustworthy: ${report.health.problems.join('; ')}`;
          this.warn(message);
          this.emit({ type: 'warning', message });
        }
      }
    }
    // After the load and the rollbacks (which may use them): the port-forwards go last.
    await this.closeServices();
    for (const driver of this.drivers.values()) await driver.dispose().catch(() => undefined);
    await this.collection.close().catch(() => undefined);
    this.conclude();
    this.save();
    this.phase('done');
  }

  /**
   * The verdict. A fault of faultline's that could not be removed comes first: it is still on
   * the system, and saying so is the most urgent thing the run can say. Then a fault not shown
   * to reach the system makes the run inconclusive whatever else happened (a deviation under a
   * fault that never bit proves nothing); then an abort or a deviation; then residue found
   * after the rollbacks (a target not as the run found it, the load not back to its baseline);
   * then held.
   */
  private conclude(): void {
    const j = this.journal;
    const faults = j.faultline.faults;
    const failedRollbacks = j.rollbacks.filter((r) => r.status === 'failed');
    const stuck = faults.filter((f) => f.state === 'residue');
    const leftover = (j.faultline.after_rollbacks?.checks ?? []).filter((c) => c.residue);
    const residue = [
      ...(stuck.length > 0
        ? [
            `fault(s) ${stuck.map((f) => f.name).join(', ')} could not be removed: run \`faultline recover\``,
          ]
        : []),
      ...leftover.map((c) => `${c.what}: ${c.detail}`),
    ];
    const unproven = faults.filter((f) => f.state === 'removed' && f.efficacy?.by === 'none');
    const also = residue.length > 0 ? `; residue too: ${residue.join('; ')}` : '';
    let outcome: Outcome;
    if (stuck.length > 0) {
      outcome = 'residue';
      this.reason = `residue: ${residue.join('; ')}`;
    } else if (this.stopReason === 'interrupted') outcome = 'interrupted';
    // A method that failed (an action, a fault's application) says why itself, below.
    else if (unproven.length > 0 && !this.methodFailed) {
      outcome = 'inconclusive';
      const idle = unproven.every((f) => touchedNothing(f.touched));
      this.reason = `fault(s) ${unproven.map((f) => `"${f.name}"`).join(', ')} ${idle ? 'touched no traffic of the system under test' : 'could not be shown to reach the system'} (${unproven.map((f) => f.efficacy?.detail ?? '').join('; ')}): the hypothesis was not tested${also}`;
    } else if (this.stopReason === 'aborted') outcome = 'aborted';
    else if (j.deviated) outcome = 'deviated';
    else if (residue.length > 0) {
      outcome = 'residue';
      this.reason = `residue: ${residue.join('; ')}`;
    } else if (this.gateFailed || this.methodFailed) outcome = 'inconclusive';
    else if (failedRollbacks.length > 0) {
      outcome = 'inconclusive';
      this.reason = `rollback(s) ${failedRollbacks.map((r) => `"${r.name}"`).join(', ')} failed`;
    } else outcome = 'held';
    if (this.plan.dry && (outcome === 'held' || outcome === 'deviated')) {
      outcome = 'inconclusive';
      this.reason = `a dry run (--dry ${this.plan.dry}): its ${this.plan.dry === 'pause' ? 'pauses were' : `${this.plan.dry} were`} not run, so it says nothing about the system`;
    }
    if (outcome !== 'inconclusive' && outcome !== 'residue' && residue.length > 0)
      this.reason = `${this.reason ?? outcome}${also}`;
    // A verdict against the system while the way to it broke says so: the errors may be the
    // forward's (the outcome stands; the warnings name what broke).
    const broken = (j.faultline.services ?? []).filter((r) => r.problems?.length);
    if (broken.length > 0 && (outcome === 'deviated' || outcome === 'aborted'))
      this.reason = `${this.reason ?? outcome}; the port-forward to ${broken.map((r) => r.service).join(', ')} broke during the run (see the warnings): some errors may be the forward's, not the service's`;
    j.status =
      this.stopReason === 'interrupted'
        ? 'interrupted'
        : this.stopReason === 'aborted'
          ? 'aborted'
          : this.gateFailed || this.methodFailed
            ? 'failed'
            : 'completed';
    j.end = iso();
    j.duration = this.elapsed() / 1000;
    j.faultline.outcome = outcome;
    j.faultline.exit_code = exitCodeFor(outcome);
    j.faultline.reason = this.reason ?? (outcome === 'held' ? 'every hypothesis held' : undefined);
  }
}

/**
 * How far a window is from the baseline, or undefined when it is back: p50 and p99 within the
 * tolerance, plus an absolute slack of 5 ms (p50) and 25 ms (p99) — loopback latencies are
 * fractions of a millisecond and the p99 of a one-second window is nearly its maximum, so on a
 * shared machine a GC pause alone would otherwise look like residue — and an error rate no more
 * than half a point above the baseline's.
 */
export function baselineGap(
  baseline: Summary,
  current: Summary,
  tolerance: number,
): string | undefined {
  const gaps: string[] = [];
  if (current.completed === 0) return 'no request completed';
  if (current.p50 > baseline.p50 * (1 + tolerance) + 5)
    gaps.push(`p50 ${current.p50} ms vs ${baseline.p50} ms before`);
  if (current.p99 > baseline.p99 * (1 + tolerance) + 25)
    gaps.push(`p99 ${current.p99} ms vs ${baseline.p99} ms before`);
  if (current.error_rate > baseline.error_rate + 0.005)
    gaps.push(
      `error rate ${(current.error_rate * 100).toFixed(1)}% vs ${(baseline.error_rate * 100).toFixed(1)}% before`,
    );
  return gaps.length ? gaps.join(', ') : undefined;
}

function describeReason(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason ?? 'signal');
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
