/** Whether a TCP port accepts a connection within a timeout. Never throws: refusal is an answer. */
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface TcpOutput {
  open: boolean;
  elapsedMs: number;
  error?: string;
}

export function tcpCheck(
  host: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<TcpOutput> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const done = (open: boolean, error?: string): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      const out: TcpOutput = { open, elapsedMs: performance.now() - start };
      if (error) out.error = error;
      resolve(out);
    };
    const timer = setTimeout(() => done(false, `no answer within ${timeoutMs} ms`), timeoutMs);
    const onAbort = (): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => done(true));
    socket.once('error', (err: NodeJS.ErrnoException) => done(false, err.code ?? err.message));
  });
}
