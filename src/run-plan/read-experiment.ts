/**
 * Reading an experiment file with every check: the model's (src/experiment/read.ts) and each
 * target type's backend's (./target-checks.ts), in one pass. Everything that reads experiment
 * files for use imports these; the model itself knows no backend.
 */
import {
  parseExperiment as parseModel,
  readDocument,
  readExperimentFile as readModelFile,
  validateExperiment as validateModel,
  type ReadDocument,
  type ReadExperiment,
  type ReadOptions,
} from '../experiment/read.js';
import type { Experiment } from '../experiment/schema.js';
import { targetChecks } from './target-checks.js';

export {
  dedupe,
  formatPath,
  readDocument,
  type ReadDocument,
  type ReadExperiment,
  type ReadOptions,
} from '../experiment/read.js';

const withChecks = (options: ReadOptions): ReadOptions => ({
  ...options,
  checks: options.checks ?? targetChecks,
});

/** Reads and validates an experiment file. Throws a ValidationError with every problem. */
export function readExperimentFile(
  file: string,
  options: ReadOptions = {},
): Promise<ReadExperiment> {
  return readModelFile(file, withChecks(options));
}

/** Validates experiment text (YAML or JSON). */
export function parseExperiment(
  text: string,
  file = '<input>',
  options: ReadOptions = {},
): Experiment {
  return parseModel(text, file, withChecks(options));
}

/** Validates an already-read document against faultline's format and every backend's checks. */
export function validateExperiment(
  read: ReadDocument,
  file: string,
  options: ReadOptions = {},
): Experiment {
  return validateModel(read, file, withChecks(options));
}

export const readExperimentDocument = readDocument;
