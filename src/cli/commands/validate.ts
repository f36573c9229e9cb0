/**
 * `faultline validate FILE…`: checks experiment files and reports every problem of every file
 * in one pass, each as `file:line:column: path: message` with a hint, in faultline's format or
 * Chaos Toolkit's. A faultline experiment's validation is pure: no environment variable is read.
 * A Chaos Toolkit file is also compiled as `run` would compile it, so `validate` refuses what
 * `run` would: its Python providers' modules are imported and their arguments bound (as
 * `chaos validate` does), and an environment variable its configuration reads and the
 * environment lacks is a warning. Exit 0 when all are valid, 2 otherwise. `faultline schema` prints the JSON Schema editors use.
 */
import type { Command } from 'commander';
import { ExitCode, formatIssue, ValidationError } from '../../errors.js';
import { readEnvFile, readVarFile } from '../../experiment/substitute.js';
import { resolve } from 'node:path';
import { println, type CliIo } from '../io.js';

export function registerValidateCommands(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  program
    .command('validate')
    .description('check experiment files: every problem, with file:line:column and a hint')
    .argument('<files...>', 'experiment files (YAML or JSON)')
    .option('--var <name=value...>', 'variables given at run time (so ${name} counts as declared)')
    .option('--var-file <file...>', 'files of variables given at run time')
    .action(async (files: string[], options: { var?: string[]; varFile?: string[] }) => {
      const { loadDocument, readExperimentText } = await import('../../run-plan/read-plan.js');
      const vars = (options.var ?? []).map((v) => (v.split('=')[0] ?? v).split(':')[0] ?? v);
      const env: NodeJS.ProcessEnv = { ...io.env };
      for (const file of options.varFile ?? []) {
        if (file.endsWith('.env')) Object.assign(env, await readEnvFile(resolve(io.cwd, file)));
        else vars.push(...Object.keys(await readVarFile(resolve(io.cwd, file))));
      }
      let invalid = 0;
      for (const file of files) {
        try {
          const loaded = loadDocument(
            await readExperimentText(resolve(io.cwd, file), file),
            file,
            vars,
          );
          const warnings = [...loaded.warnings];
          if (loaded.format === 'chaostoolkit') {
            const { planChaosToolkit } = await import('../../chaostoolkit/to-run-plan.js');
            try {
              planChaosToolkit(loaded.data, {
                file,
                env,
                vars: Object.fromEntries(vars.map((v) => [v, ''])),
                missingEnv: warnings,
              });
            } catch (err) {
              // What run would refuse, located in the file as the validator's own problems are.
              if (!(err instanceof ValidationError)) throw err;
              const located = err.issues.map((i) =>
                i.line === undefined ? { ...i, ...loaded.read.locatePath(i.path) } : i,
              );
              throw new ValidationError(err.message, located, { hint: err.hint });
            }
          }
          const format = loaded.format === 'chaostoolkit' ? ' (Chaos Toolkit format)' : '';
          println(
            io.stdout,
            `${file}: valid${format} — "${loaded.title}", ${loaded.steps} step(s)`,
          );
          for (const warning of warnings) println(io.stdout, `  warning: ${warning}`);
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          invalid++;
          const count = err.issues.length;
          println(io.stderr, `${file}: ${count} problem${count === 1 ? '' : 's'}`);
          for (const issue of err.issues)
            println(io.stderr, `  ${formatIssue(issue).replace(/\n/g, '\n  ')}`);
        }
      }
      if (invalid > 0) {
        println(io.stderr, `${invalid} of ${files.length} file(s) invalid`);
        setExit(ExitCode.usage);
      }
    });

  program
    .command('schema')
    .description(
      "print the JSON Schema of the experiment format (for editors); --architecture: of faultline plan's architecture files",
    )
    .option('--architecture', 'the architecture format instead (faultline plan)')
    .action(async (options: { architecture?: boolean }) => {
      const schema = options.architecture
        ? (await import('../../planner/architecture-schema.js')).architectureJsonSchema()
        : (await import('../../experiment/schema.js')).experimentJsonSchema();
      println(io.stdout, JSON.stringify(schema, null, 2));
    });
}
