/**
 * `faultline recover --kubernetes`, the cluster half: every chaos object that carries
 * faultline's labels and a run id (so it was created by a `faultline run`, not applied by hand
 * from `faultline compile`) and whose run is not alive is deleted. This finds orphans even when
 * the journal is lost (a CI runner's disk went away with it).
 */
import { ALL_PLURALS, LABELS, MANAGED_BY } from './chaos-mesh.js';
import type { KubernetesClient } from './client.js';
import { deleteAndWait } from './driver.js';

export interface SweptObject {
  kind: string;
  namespace: string;
  name: string;
  runId: string;
  result: 'removed' | 'skipped-live-run' | 'failed';
  error?: string | undefined;
}

export interface SweepOptions {
  /** Only this namespace (default: every namespace, which needs cluster-wide list RBAC). */
  namespace?: string | undefined;
  /** Run ids of runs still in progress: their objects are left to them. */
  liveRunIds?: ReadonlySet<string> | undefined;
  /**
   * Only objects of runs whose id passes (`recover --run`/`--pid`/`--here`): the others are not
   * looked at. Default: every run's.
   */
  onlyRuns?: ((runId: string) => boolean) | undefined;
  signal?: AbortSignal | undefined;
  /** How long a deletion may take to complete (default 60 s). */
  removeTimeoutMs?: number | undefined;
  pollMs?: number | undefined;
}

/** The label selector of objects created by faultline runs. */
export const RUN_OBJECTS = `${LABELS.managedBy}=${MANAGED_BY},${LABELS.runId}`;

export async function sweepOrphans(
  client: KubernetesClient,
  options: SweepOptions = {},
): Promise<SweptObject[]> {
  const signal = options.signal ?? new AbortController().signal;
  const results: SweptObject[] = [];
  for (const plural of ALL_PLURALS) {
    const objects = await client.list(plural, options.namespace, RUN_OBJECTS, signal);
    for (const object of objects) {
      const runId = object.metadata.labels?.[LABELS.runId] ?? '';
      const namespace = object.metadata.namespace ?? options.namespace ?? 'default';
      if (options.onlyRuns && !options.onlyRuns(runId)) continue;
      const base = { kind: object.kind ?? plural, namespace, name: object.metadata.name, runId };
      if (options.liveRunIds?.has(runId)) {
        results.push({ ...base, result: 'skipped-live-run' });
        continue;
      }
      try {
        await deleteAndWait(
          client,
          {
            apiVersion: object.apiVersion ?? '',
            kind: base.kind,
            plural,
            namespace,
            name: base.name,
          },
          signal,
          options.removeTimeoutMs ?? 60_000,
          options.pollMs ?? 500,
        );
        results.push({ ...base, result: 'removed' });
      } catch (err) {
        results.push({
          ...base,
          result: 'failed',
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }
  return results;
}
