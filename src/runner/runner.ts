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
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ProxyCollection } from '../faults/proxy/proxy-collection.js';
import { LocalProxyDriver, RemoteProxyDriver, touchedNothing, type FaultDriver } from '../targets/fault-driver.js';
import { familyForTarget } from '../faults/local/families.js';
import { latencyShift } from '../load/latency-shift.js';
import { assertKubernetesPreflight, KubernetesDriver, type KubernetesRunOptions } from '../targets/kubernetes/kubernetes-driver.js';
import { UsageError, ExitCode } from '../errors.js';
import { VERSION } from '../version.js';
import { writeJournal, type ActivityRun, type FaultRecord, type Journal, type Outcome, type SteadyState } from './journal.js';
import type { PlannedActivity, PlannedFault, PlannedFaultRemoval, PlannedStep, RunPlan } from './plan.js';
import { LoadWatch } from './load-watch.js';
import type { Summary } from '../load/metrics.js';
import { StopConditionMonitor, type Breach } from '../safety/stop-conditions.js';

export type Phase = 'prepare' | 'before' | 'method' | 'after' | 'cleanup' | 'rollbacks' | 'verification' | 'done';

/** What the runner reports as it goes; the CLI renders these. */
export type RunEvent =
  | { type: 'phase'; phase: Phase; elapsedMs: number }
  | { type: 'activity-start'; phase: Phase; name: string; describe: string }
  | { type: 'activity-end'; phase: Phase; run: ActivityRun }
  | { type: 'hypothesis'; phase: 'before' | 'during' | 'after'; state: SteadyState }
  | { type: 'fault-applied'; fault: FaultRecord }
  | { type: 'fault-removed'; fault: FaultRecord }
  | { type: 'wait'; ms: number }
  | { type: 'warning'; message: string }
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
}

/** Thrown inside the method to stop it; carries why. */
class MethodStop extends Error {}

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
      return ExitCode.internal;
  }
}

/** Builds one driver per target a fault uses. */
export function createDrivers(plan: RunPlan, collection: ProxyCollection, context: { runId?: string | undefined; kubernetes?: KubernetesRunOptions | undefined } = {}): Map<string, FaultDriver> {
  const used = new Set<string>();
  for (const step of plan.method) if (step.kind === 'fault') used.add(step.target);
  const drivers = new Map<string, FaultDriver>();
  for (const name of used) {
    const target = plan.targets[name];
    if (!target) throw new UsageError(`fault on unknown target "${name}"`);
    if (target.type === 'proxy') drivers.set(name, new LocalProxyDriver(name, target, collection));
    else if (target.type === 'remote-proxy') drivers.set(name, new RemoteProxyDriver(name, target));
    else if (familyForTarget(target.type)) drivers.set(name, familyForTarget(target.type)!.createDriver(name, target, { runId: context.runId ?? 'plan', plan }));
    else if (target.type === 'kubernetes') {
      if (!context.kubernetes) throw new UsageError(`faults on kubernetes target "${name}" act on a cluster`, { hint: 'run with --target kubernetes (and --context / --kubeconfig), or compile it with faultline compile --target chaos-mesh' });
      // Guardrails and expressibility, before anything is sent (once, for all kubernetes targets).
      if (![...drivers.values()].some((d) => d instanceof KubernetesDriver)) assertKubernetesPreflight(plan, context.kubernetes);
      drivers.set(name, new KubernetesDriver(name, target, plan.targets, { runId: context.runId ?? 'plan', title: plan.title }, context.kubernetes));
    } else {
      throw new UsageError(`faults on ${target.type} targets are not supported (target "${name}")`, { hint: 'use a proxy or remote-proxy target' });
    }
  }
  // Proxies and services declared but not used by a fault still run, so the service's address works
  // (and a service the experiment declares is started whatever its faults are on).
  for (const [name, target] of Object.entries(plan.targets)) {
    if (!drivers.has(name) && target.type === 'proxy') drivers.set(name, new LocalProxyDriver(name, target, collection));
    else if (!drivers.has(name) && target.type === 'service') drivers.set(name, familyForTarget('service')!.createDriver(name, target, { runId: context.runId ?? 'plan', plan }));
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
  private readonly collection: ProxyCollection;
  private drivers = new Map<string, FaultDriver>();
  private readonly pendingFaults: Promise<void>[] = [];
  private gateFailed = false;
  private methodFailed = false;
  private load: LoadWatch | undefined;
  private loadTicker: NodeJS.Timeout | undefined;
  private monitor: StopConditionMonitor | undefined;

  constructor(
    private readonly plan: RunPlan,
    private readonly options: RunOptions,
  ) {
    this.emit = options.onEvent ?? (() => undefined);
    this.collection = options.proxies ?? new ProxyCollection();
    this.journal = {
      'faultline-version': VERSION,
      platform: `${process.platform} ${process.arch}`,
      node: process.version,
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
      },
    };
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

  async execute(): Promise<Journal> {
    const external = this.options.signal;
    const onExternal = (): void => this.halt('interrupted', `interrupted (${describeReason(external?.reason)})`);
    if (external?.aborted) onExternal();
    external?.addEventListener('abort', onExternal, { once: true });
    const haltSignal = this.options.halt;
    const onHalt = (): void => this.abortNow({ condition: describeReason(haltSignal?.reason), value: 'HALT', measurable_at: iso(), measurableMs: performance.now() });
    if (haltSignal?.aborted) onHalt();
    haltSignal?.addEventListener('abort', onHalt, { once: true });
    const safety = setTimeout(() => this.halt('aborted', `safety: the run reached its maximum duration (${Math.round(this.plan.maxDurationMs / 1000)} s)`), this.plan.maxDurationMs);
    this.save();
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
      await this.cleanup();
      clearInterval(this.loadTicker);
    }
    return this.journal;
  }

  /** Is there anything to check in a steady state: probes, or thresholds on load? */
  private hasHypothesis(): boolean {
    return this.plan.hypothesis.length > 0 || (this.plan.load?.thresholds.length ?? 0) > 0;
  }

  private async lifecycle(): Promise<void> {
    const signal = this.stop.signal;
    this.phase('prepare');
    try {
      this.drivers = createDrivers(this.plan, this.collection, { runId: this.journal.faultline.run_id, kubernetes: this.options.kubernetes });
      for (const driver of this.drivers.values()) await driver.prepare(signal);
    } catch (err) {
      this.methodFailed = true;
      this.halt('failed', `a target could not be prepared: ${errorMessage(err)}`);
      return;
    }
    const load = this.plan.load;
    if (load) {
      const watch = new LoadWatch(load, this.plan.maxDurationMs);
      this.load = watch;
      this.loadTicker = setInterval(() => {
        const now = watch.now();
        const second = watch.window(Math.max(0, now - 1000), now);
        if (second) this.emit({ type: 'load', elapsedMs: performance.now() - this.started, second });
      }, 1000);
      this.loadTicker.unref();
    }
    const phases: NonNullable<Journal['faultline']['load']>['phases'] = {};
    let baselineSpan: [number, number] | undefined;

    const strategy = this.plan.strategies.hypothesis;
    if (['default', 'before-method-only', 'continuously'].includes(strategy) && this.hasHypothesis()) {
      this.phase('before');
      let loadRuns: ActivityRun[] = [];
      if (this.load && load) {
        // The baseline: load on the untouched system; the thresholds must hold on it.
        const from = this.load.now();
        await sleep(load.baselineMs, signal);
        if (signal.aborted) return;
        loadRuns = this.load.judge(load.thresholds, from, this.load.now(), 'before');
        phases.before = this.load.window(from, this.load.now());
        baselineSpan = [from, this.load.now()];
      }
      const before = await this.hypothesis('before', signal, loadRuns);
      this.journal.steady_states.before = before;
      this.save();
      if (signal.aborted) return;
      if (!before.steady_state_met) {
        this.gateFailed = true;
        this.reason = 'the steady state was not met before the method: the system was unhealthy before any fault, so nothing was injected';
        return;
      }
    }

    this.phase('method');
    const methodFrom = this.load?.now() ?? 0;
    if (this.load && load && load.abortWhen.length > 0) {
      this.monitor = new StopConditionMonitor(load.abortWhen, this.load, (breach) => this.abortNow(breach));
      this.monitor.start();
    }
    const methodDone = new AbortController();
    const during = ['during-method-only', 'continuously'].includes(strategy) && this.hasHypothesis()
      ? this.duringLoop(AbortSignal.any([signal, methodDone.signal]))
      : Promise.resolve();
    try {
      await this.method(signal);
    } finally {
      methodDone.abort();
      await during;
    }
    if (this.load && load) {
      phases.method = this.load.window(methodFrom, this.load.now());
      // Did the fault really move the latency distribution? A rank test over every request.
      const baselineHistogram = baselineSpan ? this.load.histogram(...baselineSpan) : undefined;
      const methodHistogram = this.load.histogram(methodFrom, this.load.now());
      const shift = baselineHistogram && methodHistogram ? latencyShift(baselineHistogram, methodHistogram) : undefined;
      if (shift) phases.shift = shift;
      // Over the whole method, too: a breach there is a deviation even if no check caught it.
      for (const run of this.load.judge(load.thresholds, methodFrom, this.load.now(), 'the whole method')) {
        if (run.tolerance_met === false && !this.stopReason) this.deviate(`over the whole method, ${run.reason ?? run.name}`);
      }
    }
    if (this.stopReason) {
      this.recordPhases(phases);
      return;
    }

    if (['default', 'after-method-only', 'continuously'].includes(strategy) && this.hasHypothesis()) {
      this.phase('after');
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
          lastGap = baseline && current ? baselineGap(baseline, current, load.recoveryTolerance) : undefined;
          if (loadRuns.every((r) => r.tolerance_met) && lastGap === undefined) {
            recoveredMs = now - from;
            break;
          }
          if (now - from >= load.recoveryMs) break;
        }
        phases.after = { ...this.load.window(from, this.load.now()), recovered_after_ms: recoveredMs === undefined ? null : Math.round(recoveredMs) };
        if (recoveredMs === undefined && !signal.aborted) {
          for (const r of loadRuns) if (r.tolerance_met === false) r.reason = `not recovered within ${load.recoveryMs} ms: ${r.reason ?? ''}`;
          if (lastGap !== undefined) {
            loadRuns.push({
              activity: { type: 'recovery', baseline_tolerance: load.recoveryTolerance },
              name: 'load: back to the baseline',
              output: { baseline: { p50: baseline?.p50, p99: baseline?.p99, error_rate: baseline?.error_rate } },
              start: iso(),
              end: iso(),
              duration: 0,
              status: 'succeeded',
              tolerance_met: false,
              reason: `residue: not back to the baseline within ${load.recoveryMs} ms (${lastGap})`,
            });
          }
        }
      }
      const after = await this.hypothesis('after', signal, loadRuns);
      if (!signal.aborted) {
        this.journal.steady_states.after = after;
        if (!after.steady_state_met) this.deviate('the steady state was not met after the method');
      }
      this.save();
    }
    this.recordPhases(phases);
  }

  private recordPhases(phases: NonNullable<Journal['faultline']['load']>['phases']): void {
    if (!this.plan.load) return;
    this.journal.faultline.load = { url: this.plan.load.url, rate: this.plan.load.rate, started_at: this.load?.startedAt(), total: null, health: null, phases, series: [] };
  }

  /** A stop condition was breached: remove every fault now, then let the run unwind. */
  private abortNow(breach: Breach): void {
    if (this.stopReason) return;
    const stop: NonNullable<Journal['faultline']['stop']> = { condition: breach.condition, value: breach.value, measurable_at: breach.measurable_at };
    this.journal.faultline.stop = stop;
    this.halt('aborted', breach.value === 'HALT' ? `HALT: ${breach.condition}: every fault was removed and the run aborted` : `stop condition "${breach.condition}" was breached (${breach.value}): every fault was removed and the run aborted`);
    void (async () => {
      for (const record of [...this.journal.faultline.faults].reverse()) await this.removeFault(record);
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
      let loadRuns: ActivityRun[] = [];
      const load = this.plan.load;
      if (this.load && load) {
        const now = this.load.now();
        // Each threshold on its own sliding window (its `over`, else the check interval, at least 1 s).
        loadRuns = load.thresholds.flatMap((t) => {
          const over = t.overMs ?? Math.max(1000, this.plan.strategies.frequencyMs);
          return this.load!.judge([t], Math.max(0, now - over), now, 'during');
        });
      }
      const state = await this.hypothesis('during', signal, loadRuns);
      if (signal.aborted) break;
      this.journal.steady_states.during.push(state);
      this.save();
      if (!state.steady_state_met) {
        this.deviate('the steady state was not met during the method');
        if (this.plan.strategies.failFast) {
          this.halt('fail-fast', 'fail-fast: the steady state deviated during the method, which was stopped');
          break;
        }
      }
      await sleep(this.plan.strategies.frequencyMs, signal);
    }
  }

  private async hypothesis(phase: 'before' | 'during' | 'after', signal: AbortSignal, extra: ActivityRun[] = []): Promise<SteadyState> {
    // Every probe runs, even after one failed: the data of the others matters too.
    const probes: ActivityRun[] = [...extra];
    for (const probe of this.plan.hypothesis) {
      if (signal.aborted) break;
      if (probe.phases && !probe.phases.has(phase)) continue;
      probes.push(await this.activity(probe, phase === 'during' ? 'method' : phase, signal, phase !== 'during'));
    }
    // A check with nothing to run in this phase (every probe is SOT/EOT/…) is met.
    const state = { steady_state_met: probes.every((p) => p.tolerance_met === true), probes };
    this.emit({ type: 'hypothesis', phase, state });
    return state;
  }

  private async activity(activity: PlannedActivity, phase: Phase, signal: AbortSignal, announce = true): Promise<ActivityRun> {
    if (announce) this.emit({ type: 'activity-start', phase, name: activity.name, describe: activity.describe });
    const run: ActivityRun = { activity: activity.source, name: activity.name, output: null, start: iso(), end: '', duration: 0, status: 'succeeded' };
    const t0 = performance.now();
    try {
      if (activity.pauseBeforeMs > 0) await sleep(activity.pauseBeforeMs, signal, true);
      run.output = await activity.execute(signal);
      if (activity.verify) {
        try {
          const verdict = await activity.verify(run.output, signal);
          run.tolerance_met = verdict.met;
          if (!verdict.met) run.reason = verdict.reason;
        } catch (err) {
          run.tolerance_met = false;
          run.reason = `the expectation could not be evaluated: ${errorMessage(err)}`;
        }
      }
    } catch (err) {
      if (signal.aborted) {
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
    if (activity.pauseAfterMs > 0 && !signal.aborted) await sleep(activity.pauseAfterMs, signal, true);
    // Checks during the method are reported once per check (the 'hypothesis' event), not per probe.
    if (announce) this.emit({ type: 'activity-end', phase, run });
    return run;
  }

  private async method(signal: AbortSignal): Promise<void> {
    const background: Promise<void>[] = [];
    try {
      for (const step of this.plan.method) {
        if (signal.aborted) break;
        await this.step(step, signal, background);
      }
      await Promise.all(background);
      // The method lasts until its timed faults have run their course.
      await Promise.all(this.pendingFaults);
    } catch (err) {
      if (!(err instanceof MethodStop) && !signal.aborted) throw err;
    }
  }

  private async step(step: PlannedStep, signal: AbortSignal, background: Promise<void>[]): Promise<void> {
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
              this.halt('failed', `action "${step.name}" did not meet its expectation: ${run.reason ?? ''}`);
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
        await this.applyFault(step, signal);
        return;
      case 'remove-fault':
        await this.removeMatching(step);
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
    const run: ActivityRun = { activity: fault.source, name: fault.name, output: null, start: iso(), end: '', duration: 0, status: 'succeeded' };
    const t0 = performance.now();
    const finish = (): void => {
      run.end = iso();
      run.duration = (performance.now() - t0) / 1000;
      run.output = { fault: record.name, target: record.target, location: record.location, expires_at: record.expires_at };
      this.journal.run.push(run);
    };
    try {
      await driver.apply(fault, leaseSeconds, signal, { location: record.location, save: () => this.save() });
    } catch (err) {
      record.state = 'failed';
      record.error = errorMessage(err);
      run.status = 'failed';
      run.exception = [record.error];
      finish();
      this.save();
      if (signal.aborted) throw new MethodStop('stopped');
      this.methodFailed = true;
      this.halt('failed', `fault "${fault.name}" could not be applied to ${fault.target}: ${record.error}`);
      throw new MethodStop(this.reason);
    }
    record.state = 'applied';
    record.applied_at = iso();
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

  private async removeMatching(step: PlannedFaultRemoval): Promise<void> {
    const matches = this.journal.faultline.faults.filter((f) => {
      if (f.state !== 'applied') return false;
      if (step.all) return step.all.target === undefined || f.target === step.all.target;
      return f.name === step.fault;
    });
    for (const record of matches.reverse()) await this.removeFault(record);
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
      removal = this.removeFaultOnce(record, signal ?? AbortSignal.timeout(this.options.cleanupTimeoutMs ?? 30_000)).finally(() => this.removals.delete(record));
      this.removals.set(record, removal);
    }
    return removal;
  }

  private async removeFaultOnce(record: FaultRecord, signal: AbortSignal): Promise<void> {
    if (record.state !== 'applied' && record.state !== 'applying' && !(record.state === 'failed' && !record.removed_at)) return;
    const driver = this.drivers.get(record.target);
    if (!driver) return;
    const failed = record.state === 'failed';
    try {
      if (!failed) record.touched = (await driver.touched(record.location, signal).catch(() => undefined)) ?? record.touched;
      await driver.remove(record.location, signal);
      record.removed_at = iso();
      if (!failed) {
        record.state = 'removed';
        record.error = undefined;
      }
    } catch (err) {
      if (failed) record.error = `${record.error ?? ''}; its removal could not be confirmed: ${errorMessage(err)}`;
      else {
        record.state = 'residue';
        record.error = errorMessage(err);
      }
    }
    this.save();
    if (!failed) this.emit({ type: 'fault-removed', fault: record });
  }

  private async cleanup(): Promise<void> {
    this.phase('cleanup');
    this.monitor?.stop();
    const signal = AbortSignal.timeout(this.options.cleanupTimeoutMs ?? 30_000);
    // Newest first: a later fault may depend on an earlier one's state.
    for (const record of [...this.journal.faultline.faults].reverse()) await this.removeFault(record, signal);

    const strategy = this.plan.strategies.rollbacks;
    const methodStarted = !this.gateFailed && this.journal.faultline.faults.length + this.journal.run.length > 0;
    const play =
      strategy === 'always' ||
      (strategy === 'default' && methodStarted) ||
      (strategy === 'deviated' && this.journal.deviated);
    if (play && this.plan.rollbacks.length > 0) {
      this.phase('rollbacks');
      for (const step of this.plan.rollbacks) {
        if (step.kind === 'remove-fault') {
          await this.removeMatching(step);
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

    if (this.load) {
      clearInterval(this.loadTicker);
      const report = await this.load.stop();
      if (!this.journal.faultline.load) this.recordPhases({});
      const record = this.journal.faultline.load!;
      if (report) {
        record.total = report.total;
        record.health = report.health;
        record.series = report.series;
        if (!report.health.trustworthy) this.emit({ type: 'warning', message: `load measurement not trustworthy: ${report.health.problems.join('; ')}` });
      }
    }
    for (const driver of this.drivers.values()) await driver.dispose().catch(() => undefined);
    await this.collection.close().catch(() => undefined);
    this.conclude();
    this.save();
    this.phase('done');
  }

  private conclude(): void {
    const j = this.journal;
    const faults = j.faultline.faults;
    const failedRollbacks = j.rollbacks.filter((r) => r.status === 'failed');
    let outcome: Outcome;
    if (faults.some((f) => f.state === 'residue')) {
      outcome = 'residue';
      this.reason = `fault(s) ${faults.filter((f) => f.state === 'residue').map((f) => f.name).join(', ')} could not be removed: run \`faultline recover\``;
    } else if (this.stopReason === 'interrupted') outcome = 'interrupted';
    else if (this.stopReason === 'aborted') outcome = 'aborted';
    else if (j.deviated) outcome = 'deviated';
    else if (this.gateFailed || this.methodFailed) outcome = 'inconclusive';
    else {
      const idle = faults.filter((f) => f.state === 'removed' && touchedNothing(f.touched));
      if (idle.length > 0) {
        outcome = 'inconclusive';
        this.reason = `fault(s) ${idle.map((f) => `"${f.name}"`).join(', ')} touched no traffic: the hypothesis was not tested (is the service connected through the proxy?)`;
      } else outcome = 'held';
    }
    if (outcome === 'held' && failedRollbacks.length > 0) {
      outcome = 'inconclusive';
      this.reason = `rollback(s) ${failedRollbacks.map((r) => `"${r.name}"`).join(', ')} failed`;
    }
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
export function baselineGap(baseline: Summary, current: Summary, tolerance: number): string | undefined {
  const gaps: string[] = [];
  if (current.completed === 0) return 'no request completed';
  if (current.p50 > baseline.p50 * (1 + tolerance) + 5) gaps.push(`p50 ${current.p50} ms vs ${baseline.p50} ms before`);
  if (current.p99 > baseline.p99 * (1 + tolerance) + 25) gaps.push(`p99 ${current.p99} ms vs ${baseline.p99} ms before`);
  if (current.error_rate > baseline.error_rate + 0.005) gaps.push(`error rate ${(current.error_rate * 100).toFixed(1)}% vs ${(baseline.error_rate * 100).toFixed(1)}% before`);
  return gaps.length ? gaps.join(', ') : undefined;
}

function describeReason(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason ?? 'signal');
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Resolves after `ms`, or at once when `signal` aborts (rejecting only if `reject` is set). */
export function sleep(ms: number, signal: AbortSignal, reject = false): Promise<void> {
  return new Promise((resolve, rejectPromise) => {
    if (signal.aborted) {
      if (reject) rejectPromise(signal.reason);
      else resolve();
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      if (reject) rejectPromise(signal.reason);
      else resolve();
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
