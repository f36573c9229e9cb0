/**
 * Loading a schedule: the file with located errors (one pass, exit 2), then every experiment it
 * names, loaded now so a typo is found at start-up rather than at the first fault hours later.
 */
import { dirname, relative, resolve } from 'node:path';
import { ValidationError, type ValidationIssue } from '../errors.js';
import { readDocument } from '../experiment/read.js';
import { parseLocated, readLocatedFile } from '../experiment/located-parse.js';
import { loadDocument, readExperimentText } from '../run-plan/read-plan.js';
import { SCHEDULE_KEYS, Schedule } from './schedule-schema.js';

export interface ReadSchedule {
  schedule: Schedule;
  file: string;
  /** Group name → experiment paths (absolute). */
  experiments: Map<string, string[]>;
}

export function parseSchedule(text: string, file: string): Schedule {
  return parseLocated(text, file, Schedule, {
    what: 'the schedule',
    knownKeys: SCHEDULE_KEYS,
    check: (data) => {
      const tz = (data as { timezone?: unknown } | null | undefined)?.timezone;
      if (typeof tz === 'string') {
        try {
          new Intl.DateTimeFormat('en', { timeZone: tz });
        } catch {
          return [
            {
              path: 'timezone',
              message: `unknown time zone "${tz}"`,
              hint: 'an IANA name such as Europe/Paris or UTC',
            },
          ];
        }
      }
      return [];
    },
  });
}

export async function readSchedule(path: string, file = path): Promise<ReadSchedule> {
  const text = await readLocatedFile(path, file);
  const schedule = parseSchedule(text, file);
  const read = readDocument(text, file);
  const issues: ValidationIssue[] = [];
  const experiments = new Map<string, string[]>();
  for (const [g, group] of schedule.groups.entries()) {
    const paths: string[] = [];
    for (const [e, name] of group.experiments.entries()) {
      const full = resolve(dirname(path), name);
      try {
        loadDocument(
          await readExperimentText(full, relative(process.cwd(), full) || name),
          relative(process.cwd(), full) || name,
        );
        paths.push(full);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        if (err.issues.length === 1 && err.issues[0]?.message === 'no such file')
          issues.push({
            path: `groups[${g}].experiments[${e}]`,
            message: `experiment ${name} not found (${full})`,
            hint: 'paths are relative to the schedule file',
            ...read.locatePath(`groups[${g}].experiments[${e}]`),
          });
        else issues.push(...err.issues);
      }
    }
    experiments.set(group.name, paths);
  }
  if (issues.length > 0)
    throw new ValidationError(
      `${file}: ${issues.length} problem(s) in the schedule's experiments`,
      issues,
    );
  return { schedule, file, experiments };
}
