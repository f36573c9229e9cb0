/**
 * `faultline plan ARCH.yaml`: the failure catalogue of an architecture, ranked, with why each
 * scenario ranks where it does; with `--out-dir DIR`, also the hypotheses and experiment files of the
 * top N, a docker-compose file with the fault proxy between every service and its
 * dependencies, and a CI workflow with the chaos stage. A bad architecture file exits 2 with
 * every problem located (the CLI's error printer lists them).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { DEFAULT_TOP } from '../../planner/top.js';
import { addDeprecatedAlias } from '../deprecated-option.js';
import { println, type CliIo } from '../io.js';

interface PlanFlags {
  top: string;
  format: string;
  outDir?: string;
  all?: boolean;
}

const FORMATS = ['table', 'md', 'json'];

export function registerPlanCommand(
  program: Command,
  io: CliIo,
  _setExit: (code: number) => void,
): void {
  const command = program
    .command('plan')
    .description(
      'rank the failure scenarios of an architecture file; with --out-dir, write hypotheses, experiments, docker-compose and a CI workflow',
    )
    .argument('<architecture>', 'architecture file (YAML or JSON; faultline schema --architecture)')
    .option(
      '--top <n>',
      'how many scenarios get hypotheses and experiments (and rows in the table)',
      String(DEFAULT_TOP),
    )
    .option('--format <format>', `what to print: ${FORMATS.join(', ')}`, 'table')
    .option(
      '--all',
      'the table lists every row of the catalogue by rank, the top marked (md and json always do)',
    )
    .option(
      '--out-dir <dir>',
      'write catalogue.md, catalogue.json, experiments/, docker-compose.chaos.yaml, proxies.json, .github/workflows/chaos.yml',
    )
    .action(async (file: string, flags: PlanFlags) => {
      const top = Number(flags.top);
      if (!Number.isInteger(top) || top < 0)
        throw new UsageError(`--top ${flags.top} is not a count`, {
          hint: 'a whole number, e.g. --top 5',
        });
      if (!FORMATS.includes(flags.format))
        throw new UsageError(`--format ${flags.format} is not known`, {
          hint: `one of ${FORMATS.join(', ')}`,
        });
      const [{ readArchitectureFile }, { planArchitecture }, { renderTable }] = await Promise.all([
        import('../../planner/architecture-read.js'),
        import('../../planner/planner.js'),
        import('../../planner/render.js'),
      ]);
      const architecture = await readArchitectureFile(resolve(io.cwd, file), file);
      const outDir = flags.outDir === undefined ? undefined : resolve(io.cwd, flags.outDir);
      const plan = planArchitecture(architecture, {
        top,
        dir: outDir === undefined ? '.' : relative(io.cwd, outDir) || '.',
      });
      const byPath = new Map(plan.files.map((f) => [f.path, f.text]));
      if (flags.format === 'md') io.stdout.write(byPath.get('catalogue.md')!);
      else if (flags.format === 'json') io.stdout.write(byPath.get('catalogue.json')!);
      else
        io.stdout.write(
          renderTable(plan.catalogue, plan.top, { all: flags.all, passedOver: plan.passedOver }),
        );
      if (outDir === undefined) return;
      for (const f of plan.files) {
        const path = join(outDir, f.path);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, f.text);
      }
      const experiments = plan.files.filter((f) => f.path.startsWith('experiments/')).length;
      println(
        io.stderr,
        `wrote ${plan.files.length} files to ${String(flags.outDir)}: catalogue.md, catalogue.json, ${experiments} experiments, docker-compose.chaos.yaml, proxies.json, .github/workflows/chaos.yml`,
      );
      for (const w of plan.warnings) println(io.stderr, `warning: ${w}`);
      for (const p of plan.top) for (const w of p.warnings) println(io.stderr, `  warning: ${w}`);
    });
  addDeprecatedAlias(command, io, {
    flags: '-o, --output <dir>',
    replacement: 'outDir',
    replacementFlag: '--out-dir',
  });
}
