/**
 * A lean HTTP/1.1 client for the load generator: keep-alive connections, one request in flight
 * per connection, requests pre-encoded once into buffers, responses parsed just enough to know
 * their status and where they end (Content-Length, chunked, or connection close).
 *
 * Why not undici: the generator's cost per request must stay at or below autocannon's (which
 * writes pre-built buffers to raw sockets), and a general-purpose client builds a response
 * object, header maps and streams for every request that a load generator throws away. What
 * this client does not do (redirects, compression, trailers, upgrades) a load generator does not
 * need; anything it does not understand fails the request with a clear error.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface HttpTarget {
  url: URL;
  method: string;
  headers?: Record<string, string> | undefined;
  /** One body, or a list sent in turn. */
  bodies?: readonly string[] | undefined;
  connections: number;
  timeoutMs: number;
}

export type Completion = (status: number | undefined, error?: { code: string; message: string }) => void;

const CRLF_CRLF = Buffer.from('\r\n\r\n');

class Connection {
  private socket: Socket | undefined;
  private buffer: Buffer | undefined;
  private pending: Completion | undefined;
  private status = 0;
  private headersDone = false;
  private remaining = -1; // body bytes left; -1 unknown (chunked or until close)
  private chunked = false;
  private closeDelimited = false;
  private keepAlive = true;
  private head = false;

  constructor(
    private readonly client: LeanHttpClient,
    private readonly target: HttpTarget,
  ) {}

  get busy(): boolean {
    return this.pending !== undefined;
  }

  /** Drops the connection; a request in flight fails (its socket closes). */
  destroy(): void {
    this.socket?.destroy();
  }

  send(request: Buffer, isHead: boolean, done: Completion): void {
    this.pending = done;
    this.head = isHead;
    this.headersDone = false;
    this.status = 0;
    this.remaining = -1;
    this.chunked = false;
    this.closeDelimited = false;
    this.keepAlive = true;
    this.buffer = undefined;
    const socket = this.socket ?? this.open();
    socket.setTimeout(this.target.timeoutMs);
    socket.write(request);
  }

  private open(): Socket {
    const { url } = this.target;
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const socket =
      url.protocol === 'https:'
        ? tlsConnect({ host, port, servername: host, rejectUnauthorized: false })
        : netConnect({ host, port });
    socket.setNoDelay(true);
    // Events of a socket this connection has already given up are ignored.
    socket.on('data', (chunk: Buffer) => {
      if (this.socket === socket) this.onData(chunk);
    });
    socket.on('timeout', () => {
      if (this.socket === socket) this.fail('UND_ERR_HEADERS_TIMEOUT', `no answer within ${this.target.timeoutMs} ms`, socket);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.socket === socket) this.fail(err.code ?? 'ECONNRESET', err.message, socket);
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.pending && this.closeDelimited && this.headersDone) this.complete();
      else if (this.pending) this.fail('ECONNRESET', 'the server closed the connection', socket);
    });
    this.socket = socket;
    return socket;
  }

  private fail(code: string, message: string, socket: Socket): void {
    socket.destroy();
    if (this.socket === socket) this.socket = undefined;
    const done = this.pending;
    this.pending = undefined;
    done?.(undefined, { code, message });
    this.client.idle(this);
  }

  private complete(): void {
    const done = this.pending;
    this.pending = undefined;
    this.socket?.setTimeout(0);
    if (!this.keepAlive) {
      this.socket?.destroy();
      this.socket = undefined;
    }
    done?.(this.status);
    this.client.idle(this);
  }

  private onData(chunk: Buffer): void {
    if (!this.pending) return; // a stray byte after a response: ignore
    let data = this.buffer ? Buffer.concat([this.buffer, chunk]) : chunk;
    this.buffer = undefined;
    if (!this.headersDone) {
      const end = data.indexOf(CRLF_CRLF);
      if (end < 0) {
        if (data.length > 64 * 1024) this.fail('UND_ERR_HEADERS_OVERFLOW', 'response headers larger than 64 KiB', this.socket!);
        else this.buffer = data;
        return;
      }
      if (!this.parseHead(data.toString('latin1', 0, end))) return;
      data = data.subarray(end + 4);
      if (this.status < 200 && this.status !== 101) {
        // 1xx informational: another head follows.
        this.headersDone = false;
        if (data.length > 0) this.onData(data);
        return;
      }
      if (this.head || this.status === 204 || this.status === 304) this.remaining = 0;
      if (this.remaining === 0) {
        this.complete();
        return;
      }
    }
    if (this.chunked) this.consumeChunked(data);
    else if (this.remaining > 0) {
      this.remaining -= data.length;
      if (this.remaining <= 0) this.complete();
    }
    // close-delimited: wait for 'close'
  }

  /** Parses the status line and the headers that matter; false when the response is not HTTP. */
  private parseHead(text: string): boolean {
    const lines = text.split('\r\n');
    const match = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? '');
    if (!match) {
      this.fail('UND_ERR_PARSER', `not an HTTP/1.x response: ${JSON.stringify((lines[0] ?? '').slice(0, 40))}`, this.socket!);
      return false;
    }
    this.status = Number(match[2]);
    this.keepAlive = match[1] === '1';
    let length = -1;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim().toLowerCase();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') this.chunked = value.split(',').map((v) => v.trim()).includes('chunked');
      else if (name === 'connection') this.keepAlive = value.includes('keep-alive') || (match[1] === '1' && !value.includes('close'));
    }
    this.headersDone = true;
    if (this.chunked) this.remaining = -1;
    else if (length >= 0) this.remaining = length;
    else {
      this.closeDelimited = true;
      this.keepAlive = false;
    }
    return true;
  }

  /**
   * Walks chunk headers; completes after the terminating zero-size chunk and the empty line
   * that ends its (rare) trailers. State in `remaining`: > 0 data bytes left in a chunk, -2 the
   * CRLF after chunk data, -1 a chunk-size line, -3 the trailer section.
   */
  private consumeChunked(data: Buffer): void {
    let at = 0;
    for (;;) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, data.length - at);
        this.remaining -= take;
        at += take;
        if (this.remaining > 0) return;
        this.remaining = -2;
      }
      if (this.remaining === -2) {
        if (data.length - at < 2) {
          this.buffer = data.subarray(at);
          return;
        }
        at += 2;
        this.remaining = -1;
      }
      if (this.remaining === -3) {
        if (data.length - at >= 2 && data[at] === 13 && data[at + 1] === 10) {
          this.complete();
          return;
        }
        if (data.indexOf(CRLF_CRLF, at) >= 0) {
          this.complete();
          return;
        }
        this.buffer = data.subarray(at);
        return;
      }
      const eol = data.indexOf('\r\n', at, 'latin1');
      if (eol < 0) {
        this.buffer = data.subarray(at);
        return;
      }
      const size = Number.parseInt(data.toString('latin1', at, eol).split(';')[0]!, 16);
      if (!Number.isFinite(size)) {
        this.fail('UND_ERR_PARSER', 'invalid chunk size', this.socket!);
        return;
      }
      at = eol + 2;
      this.remaining = size === 0 ? -3 : size;
    }
  }
}

/** Keep-alive connections to one origin, each carrying one request at a time. */
export class LeanHttpClient {
  private readonly requests: Buffer[];
  private next = 0;
  private readonly connections: Connection[] = [];
  private readonly idleConnections: Connection[] = [];
  private readonly queue: Completion[] = [];
  private readonly isHead: boolean;
  private closed = false;

  constructor(private readonly target: HttpTarget) {
    const { url, method } = target;
    this.isHead = method.toUpperCase() === 'HEAD';
    const path = `${url.pathname || '/'}${url.search}`;
    const headers = Object.entries(target.headers ?? {})
      .filter(([k]) => !['host', 'content-length', 'connection'].includes(k.toLowerCase()))
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    const bodies = target.bodies && target.bodies.length > 0 ? target.bodies : [undefined];
    this.requests = bodies.map((body) => {
      const length = body === undefined ? (['POST', 'PUT', 'PATCH'].includes(method.toUpperCase()) ? 'content-length: 0\r\n' : '') : `content-length: ${Buffer.byteLength(body)}\r\n`;
      return Buffer.from(`${method.toUpperCase()} ${path} HTTP/1.1\r\nhost: ${url.host}\r\nconnection: keep-alive\r\n${headers}${length}\r\n${body ?? ''}`, 'utf8');
    });
  }

  /** Sends the next request (bodies in turn); `done` is called once with a status or an error. */
  request(done: Completion): void {
    if (this.closed) {
      done(undefined, { code: 'UND_ERR_CLOSED', message: 'client closed' });
      return;
    }
    const connection = this.idleConnections.pop() ?? (this.connections.length < this.target.connections ? this.add() : undefined);
    if (connection) this.dispatch(connection, done);
    else this.queue.push(done);
  }

  private add(): Connection {
    const connection = new Connection(this, this.target);
    this.connections.push(connection);
    return connection;
  }

  private dispatch(connection: Connection, done: Completion): void {
    const request = this.requests[this.next++ % this.requests.length]!;
    connection.send(request, this.isHead, done);
  }

  /** A connection finished its request: give it the next queued one, or park it. */
  idle(connection: Connection): void {
    const waiting = this.queue.shift();
    if (waiting) this.dispatch(connection, waiting);
    else if (!connection.busy) this.idleConnections.push(connection);
  }

  close(): void {
    this.closed = true;
    for (const waiting of this.queue.splice(0)) waiting(undefined, { code: 'UND_ERR_CLOSED', message: 'client closed' });
    for (const connection of this.connections) connection.destroy();
  }
}
