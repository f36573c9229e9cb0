// Every error the CLI prints lists its problems, one or many, each located and with its hint:
// a lone problem used to print only a count ("1 configuration value missing").
import { needTool, TOOLS } from '../helpers/tools.js';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

describe('CLI errors: every problem printed, located, with its hint', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-cli-errors-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('compile: one missing configuration value is named with its path and hint', async () => {
    // A planner output whose secret comes from $TOKEN, which the empty environment lacks.
    const file =
      'test/fixtures/planner/golden/fintech/experiments/03-latency-spike-auth-service.kubernetes.yaml';
    const { code, stderr } = await runCli(['compile', file, '--platform', 'chaos-mesh'], {
      env: {},
    });
    assert.equal(code, 2, stderr);
    assert.match(stderr, /1 configuration value missing/);
    assert.match(stderr, /kubernetes\.yaml: secrets\.token: environment variable TOKEN is not set/);
    assert.match(stderr, /hint: export TOKEN=/);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  });

  it(
    'a Chaos Toolkit file with one Python provider: the activity, its path and a hint',
    { skip: needTool(TOOLS.python3) },
    async () => {
      const file = join(dir, 'ctk.json');
      await writeFile(
        file,
        JSON.stringify({
          title: 't',
          description: 'd',
          method: [
            {
              type: 'action',
              name: 'kill',
              provider: { type: 'python', module: 'chaosk8s.pod.actions', func: 'terminate_pods' },
            },
          ],
        }),
      );
      const { code, stderr } = await runCli(['run', '--dry-run', file]);
      assert.equal(code, 2, stderr);
      assert.match(stderr, new RegExp(`1 problem in ${file}`));
      // Not installed here: the module, the activity and the package that provides it.
      assert.match(
        stderr,
        new RegExp(
          `${file}: method\\[0\\]\\.provider\\.module: could not find Python module 'chaosk8s.pod.actions' in activity 'kill'`,
        ),
      );
      assert.match(stderr, /hint: .*pip install chaostoolkit-kubernetes/);
    },
  );

  it('proxy serve --config with one bad proxy: the JSON path, the message and a hint', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify([{ name: 'a', listen: '127.0.0.1:0' }]));
    const { code, stderr } = await runCli(['proxy', 'serve', '--port', '0', '--config', file]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, new RegExp(`${file}: \\[0\\]\\.upstream: missing required field`));
    assert.match(stderr, /hint: .*populate format/);
  });

  it('one missing YAML colon is one problem, located where the colon goes', async () => {
    const file = join(dir, 'colon.yaml');
    await writeFile(
      file,
      [
        'title: t',
        'targets:',
        '  db: { type: proxy, listen: "127.0.0.1:25432", upstream: "127.0.0.1:5432" }',
        'method',
        '  - fault: latency',
        '    target: db',
        '    delay: 300ms',
        '    duration: 10s',
        '',
      ].join('\n'),
    );
    const { code, stderr } = await runCli(['run', '--dry-run', file]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, new RegExp(`${file}:4:7: .*"method" has no colon`));
    assert.match(stderr, /hint: write "method:"/);
    assert.equal(stderr.match(/colon\.yaml:\d+:\d+/g)?.length, 1, stderr);
  });

  it('validate and run --dry-run refuse what run would trip on: exit 2, each at file:line:column', async () => {
    const file = join(dir, 'values.yaml');
    await writeFile(
      file,
      [
        'title: t',
        'targets:',
        '  db: { type: proxy, upstream: "127.0.0.1:99999" }',
        'steadyState:',
        '  probes:',
        '    - name: health',
        '      http: { url: "not a url", method: "GE T" }',
        '      expect: { status: 99999, body: { regex: "([a-z" }, json: { path: "$.a[" } }',
        'method:',
        '  - fault: timeout',
        '    target: db',
        '    after: 700h',
        '    duration: 10s',
        '',
      ].join('\n'),
    );
    const expected = [
      /values\.yaml:3:32: targets\.db\.upstream: port 99999 is out of range/,
      /values\.yaml:7:20: steadyState\.probes\[0\]\.http\.url: not a URL/,
      /values\.yaml:7:41: steadyState\.probes\[0\]\.http\.method: "GE T" is not an HTTP method/,
      /values\.yaml:8:25: .*expect\.status: 99999 is not an HTTP status/,
      /values\.yaml:8:47: .*expect\.body\.regex: not a valid regular expression/,
      /values\.yaml:8:72: .*expect\.json\.path: "\$\.a\[" is not a JSONPath/,
      /values\.yaml:12:12: method\[0\]\.after: "700h" is longer than a timer can hold\n\s+hint: at most 2147483647ms/,
    ];
    for (const argv of [
      ['validate', file],
      ['run', '--dry-run', file],
    ]) {
      const { code, stderr } = await runCli(argv);
      assert.equal(code, 2, `${argv[0]!}: ${stderr}`);
      for (const line of expected) assert.match(stderr, line, argv[0]);
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    }
  });

  it('validate: an empty file, an alias bomb, deep nesting and a trailing comma in JSON, located', async () => {
    const files: Array<[string, string, RegExp]> = [
      ['empty.yaml', '', /empty\.yaml:1:1: \(root\): the file is empty/],
      [
        'bomb.yaml',
        'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n',
        /bomb\.yaml:3:5: \(root\): aliases expand to too many values/,
      ],
      [
        'deep.yaml',
        `title: t\nmethod: ${'['.repeat(4000)}${']'.repeat(4000)}\n`,
        /deep\.yaml:2:\d+: \(root\): nested deeper than 64 levels/,
      ],
      [
        'comma.json',
        '{"title": "t", "method": [],}',
        /comma\.json:1:28: \(root\): a comma before "}"/,
      ],
    ];
    for (const [name, text] of files) await writeFile(join(dir, name), text);
    const { code, stderr } = await runCli(['validate', ...files.map(([name]) => join(dir, name))]);
    assert.equal(code, 2, stderr);
    for (const [, , expected] of files) assert.match(stderr, expected);
    assert.match(stderr, /4 of 4 file\(s\) invalid/);
    assert.equal(stderr.match(/nested deeper/g)?.length, 1, 'one message for deep nesting');
    assert.doesNotMatch(stderr, /call stack|\n\s+at /);
  });

  it('validate refuses, located, a Chaos Toolkit activity that run would refuse (a Python module not installed)', async () => {
    const file = join(dir, 'python.json');
    await writeFile(
      file,
      JSON.stringify({
        title: 't',
        description: 'd',
        method: [
          {
            type: 'action',
            name: 'kill',
            provider: { type: 'python', module: 'chaosk8s.pod.actions', func: 'terminate_pods' },
          },
        ],
      }),
    );
    const { code, stderr } = await runCli(['validate', file]);
    assert.equal(code, 2, stderr);
    assert.match(
      stderr,
      /python\.json:1:\d+: method\[0\]\.provider\.module: could not find Python module 'chaosk8s\.pod\.actions'/,
    );
  });
});
