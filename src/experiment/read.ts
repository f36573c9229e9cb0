/**
 * Loading an experiment file: YAML or JSON text → a typed, validated {@link Experiment}, or a
 * {@link ValidationError} listing **every** problem with its file:line:column, its path in the
 * document, what was expected and a hint. Pure: no network, no secrets read, no environment
 * lookups (a missing environment variable is a run-time matter, reported then).
 *
 * Steps: parse (YAML syntax errors located; custom tags such as `!!python/object` refused) →
 * schema (zod; unknown keys reported one by one with "did you mean") → cross-references
 * (every fault names a declared target of a kind that can carry it; `${var}` names a declared
 * configuration or secret key).
 */
import { readFile } from 'node:fs/promises';
import {
  isCollection,
  isMap,
  isNode,
  isPair,
  isScalar,
  Composer,
  LineCounter,
  Parser,
  visit,
  YAMLParseError,
  type Alias,
  type CST,
  type Document,
} from 'yaml';
import type { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../errors.js';
import { Experiment, faultTypes } from './schema.js';
import { suggest } from '../shared/suggest.js';
import { nestingProblem, yamlProblemIssue, yamlSyntaxProblems } from './yaml-syntax.js';
import { jsonSyntaxProblem } from './json-syntax.js';
import { substitute } from './substitute.js';

/** How many times aliases may be expanded in all (the `yaml` package's alias bomb guard). */
const MAX_ALIAS_COUNT = 100;

/** The result of a successful load. */
export interface ReadExperiment {
  experiment: Experiment;
  /** Where it came from, for messages. */
  file: string;
}

/** Reads and validates an experiment file. Throws {@link ValidationError} with every problem. */
export async function readExperimentFile(
  file: string,
  options: ReadOptions = {},
): Promise<ReadExperiment> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ValidationError(
      `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : String(err)}`,
      [
        {
          path: '',
          file,
          message: code === 'ENOENT' ? 'no such file' : `cannot read the file (${code ?? 'error'})`,
        },
      ],
    );
  }
  return { experiment: parseExperiment(text, file, options), file };
}

export interface ReadOptions {
  /** Variable names given outside the file (`--var name=value`), so `${name}` is declared. */
  vars?: readonly string[] | undefined;
  /**
   * Checks of the raw document beyond the model's own (what each target type allows), with JSON
   * paths; they are located and reported with the schema's problems, in one pass. The model
   * knows no backend: the run plan's reader passes the registry's (src/run-plan/read-experiment.ts).
   */
  checks?: ((root: Record<string, unknown>) => ValidationIssue[]) | undefined;
}

/** A YAML/JSON document read with positions: its data, and where a JSON path sits in the text. */
export interface ReadDocument {
  data: unknown;
  doc: Document;
  /** file:line:column of the value at a JSON path such as `method[2].provider.url`. */
  locatePath(path: string): Pick<ValidationIssue, 'file' | 'line' | 'column'>;
  locateOffset(offset: number | undefined): Pick<ValidationIssue, 'file' | 'line' | 'column'>;
}

/**
 * Parses YAML or JSON text: syntax errors located, custom tags (`!!python/object`…) refused,
 * duplicate keys rejected, alias bombs stopped, unresolved aliases named, nesting bounded, and a
 * `.json` file held to strict JSON. Throws a ValidationError with every problem, each located
 * (an empty file at line 1, column 1).
 */
export function readDocument(text: string, file = '<input>'): ReadDocument {
  const lines = new LineCounter();
  const start = { file, line: 1, column: 1 };
  if (/^\uFEFF?\s*$/.test(text) || (!/\.json$/i.test(file) && isOnlyComments(text))) {
    throw located(file, [{ path: '', ...EMPTY, ...start }]);
  }
  // Before the parser composes it (which recurses): a located message, not a stack overflow.
  // The text is tokenised once; its nesting is checked on the tokens, before they are composed
  // into a document (which recurses): a located message, not a stack overflow.
  const tokens = Array.from(new Parser(lines.addNewLine).parse(text));
  const tooDeep = nestingProblem(tokens);
  if (tooDeep) {
    const pos = lines.linePos(tooDeep.offset ?? 0);
    throw located(file, [
      {
        path: '',
        message: tooDeep.message,
        hint: tooDeep.hint,
        file,
        line: pos.line,
        column: pos.col,
      },
    ]);
  }
  const doc = composeDocument(tokens, text.length);
  const issues: ValidationIssue[] = [];
  const locateOffset = (
    offset: number | undefined,
  ): Pick<ValidationIssue, 'file' | 'line' | 'column'> => {
    if (offset === undefined) return { file };
    const pos = lines.linePos(offset);
    return { file, line: pos.line, column: pos.col };
  };

  const json = /\.json$/i.test(file) ? jsonSyntaxProblem(text) : undefined;
  if (json) issues.push(yamlProblemIssue(json, locateOffset));
  else
    for (const problem of yamlSyntaxProblems(text, doc.errors)) {
      issues.push(yamlProblemIssue(problem, locateOffset));
    }
  for (const warning of doc.warnings) {
    if (warning.code === 'TAG_RESOLVE_FAILED') {
      issues.push({
        path: '',
        message: `unsafe or unknown YAML tag refused: ${firstLine(warning.message)}`,
        hint: 'experiment files are plain data: remove the tag',
        ...locateOffset(warning.pos[0]),
      });
    }
  }
  if (issues.length > 0) throw located(file, issues);

  // Unresolved aliases surface only when the document is turned into data: find them first,
  // each at its own place.
  const aliases: Alias[] = [];
  visit(doc, {
    Alias: (_, node) => {
      aliases.push(node);
    },
  });
  for (const alias of aliases) {
    if (!alias.resolve(doc)) {
      issues.push({
        path: '',
        message: `the alias *${alias.source} names no anchor before it`,
        hint: `define &${alias.source} on a value above this line (an alias can only point back)`,
        ...locateOffset(alias.range?.[0]),
      });
    }
  }
  if (issues.length > 0) throw located(file, issues);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // An alias bomb (aliases of aliases, expanding exponentially) is stopped here.
    const bomb = aliases.find((a) => containsAlias(a.resolve(doc))) ?? aliases[0];
    throw located(file, [
      {
        path: '',
        message: /Excessive alias count/.test(String(err))
          ? `aliases expand to too many values (more than ${MAX_ALIAS_COUNT}): a YAML alias bomb`
          : `YAML: ${firstLine(err instanceof Error ? err.message : String(err))}`,
        hint: 'write the values out, or use fewer and un-nested aliases',
        ...(bomb ? locateOffset(bomb.range?.[0]) : start),
      },
    ]);
  }
  if (data === null || data === undefined) {
    throw located(file, [{ path: '', ...EMPTY, ...locateOffset(doc.contents?.range[0] ?? 0) }]);
  }
  return { data, doc, locateOffset, locatePath: (path) => locateOffset(offsetOf(doc, path)) };
}

/** What `parseDocument` does, on tokens already read: the first document, and an error for more. */
function composeDocument(tokens: readonly CST.Token[], length: number): Document.Parsed {
  const composer = new Composer({ prettyErrors: false, uniqueKeys: true, customTags: [] });
  let doc: Document.Parsed | undefined;
  for (const next of composer.compose(tokens, true, length)) {
    if (!doc) doc = next;
    else {
      doc.errors.push(
        new YAMLParseError(
          [next.range[0], next.range[1]],
          'MULTIPLE_DOCS',
          'Source contains multiple documents; please use YAML.parseAllDocuments()',
        ),
      );
      break;
    }
  }
  // compose(…, true, …) always ends with a document, an empty one for an empty text.
  return doc!;
}

const EMPTY = {
  message: 'the file is empty',
  hint: 'an experiment needs at least a title and a method',
};

/** Only comments and blank lines (YAML): empty too. */
function isOnlyComments(text: string): boolean {
  return text.split('\n').every((line) => /^\uFEFF?\s*(#.*)?$/.test(line));
}

/** Does a node hold an alias anywhere inside (an alias of aliases)? */
function containsAlias(node: unknown): boolean {
  if (!isCollection(node)) return false;
  let found = false as boolean;
  visit(node, {
    Alias: () => {
      found = true;
      return visit.BREAK;
    },
  });
  return found;
}

/** Validates experiment text (YAML or JSON; JSON is YAML). */
export function parseExperiment(
  text: string,
  file = '<input>',
  options: ReadOptions = {},
): Experiment {
  return validateExperiment(readDocument(text, file), file, options);
}

/** Validates an already-read document against faultline's format. */
export function validateExperiment(
  read: ReadDocument,
  file: string,
  options: ReadOptions = {},
): Experiment {
  const { data, doc } = read;
  const locate = (offset: number | undefined): Pick<ValidationIssue, 'file' | 'line' | 'column'> =>
    read.locateOffset(offset);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw located(file, [
      {
        path: '',
        message: `an experiment is a mapping of keys, not ${Array.isArray(data) ? 'a list' : `a ${typeof data}`}`,
        hint: 'start with "title:" and "method:" at the beginning of a line',
        ...locate(doc.contents?.range?.[0] ?? 0),
      },
    ]);
  }
  const issues: ValidationIssue[] = [];
  const result = Experiment.safeParse(data);
  if (!result.success) {
    for (const issue of flattenIssues(result.error.issues, data))
      issues.push(toIssue(issue, doc, data, locate));
  }
  // Cross-references are checked on the raw document too, so one pass reports everything.
  for (const issue of crossReferences(data, options.vars ?? [], options.checks)) {
    issues.push({ ...issue, ...locate(offsetOf(doc, issue.path)) });
  }
  // Variables the file fixes itself (a literal under configuration or secrets, not overridden
  // by --var) are known now: their values are checked where they are used, as run will.
  if (result.success && issues.length === 0) {
    const fixed = new Map<string, unknown>();
    for (const section of [result.data.configuration, result.data.secrets])
      for (const [name, entry] of Object.entries(section ?? {}))
        if (typeof entry !== 'object' && !(options.vars ?? []).includes(name))
          fixed.set(name, entry);
    if (fixed.size > 0) {
      const { configuration: _c, secrets: _s, ...used } = result.data;
      for (const issue of substitutedIssues(substitute(used, fixed)))
        issues.push({ ...issue, ...locate(offsetOf(doc, issue.path)) });
    }
  }
  if (issues.length > 0 || !result.success) {
    issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    throw located(file, dedupe(issues));
  }
  return result.data;
}

/**
 * The schema's problems of an experiment whose `${variables}` have been substituted (at run
 * time): a value the file left to a variable is checked as the file's own values were, so `run`
 * refuses what `validate` would have refused had it been written out. By JSON path (there is no
 * text to locate in), and without the value itself, which may hold a secret.
 */
export function substitutedIssues(data: unknown): Array<Omit<ValidationIssue, 'file'>> {
  const result = Experiment.safeParse(data);
  if (result.success) return [];
  return flattenIssues(result.error.issues, data).map((issue) => ({
    path: formatPath(issue.path),
    message: `once its variables are substituted: ${issue.message}`,
    hint: issueHint(issue),
  }));
}

// --- zod issues → located issues -------------------------------------------------------------

type ZodIssue = z.core.$ZodIssue;

/**
 * Unions report one list of issues per branch. Keep the branch that came closest (the one
 * whose discriminating key matched), so a step with `wait: 3` says "expected a duration", not
 * "expected one of four shapes".
 */
function flattenIssues(
  issues: readonly ZodIssue[],
  data: unknown,
  prefix: PropertyKey[] = [],
): ZodIssue[] {
  const out: ZodIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const best = [...issue.errors].sort(
        (a, b) => branchScore(a, data, path) - branchScore(b, data, path),
      )[0]!;
      out.push(...flattenIssues(best, data, path));
    } else if (issue.code === 'unrecognized_keys' && issue.keys.length > 1) {
      for (const key of issue.keys) out.push({ ...issue, keys: [key], path });
    } else if (issue.code === 'invalid_key' && issue.issues.length > 0) {
      // A record key refused by a value check (a header name): its own message, at the key.
      out.push(...issue.issues.map((inner) => ({ ...inner, path })));
    } else {
      out.push({ ...issue, path });
    }
  }
  return out;
}

function branchScore(issues: readonly ZodIssue[], data: unknown, prefix: PropertyKey[]): number {
  // The right branch is the one that recognises the most of what was written: count keys it
  // does not know and keys it misses, at the level of the union; other problems weigh little.
  let score = 0;
  for (const issue of issues) {
    const atUnionLevel = issue.path.length <= 1;
    if (issue.code === 'unrecognized_keys' && atUnionLevel) score += 10 * issue.keys.length;
    else if (
      issue.code === 'invalid_type' &&
      atUnionLevel &&
      !isPresent(data, [...prefix, ...issue.path])
    )
      score += 10;
    else if (issue.code === 'invalid_union' && (issue as { discriminator?: string }).discriminator)
      score += 25;
    else if (issue.code === 'invalid_value' && atUnionLevel) score += 20;
    else score += 1;
  }
  return score;
}

function toIssue(
  issue: ZodIssue,
  doc: Document,
  data: unknown,
  locate: (offset: number | undefined) => Pick<ValidationIssue, 'file' | 'line' | 'column'>,
): ValidationIssue {
  const path = [...issue.path] as (string | number)[];
  const pathText = formatPath(path);
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    return {
      path: formatPath([...path, key]),
      message: `unknown key "${key}"`,
      hint: closeMatch(key, KNOWN_KEYS) ?? 'remove it, or check the spelling and the indentation',
      ...locate(keyOffset(doc, [...path, key])),
    };
  }
  if (issue.code === 'invalid_union' && (issue as { discriminator?: string }).discriminator) {
    const discriminator = (issue as { discriminator: string }).discriminator;
    if (path[path.length - 1] === discriminator) path.pop();
    const value = doc.getIn([...path, discriminator]);
    const choices =
      discriminator === 'fault' ? faultTypes : ['proxy', 'remote-proxy', 'process', 'kubernetes'];
    return {
      path: formatPath([...path, discriminator]),
      message:
        value === undefined
          ? `missing "${discriminator}"`
          : `unknown ${discriminator} "${String(value)}"`,
      hint: value === undefined ? `one of ${choices.join(', ')}` : suggest(String(value), choices),
      ...locate(offsetOf(doc, formatPath([...path, discriminator])) ?? offsetOf(doc, pathText)),
    };
  }
  if (issue.code === 'invalid_type' && !isPresent(data, path)) {
    return {
      path: pathText,
      message: `missing required key "${String(path[path.length - 1] ?? '')}"`,
      hint: issue.message,
      ...locate(offsetOf(doc, pathText)),
    };
  }
  return {
    path: pathText,
    message: issue.message,
    hint: issueHint(issue),
    ...locate(offsetOf(doc, pathText)),
  };
}

/** The hint a value check (schema.ts `check`) put in a custom issue's params. */
export function issueHint(issue: ZodIssue): string | undefined {
  if (issue.code !== 'custom') return undefined;
  const hint = (issue.params as { hint?: unknown } | undefined)?.hint;
  return typeof hint === 'string' ? hint : undefined;
}

/** Unions can report the same problem through several branches; keep each once. */
export function dedupe(issues: ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}|${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** "did you mean …?" only when a known key is close; otherwise nothing. */
function closeMatch(input: string, candidates: readonly string[]): string | undefined {
  const hint = suggest(
    input,
    candidates.filter((c) => c !== input),
  );
  return hint?.startsWith('did you mean') ? hint : undefined;
}

const KNOWN_KEYS = [
  'title',
  'description',
  'tags',
  'environment',
  'configuration',
  'secrets',
  'targets',
  'steadyState',
  'method',
  'rollbacks',
  'runtime',
  'safety',
  'probes',
  'type',
  'upstream',
  'listen',
  'mode',
  'url',
  'proxy',
  'token',
  'pid',
  'pidfile',
  'match',
  'namespace',
  'selector',
  'value',
  'name',
  'http',
  'tcp',
  'command',
  'expect',
  'method',
  'headers',
  'body',
  'timeout',
  'status',
  'json',
  'header',
  'latency',
  'run',
  'env',
  'cwd',
  'exitCode',
  'stdout',
  'stderr',
  'host',
  'port',
  'open',
  'fault',
  'target',
  'duration',
  'percentage',
  'delay',
  'jitter',
  'stream',
  'rate',
  'after',
  'averageSize',
  'sizeVariation',
  'bytes',
  'pathPrefix',
  'pathRegex',
  'wait',
  'probe',
  'action',
  'background',
  'pauses',
  'before',
  'hypothesis',
  'hypothesisFrequency',
  'maxDuration',
  'default',
  'equals',
  'contains',
  'regex',
  'path',
  'sql',
  'redis',
  'prometheus',
  'query',
  'below',
  'above',
  'atMost',
  'atLeast',
  'load',
  'thresholds',
  'abortWhen',
  'stopWhen',
  'alertmanager',
  'matchers',
  'every',
  'onError',
  'cloudwatchAlarm',
  'for',
  'connections',
  'warmup',
  'baseline',
  'recovery',
  // kubernetes targets and faults
  'port',
  'service',
  'direction',
  'peer',
  'peerHosts',
  'loss',
  'correlation',
  'duplicate',
  'corrupt',
  'gracePeriod',
  'containers',
  'workers',
  'size',
  'volumePath',
  'methods',
  'errno',
  'patterns',
  'offset',
];

/** Is there a value at `path` in the parsed data? */
function isPresent(data: unknown, path: readonly PropertyKey[]): boolean {
  let current: unknown = data;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return false;
    if (!Object.hasOwn(current, part)) return false;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current !== undefined;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function parsePath(path: string): (string | number)[] {
  const parts: (string | number)[] = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (match[2] !== undefined) parts.push(Number(match[2]));
    else if (match[1] !== undefined) parts.push(match[1]);
  }
  return parts;
}

/** Offset of the value at `path`, or of its nearest existing ancestor. */
function offsetOf(doc: Document, path: string): number | undefined {
  const parts = parsePath(path);
  for (let n = parts.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(parts.slice(0, n), true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return undefined;
}

/** Offset of the key node of the last path element (for unknown keys). */
function keyOffset(doc: Document, path: (string | number)[]): number | undefined {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  const key = path[path.length - 1];
  if (isMap(parent)) {
    for (const item of parent.items) {
      if (isPair(item) && isScalar(item.key) && item.key.value === key && item.key.range)
        return item.key.range[0];
    }
  }
  return offsetOf(doc, formatPath(path.slice(0, -1)));
}

// --- cross-references ------------------------------------------------------------------------

type Loose = Record<string, unknown>;
const asObject = (value: unknown): Loose | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Loose)
    : undefined;

/** Checks references between parts of the document; tolerant of shapes the schema rejected. */
function crossReferences(
  data: unknown,
  vars: readonly string[],
  checks: ReadOptions['checks'],
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const root = asObject(data);
  if (!root) return issues;
  const steady = asObject(root['steadyState']);
  const safety = asObject(root['safety']);
  const hasLoad = !!asObject(steady?.['load']);
  if (!hasLoad && Array.isArray(steady?.['thresholds']) && steady['thresholds'].length > 0) {
    issues.push({
      path: 'steadyState.thresholds',
      message: 'thresholds are measured on load, and there is none',
      hint: 'add steadyState.load: { url, rate }',
    });
  }
  if (!hasLoad && Array.isArray(safety?.['abortWhen']) && safety['abortWhen'].length > 0) {
    issues.push({
      path: 'safety.abortWhen',
      message: 'stop conditions are measured on load, and there is none',
      hint: 'add steadyState.load: { url, rate }',
    });
  }
  const targets = asObject(root['targets']) ?? {};
  const targetNames = Object.keys(targets);
  const method = Array.isArray(root['method']) ? (root['method'] as unknown[]) : [];
  method.forEach((raw, index) => {
    const step = asObject(raw);
    if (!step || typeof step['fault'] !== 'string' || typeof step['target'] !== 'string') return;
    const targetName = step['target'];
    if (!asObject(targets[targetName])) {
      issues.push({
        path: `method[${index}].target`,
        message: `unknown target "${targetName}"`,
        hint: targetNames.length ? suggest(targetName, targetNames) : 'declare it under targets:',
      });
    }
  });
  // What each target type allows is its backend's to say (src/run-plan/target-checks.ts).
  if (checks) issues.push(...checks(root));
  const declared = new Set([
    ...vars,
    ...Object.keys(asObject(root['configuration']) ?? {}),
    ...Object.keys(asObject(root['secrets']) ?? {}),
  ]);
  for (const { path, name } of variableReferences(root)) {
    if (!declared.has(name)) {
      issues.push({
        path,
        message: `\${${name}} is not declared under configuration or secrets`,
        hint: declared.size
          ? suggest(name, [...declared])
          : 'declare it under configuration:, or pass --var name=value',
      });
    }
  }
  return issues;
}

function variableReferences(root: Loose): Array<{ path: string; name: string }> {
  const found: Array<{ path: string; name: string }> = [];
  const walk = (value: unknown, path: string): void => {
    if (typeof value === 'string') {
      for (const match of value.matchAll(/\$\{([^}]+)\}/g)) found.push({ path, name: match[1]! });
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}[${i}]`));
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
    }
  };
  for (const [key, value] of Object.entries(root)) {
    if (key !== 'configuration' && key !== 'secrets') walk(value, key);
  }
  return found;
}

function located(file: string, issues: ValidationIssue[]): ValidationError {
  const first = issues[0];
  const summary =
    issues.length === 1 && first
      ? `${file}${first.line ? `:${first.line}:${String(first.column)}` : ''}: ${first.path ? `${first.path}: ` : ''}${first.message}`
      : `${file}: ${issues.length} problems`;
  return new ValidationError(summary, issues, {
    hint: issues.length === 1 ? first?.hint : undefined,
  });
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
