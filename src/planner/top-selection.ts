/**
 * Which rows of the catalogue make the top N: a team acts on the top 10, so it has to span the
 * ways the architecture can fail rather than list one database's near-variants.
 *
 * ```
 *   1. by score, the best row of each failure mode not yet in the top   (coverage)
 *   2. the best row of each mode still missing, ignoring the limit      (coverage first)
 *   3. by score, any row                                                 (the rest of N)
 *   4. by score, any row, ignoring the component limit                   (small architectures)
 * ```
 *
 * Passes 1 and 3 take a row only while every component it names (a node, or both ends of an
 * edge) is in fewer than `perComponent` rows of the top. The top is then shown in score order;
 * rows that the score alone would have put in it say why they are not there.
 */
import type { Scenario } from './catalogue.js';

/** At most this many rows of the top name one component (passes 1 and 2). */
export const PER_COMPONENT = 2;

export interface TopPick {
  scenario: Scenario;
  /** 1-based position in the top (the experiment files' number). */
  position: number;
  why: string;
}

export interface TopSelection {
  picks: TopPick[];
  /** Rows within the first N by score that the coverage rule left out, and why. */
  passedOver: Array<{ scenario: Scenario; why: string }>;
}

/** The components a row names: its node, or both ends of its edge. */
export function componentsOf(scenario: Scenario): string[] {
  return scenario.component.split(' -> ');
}

/** The top `n` rows of a ranked catalogue, by the coverage rule above. */
export function selectTop(
  catalogue: readonly Scenario[],
  n: number,
  perComponent = PER_COMPONENT,
): TopSelection {
  const chosen = new Map<string, string>();
  const uses = new Map<string, number>();
  const modes = new Set<string>();
  const fits = (s: Scenario): boolean =>
    componentsOf(s).every((c) => (uses.get(c) ?? 0) < perComponent);
  const take = (s: Scenario, why: string): void => {
    chosen.set(s.id, why);
    modes.add(s.mode);
    for (const c of componentsOf(s)) uses.set(c, (uses.get(c) ?? 0) + 1);
  };
  for (const s of catalogue) {
    if (chosen.size >= n) break;
    if (!modes.has(s.mode) && fits(s)) take(s, `the best-scored ${s.mode} row`);
  }
  // A mode whose every row names full components still gets its best row: coverage first.
  for (const s of catalogue) {
    if (chosen.size >= n) break;
    if (!modes.has(s.mode))
      take(
        s,
        `the best-scored ${s.mode} row (every ${s.mode} row names a component already in ${perComponent} rows)`,
      );
  }
  for (const s of catalogue) {
    if (chosen.size >= n) break;
    if (!chosen.has(s.id) && fits(s)) take(s, 'next by score');
  }
  for (const s of catalogue) {
    if (chosen.size >= n) break;
    if (!chosen.has(s.id))
      take(s, `next by score (every row left names a component already in ${perComponent} rows)`);
  }
  const picks = catalogue
    .filter((s) => chosen.has(s.id))
    .map((scenario, i) => ({ scenario, position: i + 1, why: chosen.get(scenario.id)! }));
  const modeLead = new Map<string, Scenario>();
  for (const p of picks)
    if (!modeLead.has(p.scenario.mode)) modeLead.set(p.scenario.mode, p.scenario);
  const passedOver = catalogue
    .slice(0, n)
    .filter((s) => !chosen.has(s.id))
    .map((scenario) => {
      const why: string[] = [];
      const lead = modeLead.get(scenario.mode);
      const displacedBy = picks.some(
        (p) => p.why.startsWith('the best-scored') && p.scenario.rank > scenario.rank,
      );
      if (lead && displacedBy)
        why.push(
          `${scenario.mode} is in the top as ${lead.title} (${lead.score.toFixed(1)}), and the places went to failure modes not yet in it`,
        );
      const full = componentsOf(scenario).filter((c) => (uses.get(c) ?? 0) >= perComponent);
      if (full.length) why.push(`${full.join(' and ')} already in ${perComponent} rows of the top`);
      return {
        scenario,
        why: why.join('; ') || 'the places went to failure modes not yet in the top',
      };
    });
  return { picks, passedOver };
}
