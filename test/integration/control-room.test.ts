// The live control room (`faultline run --ui`) in headless Chromium: a real run under load
// against a real service whose database sits behind a remote fault proxy; the page's charts
// gain points while the run lasts, the active fault is listed with the proxy it acts on, and
// pressing HALT ends the run aborted (exit 3) with the fault gone from the proxy.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { stringify } from 'yaml';
import { main } from '../../src/cli/main.js';
import type { Journal } from '../../src/journal/journal.js';
import { startRemoteProxyStack } from '../helpers/services.js';
import { needTool, TOOLS } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait-for.js';

/** The page's document, inside functions run in the browser (the test is compiled without the DOM types; the page's CSP forbids evaluating strings). */
interface PageDocument {
  body: { dataset: Record<string, string | undefined> };
  querySelectorAll(selector: string): { length: number };
}

describe('control room (faultline run --ui)', () => {
  let stack: Awaited<ReturnType<typeof startRemoteProxyStack>>;
  before(async () => {
    stack = await startRemoteProxyStack('faultline-control-room-');
  });
  after(async () => stack.close());

  it(
    'live charts in Chromium, 403 without the token, HALT ends the run aborted with every fault gone',
    { timeout: 90_000, skip: needTool(TOOLS.chromium) },
    async () => {
      const executablePath = TOOLS.chromium.find();
      await writeFile(
        join(stack.dir, 'experiment.yaml'),
        stringify({
          title: 'slow database, watched live',
          targets: { db: { type: 'remote-proxy', url: stack.api.url, proxy: 'db' } },
          steadyState: {
            load: {
              url: `${stack.service.url}/health`,
              rate: '40/s',
              baseline: '1s',
              recovery: '2s',
              timeout: '3s',
            },
            thresholds: ['p99 < 1500ms', 'error_rate < 5%'],
          },
          method: [{ fault: 'latency', target: 'db', delay: '80ms', duration: '40s' }],
          safety: { maxDuration: '60s', abortWhen: ['error_rate > 50% for 2s'] },
        }),
      );
      const out = new PassThrough();
      let stdout = '';
      out.on('data', (c: Buffer) => (stdout += c.toString()));
      const running = main({
        argv: ['run', 'experiment.yaml', '--ui', '--journal', 'journal.json'],
        env: { PATH: process.env['PATH'], FAULTLINE_STATE_DIR: join(stack.dir, 'state') },
        cwd: stack.dir,
        stdout: out,
        stderr: out,
        signal: new AbortController().signal,
      });
      let code: number | undefined;
      void running.then((c) => (code = c));
      const url = await waitFor(
        'the control room address',
        () => {
          if (code !== undefined)
            throw new Error(
              `the run ended (exit ${code}) before its control room opened:\n${stdout}`,
            );
          return /control room: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(stdout)?.[1];
        },
        { timeoutMs: 20_000, intervalMs: 50 },
      );

      // Without the token (or with a wrong one): 403, for the page, the stream and HALT.
      const base = new URL(url);
      for (const [path, method] of [
        ['/', 'GET'],
        ['/events', 'GET'],
        ['/halt', 'POST'],
        ['/halt?token=wrong', 'POST'],
      ] as const) {
        const res = await fetch(new URL(path, base.origin), { method });
        assert.equal(res.status, 403, `${method} ${path} without the token`);
        await res.body?.cancel();
      }

      let browser: Browser | undefined;
      try {
        browser = await chromium.launch({
          executablePath,
          args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'],
        });
        const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
        const problems: string[] = [];
        page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
        page.on('console', (m) => {
          if (m.type() === 'error') problems.push(`console: ${m.text()}`);
        });
        page.on('request', (r) => {
          if (!r.url().startsWith(base.origin))
            problems.push(`request outside the control room: ${r.url()}`);
        });
        await page.goto(url, { waitUntil: 'load' });
        await page.waitForSelector('body[data-charts="3"]', { timeout: 15_000 });

        // The charts grow while the run lasts: wait for the fault to be active, then for more points.
        await page.waitForSelector('body[data-active-faults="1"]', { timeout: 30_000 });
        const points = Number(await page.getAttribute('body', 'data-points'));
        await page.waitForFunction(
          (n) =>
            Number(
              (globalThis as unknown as { document: PageDocument }).document.body.dataset['points'],
            ) >=
            n + 2,
          points,
          { timeout: 15_000 },
        );
        const drawn = await page.evaluate(
          () =>
            (globalThis as unknown as { document: PageDocument }).document.querySelectorAll(
              '#charts canvas',
            ).length,
        );
        assert.equal(drawn, 3, 'three uPlot canvases');
        assert.equal(await page.getAttribute('body', 'data-phase'), 'method');
        const faultRow = await page.textContent('#faults');
        assert.match(faultRow ?? '', /latency/);
        assert.match(faultRow ?? '', /remote/, 'the fault says what it acts on');
        // The fault is really on the proxy.
        assert.equal(
          stack.proxy.toxics.length,
          1,
          'the latency toxic is on the proxy while the run lasts',
        );
        assert.equal(code, undefined, 'the run is still in progress');

        await page.click('#halt');
        await page.waitForSelector('body[data-outcome="aborted"]', { timeout: 30_000 });
        // What the removed fault touched, in words as the reports say it, not raw JSON.
        const touched = (await page.textContent('#faults')) ?? '';
        assert.match(touched, /\d+ connection\(s\), [\d.]+ (B|KiB|MiB)/, touched);
        assert.doesNotMatch(touched, /[{"]/, touched);
        assert.deepEqual(problems, []);
      } finally {
        await browser?.close();
      }
      const exit = await running;
      assert.equal(exit, 3, `aborted exit code; output:\n${stdout}`);
      assert.deepEqual(stack.proxy.toxics, [], 'no toxic left on the proxy');
      const journal = JSON.parse(
        await readFile(join(stack.dir, 'journal.json'), 'utf8'),
      ) as Journal;
      assert.equal(journal.faultline.outcome, 'aborted');
      assert.equal(journal.status, 'aborted');
      assert.match(journal.faultline.reason ?? '', /HALT/);
      assert.equal(journal.faultline.stop?.value, 'HALT');
      assert.ok(
        journal.faultline.stop?.faults_removed_at,
        'the halt recorded when every fault was gone',
      );
      assert.ok(
        journal.faultline.faults.length === 1 &&
          journal.faultline.faults.every((f) => f.state === 'removed'),
        JSON.stringify(journal.faultline.faults),
      );
      assert.deepEqual(journal.faultline.verification, [
        { fault: journal.faultline.faults[0]!.name, gone: true },
      ]);
      // The run ended long before the fault's 40 s.
      assert.ok((journal.duration ?? 99) < 40, `ended by HALT after ${journal.duration} s`);
    },
  );
  it(
    'lists the stop conditions with their last check, and shows the one that stopped the run',
    { timeout: 90_000, skip: needTool(TOOLS.chromium) },
    async () => {
      const executablePath = TOOLS.chromium.find();
      const flag = join(stack.dir, 'paged');
      await writeFile(
        join(stack.dir, 'stops.yaml'),
        stringify({
          title: 'slow database, stopped by a signal',
          targets: { db: { type: 'remote-proxy', url: stack.api.url, proxy: 'db' } },
          steadyState: {
            load: { url: `${stack.service.url}/health`, rate: '20/s', baseline: '500ms' },
          },
          method: [{ fault: 'latency', target: 'db', delay: '20ms', duration: '40s' }],
          safety: {
            maxDuration: '60s',
            abortWhen: ['error_rate > 50% for 2s'],
            stopWhen: [{ name: 'paged', command: { run: `test ! -e ${flag}` }, every: '250ms' }],
          },
        }),
      );
      const out = new PassThrough();
      let stdout = '';
      out.on('data', (c: Buffer) => (stdout += c.toString()));
      const running = main({
        argv: ['run', 'stops.yaml', '--ui', '--journal', 'stops.json'],
        env: { PATH: process.env['PATH'], FAULTLINE_STATE_DIR: join(stack.dir, 'state') },
        cwd: stack.dir,
        stdout: out,
        stderr: out,
        signal: new AbortController().signal,
      });
      const url = await waitFor(
        'the control room address',
        () => /control room: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(stdout)?.[1],
        { timeoutMs: 20_000, intervalMs: 50 },
      );
      let browser: Browser | undefined;
      try {
        browser = await chromium.launch({
          executablePath,
          args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'],
        });
        const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
        await page.goto(url, { waitUntil: 'load' });
        await page.waitForSelector('body[data-stop-conditions="2"]', { timeout: 15_000 });
        await page.waitForSelector('body[data-active-faults="1"]', { timeout: 30_000 });
        await waitFor('a check of the signal shown', async () =>
          /paged\s*command.*test ! -e.*ok\s*exit code 0/s.test(
            (await page.textContent('#stops')) ?? '',
          ),
        );
        const listed = (await page.textContent('#stops')) ?? '';
        assert.match(listed, /error_rate > 50% for 2s\s*load/);
        await writeFile(flag, '');
        await page.waitForSelector('body[data-stop-breached="paged"]', { timeout: 15_000 });
        await page.waitForSelector('body[data-outcome="aborted"]', { timeout: 30_000 });
        assert.match(
          (await page.textContent('#stops')) ?? '',
          /breached\s*exit code 1, expected 0/,
        );
      } finally {
        await browser?.close();
      }
      assert.equal(await running, 3, stdout);
      assert.deepEqual(stack.proxy.toxics, [], 'no toxic left on the proxy');
    },
  );
});
