/**
 * Load-time checks that depend on target types, asked of each type's backend: the target
 * declaration, whether the target can take the fault at all (with what would work instead),
 * the direction keys, and the backend's own checks of the step. They run on the raw document so
 * that one pass reports every problem, located by JSON path.
 */
import type { ValidationIssue } from '../errors.js';
import { faultTypes } from '../experiment/schema.js';
import type { RawObject } from '../backends/backend.js';
import { backendFor, canRealise, capabilityHint, isTargetType } from '../backends/registry.js';

const asObject = (value: unknown): RawObject | undefined =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as RawObject) : undefined;

const DIRECTION_KEYS = ['direction', 'peer', 'peerHosts'] as const;

export function targetChecks(root: RawObject): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const targets = asObject(root['targets']) ?? {};
  for (const [name, raw] of Object.entries(targets)) {
    const target = asObject(raw);
    const type = target?.['type'];
    if (!target || typeof type !== 'string' || !isTargetType(type)) continue;
    issues.push(...(backendFor(type).targetIssues?.(target, `targets.${name}`) ?? []));
  }
  const method = Array.isArray(root['method']) ? (root['method'] as unknown[]) : [];
  method.forEach((raw, index) => {
    const step = asObject(raw);
    if (!step || typeof step['fault'] !== 'string' || typeof step['target'] !== 'string') return;
    const fault = step['fault'];
    const targetName = step['target'];
    const path = `method[${index}]`;
    const target = asObject(targets[targetName]);
    const type = target?.['type'];
    if (!target || typeof type !== 'string' || !isTargetType(type)) return;
    const backend = backendFor(type);
    if (faultTypes.includes(fault as never) && !canRealise(type, fault)) {
      issues.push({
        path: `${path}.fault`,
        message: `${fault} cannot act on ${type} target "${targetName}"`,
        hint: capabilityHint(fault, type),
      });
    }
    for (const key of DIRECTION_KEYS) {
      if (key in step && !(backend.directionKeys ?? []).includes(key)) {
        issues.push({
          path: `${path}.${key}`,
          message: `${key} applies to faults on kubernetes targets; "${targetName}" is a ${type} target`,
          hint: backend.directionHint ?? 'remove it',
        });
      }
    }
    issues.push(...(backend.stepIssues?.({ step, path, target, targetName, targets }) ?? []));
  });
  return issues;
}
