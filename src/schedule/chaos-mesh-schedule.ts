/**
 * `faultline schedule SCHEDULE.yaml --platform kubernetes`: the schedule as Chaos Mesh `Schedule`
 * objects, for a cluster to run by itself instead of the long-lived local scheduler.
 *
 * One Schedule per (fault of an experiment on a kubernetes target × group window). What a
 * Schedule can and cannot say, and what faultline does about it (docs/schedule.md, "On
 * Kubernetes"):
 *
 * - the window → `spec.schedule`, with `CRON_TZ=<timezone>` (robfig/cron, which Chaos Mesh parses
 *   with; its controller image ships tzdata);
 * - the probability model → a deterministic cadence inside the window (src/schedule/cadence.ts),
 *   because a Schedule has no probability;
 * - max concurrent → `concurrencyPolicy: Forbid` (an object never overlaps itself); a cap across
 *   objects cannot be expressed, which is noted;
 * - leashed (the default) → created paused (`experiment.chaos-mesh.org/pause: "true"`, which the
 *   cron controller honours before spawning anything), with a comment saying how to unpause;
 * - the health gate → a Workflow whose entry is a Task running the probes (curl) and whose only
 *   conditional branch, `exitCode == 0`, is the fault: an unhealthy system never gets the fault.
 *   (A StatusCheck with abortWithStatusCheck was considered and rejected: Chaos Mesh marks the
 *   failed check accomplished and aborts asynchronously, so a Serial spawns the fault before the
 *   abort reaches it.)
 * - blackout dates cannot be expressed (cron has no exclusions): refused unless `allowUngated`.
 *
 * Every fault passes the same guardrails and translation as `faultline compile --platform
 * chaos-mesh`; every problem, in the schedule or in its experiments, is located in its own file
 * and reported in one pass.
 */
import { dirname, relative, resolve } from 'node:path';
import { stringify } from 'yaml';
import { ValidationError, type ValidationIssue } from '../errors.js';
import { parseDuration } from '../experiment/duration.js';
import type { ReadDocument } from '../experiment/read.js';
import type { Experiment } from '../experiment/schema.js';
import { resolveVariables, substitute } from '../experiment/substitute.js';
import { loadDocument, readExperimentText } from '../run-plan/read-plan.js';
import {
  CHAOS_KINDS,
  CHAOS_MESH_API_VERSION,
  dnsLabel,
  experimentSlug,
  faultName,
  goDuration,
  metadata,
  translateFault,
  type Manifest,
} from '../backends/kubernetes/chaos-mesh.js';
import { checkGuardrails, type GuardrailOptions } from '../backends/kubernetes/guardrails.js';
import { cadence, type Cadence } from './cadence.js';
import type { ReadSchedule } from './schedule-read.js';
import type { Schedule } from './schedule-schema.js';

/** Chaos Mesh's pause annotation (api/v1alpha1/common_types.go `PauseAnnotationKey`). */
export const PAUSE_ANNOTATION = 'experiment.chaos-mesh.org/pause';
/** Labels that let a team pause or delete one schedule's objects at once. */
export const SCHEDULE_LABELS = {
  schedule: 'faultline.dev/schedule',
  group: 'faultline.dev/group',
} as const;
import { DEFAULT_GATE_IMAGE } from './gate-image.js';

export { DEFAULT_GATE_IMAGE };
/** Time the gate pod gets to be scheduled, pull its image and start, on top of the probes' timeouts. */
const GATE_STARTUP_MS = 120_000;
/** A start missed by more than this (controller down) is skipped, never run late outside the window. */
const STARTING_DEADLINE_SECONDS = 60;

/** One experiment of a group, loaded. */
export interface ScheduledExperiment {
  groupIndex: number;
  experimentIndex: number;
  /** As shown in messages. */
  file: string;
  experiment: Experiment;
  read: ReadDocument;
}

export interface ScheduleCompileOptions extends GuardrailOptions {
  /** The schedule file, as shown in messages. */
  file: string;
  /** The schedule's text, to locate its problems. */
  read: ReadDocument;
  env: Readonly<Record<string, string | undefined>>;
  /** `--unleash`: objects active (not paused) even when the schedule says leashed. */
  unleash?: boolean | undefined;
  /** `--allow-ungated`: compile although blackout dates cannot be enforced by the cluster. */
  allowUngated?: boolean | undefined;
  /** The health gate's container image. */
  gateImage?: string | undefined;
}

export interface ScheduleOutput {
  files: { name: string; text: string; document: Manifest }[];
  notes: string[];
}

type Issue = Omit<ValidationIssue, 'file' | 'line' | 'column'>;

/** Loads every faultline experiment of a (loaded) schedule, with the text to locate problems in. */
export async function loadScheduledExperiments(
  loaded: ReadSchedule,
  schedulePath: string,
  read: ReadDocument,
  cwd: string,
): Promise<{ experiments: ScheduledExperiment[]; issues: ValidationIssue[] }> {
  const experiments: ScheduledExperiment[] = [];
  const issues: ValidationIssue[] = [];
  for (const [g, group] of loaded.schedule.groups.entries()) {
    for (const [e, name] of group.experiments.entries()) {
      const full = resolve(dirname(schedulePath), name);
      const file = relative(cwd, full) || name;
      const doc = loadDocument(await readExperimentText(full, file), file);
      if (doc.format !== 'faultline') {
        const path = `groups[${g}].experiments[${e}]`;
        issues.push({
          path,
          file: loaded.file,
          message: `${name} is a Chaos Toolkit experiment`,
          hint: 'only faultline experiments compile to Chaos Mesh; the local scheduler (without --platform) runs it as it is',
          ...read.locatePath(path),
        });
        continue;
      }
      experiments.push({
        groupIndex: g,
        experimentIndex: e,
        file,
        experiment: doc.experiment,
        read: doc.read,
      });
    }
  }
  return { experiments, issues };
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|0\.0\.0\.0)$/i;

/**
 * Compiles a schedule to Chaos Mesh Schedules. Pure.
 * @throws {@link ValidationError} with every problem, located in the schedule or the experiment it comes from.
 */
export function compileScheduleForChaosMesh(
  schedule: Schedule,
  experiments: ScheduledExperiment[],
  options: ScheduleCompileOptions,
): ScheduleOutput {
  const issues: ValidationIssue[] = [];
  const notes: string[] = [];
  const inSchedule = (i: Issue): void =>
    void issues.push({
      ...i,
      file: options.file,
      ...(i.path ? options.read.locatePath(i.path) : {}),
    });

  // What a Schedule cannot express.
  if (schedule.blackouts.length > 0) {
    if (!options.allowUngated) {
      inSchedule({
        path: 'blackouts',
        message: `a Chaos Mesh Schedule cannot skip blackout dates (cron has no exclusions); ${schedule.blackouts.length} blackout(s) would not be enforced`,
        hint: `pass --allow-ungated and pause the objects over each blackout yourself (kubectl annotate schedules -A -l ${SCHEDULE_LABELS.schedule}=${experimentSlug(schedule.title)} ${PAUSE_ANNOTATION}=true --overwrite), or run the local scheduler (without --platform), which enforces them`,
      });
    } else
      notes.push(
        `blackouts are not enforced by the cluster (--allow-ungated): pause the objects yourself over ${schedule.blackouts.map((b) => (typeof b === 'string' ? b : `${b.from}..${b.to}`)).join(', ')} — kubectl annotate schedules -A -l ${SCHEDULE_LABELS.schedule}=${experimentSlug(schedule.title)} ${PAUSE_ANNOTATION}=true --overwrite`,
      );
  }
  schedule.healthGate?.probes.forEach((probe, i) => {
    const host = new URL(probe.url).hostname;
    if (LOOPBACK.test(host)) {
      inSchedule({
        path: `healthGate.probes[${i}].url`,
        message: `${probe.url} is a loopback address: on Kubernetes the health gate runs in a pod, where it is that pod itself`,
        hint: 'use an address reachable inside the cluster, e.g. http://payment-service.payments.svc:8080/health',
      });
    }
  });

  // The cadence of each group in each window.
  const cadences = new Map<string, Cadence>();
  schedule.groups.forEach((group, g) => {
    schedule.windows.forEach((window, w) => {
      const { cadence: c, problem } = cadence(
        window,
        parseDuration(group.meanTimeBetweenFaults) ?? 0,
        parseDuration(group.minimumGap) ?? 0,
        group.experiments.length,
      );
      if (problem)
        inSchedule({
          path: problem.field === 'window' ? `windows[${w}]` : `groups[${g}].meanTimeBetweenFaults`,
          message: problem.message,
          hint: problem.hint,
        });
      else if (c) cadences.set(`${g}/${w}`, c);
    });
  });

  // Every fault of every experiment, translated and guarded as compile does.
  const leashed = !(options.unleash || schedule.unleashed);
  const slug = experimentSlug(schedule.title);
  const used = new Set<string>();
  const files: ScheduleOutput['files'] = [];
  let objects = 0;
  for (const scheduled of experiments) {
    const group = schedule.groups[scheduled.groupIndex]!;
    const found: Issue[] = [];
    const vars = resolveVariables(scheduled.experiment, options.env, {}, scheduled.file);
    const unknown = new Set<string>();
    const experiment = substitute(scheduled.experiment, vars, unknown);
    for (const name of unknown)
      found.push({
        path: '',
        message: `\${${name}} has no value`,
        hint: `declare ${name} under configuration (a schedule passes no --var)`,
      });
    found.push(...checkGuardrails(experiment, options));
    const faults: {
      name: string;
      kind: keyof typeof CHAOS_KINDS;
      spec: Record<string, unknown>;
      namespace: string;
      durationMs: number;
    }[] = [];
    let waited = false as boolean; // set inside the step callback below
    experiment.method.forEach((step, index) => {
      if ('wait' in step) return void (waited = true);
      if ('probe' in step || 'action' in step)
        return void notes.push(
          `${scheduled.file}: method[${index}] (${'probe' in step ? 'probe' : 'action'}) is not part of the Schedules: Chaos Mesh runs faults only`,
        );
      const { chaos, problems } = translateFault(step, `method[${index}]`, experiment.targets);
      found.push(...problems);
      if (chaos) {
        notes.push(...chaos.notes.map((n) => `${scheduled.file}: ${n}`));
        faults.push({
          name: faultName(step, index),
          kind: chaos.kind,
          spec: chaos.spec,
          namespace: chaos.namespace,
          durationMs: parseDuration(step.duration) ?? 0,
        });
      }
    });
    if (faults.length === 0 && found.length === 0)
      found.push({
        path: 'method',
        message: 'the experiment has no fault to schedule',
        hint: 'add a fault step on a kubernetes target',
      });
    for (const i of found)
      issues.push({
        ...i,
        file: scheduled.file,
        ...(i.path ? scheduled.read.locatePath(i.path) : {}),
      });
    if (found.length > 0) continue;
    if (experiment.steadyState)
      notes.push(
        `${scheduled.file}: the steady-state hypothesis is not checked by the Schedules (faultline run checks it)${schedule.healthGate ? '; the health gate runs before each fault' : ''}`,
      );
    if (faults.length > 1)
      notes.push(
        `${scheduled.file}: its ${faults.length} faults get one Schedule each, on the same cadence: they start together${waited ? ' (the waits between them are not kept)' : ''}`,
      );

    schedule.windows.forEach((window, w) => {
      const c = cadences.get(`${scheduled.groupIndex}/${w}`);
      if (!c) return;
      const cron = `CRON_TZ=${schedule.timezone} ${String(c.crons[scheduled.experimentIndex])}`;
      for (const fault of faults) {
        if (fault.durationMs > c.groupMinutes * 60_000)
          notes.push(
            `group ${group.name}: ${fault.name} lasts longer than the ${c.groupMinutes} min between the group's faults, so they overlap`,
          );
        let name = dnsLabel(
          `${group.name}-${experimentSlug(experiment.title)}-${fault.name}${schedule.windows.length > 1 ? `-w${w + 1}` : ''}`,
        );
        for (let i = 2; used.has(name); i++) name = `${dnsLabel(name, 59)}-${i}`;
        used.add(name);
        const meta = metadata(name, fault.namespace, experiment.title, { fault: fault.name });
        meta.labels[SCHEDULE_LABELS.schedule] = slug;
        meta.labels[SCHEDULE_LABELS.group] = dnsLabel(group.name);
        meta.annotations = {
          ...meta.annotations,
          'faultline.dev/cadence': c.description,
          ...(leashed ? { [PAUSE_ANNOTATION]: 'true' } : {}),
        };
        const embed = CHAOS_KINDS[fault.kind].embed;
        const common = {
          schedule: cron,
          startingDeadlineSeconds: STARTING_DEADLINE_SECONDS,
          concurrencyPolicy: 'Forbid',
          historyLimit: 5,
        };
        const spec = schedule.healthGate
          ? {
              ...common,
              type: 'Workflow',
              workflow: gatedWorkflow(
                schedule.healthGate.probes,
                fault,
                options.gateImage ?? DEFAULT_GATE_IMAGE,
              ),
            }
          : {
              ...common,
              type: fault.kind,
              [embed]: { ...fault.spec, duration: goDuration(fault.durationMs) },
            };
        const document: Manifest = {
          apiVersion: CHAOS_MESH_API_VERSION,
          kind: 'Schedule',
          metadata: meta,
          spec,
        };
        const header = [
          `# faultline schedule "${schedule.title}", group ${group.name}, window "${window}" (${schedule.timezone})`,
          `# ${experiment.title} (${scheduled.file}): ${fault.name}, ${goDuration(fault.durationMs)} each time`,
          `# Cadence: ${c.description}.`,
          ...(schedule.healthGate
            ? [
                '# Health gate: the fault starts only when every probe answers (a Task, then the fault as its only branch).',
              ]
            : []),
          ...(leashed
            ? [
                '# LEASHED: created paused (experiment.chaos-mesh.org/pause: "true"), nothing starts. To unleash:',
                `#   kubectl annotate schedule -n ${fault.namespace} ${name} ${PAUSE_ANNOTATION}-   (or compile with --unleash)`,
              ]
            : [
                '# UNLEASHED: active; pause with kubectl annotate … experiment.chaos-mesh.org/pause=true --overwrite',
              ]),
        ];
        files.push({
          name: `schedule-${name}.yaml`,
          text: `${header.join('\n')}\n${stringify(document, { lineWidth: 0, version: '1.1' })}`,
          document,
        });
        objects++;
      }
    });
  }

  if (issues.length > 0) {
    const sorted = issues.sort(
      (a, b) =>
        (a.file === b.file
          ? 0
          : a.file === options.file
            ? -1
            : b.file === options.file
              ? 1
              : (a.file ?? '').localeCompare(b.file ?? '')) ||
        (a.line ?? 0) - (b.line ?? 0) ||
        (a.column ?? 0) - (b.column ?? 0),
    );
    const first = sorted[0]!;
    const summary =
      sorted.length === 1
        ? `${String(first.file)}${first.line ? `:${first.line}:${String(first.column)}` : ''}: ${first.path ? `${first.path}: ` : ''}${first.message}`
        : `${options.file}: ${sorted.length} problems; nothing compiled`;
    throw new ValidationError(summary, sorted, {
      hint: sorted.length === 1 ? first.hint : undefined,
    });
  }
  if (objects > 1) {
    notes.push(
      `maxConcurrent ${schedule.maxConcurrent}: each Schedule forbids overlapping itself (concurrencyPolicy Forbid), but a cap across ${objects} objects cannot be expressed; faults of different groups${schedule.windows.length > 1 ? ', windows' : ''} or of one experiment may run at the same time`,
    );
  }
  if (schedule.windows.length > 1)
    notes.push(
      'each window has its own Schedules: where windows overlap, the minimum gap holds within each window only',
    );
  if (leashed)
    notes.push(
      `leashed: every Schedule is created paused (${PAUSE_ANNOTATION}: "true"); compile with --unleash or remove the annotation to start`,
    );
  return { files, notes: [...new Set(notes)] };
}

/** Entry: a Task running the probes; its only branch, taken on exit code 0, is the fault. */
function gatedWorkflow(
  probes: NonNullable<Schedule['healthGate']>['probes'],
  fault: {
    name: string;
    kind: keyof typeof CHAOS_KINDS;
    spec: Record<string, unknown>;
    durationMs: number;
  },
  image: string,
): Record<string, unknown> {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = probes
    .map(
      (p) =>
        `test "$(curl -s -o /dev/null -w '%{http_code}' --max-time ${Math.max(1, Math.ceil((parseDuration(p.timeout) ?? 3000) / 1000))} ${quote(p.url)})" = ${p.status}`,
    )
    .join(' && ');
  const gateMs = probes.reduce(
    (sum, p) => sum + (parseDuration(p.timeout) ?? 3000),
    GATE_STARTUP_MS,
  );
  const faultTemplate =
    dnsLabel(fault.name, 50) === 'health-gate' ? 'fault' : dnsLabel(fault.name, 50);
  return {
    entry: 'health-gate',
    templates: [
      {
        name: 'health-gate',
        templateType: 'Task',
        // The fault is the task's child: the deadline covers the gate and the whole fault.
        deadline: goDuration(gateMs + fault.durationMs),
        task: { container: { name: 'health-gate', image, command: ['sh', '-c', script] } },
        conditionalBranches: [{ target: faultTemplate, expression: 'exitCode == 0' }],
      },
      {
        name: faultTemplate,
        templateType: fault.kind,
        deadline: goDuration(fault.durationMs),
        [CHAOS_KINDS[fault.kind].embed]: fault.spec,
      },
    ],
  };
}
