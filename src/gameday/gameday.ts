/**
 * Running a game day: a steady-state pre-check, then each stage — every experiment in turn,
 * its faults scaled to the stage — applied, watched (live lines, the control room), held until
 * the operator types `continue` (non-interactive: until its observation period is over), or
 * `abort` (every fault removed at once through the runner's HALT path, the game day ends), or
 * until a stop condition fires. The scribe's typed observations land in the log. The result is
 * a {@link GameDayRecord} the reports are written from.
 */
import { join } from 'node:path';
import { ExitCode } from '../errors.js';
import { formatDuration } from '../experiment/duration.js';
import { formatMetric, holds, parseThreshold } from '../experiment/threshold.js';
import type { Summary } from '../load/metrics.js';
import type { ControlRoom } from '../control-room/server.js';
import { liveLoadLine } from '../cli/terminal.js';
import { writeJournal, type Journal } from '../journal/journal.js';
import type { RunPlan } from '../run-plan/plan.js';
import { runExperiment, type RunEvent } from '../runner/runner.js';
import { CONSOLE_HELP, OperatorConsole, type Observation } from './operator-console.js';
import type { ReadGameDay } from './gameday-read.js';
import { durationMs, precheckPlan, stageRunPlan } from './stage-plan.js';
import { sleep } from '../shared/wait.js';

export interface CriterionResult {
  index: number;
  name: string;
  criterion: string;
  /** Measured figure, or the scribe's words. */
  measured: string;
  met: boolean | null;
}

export interface StageRun {
  stage: number;
  name: string;
  percentage: number;
  experiment: string;
  journalPath: string;
  started: string;
  ended: string;
  decision: 'continue' | 'abort' | 'timer' | 'stopped';
  outcome: string;
  reason: string | undefined;
  faults: {
    name: string;
    target: string;
    describe: string;
    applied_at?: string | undefined;
    removed_at?: string | undefined;
    state: string;
    touched?: unknown;
  }[];
  load: Pick<Summary, 'p50' | 'p99' | 'rps' | 'error_rate' | 'completed'> | undefined;
  criteria: CriterionResult[];
}

export interface GameDayRecord {
  title: string;
  file: string;
  objective: string;
  hypothesis: string;
  roles: Record<string, string>;
  blastRadius: string;
  killSwitch: string;
  interactive: boolean;
  started: string;
  ended: string;
  outcome: 'completed' | 'aborted' | 'interrupted' | 'pre-check failed' | 'residue';
  reason: string;
  exitCode: number;
  precheck: { met: boolean; reason: string | undefined; journalPath: string } | undefined;
  stages: StageRun[];
  /** Every criterion over the whole day: met only if met at every stage it was measured in. */
  criteria: CriterionResult[];
  observations: Observation[];
  actionItems: { title: string; owner: string; source: 'plan' | 'scribe' }[];
  broke: string[];
  held: string[];
}

export interface GameDayOptions {
  /** Where stage journals go (one per run). */
  outDir: string;
  /** Where live journals are kept for `faultline recover`/`halt`. */
  stateDir: string;
  env: NodeJS.ProcessEnv;
  print: (line: string) => void;
  /** Operator input: lines typed at the terminal (or scripted). */
  input?: NodeJS.ReadableStream | undefined;
  /** Hold each stage for the operator; false: stages advance on their timers. */
  interactive: boolean;
  /** SIGINT/SIGTERM: the current run is interrupted (faults removed) and the day ends. */
  signal: AbortSignal;
  room?: ControlRoom | undefined;
  /** Called with each runner event (tests watch the stages through it). */
  onEvent?: ((event: RunEvent, stage: string) => void) | undefined;
}

const roleText = (v: string | string[] | undefined): string =>
  v === undefined ? '' : Array.isArray(v) ? v.join(', ') : v;

export async function runGameDay(
  loaded: ReadGameDay,
  options: GameDayOptions,
): Promise<GameDayRecord> {
  const { plan } = loaded;
  const print = options.print;
  const halter = new AbortController();
  const haltSignal = options.room?.haltSignal ?? halter.signal;
  const abort = (why: string): void => {
    if (options.room) void options.room.halt(why);
    else if (!halter.signal.aborted) halter.abort(new Error(why));
  };
  const console_ = new OperatorConsole(options.input, print, abort);
  const record: GameDayRecord = {
    title: plan.title,
    file: loaded.file,
    objective: plan.objective,
    hypothesis: plan.hypothesis,
    roles: Object.fromEntries(Object.entries(plan.roles).map(([k, v]) => [k, roleText(v)])),
    blastRadius: plan.blastRadius,
    killSwitch: plan.killSwitch,
    interactive: options.interactive,
    started: new Date().toISOString(),
    ended: '',
    outcome: 'completed',
    reason: '',
    exitCode: ExitCode.ok,
    precheck: undefined,
    stages: [],
    criteria: [],
    observations: console_.log,
    actionItems: plan.actionItems.map((a) => ({ ...a, source: 'plan' as const })),
    broke: [],
    held: [],
  };
  let runs = 0;
  const run = async (
    runPlan: RunPlan,
    label: string,
    name: string,
  ): Promise<{ journal: Journal; journalPath: string }> => {
    const journalPath = join(options.outDir, `${String(++runs).padStart(2, '0')}-${name}.json`);
    options.room?.nextRun(runPlan);
    options.room?.log(label);
    const journal = await runExperiment(runPlan, {
      signal: options.signal,
      halt: haltSignal,
      journalPath: join(options.stateDir, `gameday-${process.pid}-${Date.now()}-${runs}.json`),
      onEvent: (event) => {
        options.room?.onEvent(event);
        options.onEvent?.(event, label);
        if (event.type === 'load') print(`  ${liveLoadLine(event)}`);
        else if (event.type === 'fault-applied') {
          console_.event(
            `fault applied: ${event.fault.name} on ${event.fault.target} (${event.fault.describe})`,
          );
          print(
            `  fault applied: ${event.fault.name} on ${event.fault.target}: ${event.fault.describe}`,
          );
        } else if (event.type === 'fault-removed') {
          console_.event(`fault removed: ${event.fault.name} (${event.fault.state})`);
          print(`  fault removed: ${event.fault.name} (${event.fault.state})`);
        } else if (event.type === 'hypothesis' && event.phase !== 'during')
          print(
            `  steady state ${event.phase}: ${event.state.steady_state_met ? 'met' : 'NOT met'}`,
          );
        else if (event.type === 'warning') print(`  warning: ${event.message}`);
        else if (event.type === 'service') print(`  ${event.message}`);
      },
    });
    options.room?.finish(journal);
    writeJournal(journalPath, journal);
    return { journal, journalPath };
  };

  print(`game day: ${plan.title}`);
  print(`objective: ${plan.objective}`);
  print(`hypothesis: ${plan.hypothesis}`);
  print(
    `roles: ${Object.entries(record.roles)
      .map(([k, v]) => `${k} ${v}`)
      .join('; ')}`,
  );
  print(`blast radius: ${plan.blastRadius}`);
  print(`kill switch: ${plan.killSwitch}`);
  print(
    `stages: ${plan.stages.map((s) => `${s.percentage} % for ${s.observe}`).join(' → ')}${options.interactive ? ', each held until the operator types continue' : ', advancing on their timers'}`,
  );
  if (options.input) print(CONSOLE_HELP);

  try {
    // 1. The pre-check: the first experiment's steady state, nothing applied.
    const first = loaded.experiments[0]!;
    console_.stage = 'pre-check';
    console_.event('pre-check of the steady state');
    print('pre-check: steady state before anything is applied');
    const pre = await run(
      precheckPlan(first.experiment, { file: first.file, env: options.env }),
      'pre-check',
      'precheck',
    );
    const met =
      pre.journal.steady_states.before?.steady_state_met ??
      pre.journal.faultline.outcome === 'held';
    record.precheck = { met, reason: pre.journal.faultline.reason, journalPath: pre.journalPath };
    if (
      pre.journal.faultline.outcome === 'interrupted' ||
      pre.journal.faultline.outcome === 'aborted'
    )
      return finish(
        record,
        pre.journal.faultline.outcome,
        `${pre.journal.faultline.reason ?? ''} (during the pre-check)`,
      );
    if (!met)
      return finish(
        record,
        'pre-check failed',
        `the steady state was not met before any fault: ${pre.journal.faultline.reason ?? ''}; nothing was applied`,
      );
    print('pre-check: steady state met');

    // 2. The stages.
    const holdLimitMs = durationMs(plan.maxHold);
    for (const [s, stage] of plan.stages.entries()) {
      const stageName = stage.name ?? `${stage.percentage}%`;
      for (const experiment of loaded.experiments) {
        const label = `stage ${s + 1}/${plan.stages.length} (${stageName}): ${experiment.experiment.title}`;
        console_.stage = `stage ${s + 1} (${stageName})`;
        console_.event(`stage started: ${stage.percentage} % of the faults of ${experiment.file}`);
        print('');
        print(
          `${label}: applying ${stage.percentage} % of the faults, observing for ${stage.observe}`,
        );
        const observeMs = durationMs(stage.observe);
        const held: { decision: StageRun['decision'] } = { decision: 'timer' };
        const hold = async (signal: AbortSignal): Promise<unknown> => {
          const t0 = Date.now();
          await sleep(observeMs, signal);
          if (!signal.aborted && options.interactive) {
            print(
              `${label}: observed for ${formatDuration(observeMs)}; holding. Type continue to go on, abort to remove everything.`,
            );
            const d = await console_.decision(
              AbortSignal.any([signal, AbortSignal.timeout(holdLimitMs)]),
            );
            held.decision = d;
            // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the signal may abort during the await above
            if (d === 'stopped' && !signal.aborted)
              abort(`the stage was held for its maximum (${plan.maxHold}) without a decision`);
          } else if (signal.aborted) held.decision = 'stopped';
          return { held_ms: Date.now() - t0, decision: held.decision };
        };
        const started = new Date().toISOString();
        const runPlan = stageRunPlan(experiment.experiment, {
          file: experiment.file,
          env: options.env,
          percentage: stage.percentage,
          hold,
          holdDescribe: options.interactive
            ? `observe ${stage.observe}, then hold until the operator continues (at most ${plan.maxHold})`
            : `observe ${stage.observe}`,
          holdLimitMs: observeMs + (options.interactive ? holdLimitMs : 0),
          title: label,
        });
        const { journal, journalPath } = await run(runPlan, label, `stage-${s + 1}`);
        if (console_.aborted) held.decision = 'abort';
        else if (haltSignal.aborted) held.decision = 'stopped';
        const stageRun: StageRun = {
          stage: s + 1,
          name: stageName,
          percentage: stage.percentage,
          experiment: experiment.file,
          journalPath,
          started,
          ended: new Date().toISOString(),
          decision: held.decision,
          outcome: journal.faultline.outcome ?? 'unfinished',
          reason: journal.faultline.reason,
          faults: journal.faultline.faults.map((f) => ({
            name: f.name,
            target: f.target,
            describe: f.describe,
            applied_at: f.applied_at,
            removed_at: f.removed_at,
            state: f.state,
            touched: f.touched,
          })),
          load: loadOf(journal),
          criteria: measure(plan.successCriteria, journal),
        };
        record.stages.push(stageRun);
        print(
          `${label}: ${stageRun.outcome.toUpperCase()}${stageRun.reason ? ` — ${stageRun.reason}` : ''}`,
        );
        for (const c of stageRun.criteria)
          if (c.met !== null)
            print(
              `  criterion ${c.index}: ${c.name}: ${c.measured} (${c.criterion}) ${c.met ? 'met' : 'MISSED'}`,
            );
        const o = journal.faultline.outcome;
        if (o === 'residue')
          return finish(
            record,
            'residue',
            journal.faultline.reason ?? 'a fault could not be removed: run faultline recover',
          );
        if (o === 'interrupted')
          return finish(record, 'interrupted', journal.faultline.reason ?? 'interrupted');
        if (o === 'aborted' || haltSignal.aborted)
          return finish(record, 'aborted', journal.faultline.reason ?? 'aborted');
      }
    }
    return finish(record, 'completed', 'every stage ran');
  } finally {
    console_.close();
  }
}

function loadOf(journal: Journal): StageRun['load'] {
  const method = journal.faultline.load?.phases.method as Summary | undefined;
  if (!method) return undefined;
  return {
    p50: method.p50,
    p99: method.p99,
    rps: method.rps,
    error_rate: method.error_rate,
    completed: method.completed,
  };
}

/** Threshold criteria measured on the stage's method phase (manual ones are the scribe's). */
function measure(
  criteria: ReadGameDay['plan']['successCriteria'],
  journal: Journal,
): CriterionResult[] {
  const method = journal.faultline.load?.phases.method as Summary | undefined;
  return criteria.map((c, i) => {
    const base = { index: i + 1, name: c.name, criterion: c.threshold ?? c.manual ?? '' };
    if (!c.threshold) return { ...base, measured: 'judged by the scribe', met: null };
    const parsed = parseThreshold(c.threshold);
    if (!parsed.ok || !method || method.completed === 0)
      return { ...base, measured: 'not measured (no load during the stage)', met: null };
    return {
      ...base,
      measured: formatMetric(parsed.threshold, method),
      met: holds(parsed.threshold, method),
    };
  });
}

function finish(
  record: GameDayRecord,
  outcome: GameDayRecord['outcome'],
  reason: string,
): GameDayRecord {
  record.outcome = outcome;
  record.reason = reason;
  record.ended = new Date().toISOString();
  // The day's criteria: measured ones met at every stage; manual ones as the scribe judged last.
  record.criteria = [];
  const criteriaCount = Math.max(0, ...record.stages.map((s) => s.criteria.length));
  const source = record.stages[0]?.criteria ?? [];
  for (let i = 0; i < criteriaCount; i++) {
    const base = source[i]!;
    const measured = record.stages.map((s) => s.criteria[i]!).filter((c) => c.met !== null);
    const judged = [...record.observations]
      .reverse()
      .find((o) => o.kind === 'criterion' && o.criterion === i + 1);
    if (measured.length > 0) {
      const worst = measured.find((c) => !c.met);
      record.criteria.push({
        ...base,
        measured: measured
          .map(
            (c, k) =>
              `${String(record.stages.filter((s) => s.criteria[i]?.met !== null)[k]?.name)}: ${c.measured}`,
          )
          .join('; '),
        met: !worst,
      });
    } else if (judged)
      record.criteria.push({
        ...base,
        measured: judged.text || (judged.met ? 'met' : 'missed'),
        met: judged.met ?? null,
      });
    else
      record.criteria.push({
        ...base,
        measured:
          base.measured === 'judged by the scribe'
            ? 'not judged (type: criterion N met|missed: …)'
            : base.measured,
        met: null,
      });
  }
  for (const o of record.observations)
    if (o.kind === 'action')
      record.actionItems.push({ title: o.text, owner: o.owner ?? 'unassigned', source: 'scribe' });
  for (const c of record.criteria)
    (c.met === false ? record.broke : c.met === true ? record.held : []).push(
      `criterion ${c.index} "${c.name}" (${c.criterion}): ${c.measured}`,
    );
  for (const s of record.stages) {
    if (s.outcome === 'deviated')
      record.broke.push(
        `stage ${s.stage} (${s.name}), ${s.experiment}: the hypothesis deviated — ${s.reason ?? ''}`,
      );
    else if (s.outcome === 'aborted')
      record.broke.push(
        `stage ${s.stage} (${s.name}), ${s.experiment}: aborted — ${s.reason ?? ''}`,
      );
    else if (s.outcome === 'held')
      record.held.push(`stage ${s.stage} (${s.name}), ${s.experiment}: the steady state held`);
  }
  const missed =
    record.criteria.some((c) => c.met === false) ||
    record.stages.some((s) => s.outcome === 'deviated');
  record.exitCode =
    outcome === 'residue'
      ? ExitCode.internal
      : outcome === 'interrupted'
        ? ExitCode.interrupted
        : outcome === 'aborted'
          ? ExitCode.aborted
          : outcome === 'pre-check failed'
            ? ExitCode.inconclusive
            : missed
              ? ExitCode.deviated
              : record.stages.some((s) => s.outcome === 'inconclusive')
                ? ExitCode.inconclusive
                : ExitCode.ok;
  return record;
}
