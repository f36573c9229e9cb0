/**
 * `faultline validate FILE…`: checks experiment files and reports every problem of every file
 * in one pass, each as `file:line:column: path: message` with a hint, in faultline's format or
 * Chaos Toolkit's. Validation is pure: no environment variable is read, no module imported.
 * Exit 0 when all are valid, 2 otherwise. `faultline schema` prints the JSON Schema editors use.
 */
import type { Command } from 'commander';
import { ExitCode, formatIssue, ValidationError } from '../../errors.js';
import { readVarFile } from '../../experiment/substitute.js';
import { resolve } from 'node:path';
import { println, type CliIo } from '../io.js';

export function registerValidateCommands(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('validate')
    .description('check experiment files: every problem, with file:line:column and a hint')
    .argument('<files...>', 'experiment files (YAML or JSON)')
    .option('--var <name=value...>', 'variables given at run time (so ${name} counts as declared)')
    .option('--var-file <file...>', 'files of variables given at run time')
    .action(async (files: string[], options: { var?: string[]; varFile?: string[] }) => {
      const { loadDocument, readExperimentText } = await import('../../runner/load-plan.js');
      const vars = (options.var ?? []).map((v) => v.split('=')[0] ?? v);
      for (const file of options.varFile ?? []) vars.push(...Object.keys(await readVarFile(resolve(io.cwd, file))));
      let invalid = 0;
      for (const file of files) {
        try {
          const loaded = loadDocument(await readExperimentText(resolve(io.cwd, file), file), file, vars);
          const format = loaded.format === 'chaostoolkit' ? ' (Chaos Toolkit format)' : '';
          println(io.stdout, `${file}: valid${format} — "${loaded.title}", ${loaded.steps} step(s)`);
          for (const warning of loaded.warnings) println(io.stdout, `  warning: ${warning}`);
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          invalid++;
          const count = err.issues.length;
          println(io.stderr, `${file}: ${count} problem${count === 1 ? '' : 's'}`);
          for (const issue of err.issues) println(io.stderr, `  ${formatIssue(issue).replace(/\n/g, '\n  ')}`);
        }
      }
      if (invalid > 0) {
        println(io.stderr, `${invalid} of ${files.length} file(s) invalid`);
        setExit(ExitCode.usage);
      }
    });

  program
    .command('schema')
    .description('print the JSON Schema of the experiment format (for editors); --architecture: of faultline plan\'s architecture files')
    .option('--architecture', 'the architecture format instead (faultline plan)')
    .action(async (options: { architecture?: boolean }) => {
      const schema = options.architecture
        ? (await import('../../planner/architecture-schema.js')).architectureJsonSchema()
        : (await import('../../experiment/schema.js')).experimentJsonSchema();
      println(io.stdout, JSON.stringify(schema, null, 2));
    });
}

