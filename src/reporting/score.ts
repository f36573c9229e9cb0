/**
 * The resilience score, from journals: a number a blown SLO cannot pass.
 *
 * It started as LitmusChaos's probe success percentage (`held hypotheses × 100 / hypotheses`),
 * which rewards the checks that had nothing to do with the fault: a run at 5× its p99 target with
 * 16 % errors held the before and after checks and scored 72 %, and the demo's fragile build,
 * aborted at 83 % errors, 62 % — both above what most teams would call a pass. So a run whose
 * hypothesis was refuted is capped well below the pass mark ({@link PASS_MARK}, 80):
 *
 * | outcome | run score |
 * | --- | --- |
 * | held | 100 |
 * | deviated | ⌊ {@link BREACHED_CAP} × held hypotheses / hypotheses ⌋ (0–50) |
 * | aborted | ⌊ {@link BREACHED_CAP} × held / (hypotheses + 1) ⌋: the breached stop condition is one more failed hypothesis |
 * | inconclusive, interrupted, residue, unfinished | not scored |
 *
 * (one hypothesis = one probe or threshold in one phase). Within the cap, the share of
 * hypotheses that held still orders refuted runs (a breach of one of eight beats an abort).
 *
 * A run that did not test its hypothesis (a fault that touched no traffic, an interrupted run)
 * says nothing about the service, so it is left out and listed instead — scoring it 0 would
 * punish a setup mistake, and scoring it 100 would be the "traffic bypasses the fault" lie.
 *
 * Per service (see {@link serviceOf}), each experiment counts once: its latest scored run. Its
 * weight is `--weight TITLE=N`, else a `weight:N` tag on the experiment, else 10. The service's
 * score is the weighted average, truncated — and, when any counted run was refuted, at most
 * {@link BREACHED_CAP}: nine held experiments must not average away the tenth's blown SLO.
 * docs/reports.md ("Resilience score") says the same for users.
 */
import type { Journal } from '../journal/journal.js';
import { hypothesisRows } from './hypotheses.js';
import { serviceOf, titleOf } from './journal-input.js';

export interface RunScore {
  /** False when the run did not test its hypotheses; it is then left out of scores. */
  scored: boolean;
  /** Probe success percentage, an integer 0–100; null when not scored. */
  percent: number | null;
  /** Hypotheses that held, out of `total`. */
  passed: number;
  total: number;
  /** Why it was scored this way, in a sentence. */
  note: string;
}

/** Default weight of an experiment (the top of Litmus's 0–10 scale: it counts fully). */
export const DEFAULT_WEIGHT = 10;

/** The score a run, or a service, must reach to pass (`report --summary --fail-under` aside). */
export const PASS_MARK = 80;

/**
 * The most a refuted run (deviated or aborted) can score, and a service with one: clearly below
 * {@link PASS_MARK}, whatever share of its other hypotheses held.
 */
export const BREACHED_CAP = 50;

/** True for the outcomes whose hypothesis was refuted: they are capped at {@link BREACHED_CAP}. */
export function isBreached(outcome: string | undefined): boolean {
  return outcome === 'deviated' || outcome === 'aborted';
}

/** The probe success percentage of one run. */
export function resilienceOfJournal(journal: Journal): RunScore {
  const outcome = journal.faultline.outcome;
  const rows = hypothesisRows(journal);
  let passed = rows.filter((r) => r.met).length;
  let total = rows.length;
  switch (outcome) {
    case 'held':
      return { scored: true, percent: 100, passed, total, note: 'held: 100' };
    case 'deviated':
    case 'aborted': {
      if (outcome === 'aborted') total++; // the stop condition, breached
      passed = Math.min(passed, total);
      const percent = total === 0 ? 0 : Math.floor((passed * BREACHED_CAP) / total);
      const what =
        outcome === 'aborted' ? ' (the breached stop condition counts as a failed hypothesis)' : '';
      return {
        scored: true,
        percent,
        passed,
        total,
        note: `${outcome}: ${passed} of ${total} hypotheses held${what}; a refuted run scores at most ${BREACHED_CAP} (pass mark ${PASS_MARK})`,
      };
    }
    default:
      return {
        scored: false,
        percent: null,
        passed,
        total,
        note: `${outcome ?? 'unfinished'}: the hypotheses were not tested, so the run is not scored`,
      };
  }
}

/** A journal and where it was read from. */
export interface ScoredJournal {
  journal: Journal;
  path: string;
}

export interface ExperimentScore {
  title: string;
  weight: number;
  /** Runs of this experiment found, scored or not. */
  runs: number;
  /** The run that counts: the latest scored one (undefined when none was scored). */
  counted: { path: string; start: string; outcome: string; score: RunScore } | undefined;
  /** The latest run, when it was not scored (so a reader sees why the score is older). */
  latestUnscored: { path: string; start: string; outcome: string } | undefined;
}

export interface ServiceScore {
  service: string;
  /** Weighted, truncated score 0–100; null when no experiment of the service was scored. */
  percent: number | null;
  experiments: ExperimentScore[];
}

export interface ScoreOptions {
  /** Weight per experiment title (0–10), winning over a `weight:N` tag. */
  weights?: Record<string, number> | undefined;
}

function tagWeight(journal: Journal): number | undefined {
  const tags = (journal.experiment as { tags?: unknown } | null)?.tags;
  if (!Array.isArray(tags)) return undefined;
  for (const tag of tags) {
    const m = typeof tag === 'string' ? /^weight:(\d+(?:\.\d+)?)$/.exec(tag) : null;
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** Scores per service from any number of journals, services in name order. */
export function resilienceByService(
  journals: readonly ScoredJournal[],
  options: ScoreOptions = {},
): ServiceScore[] {
  const byService = new Map<string, Map<string, ScoredJournal[]>>();
  for (const entry of journals) {
    const service = serviceOf(entry.journal);
    const title = titleOf(entry.journal);
    const experiments = byService.get(service) ?? new Map<string, ScoredJournal[]>();
    byService.set(service, experiments);
    experiments.set(title, [...(experiments.get(title) ?? []), entry]);
  }
  const services: ServiceScore[] = [];
  for (const [service, experiments] of [...byService].sort(([a], [b]) => a.localeCompare(b))) {
    const rows: ExperimentScore[] = [];
    for (const [title, runs] of experiments) {
      const newestFirst = [...runs].sort((a, b) => b.journal.start.localeCompare(a.journal.start));
      const scores = newestFirst.map((r) => ({ r, score: resilienceOfJournal(r.journal) }));
      const counted = scores.find((s) => s.score.scored);
      const latest = scores[0]!;
      rows.push({
        title,
        weight: options.weights?.[title] ?? tagWeight(newestFirst[0]!.journal) ?? DEFAULT_WEIGHT,
        runs: runs.length,
        counted: counted && {
          path: counted.r.path,
          start: counted.r.journal.start,
          outcome: counted.r.journal.faultline.outcome ?? 'unfinished',
          score: counted.score,
        },
        latestUnscored: latest.score.scored
          ? undefined
          : {
              path: latest.r.path,
              start: latest.r.journal.start,
              outcome: latest.r.journal.faultline.outcome ?? 'unfinished',
            },
      });
    }
    rows.sort((a, b) => a.title.localeCompare(b.title));
    let weighted = 0;
    let weights = 0;
    let breached = false;
    for (const row of rows) {
      if (!row.counted) continue;
      weighted += row.weight * (row.counted.score.percent ?? 0);
      weights += row.weight;
      if (row.weight > 0 && isBreached(row.counted.outcome)) breached = true;
    }
    const average = weights > 0 ? Math.trunc(weighted / weights) : null;
    services.push({
      service,
      percent: average !== null && breached ? Math.min(average, BREACHED_CAP) : average,
      experiments: rows,
    });
  }
  return services;
}
