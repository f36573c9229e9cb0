/**
 * A loopback port that was free a moment ago: for addresses that must be known before the
 * thing listening on them starts (a proxy's fixed listen address the service is configured
 * with, a private redis-server). The small race with other processes is accepted; callers that
 * can retry do.
 */
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
