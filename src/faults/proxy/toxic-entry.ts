/**
 * A toxic as configured on a proxy: its name, type, stream, toxicity, attributes, lease and
 * live counters. Stateless with respect to connections: each connection builds its own stage
 * from it (see ../toxics/toxic.ts).
 */
import { BadRequestError, ValidationError, type ValidationIssue } from '../../errors.js';
import { findToxic, toxicTypes } from '../toxics/registry.js';
import type { StreamDirection, ToxicDefinition, ToxicStats } from '../toxics/toxic.js';

/** What a caller gives to create a toxic (the Toxiproxy JSON body, plus `expires_in`). */
export interface ToxicSpec {
  /** Defaults to `<type>_<stream>`, as in Toxiproxy. */
  name?: string | undefined;
  type: string;
  /** Defaults to `downstream`. */
  stream?: StreamDirection | undefined;
  /** Probability from 0 to 1 that the toxic applies to a connection (HTTP mode: a request). */
  toxicity?: number | undefined;
  attributes?: Record<string, unknown> | undefined;
  /**
   * Lease, in seconds: the proxy removes the toxic by itself when it runs out, so a crashed
   * runner cannot leave the fault behind. A faultline extension that Toxiproxy clients ignore.
   */
  expires_in?: number | undefined;
}

/** What a caller gives to update a toxic: attributes are merged, the rest kept when absent. */
export interface ToxicPatch {
  attributes?: Record<string, unknown> | undefined;
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
export function parseToxicSpec(raw: unknown, path = ''): {
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
    issues.push({ path: at('type'), message: 'missing required field: type', hint: `one of ${toxicTypes.join(', ')}` });
  } else {
    definition = findToxic(type);
    if (!definition) {
      issues.push({ path: at('type'), message: 'invalid toxic type', hint: suggest(type, toxicTypes) });
    }
  }
  const stream = body['stream'] ?? 'downstream';
  if (stream !== 'upstream' && stream !== 'downstream') {
    issues.push({ path: at('stream'), message: 'stream was invalid, can be either upstream or downstream' });
  }
  const toxicity = checkToxicity(body['toxicity'], at('toxicity'), issues) ?? 1;
  const expiresIn = checkExpiresIn(body['expires_in'], at('expires_in'), issues);
  const name = body['name'] ?? '';
  if (typeof name !== 'string') {
    issues.push({ path: at('name'), message: 'expected a string' });
  } else if (name.includes('/')) {
    issues.push({ path: at('name'), message: 'toxic names cannot contain "/"', hint: 'the name becomes part of the API path' });
  }
  let attributes: Record<string, unknown> = {};
  if (definition) {
    const parsed = definition.parse(body['attributes']);
    if ('issues' in parsed) {
      for (const issue of parsed.issues) {
        issues.push({ path: [at('attributes'), issue.path].filter(Boolean).join('.'), message: issue.message });
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
): { attributes: Record<string, unknown> | undefined; toxicity: number | undefined; expiresIn: number | undefined } {
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
      const parsed = entry.definition.parse({ ...entry.attributes, ...(body['attributes'] as object) });
      if ('issues' in parsed) {
        for (const issue of parsed.issues) issues.push({ path: `attributes.${issue.path}`, message: issue.message });
      } else {
        attributes = parsed.attributes;
      }
    }
  }
  if (issues.length > 0) throw toxicIssues(issues);
  return { attributes, toxicity, expiresIn };
}

function checkToxicity(value: unknown, path: string, issues: ValidationIssue[]): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    issues.push({ path, message: 'expected a number from 0 to 1', hint: '0.1 applies the toxic to 10 % of connections' });
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
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    issues.push({ path, message: 'expected a positive number of seconds', hint: 'the toxic is removed by the proxy itself when its lease runs out' });
    return undefined;
  }
  return value;
}

function toxicIssues(issues: ValidationIssue[]): ValidationError {
  // Toxiproxy's error strings where it has one, so its clients' users see familiar text.
  const first = issues[0];
  const message =
    issues.length === 1 && first
      ? first.path.endsWith('type') || first.path.endsWith('stream')
        ? first.message
        : `${first.path}: ${first.message}`
      : `${issues.length} problems: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`;
  return new ValidationError(message, issues, { hint: first?.hint });
}

/** "did you mean …?" for a misspelt name, by edit distance. */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(input.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined && bestDistance <= Math.max(2, Math.floor(input.length / 3))) {
    return `did you mean "${best}"?`;
  }
  return `expected one of ${candidates.join(', ')}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
