/**
 * Reading journals for the reports: a file from disk is checked to be a faultline journal
 * (every problem with its JSON path, exit 2 from the CLI), and the few facts every report
 * needs about it — its title and the service it is about — are derived in one place.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../errors.js';
import type { Journal } from '../journal/journal.js';
import { fromChaosToolkitJournal, isChaosToolkitJournal } from './chaostoolkit-journal.js';

/**
 * The shape a journal must have for a report, checked at the edge (a file from disk may be
 * anything). Only what the reports read is required; the rest passes through untouched.
 */
const JournalShape = z.looseObject({
  'faultline-version': z.string(),
  platform: z.string(),
  node: z.string(),
  start: z.string(),
  status: z.string(),
  deviated: z.boolean(),
  steady_states: z.looseObject({
    before: z.looseObject({ probes: z.array(z.looseObject({ name: z.string() })) }).nullable(),
    after: z.looseObject({ probes: z.array(z.looseObject({ name: z.string() })) }).nullable(),
    during: z.array(z.looseObject({ probes: z.array(z.looseObject({ name: z.string() })) })),
  }),
  run: z.array(z.looseObject({ name: z.string() })),
  rollbacks: z.array(z.looseObject({ name: z.string() })),
  faultline: z.looseObject({
    run_id: z.string(),
    file: z.string(),
    faults: z.array(z.looseObject({ name: z.string(), target: z.string(), state: z.string() })),
  }),
});

/**
 * Checks that a parsed document is a faultline journal (a Chaos Toolkit journal is read as one:
 * ./chaostoolkit-journal.ts).
 *
 * @throws {@link ValidationError} listing every missing or mistyped field with its JSON path.
 */
export function asJournal(data: unknown, file = '(journal)'): Journal {
  if (isChaosToolkitJournal(data)) data = fromChaosToolkitJournal(data, file);
  const parsed = JournalShape.safeParse(data);
  if (parsed.success) return data as Journal;
  const issues: ValidationIssue[] = parsed.error.issues.map((i) => ({
    path: i.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, ''),
    file,
    message: i.message.replace(
      /^Invalid input: expected (\w+), received undefined$/,
      'missing (expected $1)',
    ),
  }));
  throw new ValidationError(
    `${file} is not a faultline journal (${issues.length} problem${issues.length === 1 ? '' : 's'})`,
    issues,
    {
      hint: 'pass the file written by `faultline run --journal` (default faultline-journal.json)',
    },
  );
}

/**
 * Reads and checks a journal file.
 *
 * @throws {@link ValidationError} when the file is missing, not JSON, or not a journal.
 */
export async function readJournal(path: string): Promise<Journal> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ValidationError(`${path}: ${message}`, [{ path: '', file: path, message }], {
      hint: 'the journal is written by `faultline run` (see --journal)',
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const message = `not valid JSON: ${(err as Error).message}`;
    throw new ValidationError(`${path}: ${message}`, [{ path: '', file: path, message }]);
  }
  return asJournal(data, path);
}

/** The experiment as the journal recorded it (faultline or Chaos Toolkit shape). */
export interface ExperimentDoc {
  title?: unknown;
  description?: unknown;
  tags?: unknown;
  environment?: unknown;
}

/**
 * The service an experiment is about: its `service:NAME` tag, else its first tag, else its
 * title. The demo and the examples put the service first in `tags`.
 */
export function serviceOf(journal: Journal): string {
  const doc = (journal.experiment ?? {}) as ExperimentDoc;
  const tags = Array.isArray(doc.tags)
    ? doc.tags.filter((t): t is string => typeof t === 'string')
    : [];
  const explicit = tags.find((t) => t.startsWith('service:'));
  if (explicit) return explicit.slice('service:'.length);
  return tags[0] ?? titleOf(journal);
}

export function titleOf(journal: Journal): string {
  const doc = (journal.experiment ?? {}) as ExperimentDoc;
  return typeof doc.title === 'string' && doc.title ? doc.title : journal.faultline.file;
}
