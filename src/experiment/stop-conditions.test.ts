// `safety.stopWhen` as users write it: accepted shapes with their defaults, and every mistake
// reported at its line and column with a hint; `abortWhen` strings keep working beside it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError, type ValidationIssue } from '../errors.js';
import { parseExperiment } from '../run-plan/read-experiment.js';
import { planExperiment } from '../run-plan/from-experiment.js';
import { experimentJsonSchema } from './schema.js';

const HEAD = `title: t
targets:
  pg: { type: proxy, upstream: "127.0.0.1:5432" }
method:
  - fault: latency
    target: pg
    delay: 300ms
    duration: 2m
safety:
  stopWhen:
`;

function issues(conditions: string): readonly ValidationIssue[] {
  try {
    parseExperiment(HEAD + conditions, 'exp.yaml');
  } catch (err) {
    if (err instanceof ValidationError) return err.issues;
    throw err;
  }
  assert.fail('expected the document to be invalid');
}

function only(conditions: string): ValidationIssue {
  const found = issues(conditions);
  assert.equal(found.length, 1, JSON.stringify(found, null, 1));
  return found[0]!;
}

describe('safety.stopWhen', () => {
  it('accepts the four kinds, fills the defaults, and plans them with names and checks', () => {
    const experiment = parseExperiment(
      `${HEAD}    - name: checkout 5xx ratio
      prometheus: { url: "http://127.0.0.1:9090", query: "sum(rate(errors[1m]))" }
      above: 0.01
      for: 30s
    - http: { url: "http://127.0.0.1:3000/health" }
      expect: { status: 200, json: { path: $.queue, atMost: 100 } }
      every: 500ms
    - alertmanager: { url: "http://127.0.0.1:9093", matchers: { alertname: PaymentErrors } }
      cloudwatchAlarm: "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:payments-5xx"
    - command: { run: ./check-ledger.sh }
      onError: continue
  abortWhen: ["error_rate > 5% for 5s"]
steadyState:
  load: { url: "http://127.0.0.1:3000/", rate: 10/s }
`,
      'exp.yaml',
    );
    const stopWhen = experiment.safety!.stopWhen;
    assert.equal(stopWhen.length, 4);
    assert.equal(stopWhen[0]!.every, '1s');
    assert.equal(stopWhen[0]!.onError, 'stop');
    const prom = stopWhen[0]!;
    assert.ok('prometheus' in prom && prom.prometheus.timeout === '1s');
    const http = stopWhen[1]!;
    assert.ok('http' in http && http.http.method === 'GET');
    const command = stopWhen[3]!;
    assert.ok('command' in command && command.expect.exitCode === 0, 'exit code 0 by default');
    assert.deepEqual(experiment.safety!.abortWhen, ['error_rate > 5% for 5s']);

    const plan = planExperiment(experiment, { file: 'exp.yaml', env: {} });
    assert.deepEqual(
      plan.stopWhen!.map((c) => [c.name, c.kind, c.everyMs, c.forMs, c.timeoutMs, c.onError]),
      [
        ['checkout 5xx ratio', 'prometheus', 1000, 30_000, 1000, 'stop'],
        ['http-1', 'http', 500, 0, 1000, 'stop'],
        ['alertmanager-1', 'alertmanager', 1000, 0, 1000, 'stop'],
        ['command-1', 'command', 1000, 0, 1000, 'continue'],
      ],
    );
    assert.equal(
      plan.stopWhen![0]!.describe,
      'PromQL http://127.0.0.1:9090: sum(rate(errors[1m])) above 0.01 for 30s',
    );
    assert.equal(
      plan.stopWhen![1]!.describe,
      'GET http://127.0.0.1:3000/health not answering status 200, $.queue atMost 100',
    );
    assert.equal(
      plan.stopWhen![2]!.describe,
      'an alert {alertname="PaymentErrors"} firing on http://127.0.0.1:9093',
    );
    assert.equal(plan.stopWhen![2]!.cloudwatchAlarm?.endsWith(':alarm:payments-5xx'), true);
    assert.equal(plan.load!.abortWhen[0]!.source, 'error_rate > 5% for 5s');
  });

  it('needs no load (unlike abortWhen, which still does)', () => {
    assert.doesNotThrow(() => parseExperiment(`${HEAD}    - command: { run: "true" }\n`));
    const err = issues('    []\n  abortWhen: ["error_rate > 5%"]\n');
    assert.ok(err.some((i) => i.path === 'safety.abortWhen' && /measured on load/.test(i.message)));
  });

  it('a prometheus condition needs exactly one bound', () => {
    const none = only('    - prometheus: { url: "http://p:9090", query: up }\n');
    assert.equal(none.path, 'safety.stopWhen[0].prometheus');
    assert.match(none.message, /needs its bound.*above: 0\.01, below, atLeast or atMost/);
    assert.equal(none.line, 11);
    const two = only(
      '    - prometheus: { url: "http://p:9090", query: up }\n      above: 1\n      below: 0\n',
    );
    assert.equal(two.path, 'safety.stopWhen[0].below');
    assert.match(two.message, /one bound per stop condition, not above and below/);
    assert.equal(two.line, 13);
  });

  it('a misspelt kind: "did you mean", and what a stop condition watches', () => {
    const found = issues('    - promethus: { url: "http://p:9090", query: up }\n      above: 1\n');
    const typo = found.find((i) => i.path === 'safety.stopWhen[0].promethus');
    assert.equal(typo?.hint, 'did you mean "prometheus"?');
    assert.equal(typo?.line, 11);
    const none = only('    - { above: 1 }\n');
    assert.match(none.hint ?? '', /one of prometheus, http, alertmanager or command/);
  });

  it('checked at least every second', () => {
    const slow = only('    - http: { url: "http://x/health" }\n      every: 5s\n');
    assert.equal(slow.path, 'safety.stopWhen[0].every');
    assert.match(slow.message, /at least every second: write 100ms to 1s/);
    assert.equal(slow.line, 12);
    assert.equal(slow.column, 14);
  });

  it('durations with units, matchers with a label, onError stop or continue, alarm ARNs', () => {
    assert.match(
      only('    - command: { run: "true" }\n      for: 30\n').message,
      /duration with a unit/,
    );
    const empty = only('    - alertmanager: { url: "http://am:9093", matchers: {} }\n');
    assert.equal(empty.path, 'safety.stopWhen[0].alertmanager.matchers');
    assert.match(empty.message, /at least one label/);
    assert.match(
      only('    - alertmanager: { url: "http://am:9093", matchers: { alertname: 5 } }\n').message,
      /a label value is a string/,
    );
    assert.equal(
      only('    - command: { run: "true" }\n      onError: ignore\n').message,
      'expected stop or continue',
    );
    assert.match(
      only('    - command: { run: "true" }\n      cloudwatchAlarm: my-alarm\n').message,
      /CloudWatch alarm ARN such as arn:aws:cloudwatch:/,
    );
    const key = only('    - http: { url: "http://x/health" }\n      expect: { stauts: 200 }\n');
    assert.equal(key.path, 'safety.stopWhen[0].expect.stauts');
    assert.equal(key.hint, 'did you mean "status"?');
  });

  it('a ${variable} duration is checked once substituted', () => {
    const experiment = parseExperiment(
      `${HEAD}    - command: { run: "true" }\n      for: \${hold}\nconfiguration: { hold: { env: HOLD } }\n`,
      'exp.yaml',
    );
    // From the environment: known only at run time (a literal is checked by validate itself).
    assert.throws(
      () => planExperiment(experiment, { file: 'exp.yaml', env: { HOLD: 'soon' } }),
      (err: unknown) =>
        err instanceof ValidationError &&
        err.issues.some(
          (i) => i.path === 'safety.stopWhen[0].for' && /not a duration/.test(i.message),
        ),
    );
  });

  it('is in the JSON Schema editors use', () => {
    const text = JSON.stringify(experimentJsonSchema());
    for (const word of ['stopWhen', 'alertmanager', 'matchers', 'onError', 'cloudwatchAlarm'])
      assert.ok(text.includes(`"${word}"`), word);
  });
});
