// Reports from real runs: `faultline run --report --junit --md` on a real service whose
// dependency sits behind the run's proxy under load, then the HTML page opened in headless
// Chromium (no console error, the charts drawn, a screenshot kept in test-artifacts/), the
// JUnit file parsed back with a real XML parser, the Markdown appended to a
// GITHUB_STEP_SUMMARY file, and `faultline report --summary` scoring the journals.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { chromium, type Page } from 'playwright-core';
import { stringify } from 'yaml';
import type { Journal } from '../../src/journal/journal.js';
import { hypothesisRows } from '../../src/reporting/hypotheses.js';
import { buildReportModel, loadOrigin } from '../../src/reporting/report-model.js';
import { writeReports } from '../../src/reporting/write-reports.js';
import { freePort, startEcho, startService } from '../helpers/services.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { needTool, TOOLS } from '../helpers/tools.js';

const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');
/** A title and a rollback name that would break the page if any journal text went in unescaped. */
const HOSTILE_TITLE = `checkout <b>under</b> load & "latency" <img src=x onerror="window.pwned=1">`;
const HOSTILE_ROLLBACK = 'flush </script><script>window.pwned=2</script>';

/** Counts, in each chart's canvas, the opaque pixels of each line colour and the translucent ones of the fault shading. */
const COUNT_PIXELS = `[...document.querySelectorAll('#charts canvas')].map((canvas) => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const rgb = (r, g, b, i) => Math.abs(data[i] - r) < 12 && Math.abs(data[i + 1] - g) < 12 && Math.abs(data[i + 2] - b) < 12;
  const near = (r, g, b, i) => rgb(r, g, b, i) && data[i + 3] > 200;
  const n = { id: canvas.closest('.chart') && canvas.closest('.chart').id, p99: 0, p50: 0, throughput: 0, rollback: 0, recovered: 0, threshold: 0, shaded: 0, painted: 0 };
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0) n.painted++;
    if (near(207, 34, 46, i)) n.p99++;
    if (near(9, 105, 218, i)) n.p50++;
    if (near(26, 127, 55, i)) n.throughput++;
    if (near(130, 80, 223, i)) n.rollback++;
    if (near(10, 123, 131, i)) n.recovered++;
    if (near(154, 103, 0, i)) n.threshold++;
    // The shading is translucent red over a transparent canvas (the page behind it is white).
    if (rgb(207, 34, 46, i) && data[i + 3] > 20 && data[i + 3] < 45) n.shaded++;
  }
  return n;
})`;

/**
 * Opens the report FILE in headless Chromium (1200 × 900), waits for its three charts and runs
 * `check` on the page with what the page logged as an error or warning and what it fetched from
 * outside the file; the browser is closed whatever happens.
 */
async function withReportPage(
  file: string,
  check: (page: Page, seen: { problems: string[]; requests: string[] }) => Promise<void>,
): Promise<void> {
  const browser = await chromium.launch({
    executablePath: TOOLS.chromium.find(),
    args: ['--no-sandbox'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const seen = { problems: [] as string[], requests: [] as string[] };
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning')
        seen.problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => seen.problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) seen.requests.push(r.url());
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await page.waitForSelector('body[data-charts="3"]', { timeout: 10_000 });
    await check(page, seen);
  } finally {
    await browser.close();
  }
}

const cli = (argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
  runCli(argv, { cwd, env: { PATH: process.env['PATH'], ...env } });

describe('reports from real runs', () => {
  let dir: string;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let service: Awaited<ReturnType<typeof startService>>;
  let proxyPort: number;
  let deviated: { code: number; stdout: string; stderr: string };
  let journal: Journal;
  const summaryFile = (): string => join(dir, 'step-summary.md');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-reports-'));
    echo = await startEcho();
    proxyPort = await freePort();
    service = await startService(proxyPort, 2_000);
    const experiment = {
      title: HOSTILE_TITLE,
      tags: ['checkout', 'latency'],
      targets: { db: { type: 'proxy', listen: `127.0.0.1:${proxyPort}`, upstream: echo.address } },
      steadyState: {
        load: {
          url: `${service.url}/health`,
          rate: '100/s',
          baseline: '2s',
          recovery: '4s',
          timeout: '3s',
        },
        // Wide margins both ways: a busy machine's baseline p99 reached 509 ms (the gate must
        // hold), and the 1.5 s fault is far above the bound.
        thresholds: ['p99 < 1s', 'error_rate < 1%'],
        probes: [
          {
            name: 'health answers',
            http: { url: `${service.url}/health` },
            expect: { status: 200 },
          },
        ],
      },
      method: [{ fault: 'latency', target: 'db', delay: '1500ms', duration: '2s' }],
      rollbacks: [{ name: HOSTILE_ROLLBACK, command: { run: ['true'] } }],
      runtime: { hypothesisFrequency: '500ms' },
      safety: { maxDuration: '40s' },
    };
    await writeFile(join(dir, 'deviate.yaml'), stringify(experiment));
    await writeFile(summaryFile(), '# earlier step\n');
    await mkdir(join(dir, 'journals'));
    deviated = await cli(
      [
        'run',
        'deviate.yaml',
        '--journal',
        'journals/deviate.json',
        '--report',
        'out/report.html',
        '--junit',
        'out/junit.xml',
        '--md',
        'out/summary.md',
      ],
      dir,
      { FAULTLINE_STATE_DIR: join(dir, 'state'), GITHUB_STEP_SUMMARY: summaryFile() },
    );
    journal = JSON.parse(await readFile(join(dir, 'journals/deviate.json'), 'utf8')) as Journal;
  });
  after(async () => {
    await service.close();
    await echo.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("run --report/--junit/--md writes every file and keeps the run's exit code", () => {
    assert.equal(deviated.code, 1, `${deviated.stdout}\n${deviated.stderr}`);
    assert.equal(journal.faultline.outcome, 'deviated');
    for (const line of ['report: ', 'junit: ', 'md: ', 'step-summary: '])
      assert.ok(deviated.stdout.includes(line), `${line} in ${deviated.stdout}`);
  });

  it("the journal records when the load started, and the report's time axis counts from it", () => {
    const startedAt = journal.faultline.load?.started_at;
    assert.ok(startedAt, 'faultline.load.started_at is recorded');
    const origin = Date.parse(startedAt);
    // The baseline window begins when the load does: the first baseline check starts then (not before).
    const firstCheck = Date.parse(
      journal.steady_states.before!.probes.find((p) => p.name.startsWith('load: '))!.start,
    );
    assert.ok(
      firstCheck >= origin - 1 && firstCheck - origin < 1_000,
      `load started ${startedAt}, baseline check at ${new Date(firstCheck).toISOString()}`,
    );
    assert.ok(origin >= Date.parse(journal.start) - 1, 'the load starts within the run');
    const model = buildReportModel(journal);
    const fault = journal.faultline.faults[0]!;
    assert.deepEqual(
      model.load!.windows.map((w) => w.from),
      [Math.round((Date.parse(fault.applied_at!) - origin) / 10) / 100],
    );
    // The series' last second ends near the load's stop, on the same axis.
    assert.ok(model.load!.series.t.length > 0);
  });

  it('JUnit: one test case per hypothesis and phase; failures carry the measured value', async () => {
    const xml = await readFile(join(dir, 'out/junit.xml'), 'utf8');
    const parsed = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '',
      isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
    }).parse(xml) as {
      testsuites: {
        tests: string;
        failures: string;
        testsuite: {
          name: string;
          tests: string;
          failures: string;
          testcase: {
            name: string;
            classname: string;
            failure?: { message: string; '#text': string };
          }[];
        }[];
      };
    };
    const suites = parsed.testsuites.testsuite;
    const all = suites.flatMap((s) => s.testcase);
    assert.equal(Number(parsed.testsuites.tests), all.length);
    assert.equal(Number(parsed.testsuites.failures), all.filter((c) => c.failure).length);

    // Every probe/threshold judged in each phase of the journal is one test case of that phase's suite.
    const phases: [string, Journal['steady_states']['during'][number]['probes']][] = [
      ['before', journal.steady_states.before!.probes],
      ['during', journal.steady_states.during.flatMap((s) => s.probes)],
      ['after', journal.steady_states.after!.probes],
    ];
    for (const [phase, probes] of phases) {
      const suite = suites.find((s) => s.name === `${HOSTILE_TITLE}: ${phase}`);
      assert.ok(suite, `suite for ${phase}: ${suites.map((s) => s.name).join(', ')}`);
      assert.deepEqual(
        suite.testcase.map((c) => c.name).sort(),
        [...new Set(probes.map((p) => p.name))].sort(),
      );
      for (const c of suite.testcase) {
        const failed = probes.filter((p) => p.name === c.name && p.tolerance_met !== true);
        assert.equal(Boolean(c.failure), failed.length > 0, `${phase} ${c.name}`);
        if (failed.length > 0) {
          // A threshold's failure carries its worst window (here every bound is `<`: the largest
          // value), a probe's its first failing check.
          const leading = (p: (typeof failed)[number]): number =>
            Number(
              /-?\d+(?:\.\d+)?/.exec((p.output as { value?: string }).value ?? '')?.[0] ?? NaN,
            );
          const shown = c.name.startsWith('load: ')
            ? failed.reduce((w, p) => (leading(p) > leading(w) ? p : w))
            : failed[0]!;
          const output = shown.output as { value?: string; status?: number };
          const measured = output.value ?? `HTTP ${output.status}`;
          assert.ok(
            c.failure!.message.includes(measured),
            `"${c.failure!.message}" carries "${measured}"`,
          );
          assert.match(c.failure!['#text'], /^measured: /);
        }
      }
    }
    const p99 = suites
      .find((s) => s.name.endsWith(': during'))!
      .testcase.find((c) => c.name === 'load: p99 < 1s')!;
    assert.ok(p99.failure, 'the latency fault broke p99 < 1s during the method');
    const verdict = suites.find((s) => s.name.endsWith(': verdict'))!.testcase[0]!;
    assert.match(verdict.failure!.message, /^deviated: /);
    const rollback = suites
      .find((s) => s.name.endsWith(': safety'))!
      .testcase.find((c) => c.name === `rollback: ${HOSTILE_ROLLBACK}`);
    assert.ok(rollback && !rollback.failure, 'the rollback action is a passing test case');
  });

  it('Markdown: written with --md and appended to GITHUB_STEP_SUMMARY after what was there', async () => {
    const md = await readFile(join(dir, 'out/summary.md'), 'utf8');
    const summary = await readFile(summaryFile(), 'utf8');
    assert.equal(summary, `# earlier step\n${md}\n`);
    assert.match(md, /DEVIATED \(exit 1\)/);
    for (const row of hypothesisRows(journal))
      assert.ok(
        md.includes(`| ${row.phase} | ${row.name.replace(/</g, '&lt;')} |`),
        `row for ${row.phase} ${row.name}`,
      );
    assert.ok(!md.includes('<b>'), 'no raw HTML from the journal');
  });

  it(
    'HTML: opens offline in headless Chromium, no console error, charts drawn, journal text escaped',
    { timeout: 60_000, skip: needTool(TOOLS.chromium) },
    async () => {
      await withReportPage(join(dir, 'out/report.html'), async (page, { problems, requests }) => {
        assert.deepEqual(problems, []);
        assert.deepEqual(requests, [], 'the page fetched nothing: it opens offline');

        // Journal text is shown as text, never run or parsed as markup.
        assert.equal(await page.locator('h1').textContent(), HOSTILE_TITLE);
        assert.equal(await page.locator('h1 b, h1 img').count(), 0);
        assert.equal(await page.evaluate('window.pwned'), undefined);
        assert.ok(((await page.locator('body').textContent()) ?? '').includes(HOSTILE_ROLLBACK));

        // Each chart's canvas holds its series (the line colours) and the fault window (the shading).
        // Passed as source text: tsx would wrap named functions in a helper the page does not have.
        const pixels = (await page.evaluate(COUNT_PIXELS)) as {
          id: string;
          p99: number;
          p50: number;
          throughput: number;
          rollback: number;
          recovered: number;
          threshold: number;
          shaded: number;
          painted: number;
        }[];
        assert.equal(pixels.length, 3, JSON.stringify(pixels));
        const [latency, throughput, errors] = pixels;
        assert.equal(latency!.id, 'chart-latency');
        assert.ok(
          latency!.p99 > 50 && latency!.p50 > 50,
          `latency lines drawn: ${JSON.stringify(latency)}`,
        );
        assert.ok(
          throughput!.throughput > 50,
          `throughput line drawn: ${JSON.stringify(throughput)}`,
        );
        // The thresholds as dashed lines on their charts (p99 < 1s, error_rate < 1%), none on
        // throughput (the experiment bounds no rps).
        assert.ok(latency!.threshold > 50, `p99 threshold line: ${JSON.stringify(latency)}`);
        assert.ok(errors!.threshold > 50, `error threshold line: ${JSON.stringify(errors)}`);
        assert.equal(throughput!.threshold, 0, JSON.stringify(throughput));
        // Legends name every series and line, with no value placeholder (`p50: --`).
        const legend = async (id: string): Promise<string> =>
          (await page.locator(`#${id} .u-legend`).textContent()) ?? '';
        assert.match(await legend('chart-latency'), /p50 per second.*p99 per second/);
        assert.match(await legend('chart-errors'), /errors per second/);
        for (const id of ['chart-latency', 'chart-throughput', 'chart-errors'])
          assert.doesNotMatch(await legend(id), /--/, `${id}: ${await legend(id)}`);
        assert.equal(
          await page.locator('#chart-latency .limits').textContent(),
          'p99 < 1s (threshold)',
        );
        assert.equal(
          await page.locator('#chart-errors .limits').textContent(),
          'error_rate < 1% (threshold)',
        );
        assert.equal(await page.locator('#chart-throughput .limits').count(), 0);
        // The recovery instant is drawn when the run recorded one (on a very busy machine it may not recover in time).
        const recovered =
          typeof (journal.faultline.load!.phases.after as { recovered_after_ms?: unknown })
            .recovered_after_ms === 'number';
        for (const chart of pixels) {
          assert.ok(
            chart.shaded > 500,
            `fault window shaded in ${chart.id}: ${JSON.stringify(chart)}`,
          );
          // Vertical lines the height of the plot: the rollback action and the recovery instant.
          assert.ok(
            chart.rollback > 50,
            `rollback marked in ${chart.id}: ${JSON.stringify(chart)}`,
          );
          assert.equal(
            chart.recovered > 20,
            recovered,
            `recovery marked in ${chart.id} exactly when recorded: ${JSON.stringify(chart)}`,
          );
        }
        assert.ok(errors!.painted > 0);

        await mkdir(ARTIFACTS, { recursive: true });
        const shot = join(ARTIFACTS, 'report.png');
        await page.screenshot({ path: shot, fullPage: true });
        assert.ok(
          (await stat(shot)).size > 20_000,
          'a screenshot of the report is kept in test-artifacts/report.png',
        );
      });
    },
  );

  it(
    'HTML: a rollback that falls on a tick of the time axis is still drawn (above the grid)',
    { timeout: 60_000, skip: needTool(TOOLS.chromium) },
    async () => {
      // The same run with its rollback moved to 10.00 s after the load began: a whole second,
      // where the time axis has a tick and uPlot draws a grid line (2 px, 7 % black). Drawn
      // beneath the grid, the marker faded to another colour there (seen once in a full run:
      // no pixel of the rollback's colour in the latency chart).
      const origin = loadOrigin(journal);
      const moved = structuredClone(journal);
      moved.rollbacks[0]!.start = new Date(origin + 10_000).toISOString();
      const html = join(dir, 'out', 'report-on-tick.html');
      await writeReports(moved, { html });
      await withReportPage(html, async (page) => {
        const pixels = (await page.evaluate(COUNT_PIXELS)) as { id: string; rollback: number }[];
        assert.equal(pixels.length, 3);
        for (const chart of pixels)
          assert.ok(
            chart.rollback > 50,
            `rollback on a tick marked in ${chart.id}: ${JSON.stringify(chart)}`,
          );
      });
    },
  );

  it(
    'report --summary DIR: a resilience score per service, weighted, from every journal in the directory',
    { timeout: 60_000 },
    async () => {
      // A second experiment on the same service, aborted by its stop condition (a library run).
      const journals = join(dir, 'journals');
      await writeFile(
        join(dir, 'abort.yaml'),
        stringify({
          title: 'checkout resets',
          tags: ['checkout'],
          targets: {
            db: { type: 'proxy', listen: `127.0.0.1:${proxyPort}`, upstream: echo.address },
          },
          steadyState: {
            load: {
              url: `${service.url}/health`,
              rate: '100/s',
              baseline: '1s',
              recovery: '2s',
              timeout: '3s',
            },
            thresholds: ['error_rate < 1%'],
          },
          method: [{ fault: 'reset-peer', target: 'db', duration: '20s' }, { wait: '20s' }],
          safety: { maxDuration: '60s', abortWhen: ['error_rate > 20% over 500ms'] },
        }),
      );
      const aborted = await cli(
        [
          'run',
          'abort.yaml',
          '--quiet',
          '--journal',
          'journals/abort.json',
          '--report',
          'out/abort.html',
        ],
        dir,
        { FAULTLINE_STATE_DIR: join(dir, 'state') },
      );
      assert.equal(aborted.code, 3, aborted.stdout + aborted.stderr);
      await writeFile(join(journals, 'notes.json'), '{"not": "a journal"}');

      const a = (await writeReports(join(journals, 'deviate.json'), {})).model.score;
      const b = (await writeReports(join(journals, 'abort.json'), {})).model.score;
      assert.ok(
        a.scored && b.scored && a.percent! < 100 && b.percent! < 100,
        `${a.note} / ${b.note}`,
      );
      assert.match(b.note, /stop condition counts as a failed hypothesis/);
      assert.ok(a.percent! <= 50 && b.percent! <= 50, 'a refuted run scores below the pass mark');

      const even = await cli(['report', '--summary', 'journals'], dir);
      assert.equal(even.code, 0, even.stderr);
      assert.match(even.stderr, /skipped .*notes\.json: not a faultline journal/);
      assert.ok(
        even.stdout.startsWith(`checkout: ${Math.trunc((a.percent! + b.percent!) / 2)} %\n`),
        even.stdout,
      );
      assert.match(even.stdout, /\(deviated: \d+ of \d+ hypotheses held/);
      assert.doesNotMatch(even.stdout, /(deviated|aborted), \1/, 'the outcome is said once');

      const weighted = await cli(
        ['report', '--summary', 'journals', '--weight', 'checkout resets=0', '--json'],
        dir,
      );
      const scores = JSON.parse(weighted.stdout) as { service: string; percent: number }[];
      assert.deepEqual(
        scores.map((s) => [s.service, s.percent]),
        [['checkout', a.percent]],
      );

      const gate = await cli(['report', '--summary', 'journals', '--fail-under', '100'], dir);
      assert.equal(gate.code, 1);
      assert.match(gate.stderr, /below 100 %: checkout/);

      const bad = await cli(['report', '--summary', 'journals', '--weight', 'x=11'], dir);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--weight x=11: expected TITLE=N/);
    },
  );

  it('report JOURNAL: a file that is not a journal is exit 2 with every problem located', async () => {
    await writeFile(
      join(dir, 'broken.json'),
      JSON.stringify({
        start: 1,
        status: 'completed',
        steady_states: { before: null, after: null, during: [] },
      }),
    );
    const result = await cli(['report', 'broken.json', '--html', 'x.html'], dir);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /broken\.json is not a faultline journal/);
    assert.match(result.stderr, /broken\.json: start: .*expected string/);
    assert.match(result.stderr, /broken\.json: faultline: missing/);
    assert.ok(!existsSync(join(dir, 'x.html')));
  });
});
