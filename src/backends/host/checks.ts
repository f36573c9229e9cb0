/**
 * Load-time checks of faults on host targets (src/experiment/read.ts calls them): what can be
 * refused from the document alone, with its JSON path, before anything runs. What depends on
 * the machine (free memory, the file system under a path) is checked again at preparation
 * (./driver.ts).
 */
import type { ValidationIssue } from '../../errors.js';
import {
  DISK_FLOOR_BYTES,
  DISK_FLOOR_FRACTION,
  MEMORY_CEILING_FRACTION,
  formatBytes,
  parseSize,
} from './size.js';

type Loose = Record<string, unknown>;

export function hostStepIssues(step: Loose, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (step['fault'] === 'disk-fill' && typeof step['remaining'] === 'string') {
    const size = parseSize(step['remaining']);
    if (size && 'bytes' in size && size.bytes < DISK_FLOOR_BYTES) {
      issues.push({
        path: `${path}.remaining`,
        message: `remaining ${step['remaining']} is below the safe minimum of ${formatBytes(DISK_FLOOR_BYTES)} of free space`,
        hint: `leave at least ${formatBytes(DISK_FLOOR_BYTES)} (or 1%) free: a full disk stops the machine's own logs and services, not just the one under test`,
      });
    }
    if (size && 'fraction' in size && size.fraction < DISK_FLOOR_FRACTION) {
      issues.push({
        path: `${path}.remaining`,
        message: `remaining ${step['remaining']} is below the safe minimum of 1% of the file system`,
        hint: 'use at least "1%", or a size of 64MB or more',
      });
    }
  }
  if (step['fault'] === 'memory-stress') {
    const size = typeof step['size'] === 'string' ? parseSize(step['size']) : undefined;
    if (size && 'fraction' in size && size.fraction > MEMORY_CEILING_FRACTION) {
      issues.push({
        path: `${path}.size`,
        message: `size ${String(step['size'])} would leave the machine too little memory`,
        hint: `at most ${MEMORY_CEILING_FRACTION * 100}% of the memory available`,
      });
    }
    if (typeof step['workers'] === 'number' && step['workers'] > 1) {
      issues.push({
        path: `${path}.workers`,
        message: 'a host target holds size in one agent process: workers does not apply',
        hint: 'remove workers; size is the total held',
      });
    }
  }
  return issues;
}
