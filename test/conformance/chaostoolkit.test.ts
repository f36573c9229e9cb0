// Conformance with Chaos Toolkit: every fixture of chaostoolkit-lib and the chaos CLI (copied in
// test/fixtures/chaostoolkit with its provenance) is validated, and faultline's verdict agrees
// with the upstream one recorded in INDEX.md wherever that verdict is structural. Where the
// upstream verdict comes from importing a Python module, searching PATH, reading an environment
// variable or a CPython-version artefact, faultline's *pure* validation accepts the file and the
// problem is reported when the experiment is compiled for a run instead (checked below: the
// Python providers' modules and signatures in the machine's python3, with upstream's messages).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { planChaosToolkit } from '../../src/chaostoolkit/to-run-plan.js';
import { validateActivity } from '../../src/chaostoolkit/validate.js';
import { isFaultlineError, type ValidationIssue } from '../../src/errors.js';
import { loadDocument } from '../../src/run-plan/read-plan.js';
import { needTool, TOOLS } from '../helpers/tools.js';

const root = new URL('../fixtures/chaostoolkit/', import.meta.url);
const index = readFileSync(new URL('INDEX.md', root), 'utf8');

interface Row {
  file: string;
  kind: 'experiment' | 'activity';
  valid: boolean;
  error: string;
}

/** Rows of the lib-python-dicts table: | `file` | kind | verdict | error | what |. */
const rows: Row[] = [];
for (const line of index.split('\n')) {
  const cells = line.split('|').map((c) => c.trim());
  const file = /^`([^`]+\.json)`$/.exec(cells[1] ?? '')?.[1];
  if (!file || !(cells[2] === 'experiment' || cells[2] === 'activity')) continue;
  rows.push({
    file,
    kind: cells[2],
    valid: cells[3] === 'valid',
    error: (cells[4] ?? '').replace(/^Invalid(Experiment|Activity): /, ''),
  });
}

/** Verdicts that are not structural, and why; each is checked at compile time instead when it can be. */
const NOT_STRUCTURAL: Record<string, string> = {
  'experiments.ExperimentWithInvalidHypoProbe.json': 'Python signature binding of os.path.exists',
  'experiments.ExperimentWithConfigurationCallingMissingEnvKey.json':
    'reads the environment (faultline validation is pure)',
  'experiments.ExperimentWithControlsThatUpdatedConfiguration.json':
    'CPython 3.11 artefact (random.choice is a bound method)',
  'experiments.ExperimentWithControlsThatUpdatedSecrets.json':
    'CPython 3.11 artefact (random.choice is a bound method)',
  'experiments.ExperimentWithInvalidControls.json':
    "the control module's own validate_control hook",
  'experiments.ExperimentWithTopLevelControlsAndActivityControl.json':
    "CPython artefact (builtins.sum's positional-only parameter)",
  'probes.NotImportableModuleProbe.json': 'imports a Python module',
  'probes.MissingFuncArgProbe.json': 'Python signature binding',
  'probes.TooManyFuncArgsProbe.json': 'Python signature binding',
  'probes.GenerateSecretTokenProbe.json': 'CPython 3.11 artefact',
  'probes.ProcessPathDoesNotExistProbe.json':
    'searches PATH (faultline reports a missing command when it runs)',
};

function read(dir: string, file: string): string {
  return readFileSync(new URL(`${dir}/${file}`, root), 'utf8');
}

function verdict(
  text: string,
  file: string,
): { valid: boolean; issues: readonly ValidationIssue[] } {
  try {
    loadDocument(text, file);
    return { valid: true, issues: [] };
  } catch (err) {
    if (isFaultlineError(err) && 'issues' in err)
      return { valid: false, issues: (err as { issues: readonly ValidationIssue[] }).issues };
    throw err;
  }
}

/**
 * Verdicts where faultline is stricter than Chaos Toolkit on purpose: a value a run would trip
 * on is refused by validation (issue #23). Each is asserted refused, with its message.
 */
const STRICTER: Record<string, { why: string; message: RegExp }> = {
  'probes.PythonModuleProbeWithHTTPMaxRetries.json': {
    why: 'its URL "http://localhost:{}" is a Python format string the upstream test fills in; as written it is not a URL',
    message: /^not a URL$/,
  },
};

describe('Chaos Toolkit conformance: validation verdicts', () => {
  it('reads the upstream verdicts', () => {
    assert.ok(rows.length >= 100, `${rows.length} rows`);
  });

  for (const row of rows) {
    if (NOT_STRUCTURAL[row.file]) continue;
    const stricter = STRICTER[row.file];
    if (stricter) {
      it(`${row.file}: refused, stricter than Chaos Toolkit (${stricter.why})`, () => {
        const issues: ValidationIssue[] = [];
        validateActivity(JSON.parse(read('lib-python-dicts-as-json', row.file)), '', issues);
        assert.ok(
          issues.some((i) => stricter.message.test(i.message)),
          JSON.stringify(issues),
        );
      });
      continue;
    }
    it(`${row.file}: ${row.valid ? 'valid' : `invalid (${row.error})`}`, () => {
      const text = read('lib-python-dicts-as-json', row.file);
      let result: { valid: boolean; issues: readonly ValidationIssue[] };
      if (row.kind === 'activity') {
        const issues: ValidationIssue[] = [];
        validateActivity(JSON.parse(text), '', issues);
        result = { valid: issues.length === 0, issues };
      } else {
        result = verdict(text, row.file);
      }
      assert.equal(result.valid, row.valid, JSON.stringify(result.issues));
      if (!row.valid) {
        // Same message as upstream (faultline reports it among every other problem).
        assert.ok(
          result.issues.some((i) => i.message.trim() === row.error.trim()),
          `expected "${row.error}" among ${JSON.stringify(result.issues.map((i) => i.message))}`,
        );
      }
    });
  }

  const cli: [string, boolean, RegExp | undefined][] = [
    ['check-file-exists.json', true, undefined],
    ['check-file-exists-deviated.json', true, undefined],
    ['check-file-exists-fail.json', true, undefined],
    ['invalid-plan.json', false, /experiment requires a description/],
    ['override-hypothesis-runtime-strategy.json', true, undefined],
    ['override-rollbacks-runtime-strategy.json', true, undefined],
    ['well-formed-experiment.json', false, undefined], // legacy pre-1.0 format: invalid either way
  ];
  for (const [file, valid, message] of cli) {
    it(`CLI fixture ${file}: ${valid ? 'valid' : 'invalid'}`, () => {
      const result = verdict(read('chaostoolkit-cli', file), file);
      assert.equal(result.valid, valid, JSON.stringify(result.issues));
      if (message) assert.ok(result.issues.some((i) => message.test(i.message)));
    });
  }

  it('refuses the unsafe YAML of chaostoolkit-lib (!!python/object)', () => {
    const result = verdict(
      read('chaostoolkit-lib', 'unsafe-settings.yaml'),
      'unsafe-settings.yaml',
    );
    assert.equal(result.valid, false);
    assert.match(result.issues[0]!.message, /unsafe or unknown YAML tag/);
  });
});

describe('Chaos Toolkit conformance: what pure validation leaves to compile time', () => {
  const compile = (file: string): unknown => {
    const text = read('lib-python-dicts-as-json', file);
    return planChaosToolkit(JSON.parse(text), { file, env: {} });
  };

  it('a missing environment variable is reported when compiling, with the upstream message', () => {
    assert.throws(
      () => compile('experiments.ExperimentWithConfigurationCallingMissingEnvKey.json'),
      (err: unknown) => {
        const issues = (err as { issues: ValidationIssue[] }).issues;
        return issues.some(
          (i) =>
            i.message ===
            'Configuration makes reference to an environment key that does not exist: DOES_NOT_EXIST',
        );
      },
    );
  });

  // Python providers are checked when compiling, in the machine's python3 (Debian's, standard
  // library only: os.path and random are there, fake.module is not), with upstream's messages.
  const python = needTool(TOOLS.python3);
  const PYTHON_ROWS: [string, 'experiment' | 'activity'][] = [
    ['experiments.ExperimentWithInvalidHypoProbe.json', 'experiment'],
    ['probes.NotImportableModuleProbe.json', 'activity'],
    ['probes.MissingFuncArgProbe.json', 'activity'],
    ['probes.TooManyFuncArgsProbe.json', 'activity'],
  ];
  for (const [file, kind] of PYTHON_ROWS) {
    const row = rows.find((r) => r.file === file)!;
    it(
      `${file}: the Python check gives upstream's verdict (${row.error})`,
      { skip: python },
      () => {
        const data: unknown =
          kind === 'experiment'
            ? JSON.parse(read('lib-python-dicts-as-json', file))
            : {
                title: 't',
                description: 'd',
                'steady-state-hypothesis': {
                  title: 'h',
                  probes: [JSON.parse(read('lib-python-dicts-as-json', file)) as unknown],
                },
                method: [],
              };
        assert.throws(
          () => planChaosToolkit(data, { file, env: process.env }),
          (err: unknown) => {
            const issues = (err as { issues: ValidationIssue[] }).issues;
            assert.ok(
              issues.some((i) => i.message === row.error.trim()),
              `expected "${row.error}" among ${JSON.stringify(issues.map((i) => i.message))}`,
            );
            return true;
          },
        );
      },
    );
  }

  it('the same file with the Python check turned off (--no-validation) compiles', () => {
    const plan = planChaosToolkit(
      JSON.parse(
        read('lib-python-dicts-as-json', 'experiments.ExperimentWithInvalidHypoProbe.json'),
      ),
      { file: 'x', env: {}, checkPython: false },
    );
    assert.equal(plan.hypothesis.length, 1);
  });

  it('http and process experiments compile to a plan, refs resolved', () => {
    const plan = planChaosToolkit(
      JSON.parse(read('lib-python-dicts-as-json', 'experiments.SimpleExperiment.json')),
      { file: 'x', env: {} },
    );
    assert.equal(plan.format, 'chaostoolkit');
    assert.ok(plan.hypothesis.length > 0 && plan.hypothesis.every((p) => p.verify));
  });
});
