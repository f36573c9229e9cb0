/**
 * Attribute schemas for toxics. Each toxic declares its attributes as a zod object; this module
 * turns that into the `parse` function of {@link ToxicDefinition}: defaults filled in (Toxiproxy
 * echoes every attribute, zero when unset), every problem reported with its path, what was
 * expected and a hint.
 *
 * Two rules Toxiproxy does not have, both for values it accepts and then acts wrongly on:
 * - an unknown attribute is refused with the nearest known one (`latancy` → did you mean
 *   "latency"?): Toxiproxy drops it and creates a 0 ms latency. Toxiproxy's clients send
 *   exactly the known attributes, so they are not affected.
 * - a duration is at most {@link MAX_TIMER_MS}: a Node timer fires at once for anything longer,
 *   so a 3,000,000,000 ms `timeout` would close every connection within milliseconds.
 */
import { z } from 'zod';
import { MAX_TIMER_MS } from '../../../shared/timer-bounds.js';
import { suggest } from '../../../shared/suggest.js';
import type { AttributeIssue, ToxicDefinition } from './toxic.js';

/** A non-negative integer attribute in the given unit, defaulting to 0. */
export function nonNegativeInt(unit: string): z.ZodDefault<z.ZodNumber> {
  const expected = `expected a non-negative integer (${unit})`;
  return z
    .number({ error: expected })
    .int({ error: expected })
    .min(0, { error: expected })
    .default(0);
}

/** Hints for the `too_big` issues of duration attributes, by their message. */
const durationHints = new Map<string, string>();

/**
 * A duration attribute: a non-negative integer of milliseconds (or microseconds) that a Node
 * timer can hold, defaulting to 0.
 */
export function duration(unit: 'milliseconds' | 'microseconds'): z.ZodDefault<z.ZodNumber> {
  const expected = `expected a non-negative integer (${unit})`;
  const max = unit === 'milliseconds' ? MAX_TIMER_MS : MAX_TIMER_MS * 1000;
  const tooBig = `expected at most ${max} ${unit}`;
  durationHints.set(
    tooBig,
    `the maximum is ${max} ${unit} (${MAX_TIMER_MS} ms, about 24.8 days: the longest a timer can wait)`,
  );
  return z
    .number({ error: expected })
    .int({ error: expected })
    .min(0, { error: expected })
    .max(max, { error: tooBig })
    .default(0);
}

/** Builds a `parse` function from a zod object schema. */
export function attributeParser(schema: z.ZodObject): ToxicDefinition['parse'] {
  const known = Object.keys(schema.shape);
  return (raw: unknown) => {
    const input = raw === undefined || raw === null ? {} : raw;
    const issues: AttributeIssue[] = [];
    if (typeof input === 'object' && !Array.isArray(input)) {
      for (const key of Object.keys(input)) {
        if (known.includes(key)) continue;
        issues.push({
          path: key,
          message: 'unknown attribute',
          hint:
            known.length === 0
              ? 'this toxic takes no attributes'
              : suggest(key, known)?.replace(/^expected one of/, 'known attributes:'),
        });
      }
    }
    const result = schema.safeParse(input);
    if (!result.success) {
      for (const issue of result.error.issues) {
        const hint = durationHints.get(issue.message);
        issues.push({
          path: issue.path.map(String).join('.'),
          message: issue.message,
          ...(hint === undefined ? {} : { hint }),
        });
      }
    }
    if (issues.length > 0 || !result.success) return { issues };
    return { attributes: result.data };
  };
}
