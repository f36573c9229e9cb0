/**
 * Attribute schemas for toxics. Each toxic declares its attributes as a zod object; this module
 * turns that into the `parse` function of {@link ToxicDefinition}: defaults filled in (Toxiproxy
 * echoes every attribute, zero when unset), unknown attributes dropped, and every problem
 * reported with its path and what was expected.
 */
import { z } from 'zod';
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

/** Builds a `parse` function from a zod object schema. */
export function attributeParser(
  schema: z.ZodObject,
): ToxicDefinition['parse'] {
  return (raw: unknown) => {
    const input = raw === undefined || raw === null ? {} : raw;
    const result = schema.safeParse(input);
    if (result.success) return { attributes: result.data as Record<string, unknown> };
    const issues: AttributeIssue[] = result.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.'),
      message: issue.message,
    }));
    return { issues };
  };
}
