// Golden files: compare generated text with a file under test/fixtures; `UPDATE_GOLDEN=1`
// rewrites the file instead (then review the diff and commit it).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDocument, validateExperiment } from '../../src/run-plan/read-experiment.js';
import {
  compileForPlatform,
  type Platform,
  type PlatformCompileOptions,
  type PlatformOutput,
} from '../../src/compile/platform-compile.js';

// The real path: from the test build (scripts/test-build.mjs) the folder is a link, and paths
// under it appear in generated text that golden files hold.
export const fixtures = realpathSync(
  join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures'),
);
export const chaosMeshFixtures = join(fixtures, 'chaos-mesh');

export const litmusFixtures = join(fixtures, 'litmus');

/** `base`: the fixture directory whose golden/ holds the file (default Chaos Mesh's). */
export function assertGolden(relative: string, actual: string, base = chaosMeshFixtures): void {
  const path = join(base, 'golden', relative);
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(path)) {
    if (process.env['CI'] === 'true' && !existsSync(path))
      assert.fail(`golden file ${relative} is missing (run with UPDATE_GOLDEN=1 and commit it)`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  assert.equal(
    actual,
    readFileSync(path, 'utf8'),
    `${relative} differs from its golden file (UPDATE_GOLDEN=1 rewrites it after review)`,
  );
}

/** Loads a fixture experiment (test/fixtures/chaos-mesh/experiments/NAME, or BASE/experiments/NAME) and compiles it. */
export function compileFixture(
  name: string,
  platform: Platform,
  options: Partial<PlatformCompileOptions> = {},
  base = chaosMeshFixtures,
): PlatformOutput {
  const file = join(base, 'experiments', name);
  const read = readDocument(readFileSync(file, 'utf8'), name);
  const experiment = validateExperiment(read, name);
  return compileForPlatform(experiment, read, platform, { file: name, env: {}, ...options });
}

/** Compiles experiment text (for negative cases). */
export function compileText(
  text: string,
  platform: Platform,
  options: Partial<PlatformCompileOptions> = {},
): PlatformOutput {
  const read = readDocument(text, 'inline.yaml');
  const experiment = validateExperiment(read, 'inline.yaml');
  return compileForPlatform(experiment, read, platform, {
    file: 'inline.yaml',
    env: {},
    ...options,
  });
}
