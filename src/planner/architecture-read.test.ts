import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ValidationError } from '../errors.js';
import { readArchitectureFile, parseArchitecture } from './architecture-read.js';

const bad = join(new URL('../../test/fixtures/planner/bad/', import.meta.url).pathname);

async function problems(name: string): Promise<ValidationError> {
  try {
    await readArchitectureFile(join(bad, name), name);
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err));
    return err;
  }
  assert.fail(`${name} loaded`);
}

const at = (err: ValidationError, path: string) => {
  const issue = err.issues.find((i) => i.path === path);
  assert.ok(issue, `no issue at ${path}: ${err.issues.map((i) => i.path).join(', ')}`);
  return issue;
};

describe('readArchitectureFile', () => {
  it('reports every problem of a file in one pass, each located', async () => {
    const err = await problems('many-problems.yaml');
    assert.equal(err.exitCode, 2);
    for (const issue of err.issues) {
      assert.equal(issue.file, 'many-problems.yaml');
      assert.ok(issue.line && issue.column, `${issue.path} has no line:column`);
    }
    assert.deepEqual(at(err, 'services.gateway.replicas'), {
      path: 'services.gateway.replicas',
      message: 'missing required key "replicas"',
      hint: 'expected the number of replicas',
      file: 'many-problems.yaml',
      line: 6,
      column: 5,
    });
    assert.equal(
      at(err, 'services.gateway.dependsOn[0].on').hint,
      'did you mean "payment-service"?',
    );
    assert.equal(at(err, 'services.gateway.dependsOn[0].on').line, 8);
    assert.match(at(err, 'services.gateway.dependsOn[0].timeout').message, /duration with a unit/);
    assert.match(
      at(err, 'services.payment-service.criticality').message,
      /critical, high, medium or low/,
    );
    assert.equal(
      at(err, 'services.payment-service.dependsOn[0].circuitbreaker').hint,
      'did you mean "circuitBreaker"?',
    );
    assert.equal(at(err, 'dependencies.postgresql.kind').message, 'unknown kind "databse"');
    assert.equal(at(err, 'dependencies.dns.usedBy[1]').message, 'unknown service "ghost"');
    assert.equal(
      at(err, 'criticalPaths[0].steps[3]').message,
      'unknown service or dependency "nowhere"',
    );
    assert.equal(at(err, 'criticalPaths[0].steps[3]').line, 24);
    // sorted by position
    const lines = err.issues.map((i) => i.line!);
    assert.deepEqual(
      lines,
      [...lines].sort((a, b) => a - b),
    );
  });

  it('names sync dependency cycles and ignores async edges', async () => {
    const err = await problems('cycle.yaml');
    assert.deepEqual(
      err.issues.map((i) => [i.path, i.message, i.line]),
      [
        ['services.c.dependsOn[0].on', 'dependency cycle: a → b → c → a', 20],
        ['services.d.dependsOn[1].on', 'dependency cycle: d → d', 26],
      ],
    );
    const asyncBack = parseArchitecture(
      `name: x\nenvironment: staging\nservices:\n  a: { criticality: low, replicas: 1, dependsOn: [{ on: b }] }\n  b: { criticality: low, replicas: 1, dependsOn: [{ on: a, mode: async }] }\n`,
      'x.yaml',
    );
    assert.equal(Object.keys(asyncBack.services).length, 2);
  });

  it('reports a cycle together with schema problems elsewhere', () => {
    assert.throws(
      () =>
        parseArchitecture(
          `name: x\nenvironment: staging\nservices:\n  a: { criticality: low, replicas: 1, dependsOn: [{ on: b }] }\n  b: { criticality: nope, replicas: 1, dependsOn: [{ on: a }] }\n`,
          'x.yaml',
        ),
      (err: unknown) =>
        err instanceof ValidationError &&
        err.issues.some((i) => /dependency cycle: a → b → a/.test(i.message)) &&
        err.issues.some((i) => i.path === 'services.b.criticality'),
    );
  });

  it('locates YAML syntax errors and wrong shapes', async () => {
    const syntax = await problems('syntax.yaml');
    assert.match(syntax.issues[0]!.message, /"{" is never closed by "}"/);
    assert.equal(syntax.issues[0]!.line, 3); // where the "{" opens, the line to fix
    const shape = await problems('not-an-architecture.yaml');
    assert.deepEqual(
      shape.issues.map((i) => i.path),
      ['name', 'services', 'environment'],
    );
  });

  it('says when the file does not exist', async () => {
    const err = await problems('missing.yaml');
    assert.equal(err.issues[0]!.message, 'no such file');
  });
});
