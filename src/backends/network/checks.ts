/**
 * Load-time checks of faults on network targets (src/experiment/read.ts calls them): the
 * document alone shows a partition that would cut the whole machine off, or a host that is
 * not an address. Linux, root, the tools and netem are checked at preparation (./driver.ts).
 */
import type { ValidationIssue } from '../../errors.js';
import { parseHost } from './rules.js';

type Loose = Record<string, unknown>;

export function networkStepIssues(
  step: Loose,
  path: string,
  target: Loose,
  targetName: string,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (typeof target['host'] === 'string' && !parseHost(target['host'])) {
    issues.push({
      path: `targets.${targetName}.host`,
      message: `host ${target['host']} is not an IP address or CIDR`,
      hint: 'an address such as 10.0.0.2 or a network such as 10.0.0.0/24 (names are not resolved)',
    });
  }
  if (
    step['fault'] === 'partition' &&
    target['host'] === undefined &&
    target['port'] === undefined
  ) {
    issues.push({
      path: `${path}.fault`,
      message: `a partition on "${targetName}" needs host or port on the target: without them it would cut all of the machine's traffic`,
      hint: `set targets.${targetName}.host (and port) to the dependency to cut off`,
    });
  }
  return issues;
}
