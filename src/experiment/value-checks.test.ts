// Every value `run` used to trip on (and blame on the system) is refused by validation first,
// located at the value, with what was expected and a hint: one test per hole of issue #23.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError, type ValidationIssue } from '../errors.js';
import { parseExperiment } from '../run-plan/read-experiment.js';
import { planExperiment } from '../run-plan/from-experiment.js';
import { MAX_TIMER_MS } from '../shared/timer-bounds.js';
import { valuePathProblem, urlProblem, methodProblem, hostPortProblem } from './value-checks.js';

function issuesOf(text: string, vars: string[] = []): readonly ValidationIssue[] {
  try {
    parseExperiment(text, 'exp.yaml', { vars });
  } catch (err) {
    if (err instanceof ValidationError) return err.issues;
    throw err;
  }
  assert.fail('expected the document to be invalid');
}

/** The one issue of a file, which must be located. */
function only(text: string): ValidationIssue {
  const issues = issuesOf(text);
  assert.equal(issues.length, 1, JSON.stringify(issues, null, 2));
  const issue = issues[0]!;
  assert.equal(issue.file, 'exp.yaml');
  assert.ok(issue.line !== undefined && issue.column !== undefined, 'located');
  return issue;
}

/** A valid experiment around one probe's `http` and `expect` (lines 6 and 7). */
const probe = (http: string, expect = '{ status: 200 }'): string => `title: t
targets:
  db: { type: proxy, upstream: "127.0.0.1:5432" }
steadyState:
  probes:
    - name: health
      http: ${http}
      expect: ${expect}
method:
  - wait: 1s
`;

describe('value checks: what run would trip on is refused by validate', () => {
  it('a regex in a body expectation that does not compile', () => {
    const issue = only(probe('{ url: "http://127.0.0.1:3000" }', '{ body: { regex: "([a-z" } }'));
    assert.equal(issue.path, 'steadyState.probes[0].expect.body.regex');
    assert.equal(issue.line, 8);
    assert.match(issue.message, /not a valid regular expression/);
    assert.match(issue.hint ?? '', /escape/);
  });

  it('a regex in a header expectation that does not compile', () => {
    const issue = only(
      probe('{ url: "http://127.0.0.1:3000" }', '{ header: { etag: { regex: "*abc" } } }'),
    );
    assert.equal(issue.path, 'steadyState.probes[0].expect.header.etag.regex');
    assert.match(issue.message, /Nothing to repeat/);
  });

  it("a regex in a process target's match and an HTTP fault's pathRegex", () => {
    const issues = issuesOf(`title: t
targets:
  app: { type: process, match: "node (server" }
  web: { type: proxy, upstream: "127.0.0.1:80", mode: http }
method:
  - fault: http-abort
    target: web
    status: 503
    duration: 10s
    match: { pathRegex: "[" }
`);
    assert.deepEqual(
      issues.map((i) => [i.path, i.line]),
      [
        ['targets.app.match', 3],
        ['method[0].match.pathRegex', 10],
      ],
    );
  });

  it('a URL that is not a URL, and an HTTP URL that is not http or https', () => {
    const bad = only(probe('{ url: "localhost 3000/health" }'));
    assert.equal(bad.path, 'steadyState.probes[0].http.url');
    assert.equal(bad.message, 'not a URL');
    assert.match(bad.hint ?? '', /http:\/\/127\.0\.0\.1:3000\/health/);
    const scheme = only(probe('{ url: "ftp://127.0.0.1/health" }'));
    assert.match(scheme.message, /starts with http:\/\/ or https:\/\/, not ftp:\/\//);
  });

  it('URLs of other kinds: postgres, redis, amqp', () => {
    const issues = issuesOf(`title: t
targets:
  pg: { type: postgres, url: "http://127.0.0.1:5432/app" }
  cache: { type: redis, url: "redis://127.0.0.1:99999" }
  mq: { type: rabbitmq, url: "amqp://guest:guest@127.0.0.1:5672" }
steadyState:
  probes:
    - name: q
      sql: { url: "postgres//127.0.0.1/app", query: "select 1" }
      expect: { equals: 1 }
    - name: r
      redis: { url: "/run/redis.sock", command: [PING] }
method: []
`);
    // A wrong scheme once (the backend's message), a bad port, a probe's URL.
    assert.deepEqual(
      issues.map((i) => [i.path, i.line, i.message]),
      [
        ['targets.pg.url', 3, 'expected a postgres:// or postgresql:// URL'],
        ['targets.cache.url', 4, 'not a URL'],
        ['steadyState.probes[0].sql.url', 9, 'not a URL'],
      ],
    );
  });

  it('an upstream port above 65535 and a listen port of 0', () => {
    const issues = issuesOf(`title: t
targets:
  db: { type: proxy, upstream: "127.0.0.1:99999", listen: "127.0.0.1:0" }
method: []
`);
    assert.deepEqual(
      issues.map((i) => [i.path, i.line, i.column, i.message]),
      [
        ['targets.db.upstream', 3, 32, 'port 99999 is out of range'],
        ['targets.db.listen', 3, 59, 'port 0 is out of range'],
      ],
    );
    assert.equal(issues[0]!.hint, 'a port is 1 to 65535');
  });

  it('an HTTP method with a space, and one fetch cannot send', () => {
    const spaced = only(probe('{ url: "http://127.0.0.1:3000", method: "GE T" }'));
    assert.equal(spaced.path, 'steadyState.probes[0].http.method');
    assert.match(spaced.message, /"GE T" is not an HTTP method/);
    const trace = only(probe('{ url: "http://127.0.0.1:3000", method: TRACE }'));
    assert.match(trace.message, /TRACE cannot be sent/);
  });

  it('header names and values that Node would refuse to send', () => {
    const issues = issuesOf(
      probe('{ url: "http://127.0.0.1:3000", headers: { "X Id": "1", x-ok: "a\\nb" } }'),
    );
    assert.deepEqual(
      issues.map((i) => i.message),
      [
        '"X Id" is not a valid header name',
        'a header value with a line break or a control character',
      ],
    );
  });

  it('statuses outside 100–599, alone or in a list', () => {
    const issue = only(probe('{ url: "http://127.0.0.1:3000" }', '{ status: 99999 }'));
    assert.equal(issue.message, '99999 is not an HTTP status');
    assert.equal(issue.hint, 'a status is 100 to 599');
    const listed = only(probe('{ url: "http://127.0.0.1:3000" }', '{ status: [200, 42] }'));
    assert.equal(listed.path, 'steadyState.probes[0].expect.status[1]');
  });

  it('a malformed JSONPath, and one that selects many values', () => {
    const bad = only(
      probe('{ url: "http://127.0.0.1:3000" }', '{ json: { path: "$.a[", equals: 1 } }'),
    );
    assert.equal(bad.path, 'steadyState.probes[0].expect.json.path');
    assert.match(bad.message, /"\$\.a\[" is not a JSONPath/);
    const wild = only(
      probe('{ url: "http://127.0.0.1:3000" }', '{ increases: { path: "$.items[*].n" } }'),
    );
    assert.match(wild.message, /selects many values/);
  });

  it('a timeout fault after: 700h is refused with the maximum in the hint', () => {
    const issue = only(`title: t
targets:
  db: { type: proxy, upstream: "127.0.0.1:5432" }
method:
  - fault: timeout
    target: db
    after: 700h
    duration: 10s
`);
    assert.equal(issue.path, 'method[0].after');
    assert.deepEqual([issue.line, issue.column], [7, 12]);
    assert.equal(issue.message, '"700h" is longer than a timer can hold');
    assert.match(issue.hint ?? '', new RegExp(`at most ${MAX_TIMER_MS}ms`));
  });

  it('every duration is bounded: a fault duration, a timeout, maxDuration', () => {
    const issues = issuesOf(`title: t
targets:
  db: { type: proxy, upstream: "127.0.0.1:5432" }
steadyState:
  probes:
    - name: health
      http: { url: "http://127.0.0.1:3000", timeout: 597h }
method:
  - fault: latency
    target: db
    delay: 1s
    duration: 40000m
safety: { maxDuration: 2147483648ms }
`);
    assert.deepEqual(
      issues.map((i) => i.path),
      ['steadyState.probes[0].http.timeout', 'method[0].duration', 'safety.maxDuration'],
    );
    // The longest a timer can hold is still accepted.
    assert.doesNotThrow(() =>
      parseExperiment(`title: t\nmethod:\n  - wait: ${MAX_TIMER_MS}ms\n`, 'exp.yaml'),
    );
  });

  it('all of them in one pass, sorted by position', () => {
    const issues = issuesOf(`title: t
targets:
  db: { type: proxy, upstream: "127.0.0.1:70000" }
steadyState:
  probes:
    - name: h
      http: { url: "no url", method: "G T" }
      expect: { status: 1, body: { regex: "(" }, json: { path: "$[" } }
method:
  - fault: timeout
    target: db
    after: 700h
    duration: 10s
`);
    assert.equal(issues.length, 7, JSON.stringify(issues, null, 2));
    assert.ok(issues.every((i) => i.line !== undefined && i.column !== undefined));
    const lines = issues.map((i) => i.line!);
    assert.deepEqual(
      lines,
      [...lines].sort((a, b) => a - b),
    );
  });

  it("values from the file's own configuration are checked where they are used", () => {
    const text = `title: t
configuration:
  after: 700h
  health: "not a url"
targets:
  db: { type: proxy, upstream: "127.0.0.1:5432" }
steadyState:
  probes:
    - name: h
      http: { url: "\${health}" }
method:
  - fault: timeout
    target: db
    after: "\${after}"
    duration: 10s
`;
    const issues = issuesOf(text);
    assert.deepEqual(
      issues.map((i) => [i.path, i.line]),
      [
        ['steadyState.probes[0].http.url', 10],
        ['method[0].after', 14],
      ],
    );
    assert.match(issues[1]!.message, /once its variables are substituted: "700h" is longer/);
    // Given with --var, the value is known only at run time: not checked here...
    assert.equal(issuesOf(text, ['after']).length, 1);
    // ...and refused by run then, before anything is applied.
    const experiment = parseExperiment(text.replace('"not a url"', 'http://127.0.0.1:3000'), 'x', {
      vars: ['after'],
    });
    assert.throws(
      () => planExperiment(experiment, { file: 'exp.yaml', env: {}, vars: { after: '700h' } }),
      (err: unknown) =>
        err instanceof ValidationError &&
        err.issues.some((i) => i.path === 'method[0].after' && /timer/.test(i.message)),
    );
  });

  it('still accepts what is right: placeholders, simple paths, https, IPv6 and sockets', () => {
    assert.doesNotThrow(() =>
      parseExperiment(
        `title: t
configuration: { base: { env: BASE, default: "http://127.0.0.1:3000" } }
targets:
  db: { type: proxy, upstream: "[::1]:5432", listen: "127.0.0.1:65535" }
  cache: { type: redis, url: "rediss://127.0.0.1:6380" }
steadyState:
  probes:
    - name: h
      http: { url: "\${base}/health", method: patch, headers: { X-Id: "a b" } }
      expect: { status: [200, 599], json: { path: "a.b.0", equals: 1 }, body: { regex: "^ok$" } }
    - name: i
      http: { url: "https://[::1]:8443/x?y=1" }
      expect: { increases: { path: "$.counters[0].value" } }
method:
  - wait: 1s
`,
        'exp.yaml',
      ),
    );
  });
});

describe('value checks, one by one', () => {
  it('valuePathProblem: the grammar getPath reads', () => {
    for (const ok of ['$', '$.a', '$.a.b[0]', 'a.b.0', '$[0].x', '$.my key'])
      assert.equal(valuePathProblem(ok), undefined, ok);
    for (const bad of ['', '$.', '$.a.', '$..a', '$.a[', '$[x]', "$['a']", '$a', '$.a[*]'])
      assert.ok(valuePathProblem(bad), bad);
  });

  it('urlProblem, methodProblem, hostPortProblem', () => {
    assert.equal(urlProblem('http://127.0.0.1:3000', 'http'), undefined);
    assert.ok(urlProblem('http://127.0.0.1:0/', 'http'));
    assert.equal(urlProblem('http://x', 'postgres', { scheme: false }), undefined);
    assert.ok(urlProblem('postgres://x:99999/db', 'postgres', { scheme: false }));
    assert.equal(methodProblem('TRACE', { sendable: false }), undefined);
    assert.ok(methodProblem(''));
    assert.equal(hostPortProblem(':5432'), undefined);
    assert.ok(hostPortProblem('127.0.0.1'));
  });
});
