/** Reading a Chaos Toolkit experiment: located YAML/JSON parsing, then validation with every problem located. */
import { ValidationError } from '../errors.js';
import { readDocument, type ReadDocument } from '../experiment/read.js';
import { validateChaosToolkit } from './validate.js';

/** Validates an already-read Chaos Toolkit document; throws a located ValidationError. */
export function validateChaosToolkitDocument(read: ReadDocument, file: string): unknown {
  const issues = validateChaosToolkit(read.data).map((issue) => ({
    ...issue,
    ...read.locatePath(issue.path),
  }));
  if (issues.length > 0) {
    issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    throw new ValidationError(
      `${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'} (Chaos Toolkit format)`,
      issues,
    );
  }
  return read.data;
}

/** Parses and validates Chaos Toolkit experiment text. */
export function parseChaosToolkit(text: string, file = '<input>'): unknown {
  return validateChaosToolkitDocument(readDocument(text, file), file);
}
