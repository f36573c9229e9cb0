/**
 * `faultline dns serve`: a standalone fault-injecting DNS resolver (UDP and TCP) with a small
 * HTTP control API (src/engines/dns/control-api.ts). Point a service's resolver at it, then set
 * NXDOMAIN / SERVFAIL / REFUSED / timeout / delay rules from outside; every rule has a lease the
 * resolver enforces itself. Stops on SIGINT/SIGTERM, dropping every rule.
 *
 * The API refuses browsers; `--token` (or FAULTLINE_DNS_TOKEN, as `proxy serve` has
 * `--token`/FAULTLINE_PROXY_TOKEN) makes every API request need `Authorization: Bearer <token>`.
 */
import type { Command } from 'commander';
import { ListenError, UsageError } from '../../errors.js';
import { isLoopbackHost, parseListen, parseUpstream } from '../../engines/proxy/address.js';
import { addApiGuardOptions, type ApiGuardOptions } from '../api-guard-options.js';
import { println, type CliIo } from '../io.js';

interface ServeOptions extends ApiGuardOptions {
  listen: string;
  upstream?: string;
  record: string[];
  api: string;
  token?: string;
  allowRemoteListen?: boolean;
}

export function registerDnsCommands(
  program: Command,
  io: CliIo,
  _setExit: (code: number) => void,
): void {
  const dns = program.command('dns').description('the fault-injecting DNS resolver');
  addApiGuardOptions(
    dns
      .command('serve')
      .description('serve a fault-injecting DNS resolver (UDP and TCP) and its HTTP control API')
      .option('--listen <host:port>', 'where the resolver answers (UDP and TCP)', '127.0.0.1:5353')
      .option(
        '--upstream <host:port>',
        'where other queries go (default: the first nameserver of /etc/resolv.conf)',
      )
      .option(
        '--record <name=ip>',
        'a fixed A/AAAA answer; repeatable',
        (value: string, all: string[]) => [...all, value],
        [] as string[],
      )
      .option(
        '--api <host:port>',
        'the control API (GET/POST/DELETE /rules, GET /stats)',
        '127.0.0.1:5380',
      )
      .option(
        '--token <token>',
        'require Authorization: Bearer <token> on the API (or FAULTLINE_DNS_TOKEN)',
      ),
  )
    .option('--allow-remote-listen', 'allow the resolver and the API on non-loopback addresses')
    .action(async (options: ServeOptions) => serve(options, io));
}

async function serve(options: ServeOptions, io: CliIo): Promise<void> {
  const listen = address(options.listen, '--listen');
  const api = address(options.api, '--api');
  if (options.upstream !== undefined) {
    try {
      parseUpstream(options.upstream);
    } catch {
      throw new UsageError(`--upstream ${options.upstream}: expected host:port`, {
        hint: 'e.g. 10.0.0.2:53',
      });
    }
  }
  for (const host of [listen.host, api.host]) {
    if (!isLoopbackHost(host) && !options.allowRemoteListen) {
      throw new UsageError(`refusing to listen on ${host}, a non-loopback address`, {
        hint: 'anyone who reaches it can break name resolution: pass --allow-remote-listen if you mean it',
      });
    }
  }
  const records: Record<string, string[]> = {};
  for (const record of options.record) {
    const match = /^([^=\s]+)=(\S+)$/.exec(record);
    if (!match)
      throw new UsageError(`--record ${record}: expected name=ip`, {
        hint: 'e.g. --record db.internal=10.0.0.5',
      });
    (records[match[1]!] ??= []).push(match[2]!);
  }
  const [{ FaultResolver }, { startDnsControlServer }] = await Promise.all([
    import('../../engines/dns/resolver.js'),
    import('../../engines/dns/control-api.js'),
  ]);
  const resolver = new FaultResolver({
    listen: options.listen,
    upstream: options.upstream,
    records,
    onLeaseExpired: (rule) =>
      println(
        io.stdout,
        `lease expired: removed rule ${rule.id} (${rule.queries} queries touched)`,
      ),
  });
  await resolver.start();
  try {
    const token = options.token ?? io.env['FAULTLINE_DNS_TOKEN'];
    const control = await startDnsControlServer(resolver, {
      host: api.host,
      port: api.port,
      token: token || undefined,
      allowOrigins: options.allowOrigin,
      allowHosts: options.allowHost,
      onError: (err) => {
        const what = err instanceof Error ? (err.stack ?? err.message) : String(err);
        println(io.stderr, `faultline: internal error in the DNS API: ${what}`);
      },
    }).catch((err: unknown) => {
      const error = err as NodeJS.ErrnoException;
      throw new ListenError(
        `cannot serve the API on ${options.api}: ${error.code === 'EADDRINUSE' ? 'address already in use' : error.message}`,
        { hint: 'choose another --api port (0: a free one)' },
      );
    });
    println(
      io.stdout,
      `faultline dns resolver on ${resolver.listen} (udp+tcp) → ${resolver.upstream ?? 'no upstream'}; control API on ${control.url}`,
    );
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    println(io.stdout, `stopping: ${resolver.rules.length} rule(s) dropped`);
    await control.close();
  } finally {
    await resolver.close();
  }
}

function address(value: string, flag: string): { host: string; port: number } {
  try {
    return parseListen(value);
  } catch {
    throw new UsageError(`${flag} ${value}: expected host:port`, { hint: 'e.g. 127.0.0.1:5353' });
  }
}
