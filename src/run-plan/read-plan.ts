/**
 * From a file name to a {@link RunPlan}, whatever the experiment's format: faultline's own, or
 * Chaos Toolkit's (recognised by its keys). Every problem is reported at once as a
 * ValidationError with file:line:column.
 */
import { readFile } from 'node:fs/promises';
import { controlWarnings } from '../chaostoolkit/controls.js';
import { planChaosToolkitRun } from '../chaostoolkit/dynamic-configuration.js';
import { isChaosToolkitDocument } from '../chaostoolkit/detect.js';
import { validateChaosToolkitDocument } from '../chaostoolkit/read.js';
import { ValidationError } from '../errors.js';
import { readDocument, validateExperiment, type ReadDocument } from './read-experiment.js';
import type { Experiment } from '../experiment/schema.js';
import { lintChaosToolkit, lintExperiment } from '../experiment/lint.js';
import { planExperiment, type RunPlanOptions } from './from-experiment.js';
import type { RunPlan } from './plan.js';

export interface ReadPlanOptions extends Omit<RunPlanOptions, 'file'> {
  /** The name to show in messages (as the user typed it). */
  displayName?: string | undefined;
  /** Ends a Chaos Toolkit experiment's dynamic configuration probes (the run's interruption). */
  signal?: AbortSignal | undefined;
}

export type LoadedDocument =
  | {
      format: 'faultline';
      experiment: Experiment;
      title: string;
      steps: number;
      warnings: string[];
      read: ReadDocument;
    }
  | {
      format: 'chaostoolkit';
      data: unknown;
      title: string;
      steps: number;
      warnings: string[];
      read: ReadDocument;
    };

/** Reads a file: not found, unreadable and wrong extension are located errors too. */
export async function readExperimentText(path: string, file: string): Promise<string> {
  if (!/\.(ya?ml|json)$/i.test(path)) {
    throw new ValidationError(`${file}: not an experiment file`, [
      { path: '', file, message: 'only .yaml, .yml and .json files are experiments' },
    ]);
  }
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ValidationError(
      `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : String(code)}`,
      [
        {
          path: '',
          file,
          message: code === 'ENOENT' ? 'no such file' : `cannot read the file (${code ?? 'error'})`,
        },
      ],
    );
  }
}

/** Loads and validates either format (pure: no environment read). */
export function loadDocument(
  text: string,
  file: string,
  vars: readonly string[] = [],
): LoadedDocument {
  const read: ReadDocument = readDocument(text, file);
  if (isChaosToolkitDocument(read.data)) {
    const data = validateChaosToolkitDocument(read, file) as Record<string, unknown>;
    return {
      format: 'chaostoolkit',
      data,
      title: String(data['title']),
      steps: Array.isArray(data['method']) ? data['method'].length : 0,
      warnings: [...lintChaosToolkit(data), ...controlWarnings(data)],
      read,
    };
  }
  const experiment = validateExperiment(read, file, { vars });
  return {
    format: 'faultline',
    experiment,
    title: experiment.title,
    steps: experiment.method.length,
    warnings: lintExperiment(experiment),
    read,
  };
}

export async function readPlan(path: string, options: ReadPlanOptions): Promise<RunPlan> {
  const file = options.displayName ?? path;
  const loaded = loadDocument(
    await readExperimentText(path, file),
    file,
    Object.keys(options.vars ?? {}),
  );
  let plan: RunPlan;
  if (loaded.format === 'chaostoolkit') {
    // Dynamic configuration: its probes run first, their outputs are vars of the plan.
    plan = await planChaosToolkitRun(loaded.data, { ...options, file }, options.signal);
  } else plan = planExperiment(loaded.experiment, { ...options, file });
  plan.warnings = loaded.warnings;
  if (loaded.format === 'faultline') {
    const read = loaded.read;
    plan.locate = (jsonPath) => {
      const { line, column } = read.locatePath(jsonPath);
      return { line, column };
    };
  }
  return plan;
}
