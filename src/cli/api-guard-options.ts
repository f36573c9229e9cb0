/**
 * The browser guards' two options, shared by every command that serves a control API
 * (`faultline proxy serve`, `faultline dns serve`): both APIs run on one guarded server
 * (src/shared/json-api-server.ts), so they take the same flags with the same meaning.
 */
import type { Command } from 'commander';

/** What the options parse to. */
export interface ApiGuardOptions {
  allowOrigin: string[];
  allowHost: string[];
}

const repeat = (value: string, all: string[]): string[] => [...all, value];

/** Adds `--allow-origin` and `--allow-host` (both repeatable, default none) to COMMAND. */
export function addApiGuardOptions(command: Command): Command {
  return command
    .option(
      '--allow-origin <origin>',
      'let pages from this origin (scheme://host[:port]) call the API; repeatable (default: none)',
      repeat,
      [] as string[],
    )
    .option(
      '--allow-host <name[:port]>',
      'accept this Host header besides the listening address (DNS-rebinding guard); repeatable',
      repeat,
      [] as string[],
    );
}
