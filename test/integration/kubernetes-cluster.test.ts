// OPT-IN end-to-end test against a REAL Kubernetes cluster with Chaos Mesh installed. It runs
// only when FAULTLINE_E2E_KUBERNETES=1 and KUBECONFIG are set (never in CI by default: it
// creates chaos objects on whatever cluster the kubeconfig points at). See docs/kubernetes.md.
//
// Environment:
//   KUBECONFIG                      the cluster (its current context, or FAULTLINE_E2E_CONTEXT)
//   FAULTLINE_E2E_KUBERNETES=1      the explicit opt-in
//   FAULTLINE_E2E_NAMESPACE         namespace with a test workload (default faultline-e2e)
//   FAULTLINE_E2E_SELECTOR          its pods' labels, `k=v,k=v` (default app=faultline-e2e,environment=e2e)
//
// It applies a 20 s pod-failure to one pod through `faultline run --target kubernetes`, checks
// that the run held and that no faultline chaos object is left in the namespace, then that
// `faultline recover --kubernetes` finds nothing to remove.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { main } from '../../src/cli/main.js';
import { ALL_PLURALS } from '../../src/backends/kubernetes/chaos-mesh.js';
import { KubernetesClient } from '../../src/backends/kubernetes/client.js';
import { RUN_OBJECTS } from '../../src/backends/kubernetes/sweep.js';

const enabled = process.env['FAULTLINE_E2E_KUBERNETES'] === '1' && !!process.env['KUBECONFIG'];
const namespace = process.env['FAULTLINE_E2E_NAMESPACE'] ?? 'faultline-e2e';
const selector = Object.fromEntries(
  (process.env['FAULTLINE_E2E_SELECTOR'] ?? 'app=faultline-e2e,environment=e2e')
    .split(',')
    .map((kv) => kv.split('=') as [string, string]),
);
const context = process.env['FAULTLINE_E2E_CONTEXT'];

async function cli(
  argv: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number; out: string }> {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (d: Buffer) => (out += d.toString()));
  const code = await main({
    argv,
    env,
    cwd: process.cwd(),
    stdout: stream,
    stderr: stream,
    signal: new AbortController().signal,
  });
  return { code, out };
}

describe(
  'faultline on a real cluster (opt-in: FAULTLINE_E2E_KUBERNETES=1 and KUBECONFIG)',
  {
    skip: enabled
      ? false
      : 'set FAULTLINE_E2E_KUBERNETES=1 and KUBECONFIG to run against a real cluster',
  },
  () => {
    it('a pod-failure run holds and leaves no chaos object; recover finds nothing', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'faultline-e2e-k8s-'));
      try {
        const file = join(dir, 'experiment.yaml');
        await writeFile(
          file,
          stringify({
            title: 'faultline e2e pod failure',
            environment: selector['environment'] ?? 'e2e',
            targets: { workload: { type: 'kubernetes', namespace, selector } },
            method: [{ fault: 'pod-failure', target: 'workload', duration: '20s' }],
            safety: { maxDuration: '3m' },
          }),
        );
        const env = { ...process.env, FAULTLINE_STATE_DIR: join(dir, 'state') };
        const flags = ['--target', 'kubernetes', ...(context ? ['--context', context] : [])];
        const run = await cli(['run', file, ...flags, '--journal', join(dir, 'journal.json')], env);
        assert.equal(run.code, 0, run.out);
        const client = KubernetesClient.connect({ context });
        for (const plural of ALL_PLURALS)
          assert.deepEqual(
            await client.list(plural, namespace, RUN_OBJECTS),
            [],
            `${plural} left in ${namespace}`,
          );
        const recovered = await cli(
          [
            'recover',
            '--kubernetes',
            '--namespace',
            namespace,
            ...(context ? ['--context', context] : []),
          ],
          env,
        );
        assert.equal(recovered.code, 0, recovered.out);
        assert.match(recovered.out, /nothing to recover/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  },
);
