/**
 * `defineExperiment()`: an experiment written in TypeScript, typed by the zod schema itself (its
 * input type: defaults optional, durations as strings), so an editor completes every key and a
 * misspelt one fails to compile — the same check `faultline validate` makes on a file, moved to
 * the moment of typing. It returns its argument unchanged: validation with located issues still
 * happens in {@link runExperiment}, which also checks what types cannot (cross-references,
 * `${vars}`, each backend's rules).
 */
import type { ExperimentInput } from '../experiment/schema.js';

export type { ExperimentInput };

/**
 * Identity at run time; at compile time, the experiment checked against the schema. Not generic
 * on purpose: a type parameter inferred from the literal would let an extra (misspelt) key
 * through, where a plain parameter gets TypeScript's excess-property check.
 */
export function defineExperiment(experiment: ExperimentInput): ExperimentInput {
  return experiment;
}
