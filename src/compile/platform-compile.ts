/**
 * `faultline compile`: an experiment → platform manifests (Chaos Mesh, Istio, AWS FIS, Litmus), after
 * the blast-radius guardrails. Every problem — a fault the platform cannot express, a guardrail
 * — is reported at once as a {@link ValidationError} located at file:line:column, so the CLI
 * exits 2 with every issue and a hint each; nothing is written when there is one.
 */
import { stringify } from 'yaml';
import { ValidationError, type ValidationIssue } from '../errors.js';
import type { ReadDocument } from '../experiment/read.js';
import type { Experiment } from '../experiment/schema.js';
import { stopConditionNotes } from '../experiment/stop-words.js';
import { resolveVariables, substitute } from '../experiment/substitute.js';
import { compileFis, type FisOptions } from './aws-fis.js';
import { compileIstio } from './istio.js';
import {
  compileChaosMesh,
  dnsLabel,
  type ChaosMeshCompileOptions,
} from '../backends/kubernetes/chaos-mesh.js';
import { checkGuardrails, type GuardrailOptions } from '../backends/kubernetes/guardrails.js';
import { compileLitmus, type LitmusCompileOptions } from './litmus.js';

import { PLATFORMS, type Platform } from './platforms.js';

export { PLATFORMS, type Platform };

export interface PlatformCompileOptions
  extends
    ChaosMeshCompileOptions,
    FisOptions,
    GuardrailOptions,
    Omit<LitmusCompileOptions, 'namespace'> {
  /** Shown in messages. */
  file: string;
  env: Readonly<Record<string, string | undefined>>;
  vars?: Readonly<Record<string, unknown>> | undefined;
}

export interface PlatformOutput {
  /** One file per document (`kind-name.yaml`), or the FIS template (`name.fis.json`). */
  files: { name: string; text: string; document: unknown }[];
  /** Things left out or whose meaning differs; printed on stderr. */
  notes: string[];
}

/**
 * YAML the way kubectl reads it: YAML 1.1 quoting (so `on`, `yes` stay strings for Go's YAML 1.1
 * parsers), no line folding, documents separated by `---`.
 */
export function toYaml(documents: readonly unknown[]): string {
  return documents.map((d) => stringify(d, { lineWidth: 0, version: '1.1' })).join('---\n');
}

/**
 * Compiles a validated experiment for a platform. `read` locates problems in the source.
 * @throws {@link ValidationError} with every problem (guardrails and inexpressible faults).
 */
export function compileForPlatform(
  experiment: Experiment,
  read: ReadDocument | undefined,
  platform: Platform,
  options: PlatformCompileOptions,
): PlatformOutput {
  const vars = resolveVariables(experiment, options.env, options.vars ?? {}, options.file);
  const unknown = new Set<string>();
  const resolved = substitute(experiment, vars, unknown);
  const issues: Omit<ValidationIssue, 'file' | 'line' | 'column'>[] = [...unknown].map((name) => ({
    path: '',
    message: `\${${name}} has no value`,
    hint: `declare ${name} under configuration, or pass --var ${name}=…`,
  }));
  issues.push(...checkGuardrails(resolved, options));

  let files: PlatformOutput['files'] = [];
  let notes: string[] = [];
  if (platform === 'chaos-mesh' || platform === 'istio' || platform === 'litmus') {
    const result =
      platform === 'chaos-mesh'
        ? compileChaosMesh(resolved, options)
        : platform === 'litmus'
          ? compileLitmus(resolved, options)
          : compileIstio(resolved);
    issues.push(...result.problems);
    notes = [...result.notes, ...stopConditionNotes(resolved.safety, platform)];
    files = result.documents.map((d) => {
      const meta = d as { kind: string; metadata: { name: string } };
      return {
        name: `${dnsLabel(meta.kind)}-${meta.metadata.name}.yaml`,
        text: toYaml([d]),
        document: d,
      };
    });
  } else {
    const result = compileFis(resolved, options);
    issues.push(...result.problems);
    notes = result.notes;
    if (result.template)
      files = [
        {
          name: `${dnsLabel(resolved.title, 40)}.fis.json`,
          text: `${JSON.stringify(result.template, null, 2)}\n`,
          document: result.template,
        },
      ];
  }
  // A stated effect is checked by faultline's runner; a manifest applied by another tool has none.
  resolved.method.forEach((step, i) => {
    if ('fault' in step && step.shows)
      notes.push(
        `method[${i}].shows: the stated effect "${step.shows.name}" is checked by \`faultline run --target kubernetes\`, not by ${platform}: applied on its own, nothing proves the fault reached the system`,
      );
  });
  if (issues.length > 0) {
    const located = issues.map((i) => ({
      ...i,
      file: options.file,
      ...(read && i.path ? read.locatePath(i.path) : {}),
    }));
    located.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    const first = located[0]!;
    const summary =
      located.length === 1
        ? `${options.file}${first.line ? `:${first.line}:${String(first.column)}` : ''}: ${first.path ? `${first.path}: ` : ''}${first.message}`
        : `${options.file}: ${located.length} problems; nothing compiled`;
    throw new ValidationError(summary, located, {
      hint: located.length === 1 ? first.hint : undefined,
    });
  }
  return { files, notes };
}
