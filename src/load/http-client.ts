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
import { performance } from 'node:perf_hooks';
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

export type Completion = (
  status: number | undefined,
  error?: { code: string; message: string },
) => void;

const CRLF_CRLF = Buffer.from('\r\n\r\n');
const HTTP_1 = Buffer.from('HTTP/1.');

/** Whether `data[from, from + name.length)` is `name` (lower case ASCII), ignoring case. */
function nameIs(data: Buffer, from: number, length: number, name: string): boolean {
  if (length !== name.length) return false;
  for (let i = 0; i < length; i++)
    if ((data[from + i]! | 0x20) !== name.charCodeAt(i)) return false;
  return true;
}

class Connection {
  private socket: Socket | undefined;
  /** When the request in flight was sent or last received bytes (performance.now()). */
  activeAt = 0;
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
    this.activeAt = performance.now();
    const socket = this.socket ?? this.open();
    socket.write(request);
  }

  /** Fails the request in flight if it has had no bytes for the timeout (the client's sweep). */
  expire(now: number): void {
    if (this.pending && this.socket && now - this.activeAt >= this.target.timeoutMs) {
      this.fail(
        'UND_ERR_HEADERS_TIMEOUT',
        `no answer within ${this.target.timeoutMs} ms`,
        this.socket,
      );
    }
  }

  private open(): Socket {
    const { url } = this.target;
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // Events of a socket this connection has already given up are ignored.
    let socket: Socket;
    if (url.protocol === 'https:') {
      socket = tlsConnect({ host, port, servername: host, rejectUnauthorized: false });
      socket.on('data', (chunk: Buffer) => {
        if (this.socket === socket) this.onData(chunk);
      });
    } else {
      // Plain TCP reads into the client's one buffer, with no stream and no allocation per
      // read (`onread`); what a response leaves for later is copied out of it.
      socket = netConnect({
        host,
        port,
        onread: {
          buffer: this.client.readBuffer,
          callback: (bytes: number, buffer: Uint8Array): boolean => {
            if (this.socket === socket) this.onData((buffer as Buffer).subarray(0, bytes));
            return true;
          },
        },
      });
    }
    socket.setNoDelay(true);
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
    if (!this.keepAlive) {
      this.socket?.destroy();
      this.socket = undefined;
    }
    done?.(this.status);
    this.client.idle(this);
  }

  private onData(chunk: Buffer): void {
    if (!this.pending) return; // a stray byte after a response: ignore
    this.activeAt = performance.now();
    let data = this.buffer ? Buffer.concat([this.buffer, chunk]) : chunk;
    this.buffer = undefined;
    if (!this.headersDone) {
      const end = data.indexOf(CRLF_CRLF);
      if (end < 0) {
        if (data.length > 64 * 1024)
          this.fail(
            'UND_ERR_HEADERS_OVERFLOW',
            'response headers larger than 64 KiB',
            this.socket!,
          );
        else this.buffer = Buffer.from(data); // a copy: `chunk` may be the shared read buffer
        return;
      }
      if (!this.parseHead(data, end)) return;
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

  /**
   * Parses the status line and the headers that matter (`data[0, end)`, the head without its
   * final CRLF CRLF); false when the response is not HTTP. Works on the bytes: no string per
   * line or header, only for the values of the few headers it reads.
   */
  private parseHead(data: Buffer, end: number): boolean {
    const d0 = data[9]! - 48;
    const d1 = data[10]! - 48;
    const d2 = data[11]! - 48;
    const minor = data[7];
    if (
      end < 12 ||
      data.compare(HTTP_1, 0, 7, 0, 7) !== 0 ||
      (minor !== 48 && minor !== 49) ||
      data[8] !== 32 ||
      d0 < 0 ||
      d0 > 9 ||
      d1 < 0 ||
      d1 > 9 ||
      d2 < 0 ||
      d2 > 9 ||
      (end > 12 && data[12] !== 32 && data[12] !== 13)
    ) {
      const eol = data.indexOf(13);
      const first = data.toString('latin1', 0, Math.min(eol < 0 || eol > end ? end : eol, 40));
      this.fail(
        'UND_ERR_PARSER',
        `not an HTTP/1.x response: ${JSON.stringify(first)}`,
        this.socket!,
      );
      return false;
    }
    this.status = d0 * 100 + d1 * 10 + d2;
    const http11 = minor === 49;
    this.keepAlive = http11;
    let length = -1;
    let at = data.indexOf(10, 12) + 1; // the first header line
    while (at > 0 && at < end) {
      let eol = data.indexOf(13, at);
      if (eol < 0 || eol > end) eol = end;
      let colon = at;
      while (colon < eol && data[colon] !== 58) colon++;
      if (colon < eol) {
        let nameEnd = colon;
        while (nameEnd > at && (data[nameEnd - 1] === 32 || data[nameEnd - 1] === 9)) nameEnd--;
        let vs = colon + 1;
        let ve = eol;
        while (vs < ve && (data[vs] === 32 || data[vs] === 9)) vs++;
        while (ve > vs && (data[ve - 1] === 32 || data[ve - 1] === 9)) ve--;
        const nameLength = nameEnd - at;
        if (nameIs(data, at, nameLength, 'content-length')) {
          let n = ve > vs ? 0 : Number.NaN;
          for (let i = vs; i < ve; i++) {
            const c = data[i]! - 48;
            if (c < 0 || c > 9) {
              n = Number.NaN;
              break;
            }
            n = n * 10 + c;
          }
          length = n;
        } else if (nameIs(data, at, nameLength, 'transfer-encoding')) {
          this.chunked = data
            .toString('latin1', vs, ve)
            .toLowerCase()
            .split(',')
            .map((v) => v.trim())
            .includes('chunked');
        } else if (nameIs(data, at, nameLength, 'connection')) {
          const value = data.toString('latin1', vs, ve).toLowerCase();
          this.keepAlive = value.includes('keep-alive') || (http11 && !value.includes('close'));
        }
      }
      at = eol + 2;
    }
    this.headersDone = true;
    if (this.chunked) this.remaining = -1;
    else if (length >= 0) this.remaining = length;
    else if (Number.isNaN(length)) {
      this.fail('UND_ERR_PARSER', 'invalid content-length', this.socket!);
      return false;
    } else {
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
          this.buffer = Buffer.from(data.subarray(at));
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
        this.buffer = Buffer.from(data.subarray(at));
        return;
      }
      const eol = data.indexOf('\r\n', at, 'latin1');
      if (eol < 0) {
        this.buffer = Buffer.from(data.subarray(at));
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
  /**
   * One timer for every connection's request timeout, instead of a socket timer per request
   * (Node allocates, binds and re-inserts those on every request, read and write). A request
   * times out between `timeoutMs` and `timeoutMs` + a tenth of it without bytes.
   */
  private sweeper: NodeJS.Timeout | undefined;
  /** Where every plain connection reads: responses are parsed as they arrive, one at a time. */
  readonly readBuffer = Buffer.allocUnsafe(64 * 1024);

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
      const length =
        body === undefined
          ? ['POST', 'PUT', 'PATCH'].includes(method.toUpperCase())
            ? 'content-length: 0\r\n'
            : ''
          : `content-length: ${Buffer.byteLength(body)}\r\n`;
      return Buffer.from(
        `${method.toUpperCase()} ${path} HTTP/1.1\r\nhost: ${url.host}\r\nconnection: keep-alive\r\n${headers}${length}\r\n${body ?? ''}`,
        'utf8',
      );
    });
  }

  /** Sends the next request (bodies in turn); `done` is called once with a status or an error. */
  request(done: Completion): void {
    if (this.closed) {
      done(undefined, { code: 'UND_ERR_CLOSED', message: 'client closed' });
      return;
    }
    if (!this.sweeper) {
      const period = Math.min(1000, Math.max(5, this.target.timeoutMs / 10));
      this.sweeper = setInterval(() => {
        const now = performance.now();
        for (const connection of this.connections) connection.expire(now);
      }, period);
      this.sweeper.unref();
    }
    const connection =
      this.idleConnections.pop() ??
      (this.connections.length < this.target.connections ? this.add() : undefined);
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
    clearInterval(this.sweeper);
    for (const waiting of this.queue.splice(0))
      waiting(undefined, { code: 'UND_ERR_CLOSED', message: 'client closed' });
    for (const connection of this.connections) connection.destroy();
  }
}
