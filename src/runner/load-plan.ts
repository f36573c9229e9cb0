/**
 * From a file name to a {@link RunPlan}, whatever the experiment's format: faultline's own, or
 * Chaos Toolkit's (recognised by its keys). Every problem is reported at once as a
 * ValidationError with file:line:column.
 */
import { loadExperimentFile } from '../experiment/load.js';
import { compileExperiment, type CompileOptions } from './compile.js';
import type { RunPlan } from './plan.js';

export interface LoadPlanOptions extends Omit<CompileOptions, 'file'> {
  /** The name to show in messages (as the user typed it). */
  displayName?: string | undefined;
}

export async function loadPlan(path: string, options: LoadPlanOptions): Promise<RunPlan> {
  const file = options.displayName ?? path;
  const { experiment } = await loadExperimentFile(path, { vars: Object.keys(options.vars ?? {}) });
  return compileExperiment(experiment, { ...options, file });
}
