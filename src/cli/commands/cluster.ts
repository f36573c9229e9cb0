/**
 * The cluster side of `faultline run --target kubernetes` and `faultline recover --kubernetes`:
 * the flags that say how to reach a cluster, and recovery of chaos objects from the journals
 * plus the label sweep. @kubernetes/client-node is imported only when a cluster is used.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { FaultLocation } from '../../targets/fault-driver.js';
import type { KubernetesRunOptions } from '../../targets/kubernetes/kubernetes-driver.js';
import type { SweptObject } from '../../targets/kubernetes/sweep.js';
import type { CliIo } from '../io.js';

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** Adds --kubeconfig, --context and --namespace to a command. */
export function clusterOptions(command: Command): Command {
  return command
    .option('--kubeconfig <file>', 'kubernetes: kubeconfig file (default: KUBECONFIG, ~/.kube/config, or in-cluster)')
    .option('--context <name>', 'kubernetes: kubeconfig context')
    .option('--namespace <ns>', "kubernetes: the namespace of the chaos objects (run: default each target's; recover: default all namespaces)");
}

/** --kubeconfig, else a single-file KUBECONFIG of the CLI's environment; a list is left to the library's default loading. */
function kubeconfigFile(flags: ClusterFlags, io: CliIo): string | undefined {
  const fromEnv = io.env['KUBECONFIG'];
  return flags.kubeconfig ?? (fromEnv && !fromEnv.includes(':') ? fromEnv : undefined);
}

/** `--target kubernetes` and its flags → the runner's Kubernetes options (undefined without it). */
export function kubernetesRunOptions(flags: ClusterFlags & { target?: string; allowWideBlast?: boolean; allowProduction?: boolean }, io: CliIo): KubernetesRunOptions | undefined {
  if (flags.target === undefined) {
    if (flags.kubeconfig || flags.context || flags.namespace) throw new UsageError('--kubeconfig, --context and --namespace need --target kubernetes');
    return undefined;
  }
  if (flags.target !== 'kubernetes') {
    throw new UsageError(`--target ${flags.target}: faultline run drives kubernetes`, { hint: flags.target === 'chaos-mesh' || flags.target === 'istio' || flags.target === 'aws-fis' ? `for manifests use faultline compile --target ${flags.target}` : 'use --target kubernetes' });
  }
  return {
    kubeconfig: kubeconfigFile(flags, io),
    context: flags.context,
    namespace: flags.namespace,
    allowWideBlast: flags.allowWideBlast,
    allowProduction: flags.allowProduction,
  };
}

/**
 * Prepares `recover --kubernetes`: a remover for chaos objects recorded in journals, and the
 * sweep of labelled objects whose run is not alive (run after the journals).
 */
export async function recoverKubernetes(
  dir: string,
  flags: ClusterFlags,
  io: CliIo,
): Promise<{ remove: (location: FaultLocation, signal: AbortSignal | undefined) => Promise<void>; sweep: () => Promise<SweptObject[]> }> {
  const [{ KubernetesClient }, { deleteAndWait }, { sweepOrphans }, { isAlive, readJournals }] = await Promise.all([
    import('../../targets/kubernetes/client.js'),
    import('../../targets/kubernetes/kubernetes-driver.js'),
    import('../../targets/kubernetes/sweep.js'),
    import('../../runner/recover.js'),
  ]);
  const client = KubernetesClient.connect({ kubeconfig: kubeconfigFile(flags, io), context: flags.context });
  const live = new Set((await readJournals(dir)).filter(({ journal }) => journal.status === 'running' && isAlive(journal.faultline.pid)).map(({ journal }) => journal.faultline.run_id));
  return {
    remove: async (location, signal) => {
      if (!location.resource) return;
      await deleteAndWait(client, location.resource, signal ?? io.signal, 60_000, 500);
    },
    sweep: () => sweepOrphans(client, { namespace: flags.namespace, liveRunIds: live, signal: io.signal }),
  };
}
