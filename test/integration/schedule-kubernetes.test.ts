// faultline schedule SCHEDULE.yaml --target kubernetes: Chaos Mesh Schedules against golden files
// and the real Schedule CRD (test/fixtures/chaos-mesh/crds, ajv, unknown fields refused), what a
// Schedule cannot say refused with located errors (in the schedule and in its experiments, one
// pass), and the CLI (stdout, -o, notes, exit 2).
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Cron } from 'croner';
import { parseAllDocuments } from 'yaml';
import { loadCrdValidator } from '../helpers/crd-validator.js';
import { assertGolden, chaosMeshFixtures } from '../helpers/golden.js';
import { runCli, type CliResult } from '../helpers/cli.js';

const crds = loadCrdValidator(join(chaosMeshFixtures, 'crds'));
const schedules = join(chaosMeshFixtures, 'schedules');

const cli = (argv: string[]): Promise<CliResult> => runCli(argv);

interface ScheduleDoc {
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: Record<string, unknown> & {
    schedule: string;
    type: string;
    concurrencyPolicy: string;
    workflow?: { entry: string; templates: Record<string, unknown>[] };
  };
}

const docsOf = (text: string): ScheduleDoc[] =>
  parseAllDocuments(text).map((d) => d.toJS() as ScheduleDoc);

describe('faultline schedule --target kubernetes: Chaos Mesh Schedules', () => {
  it('weekday.yaml: one paused Schedule per fault, the cadence in the window, valid against the CRD, equal to golden/schedule-weekday.yaml', async () => {
    const result = await cli([
      'schedule',
      join(schedules, 'weekday.yaml'),
      '--platform',
      'kubernetes',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const docs = docsOf(result.stdout);
    // network-latency.yaml has one fault, pod-faults.yaml three.
    assert.equal(docs.length, 4);
    for (const d of docs) {
      assert.deepEqual(
        crds.validate(d as never),
        [],
        `${d.metadata.name} must validate against the Schedule CRD`,
      );
      assert.equal(d.kind, 'Schedule');
      assert.equal(d.spec.concurrencyPolicy, 'Forbid');
      assert.equal(
        d.metadata.annotations?.['experiment.chaos-mesh.org/pause'],
        'true',
        'leashed → paused',
      );
      assert.equal(d.metadata.labels['faultline.dev/schedule'], 'weekday-chaos-on-payments');
      const embedded = Object.entries(d.spec).find(([k]) => k.endsWith('Chaos'))?.[1] as {
        duration?: string;
        mode?: string;
        selector?: { namespaces: string[] };
      };
      assert.match(embedded.duration ?? '', /^\d+(s|m)$/, 'a duration on every fault');
      assert.equal(embedded.selector?.namespaces[0], 'payments');
    }
    assert.match(result.stdout, /# LEASHED: created paused/);
    // Group of two, I = 2h: each experiment every 4h from 10:00, staggered by 2h.
    assert.equal(docs[0]!.spec.schedule, 'CRON_TZ=Europe/Paris 0 10,14 * * 1-5');
    assert.ok(
      docs.slice(1).every((d) => d.spec.schedule === 'CRON_TZ=Europe/Paris 0 12 * * 1-5'),
      docs.map((d) => d.spec.schedule).join(' | '),
    );
    assert.match(result.stderr, /note: maxConcurrent 1: each Schedule forbids overlapping itself/);
    assert.match(result.stderr, /note: leashed/);
    assertGolden('schedule-weekday.yaml', result.stdout);
  });

  it('the crons keep the model: inside the window, the group never closer than max(mean, gap) (checked with croner)', async () => {
    const docs = docsOf(
      (await cli(['schedule', join(schedules, 'weekday.yaml'), '--platform', 'kubernetes'])).stdout,
    );
    const window = new Cron('* 10-15 * * 1-5', { timezone: 'Europe/Paris', paused: true });
    const starts = new Set<number>();
    for (const cron of new Set(docs.map((d) => d.spec.schedule))) {
      const [zone, ...fields] = cron.split(' ');
      const c = new Cron(fields.join(' '), {
        timezone: zone!.slice('CRON_TZ='.length),
        paused: true,
      });
      for (const t of c.nextRuns(30, new Date('2026-03-02T00:00:00Z'))) starts.add(t.getTime());
    }
    const sorted = [...starts].sort((a, b) => a - b);
    for (const t of sorted) assert.ok(window.match(new Date(t)), new Date(t).toISOString());
    for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i]! - sorted[i - 1]! >= 2 * 3600_000);
  });

  it('gated.yaml: the health gate becomes a Workflow (Task with the probes, fault on exit code 0), active when unleashed, one object per window', async () => {
    const result = await cli([
      'schedule',
      join(schedules, 'gated.yaml'),
      '--platform',
      'kubernetes',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const docs = docsOf(result.stdout);
    assert.equal(docs.length, 4, 'two faults × two windows');
    for (const d of docs) {
      assert.deepEqual(
        crds.validate(d as never),
        [],
        `${d.metadata.name} must validate against the Schedule CRD`,
      );
      assert.equal(d.spec.type, 'Workflow');
      assert.equal(
        d.metadata.annotations?.['experiment.chaos-mesh.org/pause'],
        undefined,
        'unleashed → active',
      );
      const [gate, fault] = d.spec.workflow!.templates as [
        {
          templateType: string;
          conditionalBranches: { target: string; expression: string }[];
          task: { container: { command: string[] } };
          deadline: string;
        },
        {
          name: string;
          templateType: string;
          deadline: string;
          stressChaos: { duration?: string };
        },
      ];
      assert.equal(d.spec.workflow!.entry, 'health-gate');
      assert.equal(gate.templateType, 'Task');
      assert.deepEqual(gate.conditionalBranches, [
        { target: fault.name, expression: 'exitCode == 0' },
      ]);
      assert.match(
        gate.task.container.command[2]!,
        /--max-time 2 'http:\/\/api-gateway\.edge\.svc:8080\/health'\)" = 200 && .*\/ready'\)" = 204$/,
      );
      assert.equal(fault.templateType, 'StressChaos');
      assert.equal(fault.deadline, '2m', 'the fault template carries the fault duration');
    }
    // I = 90m > 60: whole hours, every 2h from the window's first hour.
    assert.deepEqual(
      [...new Set(docs.map((d) => d.spec.schedule))],
      ['CRON_TZ=UTC 0 9,11 * * 1-5', 'CRON_TZ=UTC 0 14,16 * * 2,4'],
    );
    assert.match(result.stderr, /note: maxConcurrent 2: .*cannot be expressed/);
    assert.match(result.stderr, /note: each window has its own Schedules/);
    assertGolden('schedule-gated.yaml', result.stdout);
  });

  it('the CRD check is not vacuous for Schedules: a wrong concurrencyPolicy and a misspelled field are caught', async () => {
    const doc = docsOf(
      (await cli(['schedule', join(schedules, 'weekday.yaml'), '--platform', 'kubernetes'])).stdout,
    )[0]!;
    const broken = structuredClone(doc) as ScheduleDoc & { apiVersion: string };
    broken.spec.concurrencyPolicy = 'Replace';
    broken.spec['historyLimt'] = 3;
    const problems = crds.validate(broken);
    assert.ok(
      problems.some((p) => p.includes('/spec/concurrencyPolicy')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.includes('historyLimt')),
      problems.join('\n'),
    );
  });
});

describe('faultline schedule --target kubernetes: what a Schedule cannot express, located', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-schedule-k8s-'));
    await writeFile(
      join(dir, 'proxy.yaml'),
      [
        'title: proxied',
        'environment: staging',
        'targets:',
        '  db: { type: proxy, upstream: "127.0.0.1:5432" }',
        'method:',
        '  - { fault: latency, target: db, delay: 1s, duration: 30s }',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(dir, 'wide.yaml'),
      [
        'title: wide',
        'environment: staging',
        'targets:',
        '  api: { type: kubernetes, namespace: shop-staging, selector: { app: api }, mode: all }',
        'method:',
        '  - { fault: pod-kill, target: api, duration: 30s }',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(dir, 'bad.yaml'),
      [
        'title: bad',
        'blackouts:',
        '  - 2026-12-24',
        'healthGate:',
        '  probes:',
        '    - url: http://127.0.0.1:8080/health',
        'groups:',
        '  - name: g',
        '    experiments: [proxy.yaml, wide.yaml]',
        '    meanTimeBetweenFaults: 200h',
        '',
      ].join('\n'),
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('refuses blackouts, a loopback health gate, an impossible cadence, a proxy fault and a wide blast radius: all in one pass, each located in its own file, exit 2', async () => {
    const result = await cli(['schedule', join(dir, 'bad.yaml'), '--platform', 'kubernetes']);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '', 'nothing compiled');
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    const expect: [RegExp, RegExp][] = [
      [
        /bad\.yaml:3:\d+.*blackouts.*cannot skip blackout dates/,
        /--allow-ungated .*faultline\.dev\/schedule=bad /,
      ],
      [/bad\.yaml:6:\d+.*healthGate\.probes\[0\]\.url.*loopback/, /svc/],
      [
        /bad\.yaml:10:\d+.*groups\[0\]\.meanTimeBetweenFaults.*do not fit in a week/,
        /--schedule CRON/,
      ],
      [
        /proxy\.yaml:6:\d+.*method\[0\]\.target.*cannot be compiled to Chaos Mesh/,
        /kubernetes target/,
      ],
      [/wide\.yaml:4:\d+.*targets\.api\.mode.*mode all/, /--allow-wide-blast/],
    ];
    for (const [where, hint] of expect) {
      assert.match(result.stderr, where);
      const line = result.stderr.split('\n').findIndex((l) => where.test(l));
      assert.match(
        result.stderr
          .split('\n')
          .slice(line, line + 3)
          .join('\n'),
        hint,
        `hint for ${where}`,
      );
    }
  });

  it('--allow-ungated accepts blackouts with a note saying how to pause over them; the rest still refused', async () => {
    const stress = join(chaosMeshFixtures, 'experiments', 'stress.yaml');
    await writeFile(
      join(dir, 'blackout.yaml'),
      [
        'title: blackout only',
        'blackouts: [{ from: 2026-12-20, to: 2027-01-04, reason: freeze }]',
        'groups:',
        `  - { name: g, experiments: ["${stress}"], meanTimeBetweenFaults: 1h }`,
        '',
      ].join('\n'),
    );
    const refused = await cli(['schedule', join(dir, 'blackout.yaml'), '--platform', 'kubernetes']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /blackout\.yaml:2:\d+/);
    const accepted = await cli([
      'schedule',
      join(dir, 'blackout.yaml'),
      '--platform',
      'kubernetes',
      '--allow-ungated',
      '--out-dir',
      join(dir, 'out'),
    ]);
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.match(
      accepted.stderr,
      /note: blackouts are not enforced by the cluster .*2026-12-20\.\.2027-01-04.*kubectl annotate schedules -A -l faultline\.dev\/schedule=blackout-only experiment\.chaos-mesh\.org\/pause=true/,
    );
    const files = (await readdir(join(dir, 'out'))).sort();
    assert.deepEqual(files, [
      'schedule-g-gateway-under-cpu-and-memory-pressure-cpu-stress-1.yaml',
      'schedule-g-gateway-under-cpu-and-memory-pressure-memory-stress-2.yaml',
    ]);
    for (const f of files) {
      const text = await readFile(join(dir, 'out', f), 'utf8');
      assert.match(text, /^# faultline schedule "blackout only"/);
      assert.deepEqual(crds.validate(docsOf(text)[0] as never), []);
    }
  });

  it('--unleash makes leashed objects active; an unknown --target is a usage error', async () => {
    const unleashed = docsOf(
      (
        await cli([
          'schedule',
          join(schedules, 'weekday.yaml'),
          '--platform',
          'kubernetes',
          '--unleash',
        ])
      ).stdout,
    );
    assert.ok(
      unleashed.every(
        (d) => d.metadata.annotations?.['experiment.chaos-mesh.org/pause'] === undefined,
      ),
    );
    const wrong = await cli(['schedule', join(schedules, 'weekday.yaml'), '--platform', 'aws-fis']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /schedules compile to kubernetes/);
  });
});
