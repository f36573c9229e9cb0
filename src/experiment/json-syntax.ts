/**
 * Strict JSON for `.json` files. The files are read with the YAML parser (JSON is YAML, and it
 * gives positions), but YAML accepts what JSON does not — a trailing comma, a comment, single
 * quotes, a key without quotes — so a file that every other JSON tool refuses was valid here.
 * `JSON.parse` does not say where its error is in every case, so this scanner finds the first
 * error's offset itself, with a message in plain words. Iterative: a deeply nested file cannot
 * overflow the stack.
 */
import type { YamlProblem } from './yaml-syntax.js';

type State =
  'value' | 'value-or-close' | 'key' | 'key-or-close' | 'colon' | 'comma-or-close' | 'end';

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** The first place `text` is not strict JSON (RFC 8259), or undefined when it is. */
export function jsonSyntaxProblem(text: string): YamlProblem | undefined {
  const stack: ('{' | '[')[] = [];
  // Widened: the closures below change it, which narrowing cannot see.
  let state = 'value' as State;
  let lastComma = -1;
  let i = text.startsWith('\uFEFF') ? 1 : 0;
  const afterValue = (): void => {
    state = stack.length > 0 ? 'comma-or-close' : 'end';
  };
  const trailingComma = (close: string): YamlProblem => ({
    message: `a comma before "${close}": JSON allows no comma after the last item`,
    hint: 'remove the comma',
    offset: lastComma,
  });
  const unexpected = (expected: string): YamlProblem => {
    const c = text[i]!;
    let hint: string | undefined;
    if (c === "'") hint = 'JSON strings and keys are in double quotes';
    else if (c === '/' || c === '#')
      hint = 'JSON has no comments: remove it (or write the file as YAML)';
    else if (/[A-Za-z_$]/.test(c)) hint = 'JSON keys and strings are in double quotes';
    const shown = /\s/.test(c) ? JSON.stringify(c) : `"${c}"`;
    return { message: `${shown} where ${expected} was expected (strict JSON)`, hint, offset: i };
  };

  for (;;) {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
    if (i >= text.length) {
      if (state === 'end') return undefined;
      const open = stack[stack.length - 1];
      return {
        message:
          open === undefined
            ? 'the JSON ends before its value'
            : `the JSON ends early: a "${open}" is never closed by "${open === '{' ? '}' : ']'}"`,
        hint: 'close every { with } and every [ with ]',
        offset: Math.max(0, text.length - 1),
      };
    }
    const c = text[i]!;
    switch (state) {
      case 'value':
      case 'value-or-close': {
        if (c === ']' && stack[stack.length - 1] === '[') {
          if (state === 'value') return trailingComma(']');
          stack.pop();
          i++;
          afterValue();
        } else if (c === '{') {
          stack.push('{');
          i++;
          state = 'key-or-close';
        } else if (c === '[') {
          stack.push('[');
          i++;
          state = 'value-or-close';
        } else if (c === '"') {
          const problem = scanString();
          if (problem) return problem;
          afterValue();
        } else if (c === '-' || (c >= '0' && c <= '9')) {
          NUMBER.lastIndex = i;
          const m = NUMBER.exec(text);
          if (!m) return unexpected('a number');
          i += m[0].length;
          afterValue();
        } else {
          const word = ['true', 'false', 'null'].find((w) => text.startsWith(w, i));
          if (!word) return unexpected('a value');
          i += word.length;
          afterValue();
        }
        break;
      }
      case 'key':
      case 'key-or-close': {
        if (c === '}') {
          if (state === 'key') return trailingComma('}');
          stack.pop();
          i++;
          afterValue();
        } else if (c === '"') {
          const problem = scanString();
          if (problem) return problem;
          state = 'colon';
        } else return unexpected('a key in double quotes');
        break;
      }
      case 'colon':
        if (c !== ':') return unexpected('":" after the key');
        i++;
        state = 'value';
        break;
      case 'comma-or-close': {
        const open = stack[stack.length - 1];
        const close = open === '{' ? '}' : ']';
        if (c === ',') {
          lastComma = i;
          i++;
          state = open === '{' ? 'key' : 'value';
        } else if (c === close) {
          stack.pop();
          i++;
          afterValue();
        } else return unexpected(`"," or "${close}"`);
        break;
      }
      case 'end':
        return {
          message: 'text after the end of the JSON value',
          hint: 'a JSON file holds one value: remove what follows it',
          offset: i,
        };
    }
  }

  /** A string from the quote at `i`; moves `i` past it. */
  function scanString(): YamlProblem | undefined {
    const start = i;
    i++;
    while (i < text.length) {
      const ch = text[i]!;
      if (ch === '"') {
        i++;
        return undefined;
      }
      if (ch === '\\') {
        const next = text[i + 1];
        if (next === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6)))
            return { message: 'a \\u escape needs four hex digits', offset: i };
          i += 6;
        } else if (next !== undefined && '"\\/bfnrt'.includes(next)) i += 2;
        else
          return {
            message: `"\\${next ?? ''}" is not a JSON escape`,
            hint: 'write a backslash as \\\\',
            offset: i,
          };
      } else if (ch < ' ') {
        return {
          message: 'a line break or control character inside a JSON string',
          hint: 'write a line break as \\n, or close the string with "',
          offset: i,
        };
      } else i++;
    }
    return {
      message: 'a string that is never closed',
      hint: 'end it with "',
      offset: start,
    };
  }
}
