/**
 * Load-time checks of faults on rabbitmq targets (src/experiment/read.ts calls them): what can
 * be refused from the document alone, with its JSON path, before anything runs. Whether
 * rabbitmqctl reaches the node is checked at preparation (./driver.ts).
 */
import type { ValidationIssue } from '../../errors.js';
import { everyIssues, matchIssues } from '../redis/checks.js';

type Loose = Record<string, unknown>;

export function rabbitmqTargetIssues(target: Loose, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const url = target['url'];
  if (typeof url === 'string' && !url.includes('${') && !/^amqps?:\/\//.test(url))
    issues.push({
      path: `${path}.url`,
      message: 'expected an amqp:// or amqps:// URL',
      hint: 'e.g. amqp://guest:guest@127.0.0.1:5672',
    });
  const node = target['node'];
  if (
    typeof node === 'string' &&
    !node.includes('${') &&
    !/^[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+$/.test(node)
  )
    issues.push({
      path: `${path}.node`,
      message: `"${node}" is not an Erlang node name`,
      hint: 'name@host, e.g. rabbit@localhost (what rabbitmqctl -n takes)',
    });
  return issues;
}

export function rabbitmqStepIssues(step: Loose, path: string): ValidationIssue[] {
  if (step['fault'] !== 'rabbitmq-close-connections') return [];
  return [
    ...matchIssues(step, path, ['name', 'user', 'vhost'], 'connection'),
    ...everyIssues(step, path, 250),
  ];
}
