// Every `--help` ends with Examples, and every example is a real command: its subcommands
// exist, each flag is one the command takes (not a deprecated spelling), the files it names
// from this repository exist, and the validate examples on shipped files pass.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { EXAMPLES, commandPath } from '../../src/cli/examples.js';
import { buildProgram } from '../../src/cli/main.js';
import { runCli } from '../helpers/cli.js';

const program = buildProgram(
  {
    argv: [],
    env: {},
    cwd: process.cwd(),
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    signal: new AbortController().signal,
  },
  () => undefined,
);

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

/** `a "b c" d` → ['a', 'b c', 'd']; a shell redirect and what follows are left out. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/"([^"]*)"|(\S+)/g)) {
    const word = m[1] ?? m[2]!;
    if (word === '>') break;
    out.push(word);
  }
  return out;
}

/** Checks one example line against the command tree; returns the problems found. */
function check(line: string): string[] {
  const [program_, ...rest] = words(line);
  if (program_ !== 'faultline') return [`${line}: does not start with faultline`];
  let command = program;
  let i = 0;
  while (i < rest.length) {
    const sub = command.commands.find(
      (c) => c.name() === rest[i] || c.aliases().includes(rest[i]!),
    );
    if (!sub) break;
    command = sub;
    i++;
  }
  const problems: string[] = [];
  const positionals: string[] = [];
  for (; i < rest.length; i++) {
    const word = rest[i]!;
    if (!word.startsWith('-')) {
      positionals.push(word);
      continue;
    }
    const option = command.options.find((o) => o.long === word || o.short === word);
    if (!option) {
      problems.push(`${line}: ${commandPath(command)} takes no ${word}`);
      continue;
    }
    if (option.hidden) problems.push(`${line}: ${word} is a deprecated spelling`);
    if (option.required || option.optional) i++; // its value
  }
  const takes = command.registeredArguments;
  if (positionals.length > takes.length && !takes.at(-1)?.variadic)
    problems.push(
      `${line}: ${positionals.length} arguments, ${commandPath(command)} takes ${takes.length}`,
    );
  for (const word of rest) {
    if (/^examples\/.*\.(ya?ml|json)$/.test(word) && !existsSync(word))
      problems.push(`${line}: ${word} does not exist`);
  }
  return problems;
}

describe('Examples in every --help', () => {
  it('every command has examples, and its --help prints them', async () => {
    const missing = allCommands(program)
      .map(commandPath)
      .filter((path) => !EXAMPLES[path]?.length);
    assert.deepEqual(missing, [], 'commands without examples');
    for (const path of Object.keys(EXAMPLES)) {
      const argv = path ? [...path.split(' '), '--help'] : ['--help'];
      const { code, stdout } = await runCli(argv);
      assert.equal(code, 0, path);
      assert.match(stdout, /\nExamples:\n {2}# /, path);
      assert.ok(stdout.includes(EXAMPLES[path]![0]![0]), path);
    }
  });

  it('every example names real subcommands, flags they take and files that exist', () => {
    const problems = Object.values(EXAMPLES).flatMap((examples) =>
      examples.flatMap(([line]) => check(line)),
    );
    assert.deepEqual(problems, []);
  });

  it('the checker itself catches a wrong flag, a deprecated one and a missing file', () => {
    assert.ok(
      check('faultline compile x.yaml --platfrom istio').some((p) => p.includes('no --platfrom')),
    );
    assert.deepEqual(check('faultline compile x.yaml --target istio'), [
      'faultline compile x.yaml --target istio: --target is a deprecated spelling',
    ]);
    assert.deepEqual(check('faultline validate examples/nope.yaml'), [
      'faultline validate examples/nope.yaml: examples/nope.yaml does not exist',
    ]);
    assert.deepEqual(check('faultline proxy t a -t latency -a latency=1 p'), []);
  });

  it('the validate example on a shipped file passes', async () => {
    const { code, stderr } = await runCli(['validate', 'examples/postgres-latency.yaml']);
    assert.equal(code, 0, stderr);
  });
});
