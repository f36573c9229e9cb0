/**
 * The demo's auth service: `POST /verify {"token": …}` answers `{"user": …}` for the demo's
 * token and 401 otherwise. It stands for the brief's auth-service, the dependency whose latency
 * (> 5 s) the third scenario injects with an HTTP fault proxy in front of it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const DEMO_TOKEN = 'demo-token';

export interface AuthService {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startAuthService(): Promise<AuthService> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let token = '';
      try {
        token = String(
          (JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { token?: unknown })
            .token ?? '',
        );
      } catch {
        token = '';
      }
      const ok = req.method === 'POST' && req.url === '/verify' && token === DEMO_TOKEN;
      const body = JSON.stringify(ok ? { user: 'user-42' } : { error: 'invalid token' });
      res
        .writeHead(ok ? 200 : 401, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        })
        .end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
