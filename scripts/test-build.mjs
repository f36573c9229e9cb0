// The build the timed test groups run: every file of src/ and test/ transpiled (types stripped,
// no type check: the typecheck check does that) into .test-build/src/ and .test-build/test/,
// beside the repository's other entries linked in (.test-build/package.json → ../package.json,
// examples/, docs/, schema/ …), so that a path a module resolves from itself lands on the same
// file it does from src/ or test/: '../package.json' from src/version.ts, '../fixtures/' from a
// test, '../../examples/' from a test. Each source file is also linked beside its transpiled
// copy (x.ts next to x.js), for the tests that hand a .ts file to tsx in a child process.
//
// Why: tsx costs every process it starts about half a CPU-second (an integration test file that
// imports src/index.ts: 0.86–0.98 CPU-s through tsx against 0.33–0.37 from plain JavaScript),
// and it is inherited. A test file run through tsx runs the runner in-process, so the agents and
// demo services the runner starts run through tsx too (src/backends/local/agent.ts and
// src/demo/service-process.ts pick tsx when their own file is .ts); from this build they are
// plain node. A faultline CLI started through tsx spends about twice the CPU of the same CLI from
// plain JavaScript (`validate`, five starts each way, alternated: 1.86 against 0.81 CPU-s).
//
// test/helpers/entry.ts starts the CLI from .test-build/src/ when FAULTLINE_TEST_BUILD names it;
// without it (a test file run on its own), the children run src/ through tsx as before. The unit
// group runs through tsx (it reads src/'s TypeScript files, and it runs in the background).
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/** Entries of the repository that are not linked into the build. */
const NOT_LINKED = new Set(['src', 'test', 'node_modules', '.git', '.test-build']);

/** Does `dir` hold a TypeScript file to transpile, at any depth? */
function transpiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).some((entry) =>
    entry.isDirectory()
      ? transpiles(join(dir, entry.name))
      : entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'),
  );
}

/**
 * Transpiles root/src and root/test into root/.test-build; returns the build's root, where src/
 * is (`src`, for FAULTLINE_TEST_BUILD), and the number of files transpiled.
 */
export function buildForTests(root) {
  const out = join(root, '.test-build');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  let files = 0;
  const walk = (dir, into, unitTests) => {
    mkdirSync(into, { recursive: true });
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const dest = join(into, name);
      if (statSync(path).isDirectory()) {
        // A folder with nothing to transpile (test/fixtures) is linked whole: a file a test
        // writes there (a new golden file) lands in the repository.
        if (transpiles(path)) walk(path, dest, unitTests);
        else symlinkSync(relative(into, path), dest);
        continue;
      }
      symlinkSync(relative(into, path), dest);
      // src/'s own test files are the unit group's, which runs through tsx.
      if (
        name.endsWith('.ts') &&
        !name.endsWith('.d.ts') &&
        !(unitTests && name.endsWith('.test.ts'))
      ) {
        const { outputText } = ts.transpileModule(readFileSync(path, 'utf8'), {
          fileName: path,
          compilerOptions: {
            module: ts.ModuleKind.ESNext,
            target: ts.ScriptTarget.ES2023,
            verbatimModuleSyntax: true,
            inlineSourceMap: true,
          },
        });
        writeFileSync(dest.replace(/\.ts$/, '.js'), outputText);
        files++;
      }
    }
  };
  walk(join(root, 'src'), join(out, 'src'), true);
  walk(join(root, 'test'), join(out, 'test'), false);
  // Made first if missing and linked like the rest, so that a test writing into it writes into
  // the repository's.
  mkdirSync(join(root, 'test-artifacts'), { recursive: true });
  for (const name of readdirSync(root)) {
    if (NOT_LINKED.has(name)) continue;
    symlinkSync(join('..', name), join(out, name));
  }
  return { root: out, src: join(out, 'src'), files };
}

/** The build's copy of a test file: test/x/y.test.ts → .test-build/test/x/y.test.js. */
export function builtTestFile(buildRoot, file) {
  return join(buildRoot, file.replace(/\.ts$/, '.js'));
}

/** Back from the build's copy to the test file (for durations and reports). */
export function sourceTestFile(buildRoot, root, file) {
  const inBuild = relative(buildRoot, file);
  return inBuild.startsWith('..') ? file : join(root, inBuild.replace(/\.js$/, '.ts'));
}
