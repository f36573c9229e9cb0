// The build the tests' child processes run: every file of src/ transpiled (types stripped, no
// type check: the typecheck check does that) into .test-build/, which has dist/'s layout one
// level below the repository, so paths a module resolves from itself ('../../package.json')
// land where they do from dist/. A faultline CLI started through tsx spends about twice the CPU
// of the same CLI from plain JavaScript (`validate`, five starts each way, alternated: 1.86
// against 0.81 CPU-s), and the integration group starts over a hundred of them on 2 cores.
// test/helpers/entry.ts uses it when FAULTLINE_TEST_BUILD names it; without it (a test file
// run on its own), the children run src/ through tsx as before.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

/** Transpiles root/src into root/.test-build; returns the directory and the file count. */
export function buildForTests(root) {
  const src = join(root, 'src');
  const out = join(root, '.test-build');
  rmSync(out, { recursive: true, force: true });
  let files = 0;
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) {
        const { outputText } = ts.transpileModule(readFileSync(path, 'utf8'), {
          fileName: path,
          compilerOptions: {
            module: ts.ModuleKind.ESNext,
            target: ts.ScriptTarget.ES2023,
            verbatimModuleSyntax: true,
            inlineSourceMap: true,
          },
        });
        const dest = join(out, relative(src, path)).replace(/\.ts$/, '.js');
        mkdirSync(dirname(dest), { recursive: true });
        writeFileSync(dest, outputText);
        files++;
      }
    }
  };
  walk(src);
  return { dir: out, files };
}
