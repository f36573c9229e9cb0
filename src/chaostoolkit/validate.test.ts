import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFaultlineError, type ValidationIssue } from '../errors.js';
import { parseChaosToolkit } from './load.js';
import { isChaosToolkitDocument } from './detect.js';

function issuesOf(text: string): ValidationIssue[] {
  try {
    parseChaosToolkit(text, 'exp.yaml');
    return [];
  } catch (err) {
    assert.ok(isFaultlineError(err));
    return [...(err as unknown as { issues: ValidationIssue[] }).issues];
  }
}

describe('Chaos Toolkit validation', () => {
  it('reports every problem in one pass, each located', () => {
    const text = [
      'title: t', //                                      1
      'description: d', //                                2
      'steady-state-hypothesis:', //                      3
      '  title: h', //                                    4
      '  probes:', //                                     5
      '    - type: probe', //                             6
      '      name: no-tolerance', //                      7
      '      provider: {type: http, url: "http://x"}', // 8
      'method:', //                                       9
      '  - type: acton', //                               10
      '    name: a', //                                   11
      '    provider: {type: process}', //                 12
      '  - type: probe', //                               13
      '    name: b', //                                   14
      '    tolerence: 1', //                              15
      '    provider: {type: http, url: "http://x", headers: [1]}', // 16
      'rollbacks:', //                                    17
      '  - ref: nowhere', //                              18
    ].join('\n');
    const issues = issuesOf(text);
    const summary = issues.map((i) => `${i.line}: ${i.path}: ${i.message}`);
    assert.deepEqual(summary, [
      '6: steady-state-hypothesis.probes[0]: hypothesis probe must have a tolerance entry',
      "10: method[0].type: 'acton' is not a supported activity type",
      '12: method[0].provider.path: a process activity must have a path',
      '15: method[1].tolerence: unknown key "tolerence"',
      '16: method[1].provider.headers: a HTTP activities expect headers as a mapping',
      "18: rollbacks[0].ref: referenced activity 'nowhere' could not be found in the experiment",
    ]);
    assert.match(issues.find((i) => i.path === 'method[0].type')?.hint ?? '', /action/);
    assert.match(issues.find((i) => i.path === 'method[1].tolerence')?.hint ?? '', /did you mean "tolerance"/);
  });

  it('keeps extension keys that are not misspellings, as Chaos Toolkit does', () => {
    assert.deepEqual(issuesOf('title: t\ndescription: d\nx-team: payments\nmethod: []\n'), []);
  });

  it('detects the format', () => {
    assert.equal(isChaosToolkitDocument({ title: 't', 'steady-state-hypothesis': {} }), true);
    assert.equal(isChaosToolkitDocument({ title: 't', method: [{ type: 'action', name: 'a', provider: {} }] }), true);
    assert.equal(isChaosToolkitDocument({ title: 't', method: [{ fault: 'latency' }] }), false);
    assert.equal(isChaosToolkitDocument({ title: 't', targets: {}, method: [] }), false);
    assert.equal(isChaosToolkitDocument({ title: 't', configuration: { a: { type: 'env', key: 'A' } }, method: [] }), true);
  });
});
