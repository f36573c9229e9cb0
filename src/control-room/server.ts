/**
 * The control room's server: `faultline run --ui` (and `gameday --ui`). A local HTTP server
 * (127.0.0.1 by default) that serves the live page, a server-sent-event stream of the run and
 * the HALT endpoint.
 *
 * Every request needs the random token printed with the address (`?token=…`, or
 * `Authorization: Bearer …`); without it the answer is 403 — another local user or a web page
 * open in the browser must not be able to watch the run, let alone halt it (a page elsewhere
 * cannot learn the token, so the HALT POST cannot be forged either).
 *
 * HALT takes `faultline halt`'s path for this run: every fault that does not live in the
 * runner's own process (remote proxy toxics, paused processes, fault agents, every local fault
 * family's faults) is removed directly through {@link removeReachableFaults}, while
 * the runner is told to stop through its `halt` signal — it removes every fault at once (its
 * in-process proxies too), runs its rollbacks and ends **aborted** (exit 3). `faultline halt`
 * from another terminal reaches a run by SIGTERM instead, and that run ends `interrupted`
 * (130); the button is a deliberate stop, like a stop condition, so it reports as one.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Journal } from '../journal/journal.js';
import type { RunPlan } from '../run-plan/plan.js';
import type { RunEvent } from '../runner/runner.js';
import { removeReachableFaults } from '../safety/halt.js';
import { LiveState } from './live-state.js';
import { controlRoomPage } from './page.js';
import { ListenError } from '../errors.js';

export interface ControlRoomOptions {
  /** 0 (default): a free port. */
  port?: number | undefined;
  host?: string | undefined;
  /** The live journal of the run (read at HALT for the faults to remove directly). */
  journalPath?: (() => string | undefined) | undefined;
  /** Bearer token for remote proxy servers, as `faultline halt --token`. */
  proxyToken?: string | undefined;
}

export class ControlRoom {
  readonly token = randomBytes(18).toString('base64url');
  private readonly haltController = new AbortController();
  private state: LiveState;
  private server: Server | undefined;
  private readonly streams = new Set<ServerResponse>();
  /** Answers being made (a HALT removing faults): `close` lets them finish. */
  private readonly answering = new Set<Promise<void>>();
  private unsubscribe: () => void = () => undefined;
  url = '';

  constructor(
    plan: RunPlan,
    private readonly options: ControlRoomOptions = {},
  ) {
    this.state = new LiveState(plan);
    this.follow();
  }

  /** Aborted when HALT is pressed: pass it to the runner as `halt`. */
  get haltSignal(): AbortSignal {
    return this.haltController.signal;
  }

  /** The runner's events: pass as (or call from) `onEvent`. */
  readonly onEvent = (event: RunEvent): void => this.state.onEvent(event);

  log(text: string): void {
    this.state.log(text);
  }

  /** The run is over: the page shows its outcome. */
  finish(journal: Journal): void {
    this.state.finish(journal);
  }

  /**
   * A new run in the same room (a game day's next stage): the page starts over with that run's
   * plan; the HALT signal stays the same, so a halt stops the game day.
   */
  nextRun(plan: RunPlan): void {
    const log = this.state.snapshot.log;
    this.state = new LiveState(plan);
    this.state.snapshot.log.push(...log.slice(-100));
    this.follow();
    for (const res of this.streams) send(res, 'snapshot', this.state.snapshot);
  }

  private follow(): void {
    this.unsubscribe();
    this.unsubscribe = this.state.subscribe((update) => {
      for (const res of this.streams) send(res, 'update', update);
    });
  }

  async start(): Promise<string> {
    const host = this.options.host ?? '127.0.0.1';
    const server = createServer((req, res) => {
      const answer: Promise<void> = this.handle(req, res)
        .then(async () => {
          // The answer handed to the socket, not only to `end`: close() destroys the sockets.
          if (res.writableEnded && !res.writableFinished) await once(res, 'finish');
        })
        .catch(() => undefined)
        .finally(() => this.answering.delete(answer));
      this.answering.add(answer);
    });
    this.server = server;
    server.listen(this.options.port ?? 0, host);
    try {
      await Promise.race([
        once(server, 'listening'),
        once(server, 'error').then(([err]) => Promise.reject(err as Error)),
      ]);
    } catch (err) {
      throw new ListenError(
        `the control room cannot listen on ${host}:${this.options.port ?? 0}: ${(err as Error).message}`,
        { hint: 'choose another --ui-port, or 0 for a free one' },
      );
    }
    const port = (server.address() as AddressInfo).port;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/?token=${this.token}`;
    return this.url;
  }

  private authorised(req: IncomingMessage, url: URL): boolean {
    const header = req.headers.authorization;
    const given =
      url.searchParams.get('token') ?? (header?.startsWith('Bearer ') ? header.slice(7) : '');
    const a = Buffer.from(given);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://control-room');
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-content-type-options', 'nosniff');
    if (!this.authorised(req, url)) {
      res
        .writeHead(403, { 'content-type': 'text/plain' })
        .end('forbidden: open the address with its token, as printed by faultline\n');
      return;
    }
    if (req.method === 'GET' && url.pathname === '/') {
      res
        .writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'referrer-policy': 'no-referrer',
        })
        .end(controlRoomPage(this.state.snapshot.title));
    } else if (req.method === 'GET' && url.pathname === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', connection: 'keep-alive' });
      res.write('retry: 1000\n\n');
      this.streams.add(res);
      send(res, 'snapshot', this.state.snapshot);
      req.on('close', () => this.streams.delete(res));
    } else if (req.method === 'GET' && url.pathname === '/state') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(this.state.snapshot));
    } else if (req.method === 'POST' && url.pathname === '/halt') {
      const removed = await this.halt("the control room's HALT button");
      res
        .writeHead(202, { 'content-type': 'application/json' })
        .end(JSON.stringify({ halted: true, faults: removed }));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  }

  /** HALT: the runner removes everything at once; what can be removed directly is, too. */
  async halt(reason: string): Promise<Awaited<ReturnType<typeof removeReachableFaults>>> {
    if (this.haltController.signal.aborted) return [];
    this.state.halted();
    this.haltController.abort(new Error(reason));
    const path = this.options.journalPath?.();
    if (!path) return [];
    try {
      const journal = JSON.parse(await readFile(path, 'utf8')) as Journal;
      return await removeReachableFaults([journal], {
        token: this.options.proxyToken,
        signal: AbortSignal.timeout(5_000),
      });
    } catch {
      return []; // the runner removes them anyway
    }
  }

  /**
   * Ends the streams and the server. A HALT still being answered is let finish first (its own
   * removals are bounded by 5 s): the run it stopped ends, and closes the room, while the HALT's
   * direct removals may still be at work, and cutting that request made the page say "HALT
   * failed — run faultline halt in a terminal" about a HALT that worked.
   */
  async close(): Promise<void> {
    this.unsubscribe();
    for (const res of this.streams) res.end();
    this.streams.clear();
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve())); // no new connections
    if (this.answering.size > 0) {
      const bound = AbortSignal.timeout(ANSWER_GRACE_MS);
      await Promise.race([Promise.allSettled([...this.answering]), once(bound, 'abort')]);
    }
    server.closeAllConnections();
    await closed;
  }
}

/** How long `close` waits for answers in progress: a HALT's direct removals take at most 5 s. */
const ANSWER_GRACE_MS = 6_000;

function send(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
