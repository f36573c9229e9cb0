// Child process (fork with IPC): a source that writes to every connection as fast as it drains,
// and `count` clients that read everything, so that a proxy between them is saturated. Kept out
// of the test's process so the test's own event loop stays free to time the control API.
//
//   → { source: port }                       once listening
//   ← { connect: proxyPort, count }           open the clients through the proxy
//   → { connected: n }                        once all are open and accepted by the source
//   ← { go: true }                             the source starts writing to every connection
//   ← { stats: true }  → { total, perClient } bytes read so far (total and per client)
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

const CHUNK = Buffer.alloc(64 * 1024, 0x5a);

const accepted: Socket[] = [];
let wanted = -1;
let open = 0;
/** Reports once every client is open and the source has accepted each one through the proxy. */
function reportWhenReady(): void {
  if (wanted > 0 && open === wanted && accepted.length === wanted) {
    wanted = -1;
    process.send!({ connected: open });
  }
}
const source = createServer((socket) => {
  socket.on('error', () => undefined);
  accepted.push(socket);
  reportWhenReady();
});

function flood(socket: Socket): void {
  const pump = (): void => {
    while (!socket.destroyed && socket.write(CHUNK));
  };
  socket.on('drain', pump);
  pump();
}

const clients: Socket[] = [];
const received: number[] = [];

source.listen(0, '127.0.0.1', () => {
  process.send!({ source: (source.address() as AddressInfo).port });
});

process.on(
  'message',
  (message: { connect?: number; count?: number; stats?: boolean; go?: boolean }) => {
    if (message.go) {
      for (const socket of accepted) flood(socket);
    } else if (message.connect !== undefined) {
      wanted = message.count ?? 1;
      for (let i = 0; i < wanted; i++) {
        const index = i;
        received.push(0);
        const client = connect(message.connect, '127.0.0.1', () => {
          open++;
          reportWhenReady();
        });
        client.on('data', (chunk: Buffer) => {
          received[index]! += chunk.length;
        });
        client.on('error', () => undefined);
        clients.push(client);
      }
    } else if (message.stats) {
      process.send!({ total: received.reduce((a, b) => a + b, 0), perClient: received });
    }
  },
);

process.on('disconnect', () => process.exit(0));
