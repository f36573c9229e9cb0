/**
 * `faultline proxy list | create | delete | toggle | inspect | toxic add/update/remove`: a
 * client for any Toxiproxy-compatible server (`faultline proxy serve`, or Toxiproxy itself),
 * with toxiproxy-cli's commands, flags and aliases, so a step written for toxiproxy-cli works
 * with `faultline proxy` in its place:
 *
 *   toxiproxy-cli toxic add -t latency -a latency=30000 postgres_proxy
 *   faultline proxy toxic add -t latency -a latency=30000 postgres_proxy
 *
 * It drives the server through the one typed client (../../engines/proxy/api/client.ts); a
 * refusal is the server's own message (RemoteError), exit 2 for a 4xx, 70 when the server
 * cannot be reached. `--host` differs from toxiproxy-cli in one way: no `-h`, which is --help.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { ProxyApiClient } from '../../engines/proxy/api/client.js';
import type { ProxyJson } from '../../engines/proxy/proxy.js';
import type { ToxicJson, UntypedToxicSpec } from '../../engines/proxy/toxic-entry.js';
import { println, type CliIo } from '../io.js';

const DEFAULT_URL = 'http://127.0.0.1:8474';

interface ClientFlags {
  host?: string;
  token?: string;
}

interface ToxicFlags extends ClientFlags {
  toxicName?: string;
  type?: string;
  toxicity?: string;
  /** toxiproxy-cli's spelling of --toxicity. */
  tox?: string;
  attribute: string[];
  upstream?: boolean;
  downstream?: boolean;
}

/** Adds the client subcommands to `faultline proxy`. */
export function registerProxyClientCommands(proxy: Command, io: CliIo): void {
  const print = (line = ''): void => println(io.stdout, line);

  withClientOptions(
    proxy
      .command('list')
      .aliases(['ls', 'l', 'li'])
      .description('list the proxies of a Toxiproxy-compatible server, with their toxics')
      .option('--json', 'print the server’s JSON (an object keyed by proxy name)'),
    io,
  ).action(async (flags: ClientFlags & { json?: boolean }) => {
    const proxies = await (await client(flags, io)).listProxies({ signal: io.signal });
    if (flags.json) return print(JSON.stringify(proxies, null, 2));
    printTable(print, Object.values(proxies));
  });

  withClientOptions(
    proxy
      .command('inspect')
      .aliases(['i', 'ins'])
      .description('show one proxy and its toxics, upstream and downstream')
      .argument('<proxy>', 'the proxy’s name')
      .option('--json', 'print the server’s JSON'),
    io,
  ).action(async (name: string, flags: ClientFlags & { json?: boolean }) => {
    const p = await (await client(flags, io)).getProxy(name, { signal: io.signal });
    if (flags.json) return print(JSON.stringify(p, null, 2));
    printProxy(print, p);
  });

  withClientOptions(
    proxy
      .command('create')
      .aliases(['c', 'new'])
      .description('create a proxy: connections to --listen are forwarded to --upstream')
      .argument('<proxy>', 'the new proxy’s name')
      .option('-l, --listen <host:port>', 'address to listen on (default: 127.0.0.1, any port)')
      .requiredOption('-u, --upstream <host:port>', 'address to forward to'),
    io,
  ).action(async (name: string, flags: ClientFlags & { listen?: string; upstream: string }) => {
    const p = await (
      await client(flags, io)
    ).createProxy({ name, listen: flags.listen, upstream: flags.upstream }, { signal: io.signal });
    print(`created proxy ${p.name}: ${p.listen} → ${p.upstream}`);
  });

  withClientOptions(
    proxy
      .command('delete')
      .aliases(['d', 'rm'])
      .description('delete a proxy (its connections are closed, its toxics go with it)')
      .argument('<proxy>', 'the proxy’s name'),
    io,
  ).action(async (name: string, flags: ClientFlags) => {
    await (await client(flags, io)).deleteProxy(name, { signal: io.signal });
    print(`deleted proxy ${name}`);
  });

  withClientOptions(
    proxy
      .command('toggle')
      .alias('tog')
      .description(
        'disable an enabled proxy (a "down" fault: connections refused), or re-enable it',
      )
      .argument('<proxy>', 'the proxy’s name'),
    io,
  ).action(async (name: string, flags: ClientFlags) => {
    const api = await client(flags, io);
    const current = await api.getProxy(name, { signal: io.signal });
    const p = await api.updateProxy(name, { enabled: !current.enabled }, { signal: io.signal });
    print(`proxy ${p.name} is now ${p.enabled ? 'enabled' : 'disabled'}`);
  });

  registerToxicCommands(proxy, io, print);
}

function registerToxicCommands(proxy: Command, io: CliIo, print: (line?: string) => void): void {
  const toxic = proxy
    .command('toxic')
    .alias('t')
    .description('add, update or remove a toxic on a proxy');

  withToxicOptions(
    toxic
      .command('add')
      .alias('a')
      .description('add a toxic (default name <type>_<stream>, stream downstream, toxicity 1)')
      .argument('<proxy>', 'the proxy’s name')
      .requiredOption('-t, --type <type>', 'latency, bandwidth, slow_close, timeout, reset_peer…')
      .option('-u, --upstream', 'on data from the client to the upstream')
      .option('-d, --downstream', 'on data from the upstream to the client (the default)'),
    io,
  ).action(async (name: string, flags: ToxicFlags) => {
    if (flags.upstream && flags.downstream)
      throw new UsageError('--upstream and --downstream together', {
        hint: 'a toxic acts on one direction: add one toxic per direction',
      });
    const spec: UntypedToxicSpec = {
      name: flags.toxicName,
      type: flags.type ?? '',
      stream: flags.upstream ? 'upstream' : 'downstream',
      toxicity: parseToxicity(flags.toxicity ?? flags.tox),
      attributes: parseAttributes(flags.attribute),
    };
    const t = await (
      await client(flags, io)
    ).addToxicJson(name, spec, {
      signal: io.signal,
    });
    print(`added ${t.stream} ${t.type} toxic ${t.name} on proxy ${name}: ${describeToxic(t)}`);
  });

  withToxicOptions(
    toxic
      .command('update')
      .alias('u')
      .description('change a toxic’s attributes (merged into its current ones) or toxicity')
      .argument('<proxy>', 'the proxy’s name'),
    io,
  ).action(async (name: string, flags: ToxicFlags) => {
    const toxicName = requireToxicName(flags, 'update');
    const t = await (
      await client(flags, io)
    ).updateToxicJson(
      name,
      toxicName,
      {
        toxicity: parseToxicity(flags.toxicity ?? flags.tox),
        attributes: flags.attribute.length ? parseAttributes(flags.attribute) : undefined,
      },
      { signal: io.signal },
    );
    print(`updated toxic ${t.name} on proxy ${name}: ${describeToxic(t)}`);
  });

  withClientOptions(
    toxic
      .command('remove')
      .aliases(['r', 'delete', 'd'])
      .description('remove a toxic')
      .argument('<proxy>', 'the proxy’s name')
      .option('-n, --toxic-name <name>', 'the toxic’s name (e.g. latency_downstream)')
      .addOption(new Option('--toxicName <name>').hideHelp()),
    io,
  ).action(async (name: string, flags: ToxicFlags) => {
    const toxicName = requireToxicName(flags, 'remove');
    await (await client(flags, io)).removeToxic(name, toxicName, { signal: io.signal });
    print(`removed toxic ${toxicName} from proxy ${name}`);
  });
}

/** `--host` and `--token`, on every client subcommand (`proxy serve` has its own `--host`). */
function withClientOptions(command: Command, io: CliIo): Command {
  return command
    .option(
      '--host <url>',
      `the server's API (default: $TOXIPROXY_URL, else ${DEFAULT_URL})`,
      io.env['TOXIPROXY_URL'] || undefined,
    )
    .option(
      '--token <token>',
      'bearer token, when the server requires one (or FAULTLINE_PROXY_TOKEN)',
    );
}

/** toxiproxy-cli's `-n`, `--toxicity` (also `--tox`) and repeated `-a key=value`. */
function withToxicOptions(command: Command, io: CliIo): Command {
  return withClientOptions(
    command
      .option('-n, --toxic-name <name>', 'the toxic’s name (add: default <type>_<stream>)')
      .addOption(new Option('--toxicName <name>').hideHelp())
      .option('--toxicity <p>', 'probability from 0 to 1 that a connection is affected')
      .addOption(new Option('--tox <p>').hideHelp())
      .option(
        '-a, --attribute <key=value>',
        'a toxic attribute, repeatable (-a latency=300 -a jitter=50)',
        (value: string, previous: string[]) => [...previous, value],
        [],
      ),
    io,
  );
}

async function client(flags: ClientFlags, io: CliIo): Promise<ProxyApiClient> {
  // Loaded here, not at start-up, like every command's implementation (see ../main.ts).
  const { ProxyApiClient } = await import('../../engines/proxy/api/client.js');
  const host = flags.host ?? DEFAULT_URL;
  const url = /^[a-z]+:\/\//i.test(host) ? host : `http://${host}`;
  const token = flags.token ?? io.env['FAULTLINE_PROXY_TOKEN'];
  return new ProxyApiClient({ url, token: token || undefined });
}

function requireToxicName(flags: ToxicFlags, verb: string): string {
  const name = flags.toxicName;
  if (!name)
    throw new UsageError(`toxic ${verb} needs the toxic's name: -n NAME`, {
      hint: 'faultline proxy inspect PROXY lists its toxics (a default name is <type>_<stream>)',
    });
  return name;
}

/** `--toxicity`, or toxiproxy-cli's `--tox`: a number from 0 to 1. */
function parseToxicity(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1)
    throw new UsageError(`--toxicity ${text} is not a probability`, {
      hint: 'a number from 0 (never) to 1 (every connection), e.g. --toxicity 0.5',
    });
  return value;
}

/** `-a latency=300 -a jitter=50` → `{ latency: 300, jitter: 50 }`; numbers stay numbers. */
export function parseAttributes(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new UsageError(`-a ${pair} is not key=value`, {
        hint: 'one attribute per -a, e.g. -a latency=300 -a jitter=50',
      });
    const value = pair.slice(eq + 1);
    out[pair.slice(0, eq)] =
      value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
  }
  return out;
}

function describeToxic(t: ToxicJson): string {
  const attributes = Object.entries(t.attributes).map(([k, v]) => `${k}=${String(v)}`);
  return [...attributes, `toxicity=${t.toxicity}`].join(' ');
}

function printTable(print: (line?: string) => void, proxies: ProxyJson[]): void {
  if (proxies.length === 0) {
    print('no proxies (faultline proxy create NAME -u HOST:PORT creates one)');
    return;
  }
  const rows = [
    ['NAME', 'LISTEN', 'UPSTREAM', 'ENABLED', 'TOXICS'],
    ...proxies.map((p) => [
      p.name,
      p.listen,
      p.upstream,
      p.enabled ? 'enabled' : 'disabled',
      p.toxics.length ? p.toxics.map((t) => t.name).join(', ') : 'none',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows)
    print(
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
}

function printProxy(print: (line?: string) => void, p: ProxyJson): void {
  print(`${p.name}: ${p.listen} → ${p.upstream}, ${p.enabled ? 'enabled' : 'disabled'}`);
  for (const stream of ['upstream', 'downstream'] as const) {
    const toxics = p.toxics.filter((t) => t.stream === stream);
    print(`${stream} toxics:${toxics.length ? '' : ' none'}`);
    for (const t of toxics) print(`  ${t.name}: ${t.type} ${describeToxic(t)}`);
  }
}
