/**
 * The resilience score, computed the way LitmusChaos computes it, from journals.
 *
 * Litmus gives each fault run a *probe success percentage* — 100 when its verdict is Pass,
 * `passed × 100 / total` (integer division) when it failed or was stopped — and an experiment
 * the weighted average of those, truncated: `Σ weight × percentage / Σ weight`. faultline does
 * the same with its own words:
 *
 * | outcome | probe success percentage |
 * | --- | --- |
 * | held | 100 |
 * | deviated | ⌊held hypotheses × 100 / hypotheses⌋ (one hypothesis = one probe or threshold in one phase) |
 * | aborted | the same, with the breached stop condition counted as one more failed hypothesis |
 * | inconclusive, interrupted, residue, unfinished | not scored |
 *
 * The one difference from Litmus, on purpose: Litmus scores an errored run 0. A run that did
 * not test its hypothesis (a fault that touched no traffic, an interrupted run) says nothing
 * about the service, so it is left out and listed instead — scoring it 0 would punish a setup
 * mistake, and scoring it 100 would be the "traffic bypasses the fault" lie.
 *
 * Per service (see {@link serviceOf}), each experiment counts once: its latest scored run. Its
 * weight is `--weight TITLE=N`, else a `weight:N` tag on the experiment, else 10 (Litmus's scale
 * is 0–10).
 */
import type { Journal } from '../runner/journal.js';
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
      const percent = total === 0 ? 0 : Math.floor((passed * 100) / total);
      const what = outcome === 'aborted' ? ' (the breached stop condition counts as a failed hypothesis)' : '';
      return { scored: true, percent, passed, total, note: `${outcome}: ${passed} of ${total} hypotheses held${what}` };
    }
    default:
      return { scored: false, percent: null, passed, total, note: `${outcome ?? 'unfinished'}: the hypotheses were not tested, so the run is not scored` };
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
export function resilienceByService(journals: readonly ScoredJournal[], options: ScoreOptions = {}): ServiceScore[] {
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
        counted: counted && { path: counted.r.path, start: counted.r.journal.start, outcome: counted.r.journal.faultline.outcome ?? 'unfinished', score: counted.score },
        latestUnscored: latest.score.scored ? undefined : { path: latest.r.path, start: latest.r.journal.start, outcome: latest.r.journal.faultline.outcome ?? 'unfinished' },
      });
    }
    rows.sort((a, b) => a.title.localeCompare(b.title));
    let weighted = 0;
    let weights = 0;
    for (const row of rows) {
      if (!row.counted) continue;
      weighted += row.weight * (row.counted.score.percent ?? 0);
      weights += row.weight;
    }
    services.push({ service, percent: weights > 0 ? Math.trunc(weighted / weights) : null, experiments: rows });
  }
  return services;
}
