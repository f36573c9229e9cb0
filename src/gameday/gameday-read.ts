/**
 * Loading a game day plan: the plan file with located errors (src/experiment/located-parse.ts),
 * then each experiment it names (faultline format, through the experiment loader), and the
 * checks only the pair can make: a stage below 100 % needs faults it can scale (on proxy and
 * remote-proxy targets, the share of connections or requests). Every problem of the plan and
 * of its experiments comes out in one ValidationError (exit 2).
 */
import { dirname, relative, resolve } from 'node:path';
import { isFaultlineError, ValidationError, type ValidationIssue } from '../errors.js';
import { parseLocated, readLocatedFile, type PathIssue } from '../experiment/located-parse.js';
import type { Experiment } from '../experiment/schema.js';
import { readDocument } from '../experiment/read.js';
import { loadDocument, readExperimentText } from '../run-plan/read-plan.js';
import { GAMEDAY_KEYS, GameDayPlan } from './gameday-schema.js';

export interface ReadGameDay {
  plan: GameDayPlan;
  file: string;
  experiments: { file: string; path: string; experiment: Experiment }[];
}

/** Target types whose faults a stage can scale by percentage. */
export const SCALABLE_TARGETS = new Set(['proxy', 'remote-proxy']);

export function parseGameDayPlan(text: string, file: string): GameDayPlan {
  return parseLocated(text, file, GameDayPlan, {
    what: 'the game day plan',
    knownKeys: GAMEDAY_KEYS,
    check: (data) => {
      const issues: PathIssue[] = [];
      const stages = (data as { stages?: unknown } | null | undefined)?.stages;
      if (Array.isArray(stages)) {
        let last = 0;
        stages.forEach((s, i) => {
          const p = (s as { percentage?: unknown } | null | undefined)?.percentage;
          if (typeof p === 'number') {
            if (p < last)
              issues.push({
                path: `stages[${i}].percentage`,
                message: `stage ${i + 1} (${p} %) is smaller than the one before (${last} %)`,
                hint: 'stages widen the fault step by step: 10 → 50 → 100',
              });
            last = p;
          }
        });
      }
      return issues;
    },
  });
}

export async function readGameDay(path: string, file = path): Promise<ReadGameDay> {
  const text = await readLocatedFile(path, file);
  const plan = parseGameDayPlan(text, file);
  const issues: ValidationIssue[] = [];
  const experiments: ReadGameDay['experiments'] = [];
  // Positions in the plan, for problems only the experiments reveal.
  const read = readDocument(text, file);
  const locate = (at: string): Pick<ValidationIssue, 'file' | 'line' | 'column'> =>
    read.locatePath(at);
  for (const [i, name] of plan.experiments.entries()) {
    const experimentPath = resolve(dirname(path), name);
    const shown = relative(process.cwd(), experimentPath) || name;
    try {
      const loaded = loadDocument(await readExperimentText(experimentPath, shown), shown);
      if (loaded.format !== 'faultline') {
        issues.push({
          path: `experiments[${i}]`,
          message: `${name} is a Chaos Toolkit experiment`,
          hint: 'game days run faultline experiments (their faults are scaled stage by stage)',
          ...locate(`experiments[${i}]`),
        });
        continue;
      }
      experiments.push({ file: shown, path: experimentPath, experiment: loaded.experiment });
    } catch (err) {
      if (err instanceof ValidationError) {
        const missing = err.issues.length === 1 && err.issues[0]?.message === 'no such file';
        if (missing)
          issues.push({
            path: `experiments[${i}]`,
            message: `experiment ${name} not found (${experimentPath})`,
            hint: 'paths are relative to the plan file',
            ...locate(`experiments[${i}]`),
          });
        else issues.push(...err.issues);
      } else if (isFaultlineError(err))
        issues.push({
          path: `experiments[${i}]`,
          message: err.message,
          ...locate(`experiments[${i}]`),
        });
      else throw err;
    }
  }
  // A stage below 100 % must be able to scale every fault.
  for (const [s, stage] of plan.stages.entries()) {
    if (stage.percentage >= 100) continue;
    for (const { file: experimentFile, experiment } of experiments) {
      for (const step of experiment.method) {
        if (!('fault' in step) || typeof step.fault !== 'string') continue;
        const target = experiment.targets[(step as { target: string }).target];
        if (target && !SCALABLE_TARGETS.has(target.type)) {
          issues.push({
            path: `stages[${s}].percentage`,
            message: `stage ${s + 1} runs ${stage.percentage} % of the faults, but fault ${step.fault} of ${experimentFile} is on ${target.type} target "${(step as { target: string }).target}", which cannot be scaled`,
            hint: 'scale with proxy or remote-proxy targets, or make this stage 100',
            ...locate(`stages[${s}].percentage`),
          });
        }
      }
    }
  }
  if (issues.length > 0) {
    const first = issues[0]!;
    throw new ValidationError(
      issues.length === 1
        ? `${first.file ?? file}${first.line ? `:${first.line}:${String(first.column)}` : ''}: ${first.message}`
        : `${file}: ${issues.length} problems in the game day`,
      issues,
      { hint: issues.length === 1 ? first.hint : undefined },
    );
  }
  return { plan, file, experiments };
}
