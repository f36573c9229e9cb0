// `faultline compile` and stop conditions on signals (`safety.stopWhen`): AWS FIS maps those
// that name a CloudWatch alarm to aws:cloudwatch:alarm stop conditions and refuses (or, with
// --stop-alarm, notes) the ones it cannot evaluate; Chaos Mesh, Istio and Litmus say plainly that
// their manifests do not carry them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../errors.js';
import { compileText } from '../../test/helpers/golden.js';

const ALARM = 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:payments-5xx';
const options = {
  roleArn: 'arn:aws:iam::123456789012:role/fis-faultline',
  clusterArn: 'arn:aws:eks:eu-west-1:123456789012:cluster/shop-staging',
};

const experiment = (stopWhen: string): string => `title: payments
environment: staging
targets:
  api: { type: kubernetes, namespace: shop-staging, selector: { app: api } }
method: [{ fault: latency, target: api, delay: 10ms, duration: 1m }]
safety:
  stopWhen:
${stopWhen}`;

const PROMETHEUS = `    - name: 5xx ratio
      prometheus: { url: "http://prometheus:9090", query: "sum(rate(http_5xx[1m]))" }
      above: 0.01
      for: 30s
`;
const ALERT = `    - alertmanager: { url: "http://alertmanager:9093", matchers: { alertname: PaymentErrors } }
`;

type Template = { stopConditions: { source: string; value?: string }[] };

describe('compile and stop conditions on signals', () => {
  it('aws-fis: a condition with its CloudWatch alarm becomes an aws:cloudwatch:alarm stop condition', () => {
    const out = compileText(
      experiment(`${PROMETHEUS}      cloudwatchAlarm: "${ALARM}"\n`),
      'aws-fis',
      options,
    );
    const template = out.files[0]!.document as Template;
    assert.deepEqual(template.stopConditions, [{ source: 'aws:cloudwatch:alarm', value: ALARM }]);
    const note = out.notes.find((n) => n.startsWith('safety.stopWhen[0]'));
    assert.match(note ?? '', /"5xx ratio" → aws:cloudwatch:alarm .*payments-5xx/);
    assert.match(note ?? '', /for: 30 s is the alarm's own evaluation periods, not carried/);
  });

  it('aws-fis: one FIS cannot evaluate is refused at its line, with what would work', () => {
    assert.throws(
      () => compileText(experiment(`${PROMETHEUS}${ALERT}`), 'aws-fis', options),
      (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        const [prom, alert] = err.issues;
        assert.equal(prom?.path, 'safety.stopWhen[0]');
        assert.match(
          prom?.message ?? '',
          /"5xx ratio" \(a Prometheus query\) has no CloudWatch equivalent/,
        );
        assert.match(prom?.hint ?? '', /cloudwatchAlarm: ARN .*or pass --stop-alarm ARN/);
        assert.equal(prom?.line, 8);
        assert.equal(alert?.path, 'safety.stopWhen[1]');
        assert.match(alert?.message ?? '', /"alertmanager-1" \(an Alertmanager alert\)/);
        return true;
      },
    );
  });

  it('aws-fis: with --stop-alarm, a condition without an alarm is noted as not carried', () => {
    const given = 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:shop-5xx-rate';
    const out = compileText(
      experiment(
        `${ALERT}    - http: { url: "http://api/health" }\n      cloudwatchAlarm: "${ALARM}"\n`,
      ),
      'aws-fis',
      { ...options, stopAlarms: [given] },
    );
    assert.deepEqual((out.files[0]!.document as Template).stopConditions, [
      { source: 'aws:cloudwatch:alarm', value: given },
      { source: 'aws:cloudwatch:alarm', value: ALARM },
    ]);
    assert.ok(
      out.notes.some((n) =>
        /^safety\.stopWhen\[0\]: .*"alertmanager-1".*no CloudWatch equivalent.*only by the --stop-alarm alarm\(s\), not by this condition/.test(
          n,
        ),
      ),
      out.notes.join('\n'),
    );
  });

  it('aws-fis: more alarms than the 5 stop conditions a template takes are refused', () => {
    const six = Array.from(
      { length: 6 },
      (_, i) => `    - command: { run: "true" }\n      cloudwatchAlarm: "${ALARM}-${i}"\n`,
    ).join('');
    assert.throws(
      () => compileText(experiment(six), 'aws-fis', options),
      /6 CloudWatch alarms, and an FIS experiment template takes at most 5/,
    );
  });

  for (const platform of ['chaos-mesh', 'litmus', 'istio'] as const) {
    it(`${platform}: says that its manifests do not carry them`, () => {
      const text =
        platform === 'istio'
          ? experiment(PROMETHEUS)
              .replace(
                'selector: { app: api } }',
                'selector: { app: api }, service: api, port: 8080 }',
              )
              .replace(
                'fault: latency, target: api, delay: 10ms',
                'fault: http-delay, target: api, delay: 10ms',
              )
          : experiment(PROMETHEUS);
      const out = compileText(text, platform, {});
      const note = out.notes.find((n) => n.startsWith('safety.stopWhen[0]'));
      assert.match(
        note ?? out.notes.join('\n'),
        /stop condition "5xx ratio" \(a Prometheus query\) is not carried: .*faultline run --target kubernetes checks it \(for 30s\)/,
      );
    });
  }
});
