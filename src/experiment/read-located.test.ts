// Every problem of reading a file is located, including those that used to come without a
// line:column (an empty file, YAML alias problems) or as a stack overflow (deep nesting), and a
// .json file is strict JSON.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError, type ValidationIssue } from '../errors.js';
import { parseExperiment, readDocument } from './read.js';
import { MAX_NESTING } from './yaml-syntax.js';
import { jsonSyntaxProblem } from './json-syntax.js';

function issuesOf(text: string, file = 'exp.yaml'): readonly ValidationIssue[] {
  try {
    readDocument(text, file);
  } catch (err) {
    if (err instanceof ValidationError) return err.issues;
    throw err;
  }
  assert.fail('expected the document to be refused');
}

function only(text: string, file = 'exp.yaml'): ValidationIssue {
  const issues = issuesOf(text, file);
  assert.equal(issues.length, 1, JSON.stringify(issues, null, 2));
  return issues[0]!;
}

const at = (issue: ValidationIssue): [number | undefined, number | undefined] => [
  issue.line,
  issue.column,
];

describe('reading a file: every problem located', () => {
  it('an empty file is at line 1, column 1 (also blank, comments only, a lone BOM)', () => {
    for (const text of ['', '\n\n  \n', '# nothing yet\n\n# still nothing\n', '\uFEFF']) {
      const issue = only(text);
      assert.equal(issue.message, 'the file is empty');
      assert.deepEqual(at(issue), [1, 1]);
    }
    // A document that is only `null` or `~` is empty too, and located.
    assert.deepEqual(at(only('~\n')), [1, 1]);
    assert.deepEqual(at(only('', 'exp.json')), [1, 1]);
  });

  it('a file that is a text or a list, not a mapping, says so at line 1', () => {
    for (const [text, what] of [
      ['just words\n', 'a string'],
      ['- title: t\n', 'a list'],
      ['42\n', 'a number'],
    ]) {
      assert.throws(
        () => parseExperiment(text!, 'exp.yaml'),
        (err: unknown) =>
          err instanceof ValidationError &&
          err.issues.length === 1 &&
          err.issues[0]!.message === `an experiment is a mapping of keys, not ${what!}` &&
          err.issues[0]!.line === 1,
      );
    }
  });

  it('an unresolved alias is named and located, each of them', () => {
    const issues = issuesOf('title: *name\nmethod:\n  - wait: *later\nx: &later 1s\n');
    assert.deepEqual(
      issues.map((i) => [i.message, i.line, i.column]),
      [
        ['the alias *name names no anchor before it', 1, 8],
        ['the alias *later names no anchor before it', 3, 11],
      ],
    );
    assert.match(issues[0]!.hint ?? '', /define &name/);
  });

  it('an alias bomb is one located message', () => {
    const text = [
      'title: t',
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
      '',
    ].join('\n');
    const issue = only(text);
    assert.match(issue.message, /alias bomb/);
    assert.equal(issue.line, 4, 'at the first alias of a node that holds aliases');
    // Ordinary aliases are fine.
    assert.doesNotThrow(() => readDocument('a: &d 1s\nb: *d\nc: *d\n', 'exp.yaml'));
  });

  it('a second YAML document is one located problem', () => {
    const issue = only('title: t\nmethod: []\n---\ntitle: u\n');
    assert.deepEqual(at(issue), [3, 1]);
    assert.match(issue.message, /a second YAML document/);
  });

  it('duplicate keys are located, each of them', () => {
    const issues = issuesOf('title: a\ntitle: b\nmethod: []\nmethod: []\n');
    assert.deepEqual(
      issues.map((i) => i.line),
      [2, 4],
    );
  });

  it('nesting deeper than 64 levels is one message, not a stack overflow per place', () => {
    const cases = [
      ['flow', `title: t\nmethod: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, 'exp.yaml'],
      ['json', `{"title": "t", "method": ${'['.repeat(5000)}${']'.repeat(5000)}}`, 'exp.json'],
      ['block', `${'- '.repeat(3000)}x\n`, 'exp.yaml'],
      [
        'indented',
        Array.from({ length: 200 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ' 1\n',
        'exp.yaml',
      ],
    ] as const;
    for (const [name, text, file] of cases) {
      const issue = only(text, file);
      assert.equal(issue.message, `nested deeper than ${MAX_NESTING} levels`, name);
      assert.ok(issue.line !== undefined && issue.column !== undefined, name);
      assert.doesNotMatch(JSON.stringify(issue), /call stack/, name);
    }
    // At the limit it is read.
    const deepest = `a: ${'['.repeat(MAX_NESTING - 1)}${']'.repeat(MAX_NESTING - 1)}\n`;
    assert.doesNotThrow(() => readDocument(deepest, 'exp.yaml'));
    assert.equal(only(`a: ${'['.repeat(MAX_NESTING)}${']'.repeat(MAX_NESTING)}\n`).line, 1);
  });

  it('a .json file is strict JSON: a trailing comma is an error, located', () => {
    const object = only('{\n  "title": "t",\n  "method": [],\n}\n', 'exp.json');
    assert.deepEqual(at(object), [3, 15]);
    assert.match(object.message, /comma before "}"/);
    const array = only('{"title": "t", "method": [{"wait": "1s"},]}', 'exp.json');
    assert.deepEqual(at(array), [1, 41]);
    // The same text is valid YAML, and stays accepted in a .yaml file.
    assert.doesNotThrow(() => readDocument('{"title": "t", "method": [],}', 'exp.yaml'));
  });

  it('other JSON that YAML would accept: comments, single quotes, bare keys, trailing text', () => {
    const cases: Array<[string, RegExp]> = [
      ['{"title": "t", # note\n"method": []}', /no comments/],
      ["{'title': 't', \"method\": []}", /double quotes/],
      ['{title: "t", "method": []}', /double quotes/],
      ['{"title": "t", "method": []} {}', /text after the end/],
      ['{"title": "t", "method": [', /never closed/],
      ['{"title": "t\n", "method": []}', /line break/],
    ];
    for (const [text, expected] of cases) {
      const issue = only(text, 'exp.json');
      assert.match(`${issue.message} ${issue.hint ?? ''}`, expected, text);
      assert.ok(issue.line !== undefined, text);
    }
    assert.doesNotThrow(() =>
      readDocument(
        '\uFEFF{"title": "t \\u00e9\\n", "n": -1.5e3, "method": [true, null]}',
        'x.json',
      ),
    );
  });

  it('jsonSyntaxProblem agrees with JSON.parse on what is JSON', () => {
    const samples = [
      '{}',
      '[]',
      '0',
      '-0.5e-3',
      '"a\\"b"',
      '{"a":[1,{"b":null}]}',
      '[1,]',
      '{"a":1,}',
      '01',
      '1.',
      '{"a" 1}',
      '[1 2]',
      '"\\x"',
      'tru',
      '{"a":1}}',
      ' \n ',
    ];
    for (const text of samples) {
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
      }
      assert.equal(jsonSyntaxProblem(text) === undefined, valid, text);
    }
  });
});
