// Stop-condition reaction time: from the moment a breach becomes measurable to the moment the
// last fault is removed, over repeated trials (target ≤ 250 ms). Each trial runs a real
// experiment in-process: open-model load on an HTTP service whose dependency sits behind the
// run's proxy, a reset_peer fault that makes every request fail, and
// `abortWhen: error_rate > 20% over 500ms`.
//
//   node --import tsx bench/abort.ts [--trials 10] [--json]
import { stringify } from 'yaml';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseExperiment } from '../src/run-plan/read-experiment.js';
import { planExperiment } from '../src/run-plan/from-experiment.js';
import { runExperiment } from '../src/runner/runner.js';
import { freePort, startEcho, startService } from '../test/helpers/services.js';

const args = process.argv.slice(2);
const trials = Number(args[args.indexOf('--trials') + 1] ?? 10) || 10;
const dir = await mkdtemp(join(tmpdir(), 'faultline-bench-abort-'));
const echo = await startEcho();
const reactions: number[] = [];
for (let i = 0; i < trials; i++) {
  const port = await freePort();
  const service = await startService(port, 2_000);
  const doc = {
    title: 'abort reaction',
    targets: { db: { type: 'proxy', listen: `127.0.0.1:${port}`, upstream: echo.address } },
    steadyState: {
      load: { url: `${service.url}/health`, rate: '200/s', baseline: '1s', recovery: '1s' },
      thresholds: ['error_rate < 50%'],
    },
    method: [{ fault: 'reset-peer', target: 'db', duration: '30s' }],
    safety: { maxDuration: '60s', abortWhen: ['error_rate > 20% over 500ms'] },
  };
  const plan = planExperiment(parseExperiment(stringify(doc), 'abort.yaml'), {
    file: 'abort.yaml',
    env: {},
  });
  const journal = await runExperiment(plan, { journalPath: join(dir, `${i}.json`) });
  await service.close();
  const reaction = journal.faultline.stop?.reaction_ms;
  if (journal.status !== 'aborted' || reaction === undefined)
    throw new Error(`trial ${i}: the run was not aborted (${String(journal.faultline.reason)})`);
  reactions.push(reaction);
  process.stderr.write(
    `trial ${i + 1}/${trials}: faults removed ${reaction} ms after the breach was measurable\n`,
  );
}
await echo.close();
await rm(dir, { recursive: true, force: true });
reactions.sort((a, b) => a - b);
const summary = {
  trials,
  p50_ms: reactions[Math.floor(trials / 2)],
  max_ms: reactions.at(-1),
  min_ms: reactions[0],
  all_ms: reactions,
  target_ms: 250,
};
if (args.includes('--json')) console.log(JSON.stringify(summary, null, 2));
else {
  console.log(`\nstop condition → every fault removed, ${trials} trials`);
  console.log(
    `| min | p50 | max | target |\n|---|---|---|---|\n| ${String(summary.min_ms)} ms | ${String(summary.p50_ms)} ms | ${String(summary.max_ms)} ms | ≤ 250 ms |`,
  );
}
