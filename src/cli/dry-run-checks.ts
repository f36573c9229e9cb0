/**
 * What `faultline run --dry-run` checks without applying anything, and `run` checks before it
 * starts: that every port a target listens on is free, that every upstream answers a TCP
 * connect, and that every URL's host resolves. Each problem names what it is and where the
 * experiment says it (file:line:column of the target's `listen`), so a busy port is not a bare
 * "exit 4" and an upstream that is down is not only "gate not met".
 *
 * Read-only on purpose: a listen check binds and closes at once, a connect check connects and
 * closes, nothing is sent.
 */
import { serviceOfUrl } from '../backends/kubernetes/service-url.js';
import { lookup } from 'node:dns/promises';
import { createConnection, createServer } from 'node:net';
import type { RunPlan } from '../run-plan/plan.js';

export interface DryRunCheck {
  /** `listen`, `upstream` or `url`. */
  kind: 'listen' | 'upstream' | 'url';
  /** What was checked, in words: `target db listens on 127.0.0.1:25432`. */
  what: string;
  ok: boolean;
  /** On failure: why, in a sentence, with the location in the experiment. */
  problem?: string | undefined;
}

interface HostPort {
  host: string;
  port: number;
}

function hostPort(text: string): HostPort | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]*):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(m[2]) };
}

/** `FILE:LINE:COLUMN` of a JSON path of the experiment, or the file alone. */
function at(plan: RunPlan, path: string): string {
  const where = plan.locate?.(path);
  return where?.line === undefined
    ? `${plan.file} (${path})`
    : `${plan.file}:${where.line}:${where.column ?? 1} (${path})`;
}

/** Binds host:port and closes it again: undefined when free, else the error's code. */
export function portProblem(address: HostPort, signal?: AbortSignal): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ host: address.host, port: address.port, exclusive: true, signal }, () =>
      server.close(() => resolve(undefined)),
    );
  });
}

/** A TCP connect to host:port, closed at once: undefined when it answered, else why not. */
export function connectProblem(
  address: HostPort,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: address.host, port: address.port, signal });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`no answer within ${timeoutMs} ms`);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code ?? err.message);
    });
  });
}

const BUSY_HINT: Record<string, string> = {
  EADDRINUSE: 'already in use by another process (`ss -ltnp` shows which); pick another port',
  EACCES: 'not allowed (ports below 1024 need privileges); pick a port above 1024',
  EADDRNOTAVAIL: 'not an address of this machine',
};

/** The URLs a run will call: the load's, and every http probe's and action's. */
function urlsOf(plan: RunPlan): { url: string; path: string }[] {
  const out: { url: string; path: string }[] = [];
  if (plan.load) out.push({ url: plan.load.url, path: 'steadyState.load.url' });
  for (const [i, p] of plan.hypothesis.entries()) {
    const url = (p.source as { http?: { url?: unknown } } | null)?.http?.url;
    if (typeof url === 'string') out.push({ url, path: `steadyState.probes[${i}].http.url` });
  }
  for (const [name, target] of Object.entries(plan.targets)) {
    const url = (target as { url?: unknown }).url;
    if (typeof url === 'string' && target.type === 'remote-proxy')
      out.push({ url, path: `targets.${name}.url` });
  }
  return out;
}

/** Every check, in the order a reader meets the targets and the load. */
export async function dryRunChecks(
  plan: RunPlan,
  options: {
    timeoutMs?: number;
    signal?: AbortSignal;
    /** URLs naming a Kubernetes Service go through a port-forward the run opens: not resolved here. */
    servicesForwarded?: boolean;
  } = {},
): Promise<DryRunCheck[]> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const checks: Promise<DryRunCheck>[] = [];
  for (const [name, target] of Object.entries(plan.targets)) {
    if (target.type !== 'proxy' && target.type !== 'dns') continue;
    const listenText = target.listen;
    const listen = listenText === undefined ? undefined : hostPort(listenText);
    if (listen && listenText !== undefined) {
      const what = `target ${name} listens on ${listenText}`;
      checks.push(
        portProblem(listen, options.signal).then((code) => ({
          kind: 'listen',
          what,
          ok: code === undefined,
          problem:
            code === undefined
              ? undefined
              : `${at(plan, `targets.${name}.listen`)}: ${listenText} cannot be listened on: ${BUSY_HINT[code] ?? code}`,
        })),
      );
    }
    // A DNS upstream answers on UDP, which a connect cannot prove: only TCP upstreams here.
    const upstreamText = target.type === 'proxy' ? target.upstream : undefined;
    const upstream = upstreamText === undefined ? undefined : hostPort(upstreamText);
    if (upstream && upstreamText !== undefined) {
      const what = `target ${name}'s upstream ${upstreamText} answers`;
      checks.push(
        connectProblem(upstream, timeoutMs, options.signal).then((why) => ({
          kind: 'upstream',
          what,
          ok: why === undefined,
          problem:
            why === undefined
              ? undefined
              : `${at(plan, `targets.${name}.upstream`)}: the upstream ${upstreamText} of target ${name} is unreachable (${why}): the service behind the proxy would fail before any fault`,
        })),
      );
    }
  }
  for (const { url, path } of urlsOf(plan)) {
    if (options.servicesForwarded && serviceOfUrl(url)) continue;
    let host: string;
    try {
      host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    } catch {
      checks.push(
        Promise.resolve({
          kind: 'url',
          what: `${url} resolves`,
          ok: false,
          problem: `${at(plan, path)}: ${url} is not a URL`,
        }),
      );
      continue;
    }
    checks.push(
      lookup(host).then(
        () => ({ kind: 'url', what: `${url} resolves`, ok: true }),
        (err: unknown) => ({
          kind: 'url',
          what: `${url} resolves`,
          ok: false,
          problem: `${at(plan, path)}: the host ${host} of ${url} does not resolve (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
        }),
      ),
    );
  }
  return Promise.all(checks);
}
