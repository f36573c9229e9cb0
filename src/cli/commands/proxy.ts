/**
 * `faultline proxy serve`: a standalone fault proxy with Toxiproxy's HTTP API.
 *
 * Runs until SIGINT/SIGTERM, then removes every toxic and closes every proxy before exiting 0,
 * so stopping the server never leaves a fault in place.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ListenError, UsageError, ValidationError, type ValidationIssue } from '../../errors.js';
import { isLoopbackHost } from '../../engines/proxy/address.js';
import type { ProxyCollection } from '../../engines/proxy/proxy-collection.js';
import { addApiGuardOptions, type ApiGuardOptions } from '../api-guard-options.js';
import { println, type CliIo } from '../io.js';
import { registerProxyClientCommands } from './proxy-client.js';

interface ServeOptions extends ApiGuardOptions {
  host: string;
  port: string;
  config?: string;
  seed?: string;
  token?: string;
  allowRemoteListen?: boolean;
  quiet?: boolean;
}

export function registerProxyCommands(
  program: Command,
  io: CliIo,
  _setExit: (code: number) => void,
): void {
  const proxy = program
    .command('proxy')
    .description(
      'the standalone fault proxy with a Toxiproxy-compatible API (serve), and a client for any such server (list, create, toxic add…)',
    );
  addApiGuardOptions(
    proxy
      .command('serve')
      .description('serve the Toxiproxy-compatible HTTP API (default 127.0.0.1:8474)')
      .option('--host <host>', 'address of the API', '127.0.0.1')
      .option('--port <port>', 'port of the API (0: any free port)', '8474')
      .option(
        '--config <file>',
        "proxies to create at start: Toxiproxy's populate format (a JSON array), toxics allowed",
      )
      .option('--seed <n>', 'seed for toxicity and jitter draws (reproducible runs)')
      .option(
        '--token <token>',
        'require Authorization: Bearer <token> (or FAULTLINE_PROXY_TOKEN)',
      ),
  )
    .option('--allow-remote-listen', 'allow the API and proxies on non-loopback addresses')
    .option('--quiet', 'print only the listening line and errors')
    .action(async (options: ServeOptions) => serve(options, io));
  registerProxyClientCommands(proxy, io);
}

async function serve(options: ServeOptions, io: CliIo): Promise<void> {
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port ${options.port} is not a port number`, {
      hint: 'a number from 0 to 65535',
    });
  }
  const seed = options.seed === undefined ? undefined : Number(options.seed);
  if (seed !== undefined && !Number.isInteger(seed))
    throw new UsageError(`--seed ${String(options.seed)} is not an integer`);
  if (!isLoopbackHost(options.host) && !options.allowRemoteListen) {
    throw new UsageError(
      `refusing to serve the control API on ${options.host}, a non-loopback address`,
      {
        hint: 'anyone who reaches it can inject faults: pass --allow-remote-listen (and --token) if you mean it',
      },
    );
  }
  // Loaded here, not at start-up, like every command's implementation (see ../main.ts).
  const [{ ProxyCollection }, { startControlServer }] = await Promise.all([
    import('../../engines/proxy/proxy-collection.js'),
    import('../../engines/proxy/api/server.js'),
  ]);
  const collection = new ProxyCollection({ allowRemoteListen: options.allowRemoteListen, seed });
  if (!options.quiet) {
    collection.on('lease-expired', (name, what) =>
      println(io.stdout, `lease expired: removed ${what} on proxy ${name}`),
    );
  }
  try {
    if (options.config) await populateFromFile(collection, options.config);
    const token = options.token ?? io.env['FAULTLINE_PROXY_TOKEN'];
    const server = await startControlServer({
      collection,
      host: options.host,
      port,
      token: token || undefined,
      allowOrigins: options.allowOrigin,
      allowHosts: options.allowHost,
      onError: (err) =>
        println(
          io.stderr,
          `faultline: internal error in the API: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        ),
    }).catch((caught: unknown) => {
      const err = caught as NodeJS.ErrnoException;
      throw new ListenError(
        `cannot serve the API on ${options.host}:${port}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`,
        {
          hint: 'another Toxiproxy or faultline may be running; choose another --port',
        },
      );
    });
    println(
      io.stdout,
      `faultline proxy API on ${server.url} (Toxiproxy-compatible), ${collection.list().length} proxies`,
    );
    for (const p of collection.list()) {
      if (!options.quiet)
        println(
          io.stdout,
          `  proxy ${p.name}: ${p.listen} → ${p.upstream}${p.toxics.length ? ` (${p.toxics.length} toxics)` : ''}`,
        );
    }
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    if (!options.quiet)
      println(io.stdout, 'stopping: removing every toxic and closing every proxy');
    await server.close();
  } finally {
    await collection.close();
  }
}

async function populateFromFile(collection: ProxyCollection, file: string): Promise<void> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT' ? 'no such file' : `not valid JSON: ${(err as Error).message}`;
    throw new ValidationError(`--config ${file}: ${message}`, [{ path: '', file, message }]);
  }
  try {
    await collection.populate(data);
  } catch (err) {
    if (err instanceof ValidationError) {
      const issues: ValidationIssue[] = err.issues.map((i) => ({ ...i, file }));
      throw new ValidationError(
        `--config ${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}`,
        issues,
        {
          hint: 'the file is a JSON array of {"name", "listen", "upstream"} (Toxiproxy\'s populate format)',
        },
      );
    }
    throw err;
  }
}
