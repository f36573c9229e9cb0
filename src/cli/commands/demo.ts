/**
 * `faultline demo`: the main job on its embedded default (see src/demo/demo.ts). Exit 0 when
 * the experiment told the fragile build from the resilient one, 1 when it did not, 130 when
 * interrupted (after every fault was removed and every process it started was stopped).
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ExitCode, UsageError } from '../../errors.js';
import { SCENARIOS, type ScenarioName } from '../../demo/scenario-names.js';
import { println, type CliIo } from '../io.js';

interface DemoFlags {
  scenario: string;
  dir?: string;
  databaseUrl?: string;
  redisUrl?: string;
}

export function registerDemoCommand(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  program
    .command('demo')
    .description(
      'run the payment-service demo: an experiment that tells a fragile build from a resilient one (embedded PostgreSQL by default)',
    )
    .option('--scenario <name>', `which experiment: ${SCENARIOS.join(', ')}`, 'payment-db-latency')
    .option(
      '--dir <dir>',
      'where experiment files, ledgers and journals go (default .faultline/demo/<time>)',
    )
    .option(
      '--database-url <url>',
      'use this PostgreSQL instead of the embedded one (or DATABASE_URL)',
    )
    .option('--redis-url <url>', 'use this Redis for the session cache (or REDIS_URL)')
    .action(async (flags: DemoFlags) => {
      if (!(SCENARIOS as readonly string[]).includes(flags.scenario)) {
        throw new UsageError(`--scenario ${flags.scenario} is not a demo scenario`, {
          hint: `one of ${SCENARIOS.join(', ')}`,
        });
      }
      const dir = resolve(
        io.cwd,
        flags.dir ?? join('.faultline', 'demo', new Date().toISOString().replace(/[:.]/g, '-')),
      );
      const tty = (io.stdout as { isTTY?: boolean }).isTTY === true;
      let liveShown = false;
      const live = tty
        ? (line: string | undefined): void => {
            if (line === undefined) {
              if (liveShown) io.stdout.write('\r\x1b[2K');
              liveShown = false;
              return;
            }
            io.stdout.write(`\r\x1b[2K${line}`);
            liveShown = true;
          }
        : undefined;
      const { runDemo } = await import('../../demo/demo.js');
      const result = await runDemo({
        workDir: dir,
        scenario: flags.scenario as ScenarioName,
        databaseUrl: flags.databaseUrl ?? (io.env['DATABASE_URL'] || undefined),
        redisUrl: flags.redisUrl ?? (io.env['REDIS_URL'] || undefined),
        signal: io.signal,
        print: (line) => {
          live?.(undefined);
          println(io.stdout, line);
        },
        live,
      });
      if (io.signal.aborted) setExit(ExitCode.interrupted);
      else setExit(result.asExpected ? ExitCode.ok : ExitCode.deviated);
    });
}
