/**
 * How a run's load and probes reach the Services their URLs name (./service-url.ts):
 *
 * ```
 *  faultline in a pod (KUBERNETES_SERVICE_HOST set and a service-account token mounted)
 *      └─ in-cluster: the URL as written; the cluster's DNS resolves it
 *  anywhere else, with --target kubernetes
 *      └─ port-forward: one per Service port, through the Kubernetes API (./port-forward.ts),
 *         on 127.0.0.1:<free port>; the URLs are rewritten to it; closed at the end of the run
 *  anywhere else, without a cluster to talk to
 *      └─ as written, with a warning: the name resolves only where the cluster's DNS answers
 * ```
 *
 * The choice and each forward's pod and local port are said on the terminal and recorded in the
 * journal (`faultline.services`), so a result can be read knowing which path the traffic took.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceReachRecord } from '../../journal/journal.js';
import type { KubernetesClient } from './client.js';
import type { KubernetesRunOptions } from './driver.js';
import { resolveServicePod, ServicePortForward } from './port-forward.js';
import { serviceLabel, type ServiceRef } from './service-url.js';

/** Where Kubernetes mounts a pod's service-account credentials. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** True when this process runs in a pod: the API server's address in the env and a token mounted. */
export function runsInCluster(
  env: Readonly<Record<string, string | undefined>> = process.env,
  serviceAccountDir: string = SERVICE_ACCOUNT_DIR,
): boolean {
  return Boolean(env['KUBERNETES_SERVICE_HOST']) && existsSync(join(serviceAccountDir, 'token'));
}

export interface ServiceReach {
  records: ServiceReachRecord[];
  /** Origin as written (`http://payment-service.shop.svc:8080`) → origin to use instead. */
  routes: Map<string, string>;
  /** One line per Service, for the terminal. */
  messages: string[];
  /** Closes every port-forward (idempotent); afterwards nothing listens. */
  close(): Promise<void>;
}

export interface ServiceReachOptions {
  /** The run's cluster options (`--target kubernetes`); undefined: no cluster to forward through. */
  kubernetes?: KubernetesRunOptions | undefined;
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** A port-forward broke mid-run (said once per kind of failure). */
  onProblem(message: string): void;
  signal?: AbortSignal | undefined;
}

/** Which way a run will reach Services: forced by `reach`, else from where faultline runs. */
export function serviceReachMode(
  kubernetes: KubernetesRunOptions | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ServiceReachRecord['via'] {
  if (kubernetes?.reach && kubernetes.reach !== 'auto') return kubernetes.reach;
  if (runsInCluster(kubernetes?.env ?? env, kubernetes?.serviceAccountDir)) return 'in-cluster';
  return kubernetes ? 'port-forward' : 'as-written';
}

export async function reachServices(
  refs: readonly ServiceRef[],
  options: ServiceReachOptions,
): Promise<ServiceReach> {
  const records: ServiceReachRecord[] = [];
  const routes = new Map<string, string>();
  const messages: string[] = [];
  const forwards: { forward: ServicePortForward; record: ServiceReachRecord }[] = [];
  const kubernetes = options.kubernetes;
  const mode = serviceReachMode(kubernetes, options.env);
  const close = async (): Promise<void> => {
    const open = forwards.splice(0);
    await Promise.all(
      open.map(async ({ forward, record }) => {
        await forward.close();
        record.connections = forward.connections;
      }),
    );
  };
  if (mode !== 'port-forward') {
    for (const ref of refs) {
      records.push({ service: serviceLabel(ref), via: mode });
      messages.push(
        mode === 'in-cluster'
          ? `reaching ${serviceLabel(ref)} in-cluster (${ref.origin}, resolved by the cluster's DNS)`
          : `reaching ${serviceLabel(ref)} as written (${ref.origin}): no cluster to port-forward through; it resolves only where the cluster's DNS answers (run with --target kubernetes, or in a pod)`,
      );
    }
    return { records, routes, messages, close };
  }
  const client = await clientFor(kubernetes ?? {});
  try {
    for (const ref of refs) {
      const record: ServiceReachRecord = { service: serviceLabel(ref), via: 'port-forward' };
      const forward = await ServicePortForward.open(
        client,
        ref,
        (message) => {
          (record.problems ??= []).push(message);
          options.onProblem(message);
        },
        options.signal,
      );
      const local = `${forward.local.host}:${forward.local.port}`;
      Object.assign(record, {
        pod: forward.target.pod,
        pod_port: forward.target.podPort,
        local,
      });
      forwards.push({ forward, record });
      records.push(record);
      routes.set(ref.origin, `${new URL(ref.origin).protocol}//${local}`);
      messages.push(
        `reaching ${serviceLabel(ref)} through a port-forward to pod ${forward.target.pod} (port ${forward.target.podPort}) on ${local}`,
      );
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { records, routes, messages, close };
}

async function clientFor(kubernetes: KubernetesRunOptions): Promise<KubernetesClient> {
  if (kubernetes.client) return kubernetes.client;
  const { KubernetesClient } = await import('./client.js');
  return KubernetesClient.connect(kubernetes);
}

/**
 * For `run --dry-run`: how each Service would be reached, read-only — for a port-forward, the
 * pod it would go to (nothing is opened). A Service that cannot be resolved is a problem line.
 */
export async function previewServices(
  refs: readonly ServiceRef[],
  kubernetes: KubernetesRunOptions | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
  signal?: AbortSignal,
): Promise<{ line: string; ok: boolean }[]> {
  const mode = serviceReachMode(kubernetes, env);
  if (mode !== 'port-forward')
    return refs.map((ref) => ({
      line: `service ${serviceLabel(ref)}: ${mode === 'in-cluster' ? 'in-cluster (the URL as written)' : 'as written: no cluster to port-forward through (add --target kubernetes, or run in a pod)'}`,
      ok: mode === 'in-cluster',
    }));
  const client = await clientFor(kubernetes ?? {});
  const lines: { line: string; ok: boolean }[] = [];
  for (const ref of refs) {
    try {
      const target = await resolveServicePod(client, ref, signal);
      lines.push({
        line: `service ${serviceLabel(ref)}: the run would port-forward to pod ${target.pod} (port ${target.podPort}) on 127.0.0.1`,
        ok: true,
      });
    } catch (err) {
      lines.push({
        line: `service ${serviceLabel(ref)}: NOT reachable: ${err instanceof Error ? err.message : String(err)}`,
        ok: false,
      });
    }
  }
  return lines;
}
