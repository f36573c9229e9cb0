#!/usr/bin/env node
// Runs the whole test suite with Node's own test runner (TypeScript through tsx), prints the
// spec report, and ends with one line `N passed, N failed, N skipped` added up from the
// runners' TAP reports. Exits non-zero when any test failed or a runner itself failed.
//
// Four groups, in this order:
//   - unit: the test files under src/ and test/architecture/, several at a time (the number of
//     cores + 2), with typecheck, lint and the format check beside them (--checks): all of them
//     CPU work that no timing depends on. Where `chrt` can set SCHED_IDLE (util-linux, on every
//     Debian), they run in the background from the start, beside the integration and paired
//     groups, in the kernel's idle class: they get only CPU time no normal process wants, so those
//     groups keep their CPU while the idle time between their waits does the unit work. The
//     serial group waits for the background to end: measured, an idle-class background still
//     took CPU from a normal process's duty cycle (the cpu-stress agent's 0.59–0.60 CPU/wall
//     fell to 0.32–0.49 beside lint and the unit group) and tripled a saturated proxy's control
//     API p50 (17.7 → 47.3 ms). Their output is kept and printed when they end. Without `chrt`
//     (or with FAULTLINE_TEST_BACKGROUND=0) the unit group runs first, alone with the checks;
//   - integration: every other file under test/ except test/serial/ and test/paired/, several
//     files at a time (FAULTLINE_TEST_CONCURRENCY, default the number of cores + 2: most files
//     spend their time waiting on sockets, child processes and timers, but they also hold faults
//     for fixed durations and read the clock. Measured on 2 cores, the group alone: 3 at a time
//     170 s with the CPU 69 % busy, 4 at a time 141 s (80 %), 5 at a time 136 s with a run's
//     time-to-recovery missed under the load. From the transpiled build, beside the background:
//     4 at a time 143–147 s, 5 at a time 136 s (one green run); it stays at 4, for the margin
//     its timed tests keep. The static checks never run beside it at the normal
//     priority: with four files plus the checks a clean CI run measured 8 load-induced failures;
//     in the idle class they take only what the group leaves);
//   - paired: the files under test/paired/, two at a time: demos and game days
//     whose verdicts rest on latency thresholds with a wide margin, and which mostly wait on the
//     clock (fault durations, recovery windows) at a few dozen requests a second. One such file
//     beside another keeps the margin (measured: see test/paired/README.md); a whole parallel
//     group beside it does not;
//   - serial: the files under test/serial/, one at a time, on a quiet machine (`quiet`: after
//     the background has ended). They measure time (latency and bandwidth accuracy, load
//     generator rates, stop-condition reaction times, a saturated proxy's answer times, verdicts
//     under load), which other test files running beside them would skew.
//
// "skipped" counts skipped and todo tests and skipped suites (a `describe(…, { skip })` is
// reported as one skipped suite, not as skipped tests).
//
// The unit group runs through tsx; the other three run from a transpiled build of src/ and test/
// (.test-build/, scripts/test-build.mjs says why: about half a CPU-second less per process, on
// a CPU-bound integration group).
//
// Files of a parallel group start longest first, by the seconds test/durations.json holds (a
// file it does not know counts as longest); `--write-durations` measures and saves them.
//
// Usage: node scripts/test.mjs [--checks] [--write-durations] [filter…]
//        (a filter keeps the files whose path contains it)
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { buildForTests, builtTestFile, sourceTestFile } from './test-build.mjs';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
// --checks: typecheck, lint and the format check run beside the unit group (they need no
// quiet machine), each counted as one test in the final line.
const withChecks = args.includes('--checks');
// --write-durations: save each file's measured time in test/durations.json, which orders the
// files of every later run longest first (a long file started last would run alone at the end).
const writeDurations = args.includes('--write-durations');
const filters = args.filter((a) => a !== '--checks' && a !== '--write-durations');
const SERIAL = `test${sep}serial${sep}`;
const PAIRED = `test${sep}paired${sep}`;
const cores = availableParallelism();
const concurrency = Number(process.env['FAULTLINE_TEST_CONCURRENCY'] || cores + 2);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(
    `FAULTLINE_TEST_CONCURRENCY must be a positive integer, not ${process.env['FAULTLINE_TEST_CONCURRENCY']}`,
  );
  process.exit(1);
}

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

const DURATIONS = join(root, 'test', 'durations.json');
/** Seconds per file from an earlier run (test/durations.json); a file not in it counts as longest. */
const known = (() => {
  try {
    return JSON.parse(readFileSync(DURATIONS, 'utf8'));
  } catch {
    return {};
  }
})();
const weight = (f) => known[f.split(sep).join('/')] ?? Number.POSITIVE_INFINITY;
/** Longest first, so that the files running in parallel end together; ties by name. */
const longestFirst = (list) =>
  [...list].sort((a, b) => weight(b) - weight(a) || (a < b ? -1 : a > b ? 1 : 0));

const ARCHITECTURE = `test${sep}architecture${sep}`;
const isUnit = (f) => f.startsWith(`src${sep}`) || f.startsWith(ARCHITECTURE);
const groups = [
  { name: 'unit', concurrency: cores + 2, files: files.filter(isUnit) },
  {
    name: 'integration',
    concurrency,
    files: files.filter((f) => !isUnit(f) && !f.startsWith(SERIAL) && !f.startsWith(PAIRED)),
  },
  {
    name: 'paired',
    concurrency: 2,
    files: files.filter((f) => f.startsWith(PAIRED)),
  },
  // quiet: waits for the background to end first (a file here must have the machine to itself).
  {
    name: 'serial',
    concurrency: 1,
    quiet: true,
    files: files.filter((f) => f.startsWith(SERIAL)),
  },
]
  .filter((g) => g.files.length > 0)
  .map((g) => (g.concurrency > 1 ? { ...g, files: longestFirst(g.files) } : g));

const tmp = mkdtempSync(join(tmpdir(), 'faultline-test-'));
const running = new Set();
const forward = (signal) => {
  for (const child of running) child.kill(signal);
};
process.on('SIGINT', forward);
process.on('SIGTERM', forward);

/**
 * The command prefix that starts a process in the kernel's idle class (SCHED_IDLE), or
 * undefined where `chrt` is missing or refused, or FAULTLINE_TEST_BACKGROUND=0 turns it off.
 */
const idlePrefix = (() => {
  if (process.env['FAULTLINE_TEST_BACKGROUND'] === '0') return undefined;
  const probe = spawnSync('chrt', ['--idle', '0', 'true'], { stdio: 'ignore' });
  return probe.status === 0 ? ['chrt', '--idle', '0'] : undefined;
})();

/** Spawns `command args` as is, or in the idle class when `idle`; tracked for signals. */
function start(command, args, options, idle) {
  const child =
    idle && idlePrefix
      ? spawn(idlePrefix[0], [...idlePrefix.slice(1), command, ...args], options)
      : spawn(command, args, options);
  running.add(child);
  child.on('exit', () => running.delete(child));
  return child;
}

/**
 * Runs one group to its end: its exit code, the signal that ended it, its TAP report and, when
 * `background`, its spec output (kept to be printed later; the group runs in the idle class).
 */
function runGroup(group, index, background = false) {
  const tap = join(tmp, `report-${index}.tap`);
  // The timed groups run their files from the build (scripts/test-build.mjs says why), with
  // source maps so that a failure points at the TypeScript line; the unit group through tsx.
  const fromBuild = made !== undefined && group.name !== 'unit';
  const args = [
    ...(fromBuild ? ['--enable-source-maps'] : ['--import', 'tsx']),
    '--test',
    `--test-concurrency=${group.concurrency}`,
    '--test-timeout=300000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(root, 'scripts', 'durations-reporter.mjs')}`,
    `--test-reporter-destination=${tap}`,
    ...(fromBuild ? group.files.map((f) => builtTestFile(made.root, f)) : group.files),
  ];
  if (groups.length > 1)
    console.log(
      `${group.name} group: ${group.files.length} files, ${group.concurrency} at a time${background ? ', in the background (idle class)' : ''}`,
    );
  return new Promise((resolve) => {
    const child = start(
      process.execPath,
      args,
      {
        cwd: root,
        stdio: ['ignore', background ? 'pipe' : 'inherit', background ? 'pipe' : 'inherit'],
        env: {
          ...testEnv,
          FAULTLINE_TEST_DURATIONS: join(tmp, `durations-${index}.txt`),
          ...(build ? { FAULTLINE_TEST_BUILD: build } : {}),
        },
      },
      background,
    );
    let output = '';
    child.stdout?.on('data', (c) => (output += c));
    child.stderr?.on('data', (c) => (output += c));
    child.on('exit', (code, signal) => {
      let report = '';
      try {
        report = readFileSync(tap, 'utf8');
      } catch {
        // The runner died before writing its report.
      }
      resolve({ code, signal, report, output });
    });
  });
}

/** The counts of one TAP report. */
function counts(report) {
  const count = (key) => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(report)?.[1] ?? 0);
  // A skipped suite is one `ok N - NAME # SKIP` line whose YAML block says `type: 'suite'`; the
  // runner's `# skipped` total counts tests only.
  let skippedSuites = 0;
  const lines = report.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*ok \d+ - .*# SKIP\b/.test(lines[i])) continue;
    for (let j = i + 1; j < lines.length && !/^\s*\.\.\.$/.test(lines[j]); j++) {
      if (/^\s*type: 'suite'$/.test(lines[j])) {
        skippedSuites++;
        break;
      }
    }
  }
  return {
    passed: count('pass'),
    failed: count('fail') + count('cancelled'),
    skipped: count('skipped') + count('todo') + skippedSuites,
  };
}

/**
 * Runs the static checks one after the other, output kept for the end; one result per check.
 * In two chains at once (the type check then the format check, and lint) the unit phase took
 * the same time, measured side by side (62 s both ways, twice): beside the unit group the
 * checks already fill both cores.
 */
async function runChecks(idle) {
  const results = [];
  for (const script of ['typecheck', 'lint', 'format:check']) {
    const started = Date.now();
    const result = await new Promise((resolve) => {
      const child = start(
        'npm',
        ['run', '-s', script],
        { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
        idle,
      );
      let output = '';
      child.stdout.on('data', (c) => (output += c));
      child.stderr.on('data', (c) => (output += c));
      child.on('exit', (code) =>
        resolve({ script, ok: code === 0, output, ms: Date.now() - started }),
      );
    });
    results.push(result);
  }
  return results;
}

const total = { passed: 0, failed: 0, skipped: 0 };
let ok = true;
/** Prints each check's result (its output when it failed) and counts it as one test. */
function reportChecks(results) {
  for (const check of results) {
    console.log(
      `check ${check.script}: ${check.ok ? 'passed' : 'FAILED'} (${(check.ms / 1000).toFixed(1)} s)`,
    );
    if (!check.ok) console.log(check.output);
    if (check.ok) total.passed++;
    else {
      total.failed++;
      ok = false;
    }
  }
}

/** Adds up the durations reporters' lines per file and saves them (seconds, one decimal). */
function saveDurations() {
  let seconds = { ...known };
  const measured = {};
  for (const name of readdirSync(tmp).filter((n) => n.startsWith('durations-'))) {
    for (const line of readFileSync(join(tmp, name), 'utf8').split('\n').filter(Boolean)) {
      const [file, ms] = JSON.parse(line);
      const source = made ? sourceTestFile(made.root, root, file) : file;
      const key = relative(root, source).split(sep).join('/');
      measured[key] = (measured[key] ?? 0) + ms / 1000;
    }
  }
  for (const [file, s] of Object.entries(measured)) seconds[file] = Math.round(s * 10) / 10;
  // A whole run knows every file: the ones gone since are dropped.
  if (filters.length === 0) {
    const present = new Set(files.map((f) => f.split(sep).join('/')));
    seconds = Object.fromEntries(Object.entries(seconds).filter(([file]) => present.has(file)));
  }
  const sorted = Object.fromEntries(Object.entries(seconds).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeFileSync(DURATIONS, `${JSON.stringify(sorted, null, 2)}\n`);
  console.log(`durations of ${Object.keys(measured).length} files written to test/durations.json`);
}

// Never the machine's run registry: a test run that ends with a fault left (on purpose: the
// residue and kill -9 tests) keeps its registration, and `faultline halt` or `recover` on this
// machine would then find the tests' dead runs. Every group gets a state home of its own
// ($XDG_STATE_HOME, so the default path is still the one tested), removed at the end.
const stateHome = mkdtempSync(join(tmpdir(), 'faultline-test-state-'));
const testEnv = { ...process.env, XDG_STATE_HOME: stateHome };
delete testEnv['FAULTLINE_STATE_DIR'];

// The groups after unit run their files, and the children they start (the CLI, agents, demo
// services), from a transpiled build, not tsx: scripts/test-build.mjs says why.
let made;
let build;
if (groups.some((g) => g.name !== 'unit')) {
  const startedBuild = Date.now();
  made = buildForTests(root);
  build = made.src;
  console.log(
    `test build: ${made.files} files of src/ and test/ in ${((Date.now() - startedBuild) / 1000).toFixed(1)} s (${relative(root, made.root)}/)`,
  );
}
// The unit group and the checks go to the background (idle class) when there is a timed group
// to run beside them and the idle class is there; else they run first, as one phase.
const unitGroup = groups[0]?.name === 'unit' ? groups[0] : undefined;
const background = unitGroup !== undefined && groups.length > 1 && idlePrefix !== undefined;
const checks = withChecks ? runChecks(background) : undefined;
// Beside the unit group only: the groups after it read the clock.
if (checks && !unitGroup) reportChecks(await checks);
const started = Date.now();

/** Adds a group's counts to the total and prints its line. */
function count(group, { code, signal, report }, seconds) {
  const c = counts(report);
  total.passed += c.passed;
  total.failed += c.failed;
  total.skipped += c.skipped;
  if (groups.length > 1)
    console.log(
      `${group.name} group: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped (${seconds} s)`,
    );
  if (signal || code !== 0 || c.failed > 0) ok = false;
}

const unitRun = background
  ? runGroup(unitGroup, 0, true).then((result) => ({
      ...result,
      seconds: ((Date.now() - started) / 1000).toFixed(0),
    }))
  : undefined;
let backgroundDone = false;
/** Waits for the background's end, then prints its output and counts it (once). */
async function finishBackground() {
  if (!unitRun || backgroundDone) return;
  backgroundDone = true;
  const waitStarted = Date.now();
  const result = await unitRun;
  const waited = (Date.now() - waitStarted) / 1000;
  process.stdout.write(result.output);
  if (checks) reportChecks(await checks);
  count(unitGroup, result, result.seconds);
  if (waited >= 1) console.log(`waited ${waited.toFixed(0)} s for the background to end`);
}
for (const [index, group] of groups.entries()) {
  if (background && group === unitGroup) continue;
  if (group.quiet) await finishBackground();
  const groupStarted = Date.now();
  const result = await runGroup(group, index);
  const groupSeconds = ((Date.now() - groupStarted) / 1000).toFixed(0);
  if (group.name === 'unit' && checks) reportChecks(await checks);
  count(group, result, groupSeconds);
  if (result.signal) break;
}
await finishBackground();
if (writeDurations) saveDurations();
rmSync(tmp, { recursive: true, force: true });
rmSync(stateHome, { recursive: true, force: true });
console.log(`suite: ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(ok && total.passed + total.failed > 0 ? 0 : 1);
