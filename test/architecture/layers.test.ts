/**
 * The layers point only down (ARCHITECTURE.md): the engines import nothing above them, the
 * model imports no backend, backends import no runner or run plan, reporting reads the journal
 * and imports no driver and no runner. Checked on every import of every non-test source file,
 * static and dynamic, type-only included: a type import is still a dependency of the design.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '..', '..');
const src = join(root, 'src');

/** Top-level area of a source file: its first folder under src/, or its own name. */
function area(file: string): string {
  const rel = relative(src, file);
  return rel.includes('/') ? rel.split('/')[0]! : rel.replace(/\.ts$/, '');
}

/** Which areas each area may import (besides itself); absent areas are unconstrained. */
const ALLOWED: Record<string, readonly string[]> = {
  shared: ['errors', 'version'],
  engines: ['shared', 'errors', 'version'],
  experiment: ['shared', 'errors', 'version'],
  journal: ['shared', 'errors', 'version', 'load', 'backends'],
  backends: ['shared', 'errors', 'version', 'engines', 'experiment', 'journal', 'load', 'probes'],
  'run-plan': [
    'shared',
    'errors',
    'version',
    'engines',
    'experiment',
    'journal',
    'load',
    'probes',
    'backends',
    'chaostoolkit',
  ],
  reporting: ['shared', 'errors', 'version', 'journal', 'load', 'experiment'],
};

/** Inside journal/, backends may be imported only for the location types. */
const NARROW: Record<string, (target: string) => boolean> = {
  'journal->backends': (target) => /^backends\/location\.ts$/.test(target),
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [
    ...text.matchAll(/(?:from\s*|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g),
  ].map((m) => m[1]!);
  return specs.map((spec) => resolve(dirname(file), spec).replace(/\.js$/, '.ts'));
}

test('every import points down the layers', () => {
  const violations: string[] = [];
  for (const file of sources(src)) {
    const from = area(file);
    const allowed = ALLOWED[from];
    if (!allowed) continue;
    for (const target of imports(file)) {
      if (!target.startsWith(src)) continue;
      const to = area(target);
      if (to === from) continue;
      const narrow = NARROW[`${from}->${to}`];
      if (!allowed.includes(to) || (narrow && !narrow(relative(src, target)))) {
        violations.push(
          `${relative(root, file)} imports ${relative(root, target)} (${from} → ${to})`,
        );
      }
    }
  }
  assert.deepEqual(violations, [], `imports against the layers:\n${violations.join('\n')}`);
});

test('the check sees imports (it is not vacuous)', () => {
  const runner = imports(join(src, 'runner', 'runner.ts'));
  assert.ok(
    runner.some((t) => t.endsWith(join('backends', 'registry.ts'))),
    'runner.ts imports the registry',
  );
  assert.ok(sources(src).length > 150);
});
