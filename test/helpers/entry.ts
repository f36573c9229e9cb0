// How a test starts one of faultline's own programs (the CLI, a demo service) as a child process:
// from the build scripts/test.mjs made for the run (FAULTLINE_TEST_BUILD, plain node: about a
// second of CPU less per start than tsx), else from src/ through tsx (a test file run on its own).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
// Resolved here: children often run in temporary directories where `tsx` is not resolvable.
const TSX = import.meta.resolve('tsx');

/**
 * The node arguments that run `src/<entry>.ts` (e.g. `cli/main`), followed by `args`:
 * `spawn(process.execPath, entryArgs('cli/main', 'run', file))`.
 */
export function entryArgs(entry: string, ...args: string[]): string[] {
  const build = process.env['FAULTLINE_TEST_BUILD'];
  if (build) return [join(build, `${entry}.js`), ...args];
  return ['--import', TSX, join(root, 'src', `${entry}.ts`), ...args];
}

/** The same as one shell command line (for a `service` target's `command`). */
export function entryCommand(entry: string): string {
  return [process.execPath, ...entryArgs(entry)].map((a) => `"${a}"`).join(' ');
}
