/**
 * HTTP faults on kubernetes targets → Istio VirtualServices (`networking.istio.io/v1`), with
 * `http[].fault.delay` / `fault.abort` and per-request percentages (which Chaos Mesh's HTTPChaos
 * lacks). Pure.
 *
 * One VirtualService per target Service (`targets.X.service`): one `http` rule per distinct
 * match (a delay and an abort with the same match share a rule: Istio applies them
 * independently), then a catch-all route so other requests pass untouched. Istio has no
 * duration: the object stays until deleted, so each carries a `faultline.dev/expires-after`
 * annotation and the notes say so.
 */
import type { ValidationIssue } from '../errors.js';
import { parseDuration, parsePercentage } from '../experiment/duration.js';
import type { Experiment, Fault } from '../experiment/schema.js';
import {
  dnsLabel,
  experimentSlug,
  goDuration,
  LABELS,
  MANAGED_BY,
} from '../backends/kubernetes/chaos-mesh.js';

type Problem = Omit<ValidationIssue, 'file' | 'line' | 'column'>;

export interface IstioResult {
  documents: Record<string, unknown>[];
  problems: Problem[];
  notes: string[];
}

type HttpFault = Extract<Fault, { fault: 'http-abort' | 'http-delay' }>;

/** Istio's `HTTPMatchRequest` for a faultline match. */
function istioMatch(match: HttpFault['match']): Record<string, unknown>[] | undefined {
  if (!match) return undefined;
  const m: Record<string, unknown> = {};
  if (match.pathPrefix) m['uri'] = { prefix: match.pathPrefix };
  if (match.pathRegex) m['uri'] = { regex: match.pathRegex };
  if (match.method) m['method'] = { exact: match.method.toUpperCase() };
  if (match.headers)
    m['headers'] = Object.fromEntries(
      Object.entries(match.headers).map(([k, v]) => [k.toLowerCase(), { exact: v }]),
    );
  return Object.keys(m).length > 0 ? [m] : undefined;
}

export function compileIstio(experiment: Experiment): IstioResult {
  const problems: Problem[] = [];
  const notes: string[] = [];
  // service → rules keyed by their match, in method order
  type Rule = {
    match: Record<string, unknown>[] | undefined;
    fault: Record<string, unknown>;
    durationMs: number;
  };
  const services = new Map<string, { namespace: string; rules: Map<string, Rule> }>();

  experiment.method.forEach((step, index) => {
    if (!('fault' in step)) return;
    const path = `method[${index}]`;
    const target = experiment.targets[step.target];
    if (step.fault !== 'http-abort' && step.fault !== 'http-delay') {
      problems.push({
        path: `${path}.fault`,
        message: `${step.fault} on "${step.target}" cannot be expressed as an Istio fault: Istio injects HTTP delays and aborts only`,
        hint:
          step.fault === 'http-replace'
            ? 'compile with --platform chaos-mesh (HTTPChaos replace)'
            : 'compile with --platform chaos-mesh',
      });
      return;
    }
    if (target?.type !== 'kubernetes') {
      problems.push({
        path: `${path}.target`,
        message: `${step.fault} on ${target?.type ?? 'unknown'} target "${step.target}" cannot be compiled to Istio`,
        hint: 'Istio acts on Services in a mesh: use a kubernetes target with service set',
      });
      return;
    }
    if (!target.service) {
      problems.push({
        path: `${path}.target`,
        message: `target "${step.target}" names no Service for the VirtualService`,
        hint: `set service: <name> on targets.${step.target}`,
      });
      return;
    }
    if (step.fault === 'http-abort' && step.body !== undefined)
      notes.push(`${path}: Istio aborts with a status only; the body is not sent`);
    const host = target.service;
    const entry = services.get(host) ?? {
      namespace: target.namespace,
      rules: new Map<string, Rule>(),
    };
    services.set(host, entry);
    const match = istioMatch(step.match);
    const key = JSON.stringify(match ?? null);
    const rule = entry.rules.get(key) ?? { match, fault: {}, durationMs: 0 };
    entry.rules.set(key, rule);
    const percentage = {
      value:
        step.percentage === undefined
          ? 100
          : Math.round((parsePercentage(step.percentage) ?? 1) * 100_000) / 1000,
    };
    const which = step.fault === 'http-delay' ? 'delay' : 'abort';
    if (rule.fault[which]) {
      problems.push({
        path,
        message: `a second ${step.fault} with the same match on Service ${host}`,
        hint: 'Istio takes one delay and one abort per route: merge them, or match different requests',
      });
      return;
    }
    rule.fault[which] =
      step.fault === 'http-delay'
        ? { fixedDelay: goDuration(parseDuration(step.delay) ?? 0), percentage }
        : { httpStatus: step.status, percentage };
    rule.durationMs = Math.max(rule.durationMs, parseDuration(step.duration) ?? 0);
  });
  if (services.size === 0 && problems.length === 0)
    problems.push({
      path: 'method',
      message: 'the experiment has no HTTP fault to compile',
      hint: 'add http-delay or http-abort on a kubernetes target with a service',
    });
  if (problems.length > 0) return { documents: [], problems, notes };

  const documents = [...services].map(([host, { namespace, rules }]) => {
    const longest = Math.max(...[...rules.values()].map((r) => r.durationMs));
    notes.push(
      `VirtualService for ${host}: Istio faults have no duration; delete it after ${goDuration(longest)}. If the Service already has a VirtualService, merge these rules into it (two for one host conflict)`,
    );
    return {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: {
        name: dnsLabel(`${experimentSlug(experiment.title)}-${host}`),
        namespace,
        labels: {
          [LABELS.managedBy]: MANAGED_BY,
          [LABELS.experiment]: experimentSlug(experiment.title),
        },
        annotations: { 'faultline.dev/expires-after': goDuration(longest) },
      },
      spec: {
        hosts: [host],
        http: [
          ...[...rules.values()].map((r) => ({
            ...(r.match ? { match: r.match } : {}),
            fault: r.fault,
            route: [{ destination: { host } }],
          })),
          { route: [{ destination: { host } }] },
        ],
      },
    };
  });
  return { documents, problems, notes };
}
