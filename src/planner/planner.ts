/**
 * `faultline plan` as a library call: architecture → ranked catalogue → hypotheses and
 * experiments for the top N → docker-compose file and CI workflow, as a list of files to write.
 * Pure (no I/O): the CLI reads the architecture and writes the files.
 *
 * Every generated experiment is checked with the loader `faultline validate` uses before it is
 * returned; one that does not validate is a bug in the planner and throws an internal error.
 */
import { isAbsolute } from 'node:path';
import { loadDocument } from '../run-plan/read-plan.js';
import type { Architecture } from './architecture-schema.js';
import { buildCatalogue, type Scenario } from './catalogue.js';
import { workflowText, type WorkflowExperiment } from './ci-workflow.js';
import { composeText, proxiesConfig } from './compose.js';
import { experimentsFor, type GeneratedExperiment } from './experiments.js';
import { hypothesesFor, type Hypothesis } from './hypotheses.js';
import { renderJson, renderMarkdown } from './render.js';
import { selectTop, type TopSelection } from './top-selection.js';

export interface PlannerOptions {
  /** How many scenarios get hypotheses and experiments (default 10). */
  top?: number | undefined;
  /** Where the files go, as the repository sees it (for paths inside the CI workflow). Default ".". */
  dir?: string | undefined;
}

/** A top scenario with what was derived for it. */
export interface PlannedScenario {
  scenario: Scenario;
  /** 1-based place in the top (the experiment files' number). */
  position: number;
  /** Why the coverage rule put it in the top (docs/planner.md). */
  why: string;
  hypotheses: Hypothesis[];
  experiments: GeneratedExperiment[];
  /** Lint warnings of its experiments (e.g. a hypothesis that only checks status codes). */
  warnings: string[];
}

export interface ArchitecturePlan {
  architecture: Architecture;
  catalogue: Scenario[];
  top: PlannedScenario[];
  /** Rows the score alone would have put in the top, with why the coverage rule did not. */
  passedOver: TopSelection['passedOver'];
  /** What the caller should print (e.g. an output folder outside the repository). */
  warnings: string[];
  /** Files to write, relative to the output directory, in a stable order. */
  files: Array<{ path: string; text: string }>;
}

import { DEFAULT_TOP } from './top.js';

export { DEFAULT_TOP };

/** Builds the whole plan. */
export function planArchitecture(
  architecture: Architecture,
  options: PlannerOptions = {},
): ArchitecturePlan {
  const top = Math.max(0, options.top ?? DEFAULT_TOP);
  const warnings: string[] = [];
  let dir = (options.dir ?? '.').replace(/\/+$/, '') || '.';
  // The workflow's paths are read from the repository root: a folder outside it has none.
  if (isAbsolute(dir) || dir.split(/[\\/]/).includes('..')) {
    warnings.push(
      `the output folder ${dir} is outside the repository: the CI workflow's paths say chaos/ instead (move the files there, or run plan from the repository root with --out-dir chaos)`,
    );
    dir = 'chaos';
  }
  const catalogue = buildCatalogue(architecture);
  const selection = selectTop(catalogue, top);
  const planned: PlannedScenario[] = selection.picks.map(({ scenario, position, why }) => {
    const experiments = experimentsFor(architecture, scenario, position);
    const warnings: string[] = [];
    for (const e of experiments) {
      if (!e.file) continue;
      try {
        const loaded = loadDocument(e.text, e.file);
        warnings.push(...loaded.warnings.map((w) => `${e.file}: ${w}`));
      } catch (err) {
        throw new Error(
          `faultline plan generated an invalid experiment ${e.file} (a bug): ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      }
    }
    return {
      scenario,
      position,
      why,
      hypotheses: hypothesesFor(architecture, scenario),
      experiments,
      warnings,
    };
  });

  const files: ArchitecturePlan['files'] = [];
  files.push({
    path: 'catalogue.md',
    text: renderMarkdown(architecture, catalogue, planned, selection.passedOver),
  });
  files.push({
    path: 'catalogue.json',
    text: renderJson(architecture, catalogue, planned, selection.passedOver),
  });
  for (const p of planned)
    for (const e of p.experiments)
      if (e.file) files.push({ path: `experiments/${e.file}`, text: e.text });
  files.push({ path: 'docker-compose.chaos.yaml', text: composeText(architecture, dir) });
  files.push({
    path: 'proxies.json',
    text: `${JSON.stringify(proxiesConfig(architecture), null, 2)}\n`,
  });
  const local: WorkflowExperiment[] = planned.flatMap((p) =>
    p.experiments
      .filter(
        (e): e is Extract<GeneratedExperiment, { text: string }> =>
          e.file !== undefined && e.variant === 'local',
      )
      .map((e) => ({
        path: `${dir === '.' ? '' : `${dir}/`}experiments/${e.file}`,
        title: e.experiment.title,
        secrets: Object.values(e.experiment.secrets ?? {})
          .map((s) => (s as { env: string }).env)
          .sort(),
      })),
  );
  files.push({ path: '.github/workflows/chaos.yml', text: workflowText(architecture, dir, local) });
  return {
    architecture,
    catalogue,
    top: planned,
    passedOver: selection.passedOver,
    warnings,
    files,
  };
}
