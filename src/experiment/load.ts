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
import { isMap, isNode, isPair, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../errors.js';
import { networkStepIssues } from '../faults/network/checks.js';
import { postgresStepIssues, postgresTargetIssues } from '../faults/postgres/checks.js';
import { suggest } from '../faults/proxy/toxic-entry.js';
import { rabbitmqStepIssues, rabbitmqTargetIssues } from '../faults/rabbitmq/checks.js';
import { redisStepIssues, redisTargetIssues } from '../faults/redis/checks.js';
import { hostStepIssues } from '../faults/resources/checks.js';
import { canRealise, capabilityHint } from '../targets/capabilities.js';
import { Experiment, faultTypes } from './schema.js';

/** The result of a successful load. */
export interface LoadedExperiment {
  experiment: Experiment;
  /** Where it came from, for messages. */
  file: string;
}

/** Reads and validates an experiment file. Throws {@link ValidationError} with every problem. */
export async function loadExperimentFile(file: string, options: LoadOptions = {}): Promise<LoadedExperiment> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ValidationError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : String(err)}`, [
      { path: '', file, message: code === 'ENOENT' ? 'no such file' : `cannot read the file (${code ?? 'error'})` },
    ]);
  }
  return { experiment: parseExperiment(text, file, options), file };
}

export interface LoadOptions {
  /** Variable names given outside the file (`--var name=value`), so `${name}` is declared. */
  vars?: readonly string[] | undefined;
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
 * duplicate keys rejected, alias bombs stopped. Throws a ValidationError with every problem.
 */
export function readDocument(text: string, file = '<input>'): ReadDocument {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, customTags: [] });
  const issues: ValidationIssue[] = [];
  const locateOffset = (offset: number | undefined): Pick<ValidationIssue, 'file' | 'line' | 'column'> => {
    if (offset === undefined) return { file };
    const pos = lines.linePos(offset);
    return { file, line: pos.line, column: pos.col };
  };

  for (const error of doc.errors) {
    issues.push({ path: '', message: `YAML syntax: ${firstLine(error.message)}`, ...locateOffset(error.pos[0]) });
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

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // Unresolved aliases and alias bombs surface here, not as parse errors.
    throw located(file, [{ path: '', message: `YAML: ${firstLine(err instanceof Error ? err.message : String(err))}`, file }]);
  }
  if (data === null || data === undefined) {
    throw located(file, [{ path: '', message: 'the file is empty', hint: 'an experiment needs at least a title and a method', file }]);
  }
  return { data, doc, locateOffset, locatePath: (path) => locateOffset(offsetOf(doc, path)) };
}

/** Validates experiment text (YAML or JSON; JSON is YAML). */
export function parseExperiment(text: string, file = '<input>', options: LoadOptions = {}): Experiment {
  return validateExperiment(readDocument(text, file), file, options);
}

/** Validates an already-read document against faultline's format. */
export function validateExperiment(read: ReadDocument, file: string, options: LoadOptions = {}): Experiment {
  const { data, doc, locateOffset: locate } = read;
  const issues: ValidationIssue[] = [];
  const result = Experiment.safeParse(data);
  if (!result.success) {
    for (const issue of flattenIssues(result.error.issues, data)) issues.push(toIssue(issue, doc, data, locate));
  }
  // Cross-references are checked on the raw document too, so one pass reports everything.
  for (const issue of crossReferences(data, options.vars ?? [])) {
    issues.push({ ...issue, ...locate(offsetOf(doc, issue.path)) });
  }
  if (issues.length > 0 || !result.success) {
    issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    throw located(file, dedupe(issues));
  }
  return result.data;
}

// --- zod issues → located issues -------------------------------------------------------------

type ZodIssue = z.core.$ZodIssue;

/**
 * Unions report one list of issues per branch. Keep the branch that came closest (the one
 * whose discriminating key matched), so a step with `wait: 3` says "expected a duration", not
 * "expected one of four shapes".
 */
function flattenIssues(issues: readonly ZodIssue[], data: unknown, prefix: PropertyKey[] = []): ZodIssue[] {
  const out: ZodIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const best = [...issue.errors].sort((a, b) => branchScore(a, data, path) - branchScore(b, data, path))[0]!;
      out.push(...flattenIssues(best, data, path));
    } else if (issue.code === 'unrecognized_keys' && issue.keys.length > 1) {
      for (const key of issue.keys) out.push({ ...issue, keys: [key], path } as ZodIssue);
    } else {
      out.push({ ...issue, path } as ZodIssue);
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
    else if (issue.code === 'invalid_type' && atUnionLevel && !isPresent(data, [...prefix, ...issue.path])) score += 10;
    else if (issue.code === 'invalid_union' && (issue as { discriminator?: string }).discriminator) score += 25;
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
    const choices = discriminator === 'fault' ? faultTypes : ['proxy', 'remote-proxy', 'process', 'kubernetes'];
    return {
      path: formatPath([...path, discriminator]),
      message: value === undefined ? `missing "${discriminator}"` : `unknown ${discriminator} "${String(value)}"`,
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
  return { path: pathText, message: issue.message, ...locate(offsetOf(doc, pathText)) };
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
  const hint = suggest(input, candidates.filter((c) => c !== input));
  return hint?.startsWith('did you mean') ? hint : undefined;
}

const KNOWN_KEYS = [
  'title', 'description', 'tags', 'environment', 'configuration', 'secrets', 'targets', 'steadyState',
  'method', 'rollbacks', 'runtime', 'safety', 'probes', 'type', 'upstream', 'listen', 'mode', 'url',
  'proxy', 'token', 'pid', 'pidfile', 'match', 'namespace', 'selector', 'value', 'name', 'http',
  'tcp', 'command', 'expect', 'method', 'headers', 'body', 'timeout', 'status', 'json', 'header',
  'latency', 'run', 'env', 'cwd', 'exitCode', 'stdout', 'stderr', 'host', 'port', 'open', 'fault',
  'target', 'duration', 'percentage', 'delay', 'jitter', 'stream', 'rate', 'after', 'averageSize',
  'sizeVariation', 'bytes', 'pathPrefix', 'pathRegex', 'wait', 'probe', 'action', 'background',
  'pauses', 'before', 'hypothesis', 'hypothesisFrequency', 'maxDuration', 'default', 'equals',
  'contains', 'regex', 'path', 'sql', 'redis', 'prometheus', 'query', 'below', 'above', 'atMost',
  'atLeast', 'load', 'thresholds', 'abortWhen', 'connections', 'baseline', 'recovery',
  // kubernetes targets and faults
  'port', 'service', 'direction', 'peer', 'peerHosts', 'loss', 'correlation', 'duplicate', 'corrupt', 'gracePeriod',
  'containers', 'workers', 'size', 'volumePath', 'methods', 'errno', 'patterns', 'offset',
];

/** Is there a value at `path` in the parsed data? */
function isPresent(data: unknown, path: readonly PropertyKey[]): boolean {
  let current: unknown = data;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return false;
    if (!Object.hasOwn(current, part as string)) return false;
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
      if (isPair(item) && isScalar(item.key) && item.key.value === key && item.key.range) return item.key.range[0];
    }
  }
  return offsetOf(doc, formatPath(path.slice(0, -1)));
}

// --- cross-references ------------------------------------------------------------------------

const PROXY_FAULTS = new Set(['latency', 'bandwidth', 'timeout', 'reset-peer', 'slow-close', 'slicer', 'limit-data', 'disable', 'connect-delay', 'refuse', 'blackhole']);
const HTTP_FAULTS = new Set(['http-abort', 'http-delay']);

type Loose = Record<string, unknown>;
const asObject = (value: unknown): Loose | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Loose) : undefined;

/** Checks references between parts of the document; tolerant of shapes the schema rejected. */
function crossReferences(data: unknown, vars: readonly string[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const root = asObject(data);
  if (!root) return issues;
  const steady = asObject(root['steadyState']);
  const safety = asObject(root['safety']);
  const hasLoad = !!asObject(steady?.['load']);
  if (!hasLoad && Array.isArray(steady?.['thresholds']) && steady['thresholds'].length > 0) {
    issues.push({ path: 'steadyState.thresholds', message: 'thresholds are measured on load, and there is none', hint: 'add steadyState.load: { url, rate }' });
  }
  if (!hasLoad && Array.isArray(safety?.['abortWhen']) && safety['abortWhen'].length > 0) {
    issues.push({ path: 'safety.abortWhen', message: 'stop conditions are measured on load, and there is none', hint: 'add steadyState.load: { url, rate }' });
  }
  const targets = asObject(root['targets']) ?? {};
  const targetNames = Object.keys(targets);
  // A process target selects by exactly one of pid, pidfile and match (the process family).
  for (const [name, raw] of Object.entries(targets)) {
    const target = asObject(raw);
    if (target?.['type'] !== 'process') continue;
    const given = ['pid', 'pidfile', 'match'].filter((k) => target[k] !== undefined);
    if (given.length !== 1) {
      issues.push({ path: `targets.${name}`, message: given.length === 0 ? 'a process target needs pid, pidfile or match' : `a process target selects by one of pid, pidfile and match, not ${given.join(' and ')}`, hint: 'pid: 1234, pidfile: /run/app.pid, or match: "^node server.js" (with maxProcesses if more than one may match)' });
    }
  }
  for (const [name, raw] of Object.entries(targets)) {
    const target = asObject(raw);
    if (target?.['type'] === 'proxy' && asObject(target['tls']) && target['mode'] === 'http') {
      issues.push({ path: `targets.${name}.tls`, message: 'tls works with tcp proxies; this one is in HTTP mode', hint: 'use mode: tcp (HTTP faults cannot see inside TLS), or drop tls' });
    }
    if (target?.['type'] === 'postgres') issues.push(...postgresTargetIssues(target, `targets.${name}`));
    if (target?.['type'] === 'redis') issues.push(...redisTargetIssues(target, `targets.${name}`));
    if (target?.['type'] === 'rabbitmq') issues.push(...rabbitmqTargetIssues(target, `targets.${name}`));
  }
  const method = Array.isArray(root['method']) ? (root['method'] as unknown[]) : [];
  method.forEach((raw, index) => {
    const step = asObject(raw);
    if (!step || typeof step['fault'] !== 'string' || typeof step['target'] !== 'string') return;
    const fault = step['fault'];
    const targetName = step['target'];
    const path = `method[${index}]`;
    const target = asObject(targets[targetName]);
    if (!target) {
      issues.push({
        path: `${path}.target`,
        message: `unknown target "${targetName}"`,
        hint: targetNames.length ? suggest(targetName, targetNames) : 'declare it under targets:',
      });
      return;
    }
    const type = target['type'];
    // One table says which target types realise which faults (src/targets/capabilities.ts).
    if (typeof type === 'string' && faultTypes.includes(fault as never) && !canRealise(type, fault)) {
      issues.push({ path: `${path}.fault`, message: `${fault} cannot act on ${type} target "${targetName}"`, hint: capabilityHint(fault, type) });
    }
    if (type === 'host') issues.push(...hostStepIssues(step, path));
    if (type === 'network') issues.push(...networkStepIssues(step, path, target, targetName));
    if (type === 'postgres') issues.push(...postgresStepIssues(step, path));
    if (type === 'redis') issues.push(...redisStepIssues(step, path));
    if (type === 'rabbitmq') issues.push(...rabbitmqStepIssues(step, path));
    if (type === 'kubernetes') issues.push(...kubernetesStepIssues(step, path, targets));
    else for (const key of type === 'network' ? ['peer', 'peerHosts'] : ['direction', 'peer', 'peerHosts']) {
      if (key in step) issues.push({ path: `${path}.${key}`, message: `${key} applies to faults on kubernetes targets; "${targetName}" is a ${String(type)} target`, hint: type === 'proxy' || type === 'remote-proxy' ? 'a proxy fault chooses its direction with stream: upstream, downstream or both' : 'remove it' });
    }
    if (type === 'proxy' || type === 'remote-proxy') {
      const mode = type === 'proxy' ? (target['mode'] ?? 'tcp') : undefined;
      if (HTTP_FAULTS.has(fault) && mode === 'tcp') {
        issues.push({ path: `${path}.fault`, message: `${fault} needs a target in HTTP mode; "${targetName}" is a tcp proxy`, hint: `set mode: http on targets.${targetName}` });
      }
      if (fault === 'certificate' && type === 'proxy' && !asObject(target['tls'])) {
        issues.push({ path: `${path}.fault`, message: `certificate needs a TLS proxy; "${targetName}" has no tls`, hint: `add tls: { hostname: … } to targets.${targetName} and point the service at the proxy over TLS` });
      }
      if (PROXY_FAULTS.has(fault) && mode === 'http' && fault !== 'disable') {
        issues.push({ path: `${path}.fault`, message: `${fault} acts on TCP streams; "${targetName}" is an HTTP-mode proxy`, hint: 'use http-delay or http-abort, or a tcp proxy' });
      }
    }
  });
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
        hint: declared.size ? suggest(name, [...declared]) : 'declare it under configuration:, or pass --var name=value',
      });
    }
  }
  return issues;
}

/** Faults on a kubernetes target: proxy-only keys refused, the peer a kubernetes target. */
function kubernetesStepIssues(step: Loose, path: string, targets: Loose): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if ('stream' in step) issues.push({ path: `${path}.stream`, message: 'stream applies to proxy targets', hint: 'on a kubernetes target, say which traffic with direction: to, from or both (and peer or peerHosts)' });
  const peer = step['peer'];
  if (typeof peer === 'string') {
    const peerTarget = asObject(targets[peer]);
    if (!peerTarget) issues.push({ path: `${path}.peer`, message: `unknown target "${peer}"`, hint: suggest(peer, Object.keys(targets)) ?? 'declare it under targets:' });
    else if (peerTarget['type'] !== 'kubernetes') issues.push({ path: `${path}.peer`, message: `peer "${peer}" is a ${String(peerTarget['type'])} target; a peer must be a kubernetes target`, hint: 'for a dependency outside the cluster use peerHosts: [host or IP]' });
  }
  if (typeof peer === 'string' && step['peerHosts'] !== undefined) issues.push({ path: `${path}.peerHosts`, message: 'peer and peerHosts cannot be combined', hint: 'use one fault per peer' });
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
      ? `${file}${first.line ? `:${first.line}:${first.column}` : ''}: ${first.path ? `${first.path}: ` : ''}${first.message}`
      : `${file}: ${issues.length} problems`;
  return new ValidationError(summary, issues, { hint: issues.length === 1 ? first?.hint : undefined });
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
