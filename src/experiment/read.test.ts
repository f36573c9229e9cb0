import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ValidationError } from '../errors.js';
import { seededRandom } from '../engines/proxy/random.js';
import { parseExperiment } from '../run-plan/read-experiment.js';
import { experimentJsonSchema } from './schema.js';

const examplesDir = new URL('../../examples/', import.meta.url);

function problems(text: string): ValidationError {
  try {
    parseExperiment(text, 'exp.yaml');
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  assert.fail('expected the document to be invalid');
}

const VALID = `title: t
targets:
  pg: { type: proxy, upstream: "127.0.0.1:5432" }
method:
  - fault: latency
    target: pg
    delay: 300ms
    duration: 2m
  - wait: 1s
`;

describe('parseExperiment', () => {
  it('accepts a minimal experiment and fills defaults', () => {
    const experiment = parseExperiment(VALID);
    assert.equal(experiment.title, 't');
    const step = experiment.method[0]!;
    assert.ok('fault' in step && step.fault === 'latency');
    assert.equal(step.stream, 'downstream');
    assert.equal(experiment.targets['pg']?.type, 'proxy');
  });

  it('validates every shipped example', () => {
    const files = readdirSync(examplesDir).filter((f) => /\.(ya?ml|json)$/.test(f));
    assert.ok(files.length > 0);
    for (const file of files) {
      const text = readFileSync(new URL(file, examplesDir), 'utf8');
      assert.doesNotThrow(() => parseExperiment(text, file), `${file} should be valid`);
    }
  });

  it('reports every problem in one pass, each with line, column, path and hint', () => {
    const err = problems(`title: t
targets:
  pg: { type: proxy, upstream: "127.0.0.1:5432" }
method:
  - fault: latncy
    target: pg
    duration: 2m
  - fault: latency
    target: pgg
    delay: 300
    duratoin: 2m
`);
    const byPath = new Map(err.issues.map((i) => [i.path, i]));
    assert.equal(byPath.get('method[0].fault')?.hint, 'did you mean "latency"?');
    assert.equal(byPath.get('method[0].fault')?.line, 5);
    assert.equal(byPath.get('method[0].fault')?.column, 12);
    assert.match(byPath.get('method[1].delay')?.message ?? '', /duration with a unit/);
    assert.equal(byPath.get('method[1].delay')?.line, 10);
    assert.equal(byPath.get('method[1].duratoin')?.hint, 'did you mean "duration"?');
    assert.equal(byPath.get('method[1].duratoin')?.line, 11);
    assert.match(
      byPath.get('method[1].duration')?.message ?? '',
      /missing required key "duration"/,
    );
    assert.equal(byPath.get('method[1].target')?.hint, 'did you mean "pg"?');
    assert.ok(err.issues.every((i) => i.file === 'exp.yaml' && typeof i.line === 'number'));
  });

  it('refuses a fault without a duration: no fault without an end', () => {
    const err = problems(VALID.replace('    duration: 2m\n', ''));
    assert.ok(err.issues.some((i) => i.path === 'method[0].duration'));
  });

  it('reports YAML syntax errors with their position', () => {
    const err = problems('title: t\nmethod: [\n');
    assert.match(err.issues[0]!.message, /"\[" is never closed by "\]"/);
    assert.equal(err.issues[0]!.line, 2);
    assert.equal(err.issues[0]!.column, 9);
  });

  it('refuses unsafe YAML tags', () => {
    const err = problems('title: !!python/object:os.system t\nmethod: []\n');
    assert.match(err.issues[0]!.message, /tag refused/);
  });

  it('refuses duplicate keys', () => {
    const err = problems('title: a\ntitle: b\nmethod: []\n');
    assert.equal(err.issues[0]!.message, '"title" appears twice in the same mapping');
    assert.equal(err.issues[0]!.line, 2);
  });

  it('reports one missing colon as one problem in plain words, where the colon goes', () => {
    // The parser itself reports nine errors for this text, each an echo of the missing colon.
    const text = 'title: t\nmethod\n  - fault: latency\n    target: db\n    delay: 1s\n';
    const err = problems(text);
    assert.equal(err.issues.length, 1);
    const [issue] = err.issues;
    assert.match(issue!.message, /"method" has no colon/);
    assert.equal(issue!.line, 2);
    assert.equal(issue!.column, 7);
    assert.match(issue!.hint ?? '', /write "method:"/);
  });

  it('puts the colon after the first word of a key written "key value"', () => {
    const err = problems('title: t\nmethod:\n  - fault: latency\n    target db\n');
    assert.equal(err.issues.length, 1);
    assert.match(err.issues[0]!.hint ?? '', /write "target: db"/);
    assert.equal(err.issues[0]!.line, 4);
  });

  it('checks that ${variables} are declared, or given with --var', () => {
    const text = `title: t\nsteadyState:\n  probes:\n    - name: up\n      http: { url: "\${base}/health" }\nmethod: []\n`;
    const err = problems(text);
    assert.equal(err.issues[0]!.path, 'steadyState.probes[0].http.url');
    assert.doesNotThrow(() => parseExperiment(text, 'x', { vars: ['base'] }));
  });

  it('refuses HTTP faults on a tcp proxy target, with a hint', () => {
    const err = problems(`title: t
targets: { api: { type: proxy, upstream: "127.0.0.1:80" } }
method:
  - fault: http-abort
    target: api
    status: 503
    duration: 1m
`);
    assert.equal(err.issues[0]!.hint, 'set mode: http on targets.api');
  });

  it('exports a JSON Schema that names the fault types', () => {
    const schema = JSON.stringify(experimentJsonSchema());
    for (const fault of ['latency', 'http-abort', 'reset-peer'])
      assert.ok(schema.includes(`"${fault}"`));
  });
});

describe('parseExperiment under fuzzing', () => {
  // Thousands of mutated documents: each must give a model or a located ValidationError,
  // never another exception.
  const seeds = [VALID, readFileSync(new URL('postgres-latency.yaml', examplesDir), 'utf8')];
  const random = seededRandom(20261122);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const fragments = [
    '{',
    '}',
    '[',
    ']',
    ':',
    '- ',
    '"',
    "'",
    '\n',
    '  ',
    '&a ',
    '*a',
    '!!str ',
    '!!binary ',
    '${x}',
    '%',
    '#',
    '\t',
    '300ms',
    '-1',
    'null',
    '~',
    '0x10',
    '|',
    '>',
  ];

  function mutate(text: string): string {
    const chars = Array.from(text);
    const edits = 1 + Math.floor(random() * 4);
    for (let i = 0; i < edits; i++) {
      const at = Math.floor(random() * (chars.length + 1));
      const kind = random();
      if (kind < 0.4) chars.splice(at, 1 + Math.floor(random() * 5));
      else if (kind < 0.8) chars.splice(at, 0, ...Array.from(pick(fragments)));
      else {
        const lines = chars.join('').split('\n');
        const a = Math.floor(random() * lines.length);
        const b = Math.floor(random() * lines.length);
        [lines[a], lines[b]] = [lines[b]!, lines[a]!];
        return lines.join('\n');
      }
    }
    return chars.join('');
  }

  it('never throws anything but a located ValidationError on 3,000 mutated documents', () => {
    let valid = 0;
    let invalid = 0;
    for (let i = 0; i < 3000; i++) {
      const text = mutate(pick(seeds));
      try {
        parseExperiment(text, 'fuzz.yaml');
        valid++;
      } catch (err) {
        assert.ok(
          err instanceof ValidationError,
          `non-validation error for:\n${text}\n${String(err)}`,
        );
        assert.ok(err.issues.length > 0);
        for (const issue of err.issues) assert.equal(issue.file, 'fuzz.yaml');
        invalid++;
      }
    }
    assert.equal(valid + invalid, 3000);
    assert.ok(
      invalid > 0 && valid > 0,
      `expected a mix, got ${valid} valid and ${invalid} invalid`,
    );
  });
});
