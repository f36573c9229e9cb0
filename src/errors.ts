/**
 * faultline's typed errors.
 *
 * Every error the library throws on purpose is a {@link FaultlineError}: it carries a stable
 * `code` (callers switch on it, never on message text), the HTTP `status` the control API
 * answers with, the process exit code the CLI maps it to, and an optional `hint` that tells a
 * user what to do next. The CLI (`src/cli/main.ts`) is the only place that turns these into an
 * exit code; library code only throws.
 *
 * Errors are recognised by a brand property rather than `instanceof`, so two copies of the
 * package in one `node_modules` tree still recognise each other's errors (cockatiel does the
 * same).
 */

/** Exit codes of the CLI. Stable: CI pipelines and other tools rely on them. */
export const ExitCode = {
  /** Success; for `run`, every hypothesis held. */
  ok: 0,
  /** A hypothesis deviated. */
  deviated: 1,
  /** Invalid input or usage. */
  usage: 2,
  /** Aborted by a stop condition. */
  aborted: 3,
  /** Inconclusive: a fault could not be shown to reach the system, or a probe could not run. */
  inconclusive: 4,
  /**
   * Residue: after the rollbacks the system was not back to its baseline — a fault, or its
   * effect, outlived the run (`faultline recover` removes what faultline left).
   */
  residue: 5,
  /** An unexpected internal error (a bug in faultline, or an environment failure). */
  internal: 70,
  /** Interrupted by a signal, after rollback. */
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Stable error codes. Adding one is fine; renaming one is a breaking change. */
export type ErrorCode =
  | 'E_BAD_REQUEST'
  | 'E_VALIDATION'
  | 'E_NOT_FOUND'
  | 'E_CONFLICT'
  | 'E_LISTEN'
  | 'E_FORBIDDEN'
  | 'E_UNAUTHORIZED'
  | 'E_USAGE'
  | 'E_IO'
  | 'E_PROBE'
  | 'E_FAULT'
  | 'E_INTERNAL';

export interface FaultlineErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
}

/** Base class of every error faultline throws on purpose. */
export class FaultlineError extends Error {
  /** Brand checked by {@link isFaultlineError}. */
  readonly isFaultlineError = true;
  readonly code: ErrorCode;
  /** HTTP status the control API answers with. */
  readonly status: number;
  /** Exit code the CLI maps this error to. */
  readonly exitCode: ExitCodeValue;
  /** What the user can do about it, when we know. */
  readonly hint: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    status: number,
    exitCode: ExitCodeValue,
    options: FaultlineErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.exitCode = exitCode;
    this.hint = options.hint;
  }
}

/** Malformed or out-of-range input (an API body, a CLI flag, an attribute). */
export class BadRequestError extends FaultlineError {
  constructor(message: string, options?: FaultlineErrorOptions) {
    super('E_BAD_REQUEST', message, 400, ExitCode.usage, options);
  }
}

/** One located problem in a document (an experiment file, a config file, an API body). */
export interface ValidationIssue {
  /** JSON path of the offending value, e.g. `proxies[2].listen`. Empty for the document root. */
  path: string;
  message: string;
  hint?: string | undefined;
  /** File, line and column (1-based) when the document came from a file. */
  file?: string | undefined;
  line?: number | undefined;
  column?: number | undefined;
}

/** A document failed validation; `issues` holds every problem found, not just the first. */
export class ValidationError extends FaultlineError {
  readonly issues: readonly ValidationIssue[];
  constructor(
    message: string,
    issues: readonly ValidationIssue[],
    options?: FaultlineErrorOptions,
  ) {
    super('E_VALIDATION', message, 400, ExitCode.usage, options);
    this.issues = issues;
  }
}

/** A named thing (proxy, toxic) does not exist. */
export class NotFoundError extends FaultlineError {
  constructor(message: string, options?: FaultlineErrorOptions) {
    super('E_NOT_FOUND', message, 404, ExitCode.usage, options);
  }
}

/** A named thing already exists. */
export class ConflictError extends FaultlineError {
  constructor(message: string, options?: FaultlineErrorOptions) {
    super('E_CONFLICT', message, 409, ExitCode.usage, options);
  }
}

/** Binding a listener failed (port in use, address not available). */
export class ListenError extends FaultlineError {
  constructor(message: string, options?: FaultlineErrorOptions) {
    super('E_LISTEN', message, 500, ExitCode.usage, options);
  }
}

/** A request was refused on policy (browser user agent, non-loopback listen without opt-in). */
export class ForbiddenError extends FaultlineError {
  constructor(message: string, options?: FaultlineErrorOptions) {
    super('E_FORBIDDEN', message, 403, ExitCode.usage, options);
  }
}

/** Missing or wrong bearer token on the control API. */
export class UnauthorizedError extends FaultlineError {
  constructor(message: string, options?: FaultlineErrorOptions) {
    super('E_UNAUTHORIZED', message, 401, ExitCode.usage, options);
  }
}

/** Bad command-line usage. */
export class UsageError extends FaultlineError {
  constructor(message: string, options?: FaultlineErrorOptions) {
    super('E_USAGE', message, 400, ExitCode.usage, options);
  }
}

/**
 * A remote faultline or Toxiproxy server refused a request, or could not be reached. Carries the
 * server's own `code`, status, hint and issues when it sent them (a Toxiproxy server sends only
 * `error` and `status`), so callers switch on `code` whichever side raised the error.
 */
export class RemoteError extends FaultlineError {
  readonly issues: readonly ValidationIssue[];
  constructor(
    code: ErrorCode,
    message: string,
    status: number,
    options: FaultlineErrorOptions & { issues?: readonly ValidationIssue[] | undefined } = {},
  ) {
    super(
      code,
      message,
      status,
      status >= 400 && status < 500 ? ExitCode.usage : ExitCode.internal,
      options,
    );
    this.issues = options.issues ?? [];
  }
}

/** Every stable error code, for checking a code that came over the wire. */
export const errorCodes: readonly ErrorCode[] = [
  'E_BAD_REQUEST',
  'E_VALIDATION',
  'E_NOT_FOUND',
  'E_CONFLICT',
  'E_LISTEN',
  'E_FORBIDDEN',
  'E_UNAUTHORIZED',
  'E_USAGE',
  'E_IO',
  'E_PROBE',
  'E_INTERNAL',
];

/** True for any error faultline threw on purpose, whichever copy of the package threw it. */
export function isFaultlineError(err: unknown): err is FaultlineError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { isFaultlineError?: unknown }).isFaultlineError === true
  );
}

/** Renders a list of issues the way the CLI prints them: `file:line:col path: message (hint)`. */
export function formatIssue(issue: ValidationIssue): string {
  const where = issue.file
    ? `${issue.file}${issue.line ? `:${issue.line}:${issue.column ?? 1}` : ''}`
    : '';
  const path = issue.path ? issue.path : '(root)';
  const head = where ? `${where}: ${path}` : path;
  return `${head}: ${issue.message}${issue.hint ? `\n    hint: ${issue.hint}` : ''}`;
}

/**
 * A local fault could not be applied or removed (an agent failed, a server refused, a tool is
 * missing). Its message says what and where; the runner records it on the fault.
 */
export class FaultError extends FaultlineError {
  constructor(message: string, options?: FaultlineErrorOptions) {
    super('E_FAULT', message, 500, ExitCode.internal, options);
  }
}
