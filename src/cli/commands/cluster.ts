/**
 * The cluster side of `faultline run --target kubernetes` and `faultline recover --kubernetes`:
 * the flags that say how to reach a cluster, and recovery of chaos objects from the journals
 * plus the label sweep. @kubernetes/client-node is imported only when a cluster is used.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { KubernetesLocation } from '../../backends/location.js';
import type { KubernetesRunOptions } from '../../backends/kubernetes/driver.js';
import type { SweptObject } from '../../backends/kubernetes/sweep.js';
import type { CliIo } from '../io.js';

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** What --namespace means, per command: each says only its own (one help text was shared). */
const NAMESPACE_HELP = {
  run: "kubernetes: create the chaos objects in this namespace (default: each target's)",
  halt: 'kubernetes: not used by halt, which deletes the chaos objects its journals name, wherever they are',
  recover:
    'kubernetes: sweep for orphaned chaos objects in this namespace only (default: all; those in journals are deleted wherever they are)',
} as const;

/** Adds --kubeconfig, --context and --namespace to a command (`run`, `halt` or `recover`). */
export function clusterOptions(command: Command): Command {
  const name = command.name();
  const namespace =
    name === 'run' || name === 'halt' || name === 'recover'
      ? NAMESPACE_HELP[name]
      : 'kubernetes: the namespace of the chaos objects';
  return command
    .option(
      '--kubeconfig <file>',
      'kubernetes: kubeconfig file (default: KUBECONFIG, ~/.kube/config, or in-cluster)',
    )
    .option('--context <name>', 'kubernetes: kubeconfig context')
    .option('--namespace <ns>', namespace);
}

/** --kubeconfig, else a single-file KUBECONFIG of the CLI's environment; a list is left to the library's default loading. */
function kubeconfigFile(flags: ClusterFlags, io: CliIo): string | undefined {
  const fromEnv = io.env['KUBECONFIG'];
  return flags.kubeconfig ?? (fromEnv && !fromEnv.includes(':') ? fromEnv : undefined);
}

/** `--target kubernetes` and its flags → the runner's Kubernetes options (undefined without it). */
export function kubernetesRunOptions(
  flags: ClusterFlags & {
    target?: string;
    allowWideBlast?: boolean;
    allowProduction?: boolean;
    reach?: string;
  },
  io: CliIo,
): KubernetesRunOptions | undefined {
  if (flags.target === undefined) {
    if (flags.kubeconfig || flags.context || flags.namespace || flags.reach)
      throw new UsageError(
        '--kubeconfig, --context, --namespace and --reach need --target kubernetes',
      );
    return undefined;
  }
  if (flags.target !== 'kubernetes') {
    throw new UsageError(`--target ${flags.target}: faultline run drives kubernetes`, {
      hint:
        flags.target === 'chaos-mesh' || flags.target === 'istio' || flags.target === 'aws-fis'
          ? `for manifests use faultline compile --platform ${flags.target}`
          : 'use --target kubernetes',
    });
  }
  const reach = flags.reach ?? 'auto';
  if (reach !== 'auto' && reach !== 'in-cluster' && reach !== 'port-forward')
    throw new UsageError(`--reach ${reach}: expected auto, in-cluster or port-forward`, {
      hint: 'auto: in-cluster when faultline runs in a pod, else a port-forward it opens',
    });
  return {
    kubeconfig: kubeconfigFile(flags, io),
    context: flags.context,
    namespace: flags.namespace,
    allowWideBlast: flags.allowWideBlast,
    allowProduction: flags.allowProduction,
    reach,
    env: io.env,
  };
}

/**
 * Prepares `recover --kubernetes`: a remover for chaos objects recorded in journals, and the
 * sweep of labelled objects whose run is not alive (run after the journals).
 */
export async function recoverKubernetes(
  scope: import('../../safety/recover.js').RunScope,
  flags: ClusterFlags,
  io: CliIo,
): Promise<{
  remove: (location: KubernetesLocation, signal: AbortSignal | undefined) => Promise<void>;
  sweep: () => Promise<SweptObject[]>;
}> {
  const [{ KubernetesClient }, { deleteAndWait }, { sweepOrphans }, { findRuns, runnerAlive }] =
    await Promise.all([
      import('../../backends/kubernetes/client.js'),
      import('../../backends/kubernetes/driver.js'),
      import('../../backends/kubernetes/sweep.js'),
      import('../../safety/recover.js'),
    ]);
  const client = KubernetesClient.connect({
    kubeconfig: kubeconfigFile(flags, io),
    context: flags.context,
  });
  // Every live run on the machine (the registry), not only this directory's: an object of a
  // run alive elsewhere is not an orphan. Unnarrowed: --run/--pid/--here narrow what is acted on.
  const live = new Set(
    (await findRuns({ journals: scope.journals, registry: scope.registry }))
      .filter(({ journal, registration }) => runnerAlive(journal, registration?.registration))
      .map(({ journal }) => journal.faultline.run_id),
  );
  // Narrowed: only the objects of the runs asked for (by id; a pid or a directory names the
  // runs found with it — an object whose journal is lost cannot be tied to either).
  const narrowed = scope.run !== undefined || scope.pid !== undefined || scope.cwd !== undefined;
  const chosen = narrowed
    ? new Set((await findRuns(scope)).map(({ journal }) => journal.faultline.run_id))
    : undefined;
  const onlyRuns = chosen
    ? (runId: string): boolean =>
        chosen.has(runId) ||
        (scope.run !== undefined &&
          scope.pid === undefined &&
          scope.cwd === undefined &&
          runId.startsWith(scope.run))
    : undefined;
  return {
    remove: async (location, signal) => {
      // The location comes from a journal on disk, possibly written by an older faultline.
      const { resource } = location as Partial<KubernetesLocation>;
      if (!resource) return;
      await deleteAndWait(client, resource, signal ?? io.signal, 60_000, 500);
    },
    sweep: () =>
      sweepOrphans(client, {
        namespace: flags.namespace,
        liveRunIds: live,
        onlyRuns,
        signal: io.signal,
      }),
  };
}
