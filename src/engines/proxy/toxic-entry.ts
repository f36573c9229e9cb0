/**
 * A toxic as configured on a proxy: its name, type, stream, toxicity, attributes, lease and
 * live counters. Stateless with respect to connections: each connection builds its own stage
 * from it (see ../toxics/toxic.ts).
 */
import { BadRequestError, ValidationError, type ValidationIssue } from '../../errors.js';
import { findToxic, toxicTypes, type ToxicAttributes, type ToxicType } from './toxics/registry.js';
import type { StreamDirection, ToxicDefinition, ToxicStats } from './toxics/toxic.js';
import { suggest } from '../../shared/suggest.js';
import { PATH_NAME_HINT, pathNameProblem } from './path-name.js';

/** What every toxic creation body has besides its type and attributes. */
interface ToxicSpecCommon {
  /** Defaults to `<type>_<stream>`, as in Toxiproxy. */
  name?: string | undefined;
  /** Defaults to `downstream`. */
  stream?: StreamDirection | undefined;
  /** Probability from 0 to 1 that the toxic applies to a connection (HTTP mode: a request). */
  toxicity?: number | undefined;
  /**
   * Lease, in seconds: the proxy removes the toxic by itself when it runs out, so a crashed
   * runner cannot leave the fault behind. A faultline extension that Toxiproxy clients ignore.
   */
  expires_in?: number | undefined;
}

/**
 * What a caller gives to create a toxic (the Toxiproxy JSON body, plus `expires_in`): a union
 * on `type`, so each type takes exactly its attributes, each of its own type. `{type:
 * 'latency', attributes: {latency: '3s'}}` or `{latancy: 3000}` does not compile.
 */
export type ToxicSpec<T extends ToxicType = ToxicType> = T extends ToxicType
  ? ToxicSpecCommon & { type: T; attributes?: ToxicAttributes<T> | undefined }
  : never;

/**
 * A toxic body whose type is only known at run time (the API's JSON, a CLI's flags, a plan
 * built from an experiment): checked by {@link parseToxicSpec} all the same.
 */
export interface UntypedToxicSpec extends ToxicSpecCommon {
  type: string;
  attributes?: Record<string, unknown> | undefined;
}

/**
 * What a caller gives to update a toxic: attributes are merged, the rest kept when absent.
 * `T` narrows the attributes to one type's (`ToxicPatch<'latency'>`).
 */
export interface ToxicPatch<T extends ToxicType = ToxicType> {
  attributes?: ToxicAttributes<T> | undefined;
  toxicity?: number | undefined;
  /** A new lease from now, in seconds; 0 removes the lease. */
  expires_in?: number | undefined;
}

/** The JSON shape of a toxic on the API (Toxiproxy's key order, then faultline's extensions). */
export interface ToxicJson {
  attributes: Record<string, unknown>;
  name: string;
  type: string;
  stream: StreamDirection;
  toxicity: number;
  expires_at?: string;
  stats: ToxicStats;
}

export class ToxicEntry {
  readonly name: string;
  readonly type: string;
  readonly stream: StreamDirection;
  readonly definition: ToxicDefinition;
  toxicity: number;
  attributes: Record<string, unknown>;
  /** Bumped when `toxicity` changes: live connections re-draw their decision then (only then). */
  toxicityVersion = 0;
  /** Bumped when attributes change: live stages are updated or replaced. */
  attributesVersion = 0;
  /** Wall-clock deadline of the lease, if any. */
  expiresAt: Date | undefined;
  readonly stats: ToxicStats = { connections: 0, bytes: 0, requests: 0 };

  constructor(
    name: string,
    definition: ToxicDefinition,
    stream: StreamDirection,
    toxicity: number,
    attributes: Record<string, unknown>,
  ) {
    this.name = name;
    this.type = definition.type;
    this.definition = definition;
    this.stream = stream;
    this.toxicity = toxicity;
    this.attributes = attributes;
  }

  toJSON(): ToxicJson {
    const json: ToxicJson = {
      attributes: this.attributes,
      name: this.name,
      type: this.type,
      stream: this.stream,
      toxicity: this.toxicity,
      stats: { ...this.stats },
    };
    if (this.expiresAt) json.expires_at = this.expiresAt.toISOString();
    return json;
  }
}

/** Checks a toxic creation body; every problem is reported, with its JSON path. */
export function parseToxicSpec(
  raw: unknown,
  path = '',
): {
  definition: ToxicDefinition;
  name: string;
  stream: StreamDirection;
  toxicity: number;
  attributes: Record<string, unknown>;
  expiresIn: number | undefined;
} {
  const at = (key: string): string => (path ? `${path}.${key}` : key);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new BadRequestError('bad request body: expected a JSON object describing a toxic');
  }
  const body = raw as Record<string, unknown>;
  const issues: ValidationIssue[] = [];
  const type = body['type'];
  let definition: ToxicDefinition | undefined;
  if (typeof type !== 'string' || type === '') {
    issues.push({
      path: at('type'),
      message: 'missing required field: type',
      hint: `one of ${toxicTypes.join(', ')}`,
    });
  } else {
    definition = findToxic(type);
    if (!definition) {
      issues.push({
        path: at('type'),
        message: 'invalid toxic type',
        hint: suggest(type, toxicTypes),
      });
    }
  }
  const stream = body['stream'] ?? 'downstream';
  if (stream !== 'upstream' && stream !== 'downstream') {
    issues.push({
      path: at('stream'),
      message: 'stream was invalid, can be either upstream or downstream',
    });
  }
  const toxicity = checkToxicity(body['toxicity'], at('toxicity'), issues) ?? 1;
  const expiresIn = checkExpiresIn(body['expires_in'], at('expires_in'), issues);
  const name = body['name'] ?? '';
  if (typeof name !== 'string') {
    issues.push({ path: at('name'), message: 'expected a string' });
  } else if (name !== '') {
    // '' is no name: the default `<type>_<stream>` is used, as in Toxiproxy.
    const problem = pathNameProblem(name);
    if (problem)
      issues.push({ path: at('name'), message: `toxic name ${problem}`, hint: PATH_NAME_HINT });
  }
  let attributes: Record<string, unknown> = {};
  if (definition) {
    const parsed = definition.parse(body['attributes']);
    if ('issues' in parsed) {
      for (const issue of parsed.issues) {
        issues.push({
          path: [at('attributes'), issue.path].filter(Boolean).join('.'),
          message: issue.message,
          ...(issue.hint === undefined ? {} : { hint: issue.hint }),
        });
      }
    } else {
      attributes = parsed.attributes;
    }
  }
  if (issues.length > 0 || !definition) throw toxicIssues(issues);
  const streamValue = stream as StreamDirection;
  return {
    definition,
    name: (name as string) || `${definition.type}_${streamValue}`,
    stream: streamValue,
    toxicity,
    attributes,
    expiresIn,
  };
}

/** Checks an update body against the toxic's current attributes (merged, then validated). */
export function parseToxicPatch(
  entry: ToxicEntry,
  raw: unknown,
): {
  attributes: Record<string, unknown> | undefined;
  toxicity: number | undefined;
  expiresIn: number | undefined;
} {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new BadRequestError('bad request body: expected a JSON object');
  }
  const body = raw as Record<string, unknown>;
  const issues: ValidationIssue[] = [];
  const toxicity = checkToxicity(body['toxicity'], 'toxicity', issues);
  const expiresIn = checkExpiresIn(body['expires_in'], 'expires_in', issues, true);
  let attributes: Record<string, unknown> | undefined;
  if (body['attributes'] !== undefined) {
    if (typeof body['attributes'] !== 'object' || body['attributes'] === null) {
      issues.push({ path: 'attributes', message: 'expected an object' });
    } else {
      const parsed = entry.definition.parse({ ...entry.attributes, ...body['attributes'] });
      if ('issues' in parsed) {
        for (const issue of parsed.issues) {
          issues.push({
            path: ['attributes', issue.path].filter(Boolean).join('.'),
            message: issue.message,
            ...(issue.hint === undefined ? {} : { hint: issue.hint }),
          });
        }
      } else {
        attributes = parsed.attributes;
      }
    }
  }
  if (issues.length > 0) throw toxicIssues(issues);
  return { attributes, toxicity, expiresIn };
}

function checkToxicity(
  value: unknown,
  path: string,
  issues: ValidationIssue[],
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    issues.push({
      path,
      message: 'expected a number from 0 to 1',
      hint: '0.1 applies the toxic to 10 % of connections',
    });
    return undefined;
  }
  return value;
}

function checkExpiresIn(
  value: unknown,
  path: string,
  issues: ValidationIssue[],
  allowZero = false,
): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    (!allowZero && value === 0)
  ) {
    issues.push({
      path,
      message: 'expected a positive number of seconds',
      hint: 'the toxic is removed by the proxy itself when its lease runs out',
    });
    return undefined;
  }
  return value;
}

function toxicIssues(issues: ValidationIssue[]): ValidationError {
  // Toxiproxy's error strings where it has one, so its clients' users see familiar text.
  // The first problem in Toxiproxy's words where it has them; all of them in `issues`.
  const first = issues[0];
  const message = !first
    ? 'invalid toxic'
    : /(^|\.)(type|stream)$/.test(first.path)
      ? first.message
      : `${first.path}: ${first.message}`;
  return new ValidationError(message, issues, { hint: first?.hint });
}
