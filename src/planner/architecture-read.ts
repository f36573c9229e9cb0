/**
 * Loading an architecture file: YAML or JSON text → a typed {@link Architecture}, or a
 * {@link ValidationError} listing **every** problem with file:line:column, in one pass: YAML
 * syntax (through the experiment loader's `readDocument`, so both files read alike), the
 * schema (missing fields, unknown keys with "did you mean", wrong values), then the meaning:
 * a dependency or a critical-path step naming nothing declared, a path step nothing earlier on
 * the path depends on, duplicate edges, and sync dependency cycles (named: `a → b → a`).
 */
import type { ValidationIssue } from '../errors.js';
import { parseLocated, readLocatedFile } from '../experiment/located-parse.js';
import { Architecture } from './architecture-schema.js';
import { findCycles } from './graph.js';
import { suggest } from '../shared/suggest.js';

/** Reads and validates an architecture file. Throws {@link ValidationError} with every problem. */
export async function readArchitectureFile(path: string, file = path): Promise<Architecture> {
  return parseArchitecture(await readLocatedFile(path, file), file);
}

/** Validates architecture text (YAML or JSON); meaning is checked on the raw data too, so one pass reports schema and graph problems. */
export function parseArchitecture(text: string, file = '<input>'): Architecture {
  return parseLocated(text, file, Architecture, {
    what: 'the architecture',
    knownKeys: KNOWN_KEYS,
    discriminators: { kind: KINDS },
    check: (data) => semanticIssues(data),
  });
}

const KINDS = ['database', 'cache', 'queue', 'service', 'dns', 'certificate'];
const KNOWN_KEYS = [
  'name',
  'description',
  'environment',
  'kubernetes',
  'services',
  'dependencies',
  'criticalPaths',
  'namespace',
  'labels',
  'criticality',
  'revenueImpact',
  'replicas',
  'transactional',
  'slo',
  'baseline',
  'consistency',
  'mitigations',
  'local',
  'dependsOn',
  'p99',
  'errorRate',
  'rps',
  'http',
  'jsonPath',
  'sql',
  'database',
  'gracefulShutdown',
  'idempotencyKeys',
  'loadShedding',
  'memoryLimit',
  'autoscaling',
  'url',
  'healthPath',
  'image',
  'port',
  'on',
  'mode',
  'purpose',
  'timeout',
  'retries',
  'attempts',
  'backoff',
  'circuitBreaker',
  'fallback',
  'pool',
  'consumes',
  'idempotent',
  'mtls',
  'addressEnv',
  'kind',
  'engine',
  'usedBy',
  'address',
  'externalHost',
  'failover',
  'volume',
  'diskAlerts',
  'durable',
  'cache',
  'rotation',
  'expiryAlerts',
  'steps',
];

// --- meaning ---------------------------------------------------------------------------------

type Issue = Omit<ValidationIssue, 'file' | 'line' | 'column'>;
type Loose = Record<string, unknown>;
const asObject = (value: unknown): Loose | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Loose)
    : undefined;

/**
 * References and cycles, checked on the raw document (tolerant of shapes the schema refused),
 * so a file with a typo and a cycle gets both in one pass.
 */
function semanticIssues(data: unknown): Issue[] {
  const issues: Issue[] = [];
  const root = asObject(data);
  if (!root) return issues;
  const services = asObject(root['services']) ?? {};
  const resources = asObject(root['dependencies']) ?? {};
  const serviceNames = Object.keys(services);
  const all = [...serviceNames, ...Object.keys(resources)];
  const known = new Set(all);

  for (const name of Object.keys(resources)) {
    if (name in services)
      issues.push({
        path: `dependencies.${name}`,
        message: `"${name}" is declared both as a service and as a dependency`,
        hint: 'rename one of them',
      });
  }
  const edges = new Map<string, Set<string>>();
  for (const [name, raw] of Object.entries(services)) {
    const dependsOn = asObject(raw)?.['dependsOn'];
    if (!Array.isArray(dependsOn)) continue;
    const targets = new Set<string>();
    dependsOn.forEach((rawEdge, index) => {
      const on = asObject(rawEdge)?.['on'];
      if (typeof on !== 'string') return;
      const path = `services.${name}.dependsOn[${index}].on`;
      if (!known.has(on))
        issues.push({
          path,
          message: `unknown service or dependency "${on}"`,
          hint: all.length ? suggest(on, all) : 'declare it under services: or dependencies:',
        });
      if (on === name)
        issues.push({
          path,
          message: `dependency cycle: ${name} → ${name}`,
          hint: 'a service cannot depend on itself',
        });
      else if (targets.has(on))
        issues.push({
          path,
          message: `"${on}" is listed twice in ${name}'s dependsOn`,
          hint: 'merge the two entries',
        });
      targets.add(on);
    });
    edges.set(name, targets);
    const consistency = asObject(asObject(raw)?.['consistency']);
    const database = consistency?.['database'];
    if (typeof database === 'string') {
      const kind = asObject(resources[database])?.['kind'];
      if (kind !== 'database') {
        issues.push({
          path: `services.${name}.consistency.database`,
          message: known.has(database)
            ? `"${database}" is not a database`
            : `unknown database "${database}"`,
          hint: suggest(
            database,
            Object.keys(resources).filter((r) => asObject(resources[r])?.['kind'] === 'database'),
          ),
        });
      }
    }
  }
  for (const [name, raw] of Object.entries(resources)) {
    const usedBy = asObject(raw)?.['usedBy'];
    if (!Array.isArray(usedBy)) continue;
    usedBy.forEach((user, index) => {
      if (typeof user === 'string' && !(user in services)) {
        issues.push({
          path: `dependencies.${name}.usedBy[${index}]`,
          message: `unknown service "${user}"`,
          hint: serviceNames.length ? suggest(user, serviceNames) : 'declare it under services:',
        });
      }
    });
  }
  const paths = Array.isArray(root['criticalPaths']) ? root['criticalPaths'] : [];
  paths.forEach((rawPath, p) => {
    const steps = asObject(rawPath)?.['steps'];
    if (!Array.isArray(steps)) return;
    steps.forEach((step, index) => {
      if (typeof step !== 'string') return;
      const path = `criticalPaths[${p}].steps[${index}]`;
      if (!known.has(step)) {
        issues.push({
          path,
          message: `unknown service or dependency "${step}"`,
          hint: all.length ? suggest(step, all) : 'declare it under services: or dependencies:',
        });
        return;
      }
      if (index === 0) return;
      const earlier = steps.slice(0, index).filter((s): s is string => typeof s === 'string');
      const calledBy = earlier.some(
        (s) => edges.get(s)?.has(step) || usedByIncludes(resources[step], s),
      );
      if (!calledBy) {
        issues.push({
          path,
          message: `no earlier step of the path depends on "${step}"`,
          hint: `add "${step}" to the dependsOn of ${earlier[earlier.length - 1] ?? 'the step before it'}, or reorder the steps`,
        });
      }
    });
  });
  // Cycles: only services have dependsOn, so only they can close one.
  const adjacency = new Map<string, Array<{ from: string; to: string; index: number }>>();
  for (const [name, raw] of Object.entries(services)) {
    const dependsOn = asObject(raw)?.['dependsOn'];
    if (!Array.isArray(dependsOn)) continue;
    dependsOn.forEach((rawEdge, index) => {
      const edge = asObject(rawEdge);
      const on = edge?.['on'];
      if (typeof on !== 'string' || on === name || !(on in services) || edge?.['mode'] === 'async')
        return;
      adjacency.set(name, [...(adjacency.get(name) ?? []), { from: name, to: on, index }]);
    });
  }
  for (const { cycle, edge } of findCycles(adjacency)) {
    issues.push({
      path: `services.${edge.from}.dependsOn[${edge.index}].on`,
      message: `dependency cycle: ${cycle.join(' → ')}`,
      hint: 'sync calls in a circle wait for each other; make one of them async (mode: async), or remove it',
    });
  }
  return issues;
}

function usedByIncludes(resource: unknown, service: string): boolean {
  const usedBy = asObject(resource)?.['usedBy'];
  return usedBy === 'all' || (Array.isArray(usedBy) && usedBy.includes(service));
}
