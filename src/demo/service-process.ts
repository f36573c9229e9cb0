/**
 * The payment service as a child process: started with its build and addresses, ready when it
 * prints its `listening` line, watched for a crash (exit code, signal and the last lines of
 * stderr are kept for the verdict), and always stopped — SIGTERM, then SIGKILL — including
 * when the demo itself exits on a signal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Build } from './payment-service.js';

export interface ServiceExit {
  code: number | null;
  signal: string | null;
  /** The last lines the service wrote to stderr (the crash's message). */
  stderr: string[];
  at: number;
}

export interface ServiceProcess {
  url: string;
  port: number;
  pid: number;
  build: Build;
  /** Set once the process has exited. */
  readonly exit: ServiceExit | undefined;
  stop(): Promise<void>;
}

export interface ServiceProcessOptions {
  build: Build;
  databaseUrl: string;
  ledgerFile: string;
  redisUrl?: string | undefined;
  authUrl?: string | undefined;
  signal?: AbortSignal | undefined;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills every service this process started when it exits, whatever the reason. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/** The entry file next to this one: .ts under tsx (tests), .js in the package. */
function entry(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ts = here.endsWith('.ts');
  const file = here.replace(
    /service-process\.(ts|js)$/,
    `payment-service-main.${ts ? 'ts' : 'js'}`,
  );
  // Under tsx (tests, development) the child needs tsx too, resolved from here: its working
  // directory may be anywhere.
  return { file, execArgv: ts ? ['--import', import.meta.resolve('tsx')] : [] };
}

export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  installExitHook();
  const { file, execArgv } = entry();
  const child = spawn(process.execPath, [...execArgv, file], {
    env: {
      ...process.env,
      BUILD: options.build,
      DATABASE_URL: options.databaseUrl,
      LEDGER_FILE: options.ledgerFile,
      REDIS_URL: options.redisUrl ?? '',
      AUTH_URL: options.authUrl ?? '',
      PORT: '0',
      NODE_OPTIONS: '',
      // The service stops when this pipe closes: if the demo is SIGKILLed (no exit hook runs),
      // the kernel closes it and the service does not outlive the demo.
      STOP_ON_STDIN_EOF: '1',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  const stderr: string[] = [];
  let exit: ServiceExit | undefined;
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) if (line.trim()) stderr.push(line);
    if (stderr.length > 40) stderr.splice(0, stderr.length - 40);
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      exit = { code, signal, stderr: [...stderr], at: Date.now() };
      resolve();
    });
  });

  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(
      () => fail(new Error('the payment service did not start within 20 s')),
      20_000,
    );
    const onAbort = (): void => fail(new Error('interrupted'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    function fail(err: Error): void {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      child.kill('SIGKILL');
      reject(err);
    }
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const line = buffered.split('\n').find((l) => l.includes('"listening"'));
      if (!line) return;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) =>
      fail(
        new Error(
          `the payment service exited with code ${String(code)} before listening: ${stderr.slice(-3).join(' | ')}`,
        ),
      ),
    );
  });
  child.stdout.resume();

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    build: options.build,
    get exit() {
      return exit;
    },
    async stop() {
      if (exit) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
