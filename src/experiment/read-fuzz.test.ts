// A seeded, bounded fuzz of experiment files (issue #23: 249 of 3,000 broken files got no
// line:column, deep nesting overflowed the stack once per place, a trailing comma in JSON
// passed). Mutations of the shipped examples — characters and lines deleted, duplicated and
// replaced, deep nesting, anchors, aliases and alias bombs, wrong values — read as `validate`
// reads them. Asserted: nothing but a ValidationError is thrown, every problem has its file,
// line and column, no message is a stack overflow or a stack trace, deep nesting is one
// problem; and what validate accepts in faultline's format, run's loading refuses only for
// want of a variable.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ValidationError, type ValidationIssue } from '../errors.js';
import { seededRandom } from '../engines/proxy/random.js';
import { loadDocument } from '../run-plan/read-plan.js';
import { planExperiment } from '../run-plan/from-experiment.js';

const FILES = 2000;
const root = new URL('../../examples/', import.meta.url);
const seeds = ['', 'scenarios/', 'faults/', 'chaostoolkit/'].flatMap((dir) =>
  readdirSync(new URL(dir, root))
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .map((f) => ({ name: `${dir}${f}`, text: readFileSync(new URL(`${dir}${f}`, root), 'utf8') })),
);

const random = seededRandom(20261202);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (n: number): number => Math.floor(random() * n);

const FRAGMENTS = [
  '{', '}', '[', ']', ',', ':', '- ', '"', "'", '\n', '  ', '\t', '#', '&a ', '*a', '*zz',
  '<<: *a', '!!str ', '!!python/object ', '${x}', '%', '|', '>', '~', 'null', '-1', '0x10',
  '700h', '99999', '"([a-z"', '"$.a["', '"GE T"', '"not a url"', '"127.0.0.1:70000"', '\uFEFF',
]; // prettier-ignore

/** Values that look right to YAML and are wrong for a run. */
const WRONG_VALUES: Array<[RegExp, string]> = [
  [/\b\d+(ms|s|m)\b/, '700h'],
  [/"https?:\/\/[^"]*"/, '"http//nowhere"'],
  [/:\d{4,5}"/, ':99999"'],
  [/\b200\b/, '99999'],
  [/regex: "[^"]*"/, 'regex: "(unclosed"'],
  [/\$\.[\w.]+/, '$.a['],
  [/method: \w+/, 'method: "GE T"'],
];

function nest(depth: number): string {
  return random() < 0.5
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{a: '.repeat(depth)}1${'}'.repeat(depth)}`;
}

function mutate(text: string): string {
  const kind = random();
  if (kind < 0.03) return pick(['', '\n', '# only a comment\n', '---\n', '...\n']);
  const lines = text.split('\n');
  if (kind < 0.08) {
    // Deep nesting somewhere: as a value of the first line's key, or as the whole file.
    const deep = nest(60 + int(3000));
    return random() < 0.5 ? `${deep}\n` : `x: ${deep}\n${text}`;
  }
  if (kind < 0.13) {
    // Anchors and aliases: unresolved, repeated, or a bomb.
    const bomb = [
      'a0: &a0 [x, x, x, x, x, x, x, x, x, x]',
      'a1: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]',
      'a2: &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]',
      'a3: [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]',
    ].join('\n');
    const line = int(lines.length);
    const option = int(3);
    if (option === 0) lines.splice(line, 0, bomb);
    else if (option === 1) lines[line] = `${lines[line] ?? ''} *missing`;
    else lines.splice(line, 0, `anchor: &k ${pick(['1s', '[1, 2]', '{a: 1}'])}`, 'again: *k');
    return lines.join('\n');
  }
  if (kind < 0.25) {
    // A wrong value where a right one was.
    const [pattern, value] = pick(WRONG_VALUES);
    return text.replace(pattern, value);
  }
  if (kind < 0.45) {
    // Lines deleted, duplicated or swapped.
    for (let i = 0, n = 1 + int(3); i < n; i++) {
      const a = int(lines.length);
      const b = int(lines.length);
      const op = int(3);
      if (op === 0) lines.splice(a, 1);
      else if (op === 1) lines.splice(a, 0, lines[b] ?? '');
      else [lines[a], lines[b]] = [lines[b]!, lines[a]!];
    }
    return lines.join('\n');
  }
  // Characters deleted, duplicated or replaced.
  const chars = Array.from(text);
  for (let i = 0, n = 1 + int(4); i < n; i++) {
    const at = int(chars.length + 1);
    const op = int(3);
    if (op === 0) chars.splice(at, 1 + int(6));
    else if (op === 1) chars.splice(at, 0, ...chars.slice(at, at + 1 + int(8)));
    else chars.splice(at, 1 + int(3), ...Array.from(pick(FRAGMENTS)));
  }
  return chars.join('');
}

/** Problems that depend on variables given at run time, the only ones run may add. */
const VARIABLE = /has no value|once its variables are substituted|environment|not a duration/i;

function checkLocated(issues: readonly ValidationIssue[], file: string, text: string): void {
  assert.ok(issues.length > 0, `no problem listed:\n${text}`);
  for (const issue of issues) {
    const where = `${JSON.stringify(issue)}\nin:\n${text.slice(0, 2000)}`;
    assert.equal(issue.file, file, where);
    assert.ok(Number.isInteger(issue.line) && issue.line! >= 1, `no line: ${where}`);
    assert.ok(Number.isInteger(issue.column) && issue.column! >= 1, `no column: ${where}`);
    assert.doesNotMatch(issue.message, /call stack|\n\s+at /, where);
  }
}

describe('fuzz: mutated experiment files', () => {
  it(`${FILES} mutated files: located problems or valid, never a crash, validate and run agree`, () => {
    assert.ok(seeds.length >= 10, `${seeds.length} seeds`);
    const counts = { valid: 0, invalid: 0, deep: 0, runRefused: 0 };
    // CPU time, not wall time: the machine is shared, and the bound is on this test's own work.
    const started = process.cpuUsage();
    for (let i = 0; i < FILES; i++) {
      const seed = pick(seeds);
      const text = mutate(seed.text);
      const file = `fuzz-${i}${seed.name.endsWith('.json') ? '.json' : '.yaml'}`;
      let loaded: ReturnType<typeof loadDocument>;
      try {
        loaded = loadDocument(text, file);
      } catch (err) {
        assert.ok(
          err instanceof ValidationError,
          `not a ValidationError:\n${text}\n${String(err)}`,
        );
        checkLocated(err.issues, file, text);
        if (err.issues.some((issue) => issue.message.startsWith('nested deeper'))) {
          assert.equal(err.issues.length, 1, 'deep nesting is one problem');
          counts.deep++;
        }
        counts.invalid++;
        continue;
      }
      counts.valid++;
      // What validate accepts, run's loading refuses only for want of a variable's value (an
      // empty environment: the defaults are used, variables without one are missing).
      try {
        // (A Chaos Toolkit plan imports its Python providers' modules: not in a fuzz loop.)
        if (loaded.format === 'faultline') planExperiment(loaded.experiment, { file, env: {} });
      } catch (err) {
        assert.ok(err instanceof ValidationError, `run crashed:\n${text}\n${String(err)}`);
        const other = err.issues.filter((issue) => !VARIABLE.test(issue.message));
        assert.deepEqual(other, [], `validate accepted what run refuses:\n${text}`);
        counts.runRefused++;
      }
    }
    const used = process.cpuUsage(started);
    const seconds = (used.user + used.system) / 1e6;
    assert.ok(counts.valid > 0 && counts.invalid > 0, JSON.stringify(counts));
    assert.ok(counts.deep > 0, 'deep nesting was tried');
    assert.ok(seconds < 30, `${seconds.toFixed(1)} s of CPU`);
    console.log(`${FILES} files in ${seconds.toFixed(1)} s of CPU: ${JSON.stringify(counts)}`);
  });
});
