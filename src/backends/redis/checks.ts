/**
 * Load-time checks of faults on redis targets (src/experiment/read.ts calls them): what can be
 * refused from the document alone, with its JSON path, before anything runs. What depends on
 * the server (its version, CONFIG being allowed) is checked at preparation (./driver.ts).
 */
import type { ValidationIssue } from '../../errors.js';
import { parseDuration } from '../../experiment/duration.js';

type Loose = Record<string, unknown>;

const POLICIES = [
  'noeviction',
  'allkeys-lru',
  'allkeys-lfu',
  'allkeys-random',
  'volatile-lru',
  'volatile-lfu',
  'volatile-random',
  'volatile-ttl',
];

/** Issues of a redis target itself (its URL). */
export function redisTargetIssues(target: Loose, path: string): ValidationIssue[] {
  const url = target['url'];
  if (typeof url !== 'string' || url.includes('${')) return [];
  if (!/^rediss?:\/\//.test(url))
    return [
      {
        path: `${path}.url`,
        message: 'expected a redis:// or rediss:// URL',
        hint: 'e.g. redis://127.0.0.1:6379 (a user allowed CLIENT and CONFIG)',
      },
    ];
  return [];
}

/** `every` shorter than the fault's duration and not below `minMs`. Shared with the rabbitmq checks. */
export function everyIssues(step: Loose, path: string, minMs: number): ValidationIssue[] {
  if (typeof step['every'] !== 'string') return [];
  const every = parseDuration(step['every']);
  const duration =
    typeof step['duration'] === 'string' ? parseDuration(step['duration']) : undefined;
  if (every === undefined) return []; // the schema reports the format
  if (every < minMs)
    return [
      {
        path: `${path}.every`,
        message: `every ${step['every']} is too often (at least ${minMs} ms)`,
        hint: `every: ${minMs >= 1000 ? `${minMs / 1000}s` : `${minMs}ms`} or more`,
      },
    ];
  if (duration !== undefined && every >= duration)
    return [
      {
        path: `${path}.every`,
        message: `every ${step['every']} is not shorter than the duration ${String(step['duration'])}: only the first round would run`,
        hint: 'drop every (one round), or make it shorter than duration',
      },
    ];
  return [];
}

/** A match object that selects something: without one, a kill would take every client. */
export function matchIssues(
  step: Loose,
  path: string,
  keys: readonly string[],
  what: string,
): ValidationIssue[] {
  const match = step['match'];
  const m =
    match && typeof match === 'object' && !Array.isArray(match) ? (match as Loose) : undefined;
  if (match !== undefined && !m) return []; // the schema reports the type
  if (!m || !keys.some((k) => m[k] !== undefined)) {
    return [
      {
        path: m ? `${path}.match` : path,
        message: `${String(step['fault'])} needs match: without it every ${what} of the server would be taken`,
        hint: `name the application's ${what}s with match: ${keys.join(', ')} (exact, or a prefix ending in *)`,
      },
    ];
  }
  return [];
}

export function redisStepIssues(step: Loose, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  switch (step['fault']) {
    case 'redis-kill-clients':
      issues.push(...matchIssues(step, path, ['name', 'address', 'user', 'type'], 'client'));
      issues.push(...everyIssues(step, path, 100));
      break;
    case 'redis-maxmemory': {
      const size = step['maxmemory'];
      const m = typeof size === 'string' ? /^(\d+(?:\.\d+)?)(B|KB|MB|GB|%)$/.exec(size) : null;
      if (m && Number(m[1]) === 0)
        issues.push({
          path: `${path}.maxmemory`,
          message: 'maxmemory 0 means "no limit" to Redis: no memory pressure at all',
          hint: 'e.g. maxmemory: 1MB, or 50% (of the memory Redis uses now)',
        });
      else if (m && m[2] === '%' && Number(m[1]) >= 100)
        issues.push({
          path: `${path}.maxmemory`,
          message: `${String(size)} of the memory Redis uses is no pressure`,
          hint: 'a percentage below 100%, e.g. 50%: writes fail at once under noeviction',
        });
      const policy = step['policy'];
      if (typeof policy === 'string' && !POLICIES.includes(policy))
        issues.push({
          path: `${path}.policy`,
          message: `"${policy}" is not a maxmemory-policy`,
          hint: `one of ${POLICIES.join(', ')}`,
        });
      break;
    }
  }
  return issues;
}
