/**
 * Load-time checks of faults on postgres targets (src/experiment/read.ts calls them): what can
 * be refused from the document alone, with its JSON path, before anything runs. What depends on
 * the server (a table that does not exist, slots that are not free) is checked at preparation
 * and by the agents (./driver.ts, ./pool-agent.ts).
 */
import type { ValidationIssue } from '../../errors.js';
import { isAddressPattern } from './sessions.js';

type Loose = Record<string, unknown>;

/** Issues of a postgres target itself (its URL). */
export function postgresTargetIssues(target: Loose, path: string): ValidationIssue[] {
  const url = target['url'];
  if (typeof url !== 'string' || url.includes('${')) return []; // a variable: checked when it is resolved, by the driver
  if (!/^postgres(ql)?:\/\//.test(url)) {
    return [
      {
        path: `${path}.url`,
        message: 'expected a postgres:// or postgresql:// URL',
        hint: 'e.g. postgres://postgres@127.0.0.1:5432/app (an administrative user: faults need pg_stat_activity and pg_terminate_backend)',
      },
    ];
  }
  return [];
}

export function postgresStepIssues(step: Loose, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  switch (step['fault']) {
    case 'pg-pool-exhaustion': {
      const given = ['connections', 'leave'].filter((k) => step[k] !== undefined);
      if (given.length !== 1) {
        issues.push({
          path,
          message:
            given.length === 0
              ? 'pg-pool-exhaustion needs connections or leave'
              : 'pg-pool-exhaustion takes connections or leave, not both',
          hint: 'connections: N holds N connections; leave: N holds all but N of the free non-reserved slots',
        });
      }
      break;
    }
    case 'pg-slow-queries':
      if (step['table'] !== undefined && step['statement'] !== undefined) {
        issues.push({
          path: `${path}.statement`,
          message: 'pg-slow-queries takes table or statement, not both',
          hint: 'table: runs a heavy read of that table; statement: runs your statement in a loop',
        });
      }
      if (typeof step['statement'] === 'string' && !step['statement'].trim())
        issues.push({
          path: `${path}.statement`,
          message: 'the statement is empty',
          hint: 'e.g. "SELECT count(*) FROM orders o1, orders o2"',
        });
      break;
    case 'pg-lock':
      if (typeof step['table'] === 'string' && !step['table'].trim())
        issues.push({
          path: `${path}.table`,
          message: 'the table name is empty',
          hint: 'e.g. table: orders, or billing.orders',
        });
      break;
    case 'pg-terminate': {
      const match = step['match'];
      if (match && typeof match === 'object' && !Array.isArray(match)) {
        const m = match as Loose;
        if (!['application', 'user', 'address', 'database'].some((k) => m[k] !== undefined)) {
          issues.push({
            path: `${path}.match`,
            message: 'match selects nothing: it would terminate every session of the server',
            hint: "name the application's sessions: application, user, address or database",
          });
        }
        if (typeof m['address'] === 'string' && !isAddressPattern(m['address'])) {
          issues.push({
            path: `${path}.match.address`,
            message: `"${m['address']}" is not an IP address or network`,
            hint: 'e.g. 127.0.0.1 or 10.0.0.0/8 (the address clients connect from, as pg_stat_activity.client_addr shows it)',
          });
        }
      }
      break;
    }
  }
  return issues;
}
