/**
 * Old spellings of renamed flags. `--target` used to mean a backend for `run`, a platform for
 * `compile` and an output for `schedule`, and `-o` a directory where kubectl users read a
 * format; the new names say one thing each (`--platform`, `--out-dir`). The old spellings keep
 * working, hidden from `--help`, with a one-line note on stderr, so scripts do not break.
 */
import { Option, type Command } from 'commander';
import { println, type CliIo } from './io.js';

/**
 * Adds `flags` (e.g. `-o, --output <dir>`) to `command` as a hidden alias of the option stored
 * under `replacement` (its attribute name, e.g. `outDir`), spelled `replacementFlag` in notes.
 */
export function addDeprecatedAlias(
  command: Command,
  io: CliIo,
  alias: { flags: string; replacement: string; replacementFlag: string },
): Command {
  const option = new Option(alias.flags).hideHelp();
  const attribute = option.attributeName();
  command.addOption(option);
  return command.hook('preAction', (_hooked, action) => {
    const value: unknown = action.getOptionValue(attribute);
    if (value === undefined) return;
    const spelled = alias.flags.replace(/\s*[<[].*$/, '').replace(', ', '/');
    println(io.stderr, `faultline: ${spelled} is deprecated: use ${alias.replacementFlag}`);
    // The new spelling wins when both are given; a default does not count as given.
    if (action.getOptionValueSource(alias.replacement) !== 'cli') {
      action.setOptionValue(alias.replacement, value);
    }
  });
}
