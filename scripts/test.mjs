#!/usr/bin/env node
// Runs the whole test suite with Node's own test runner (TypeScript through tsx), prints the
// spec report, and ends with one line `N passed, N failed, N skipped` taken from the runner's
// TAP report. Exits non-zero when any test failed or the runner itself failed.
//
// Usage: node scripts/test.mjs [filter…]   (a filter keeps the files whose path contains it)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function find(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...find(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const files = ['src', 'test']
  .flatMap((d) => find(join(root, d)))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const tmp = mkdtempSync(join(tmpdir(), 'faultline-test-'));
const tap = join(tmp, 'report.tap');
const args = [
  '--import',
  'tsx',
  '--test',
  '--test-concurrency=1',
  '--test-timeout=300000',
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  '--test-reporter=tap',
  `--test-reporter-destination=${tap}`,
  ...files,
];
const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
const forward = (signal) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
child.on('exit', (code, signal) => {
  let report = '';
  try {
    report = readFileSync(tap, 'utf8');
  } catch {
    // The runner died before writing its report.
  }
  rmSync(tmp, { recursive: true, force: true });
  const count = (key) => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(report)?.[1] ?? 0);
  const passed = count('pass');
  const failed = count('fail') + count('cancelled');
  const skipped = count('skipped') + count('todo');
  const ranNothing = passed + failed === 0;
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  if (signal) process.exit(1);
  process.exit(code === 0 && failed === 0 && !ranNothing ? 0 : 1);
});
