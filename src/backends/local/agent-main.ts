/**
 * The entry of a fault agent process (see ./agent.ts): `agent-main <family/name>
 * --faultline-agent=<tag> <lease seconds>`, parameters in FAULTLINE_AGENT_PARAMS. Prints one
 * JSON line — `{"ready":true,"info":…}` or `{"error":"…"}` — and keeps the fault until SIGTERM
 * or the lease deadline, then undoes it and exits.
 */
import { AGENT_FLAG, type AgentModule } from './agent.js';

async function main(): Promise<void> {
  const [kind = '', flag = '', lease = '0'] = process.argv.slice(2);
  const tag = flag.startsWith(AGENT_FLAG) ? flag.slice(AGENT_FLAG.length) : '';
  const [family, name] = kind.split('/');
  const controller = new AbortController();
  const deadline = Date.now() + Number(lease) * 1000;
  const timer = setTimeout(
    () => controller.abort(new Error('lease expired')),
    Math.max(0, deadline - Date.now()),
  );
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const)
    process.on(sig, () => controller.abort(new Error(sig)));
  // The runner reads one line then lets go of the pipe: later writes must not kill the agent.
  process.stdout.on('error', () => undefined);
  // Set in the ready callback, which control-flow analysis does not follow.
  let readied = false as boolean;
  const say = (message: unknown): void => {
    process.stdout.write(`${JSON.stringify(message)}\n`);
  };
  try {
    if (!family || !name || !tag)
      throw new Error('usage: agent-main <family/name> --faultline-agent=<tag> <lease seconds>');
    const module = (await import(`../${family}/${name}-agent.js`)) as AgentModule;
    const params = JSON.parse(process.env['FAULTLINE_AGENT_PARAMS'] ?? 'null') as unknown;
    await module.run(params, {
      signal: controller.signal,
      tag,
      deadline,
      ready(info) {
        if (readied) return;
        readied = true;
        say({ ready: true, info: info ?? null });
      },
    });
    if (!readied) say({ error: 'the agent ended before applying its fault' });
  } catch (err) {
    if (!readied) say({ error: err instanceof Error ? err.message : String(err) });
    else process.stderr.write(`${err instanceof Error ? String(err.stack) : String(err)}\n`);
    process.exitCode = 1;
  } finally {
    clearTimeout(timer);
  }
  // Whatever the module left open (a pool, a socket) must not keep the fault alive.
  process.exit();
}

void main();
