/**
 * Running the network family's commands, and what it checks at preparation: Linux, root, the
 * tools, the namespace and the interface, and whether the kernel has netem at all (tried in a
 * throwaway namespace, so nothing of the host's is touched by the probe).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { FaultError, UsageError } from '../../errors.js';
import { inNetns, type Command } from './rules.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one command (no shell) in `netns`; never throws for a non-zero exit. */
export function runCommand(
  netns: string | undefined,
  command: Command,
  signal?: AbortSignal,
): Promise<CommandResult> {
  const [file, ...args] = inNetns(netns, command.argv);
  return new Promise((resolve, reject) => {
    const child = spawn(file!, args, { stdio: ['pipe', 'pipe', 'pipe'], signal });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(command.input ?? '');
  });
}

/** Runs a command and throws its own words when it fails. */
export async function mustRun(
  netns: string | undefined,
  command: Command,
  signal?: AbortSignal,
): Promise<string> {
  const result = await runCommand(netns, command, signal);
  if (result.code !== 0)
    throw new FaultError(
      `\`${command.argv.join(' ')}\`${netns ? ` in namespace ${netns}` : ''} failed: ${result.stderr.trim().split('\n').slice(-2).join(' ') || `exit ${result.code}`}`,
    );
  return result.stdout;
}

export function which(tool: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin')
    .split(delimiter)
    .concat(['/usr/sbin', '/sbin'])) {
    const file = join(dir, tool);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // next
    }
  }
  return undefined;
}

/** Linux, root and the tools: a plain refusal otherwise, before anything is applied. */
export function requireSystem(
  at: string,
  tools: readonly string[],
  env: { platform?: string; uid?: number | undefined } = {},
): void {
  const platform = env.platform ?? process.platform;
  const uid = 'uid' in env ? env.uid : process.getuid?.();
  if (platform !== 'linux')
    throw new UsageError(
      `${at}: network faults need Linux (nftables and tc); this is ${platform}`,
      {
        hint: 'use a proxy target (type: proxy) for latency, bandwidth and cut connections anywhere',
      },
    );
  if (uid !== 0)
    throw new UsageError(
      `${at}: network faults need root (they add nftables rules and tc qdiscs); running as uid ${uid ?? 'unknown'}`,
      { hint: 'run faultline as root (sudo), or use a proxy target, which needs no privileges' },
    );
  for (const tool of tools) {
    if (!which(tool))
      throw new UsageError(`${at}: ${tool} is not installed`, {
        hint:
          tool === 'nft'
            ? 'install nftables (Debian: apt-get install nftables)'
            : 'install iproute2 (Debian: apt-get install iproute2)',
      });
  }
}

/** The namespace exists, and the interface in it (or in the host's). */
export async function requireInterface(
  at: string,
  netns: string | undefined,
  dev: string | undefined,
): Promise<void> {
  if (netns && !existsSync(`/run/netns/${netns}`))
    throw new UsageError(`${at}: no network namespace "${netns}"`, {
      hint: 'create it first (ip netns add), or correct netns',
    });
  if (dev === undefined) return;
  const result = await runCommand(netns, { argv: ['ip', 'link', 'show', 'dev', dev] });
  if (result.code !== 0)
    throw new UsageError(`${at}: no interface "${dev}"${netns ? ` in namespace ${netns}` : ''}`, {
      hint: `list them with: ${netns ? `ip -n ${netns}` : 'ip'} link`,
    });
}

let netemProbe: Promise<string | undefined> | undefined;

/**
 * Undefined when the kernel has the netem qdisc; otherwise tc's own words. Tried once per
 * process on the loopback of a namespace made for the purpose and deleted at once.
 */
export function netemMissing(): Promise<string | undefined> {
  netemProbe ??= (async () => {
    const ns = `faultline-probe-${process.pid}-${Date.now().toString(36)}`;
    await mustRun(undefined, { argv: ['ip', 'netns', 'add', ns] });
    try {
      const result = await runCommand(ns, {
        argv: ['tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'],
      });
      return result.code === 0
        ? undefined
        : result.stderr.trim().split('\n')[0] || `tc exited with ${result.code}`;
    } finally {
      await runCommand(undefined, { argv: ['ip', 'netns', 'del', ns] });
    }
  })();
  return netemProbe;
}

/** The root qdisc of an interface: kind and handle (`noqueue 0:`), as tc shows it. */
export async function rootQdisc(
  netns: string | undefined,
  dev: string,
): Promise<{ kind: string; handle: string } | undefined> {
  const result = await runCommand(netns, { argv: ['tc', 'qdisc', 'show', 'dev', dev, 'root'] });
  const m = /^qdisc (\S+) ([0-9a-f]+:)/m.exec(result.stdout);
  return m ? { kind: m[1]!, handle: m[2]! } : undefined;
}
