/**
 * YAML syntax errors in plain words. The `yaml` parser keeps going after its first error and
 * reports what the rest of the file looks like from there: one missing colon after `method`
 * gave nine problems ("All mapping items must start at the same column" on every following
 * line), none of which named the colon. So only the first syntax error is reported (the others
 * are usually its echo, and a fixed file is read again), said the way a user would fix it, at
 * the line and column where the fix goes.
 */
import { Parser, type CST, type YAMLError } from 'yaml';
import type { ValidationIssue } from '../errors.js';

export interface YamlProblem {
  message: string;
  hint?: string | undefined;
  /** Offset in the text where the fix goes. */
  offset: number | undefined;
}

/**
 * The first real syntax error (duplicate keys are independent of each other and are all kept,
 * when no syntax error precedes them), in plain words.
 */
export function yamlSyntaxProblems(text: string, errors: readonly YAMLError[]): YamlProblem[] {
  const syntax = errors.find((e) => e.code !== 'DUPLICATE_KEY');
  if (!syntax) return errors.map((e) => describe(text, e));
  return [describe(text, syntax)];
}

function describe(text: string, error: YAMLError): YamlProblem {
  const offset = error.pos[0];
  const line = lineAt(text, offset);
  const key = /^\s*(?:-\s+)?([^\s:#][^:#]*?)\s*$/.exec(line.text)?.[1];
  switch (error.code) {
    case 'MULTILINE_IMPLICIT_KEY':
    case 'MISSING_CHAR':
      if (error.message.startsWith('Implicit') && key !== undefined) return missingColon(line, key);
      if (error.message.startsWith('Missing closing')) {
        const quote = error.message.includes("'") ? "'" : '"';
        return {
          message: `a quoted text that is never closed: ${quote} without its closing ${quote}`,
          hint: `end the text with ${quote} on the same line`,
          offset: Math.max(0, text.lastIndexOf(quote, offset - 1)),
        };
      }
      break;
    case 'BAD_INDENT':
      if (error.message.startsWith('Flow')) return unclosedFlow(text, error.message, offset);
      return {
        message: 'this line is not indented like the keys beside it',
        hint: 'keys of one mapping start at the same column; indent with spaces only',
        offset,
      };
    case 'TAB_AS_INDENT':
      return {
        message: 'a tab in the indentation',
        hint: 'YAML indents with spaces only',
        offset,
      };
    case 'BLOCK_AS_IMPLICIT_KEY':
      if (error.message.startsWith('Nested mappings')) {
        return {
          message: 'a second "key:" on the same line',
          hint: 'put the nested key on its own line, indented under its parent, or quote the value',
          offset,
        };
      }
      return {
        message: 'a list or a mapping where a key was expected',
        hint: 'check the line above for a missing colon, and the indentation of this line',
        offset,
      };
    case 'MULTIPLE_DOCS':
      return {
        message: 'a second YAML document: one file holds one experiment',
        hint: 'remove the "---" line (and what follows), or put each experiment in its own file',
        offset,
      };
    case 'DUPLICATE_KEY': {
      const name = /^\s*(?:-\s+)?([^:#]+?)\s*:/.exec(line.text)?.[1];
      return {
        message: `${name === undefined ? 'this key' : `"${name}"`} appears twice in the same mapping`,
        hint: 'remove one of them (the later one would silently win)',
        offset,
      };
    }
    default:
      break;
  }
  return { message: `YAML syntax: ${firstLine(error.message)}`, offset };
}

/** `method` → "method:"; `target postgres` → "target: postgres" (the colon after the first word). */
function missingColon(line: { start: number; text: string }, key: string): YamlProblem {
  const space = key.search(/\s/);
  const word = space === -1 ? key : key.slice(0, space);
  const fixed = space === -1 ? `${key}:` : `${word}: ${key.slice(space).trim()}`;
  return {
    message: `"${key}" has no colon: expected "key: value" (or "key:" before a nested block)`,
    hint: `write "${fixed}"; if it is meant as text, quote it`,
    offset: line.start + line.text.indexOf(key) + word.length,
  };
}

/** `method: [` with no `]`: located at the bracket that is never closed. */
function unclosedFlow(text: string, message: string, offset: number): YamlProblem {
  const [open, close] = message.startsWith('Flow map') ? ['{', '}'] : ['[', ']'];
  const at = text.lastIndexOf(open, offset);
  return {
    message: `"${open}" is never closed by "${close}"`,
    hint: `close it with "${close}", or indent its continuation lines under the key`,
    offset: at === -1 ? offset : at,
  };
}

/** A problem as a located issue (`locate` turns the offset into file:line:column). */
export function yamlProblemIssue(
  problem: YamlProblem,
  locate: (offset: number | undefined) => Pick<ValidationIssue, 'file' | 'line' | 'column'>,
): ValidationIssue {
  return { path: '', message: problem.message, hint: problem.hint, ...locate(problem.offset) };
}

function lineAt(text: string, offset: number): { start: number; text: string } {
  const start = text.lastIndexOf('\n', Math.max(0, offset - 1)) + 1;
  const end = text.indexOf('\n', offset);
  return { start, text: text.slice(start, end === -1 ? undefined : end) };
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

/** How deep an experiment file may nest: real ones stay under 12 levels. */
export const MAX_NESTING = 64;

/**
 * Nesting beyond {@link MAX_NESTING} levels, as one problem at the first place it goes deeper.
 * Checked on the parser's tokens (or the text's), iteratively, before the document is composed: composing (and
 * every later walk) recurses, and a file 5,000 levels deep overflowed the stack once per place
 * ("Maximum call stack size exceeded", 35 times for one file).
 */
export function nestingProblem(text: string | readonly CST.Token[]): YamlProblem | undefined {
  const stack: Array<{ token: CST.Token | undefined; depth: number }> = [];
  const tokens = typeof text === 'string' ? new Parser().parse(text) : text;
  for (const token of tokens) stack.push({ token, depth: 0 });
  while (stack.length > 0) {
    const { token, depth } = stack.pop()!;
    if (!token) continue;
    if (token.type === 'document') {
      stack.push({ token: token.value, depth });
      continue;
    }
    if (
      token.type !== 'block-map' &&
      token.type !== 'block-seq' &&
      token.type !== 'flow-collection'
    )
      continue;
    if (depth + 1 > MAX_NESTING) {
      return {
        message: `nested deeper than ${MAX_NESTING} levels`,
        hint: 'an experiment is a few levels deep: check for a runaway [ or { or indentation',
        offset: token.offset,
      };
    }
    for (const item of token.items) {
      if ('key' in item) stack.push({ token: item.key ?? undefined, depth: depth + 1 });
      stack.push({ token: item.value, depth: depth + 1 });
    }
  }
  return undefined;
}
