// One policy for a test that needs an OS tool (faketime, chromium, dig, iptables, …):
//
//   - on a developer's machine without the tool, the test (or suite) is *skipped* with the exact
//     install line, and scripts/test.mjs counts it in its `N skipped`;
//   - in strict mode (CI=true, which .ci/run sets, or FAULTLINE_STRICT_TOOLS=1) a missing tool is
//     a *failure*: one failing test named after the tool, with the install line, so CI never
//     passes by skipping what it was meant to run.
//
// Usage: `describe('…', { skip: needTool(TOOLS.dig) }, () => …)` or the same in an `it` options
// object. needTool returns `false` when the tool is there.
import { existsSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { test } from 'node:test';
import { findLibfaketime } from '../../src/backends/process/faketime.js';

export interface Tool {
  /** What the test needs, as a reader knows it (`dig`, `libfaketime`). */
  name: string;
  /** The exact line that installs it on Debian. */
  install: string;
  /** Where it was found, or undefined. */
  find: () => string | undefined;
}

/** The first `names` found on PATH (or an absolute path that exists). */
export function findOnPath(...names: string[]): string | undefined {
  for (const name of names) {
    if (isAbsolute(name)) {
      if (existsSync(name)) return name;
      continue;
    }
    for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
      if (dir && existsSync(join(dir, name))) return join(dir, name);
    }
  }
  return undefined;
}

const onPath = (name: string, install: string, ...more: string[]): Tool => ({
  name,
  install,
  find: () => findOnPath(name, ...more),
});

const PG_BIN = '/usr/lib/postgresql/15/bin';

/** Every OS tool a test of the suite needs, with its Debian install line (README: "Tests"). */
export const TOOLS = {
  chromium: {
    name: 'chromium',
    install: 'apt-get install chromium (or set FAULTLINE_CHROMIUM to a Chromium binary)',
    find: () => process.env['FAULTLINE_CHROMIUM'] || findOnPath('chromium', 'chromium-browser'),
  },
  dig: onPath('dig', 'apt-get install bind9-dnsutils'),
  faketime: {
    name: 'libfaketime',
    install: 'apt-get install faketime',
    find: () => {
      try {
        return findLibfaketime();
      } catch {
        return undefined;
      }
    },
  },
  ip: onPath('ip', 'apt-get install iproute2'),
  tc: onPath('tc', 'apt-get install iproute2'),
  iptables: onPath('iptables', 'apt-get install iptables'),
  nft: onPath('nft', 'apt-get install nftables'),
  // Absolute paths: the tests start these binaries by path (Debian's packages put them there).
  prometheus: onPath('/usr/bin/prometheus', 'apt-get install prometheus'),
  // Chaos Toolkit's Python providers run in the user's python3 (standard library only here).
  python3: onPath('python3', 'apt-get install python3'),
  redisServer: onPath('redis-server', 'apt-get install redis-server'),
  rabbitmqServer: onPath('rabbitmq-server', 'apt-get install rabbitmq-server'),
  postgres: {
    name: 'PostgreSQL server binaries (initdb, pg_ctl)',
    install: 'apt-get install postgresql-15',
    find: () =>
      findOnPath(join(PG_BIN, 'initdb')) && findOnPath(join(PG_BIN, 'pg_ctl')) ? PG_BIN : undefined,
  },
} satisfies Record<string, Tool>;

/** Strict mode: a missing tool fails instead of skipping (CI=true, or FAULTLINE_STRICT_TOOLS=1). */
export function strictTools(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['FAULTLINE_STRICT_TOOLS'] === '1' || env['CI'] === 'true';
}

/** The skip reason for a missing tool: what is missing and the line that installs it. */
export function missingReason(tool: Tool): string {
  return `${tool.name} is not installed: ${tool.install}`;
}

/**
 * `false` when every tool is there; otherwise the skip reason (`dig is not installed:
 * apt-get install bind9-dnsutils`). In strict mode a missing tool also registers one failing test
 * at the caller's level (so call it where a test may be declared: at the top of a file or inside
 * a describe), and the tests that need the tool are still skipped rather than failing one by one.
 */
export function needTool(...tools: Tool[]): string | false {
  const missing = tools.filter((t) => t.find() === undefined);
  if (missing.length === 0) return false;
  const reason = missing.map(missingReason).join('; ');
  if (strictTools()) {
    test(`needs ${missing.map((t) => t.name).join(', ')} (strict mode: CI=true or FAULTLINE_STRICT_TOOLS=1)`, () => {
      throw new Error(`${reason}; a missing tool is a failure in strict mode`);
    });
  }
  return reason;
}
