/**
 * The RPC port's front for JSON-RPC calls: a minimal HTTP/1.1 reader for `POST /` on keep-alive
 * connections, in front of node:http.
 *
 * node:http's per-request work (its parser callbacks, IncomingMessage and ServerResponse streams,
 * header objects) was about a fifth of the main thread's CPU per `sendrawtransaction` and a third
 * of what it allocates (docs/performance.md). A JSON-RPC call needs little of it: one request line,
 * a few headers, a body framed by Content-Length, one answer written at once.
 *
 * Every connection starts here. A request is served here only when it is plainly such a call:
 * request line `POST / HTTP/1.1`, well-formed header lines, one Host, one Content-Length of digits,
 * no Transfer-Encoding, Expect or Upgrade, a head within MAX_HEAD_BYTES. Anything else (REST, the
 * explorer, chunked bodies, `Expect: 100-continue`, HTTP/1.0, a malformed head) hands the
 * connection, from that request on and with the bytes already read, to node:http for the rest of
 * its life, which answers or refuses it exactly as it always did. Nothing this reader has not
 * understood is ever answered by it.
 *
 * Requests on one connection are answered in order, one at a time (pipelined ones wait, and the
 * socket stops being read while too much waits). A response waits for the socket to drain before
 * the next request is taken, so a client that does not read cannot make the node buffer answers.
 * Limits as node:http's: the head must arrive within `headersTimeoutMs`, the whole request within
 * `requestTimeoutMs` (else 408 and close), an idle keep-alive connection is closed after
 * `keepAliveTimeoutMs`, an answer the client does not read within `requestTimeoutMs` drops it,
 * checked every `checkMs`; a body over `maxBodyBytes` is refused with 413 and
 * the connection closed, before it is read.
 */
import type { Socket } from 'node:net';

/** What one request carries to the handler. */
export interface FrontRequest {
  readonly ip: string;
  /** The Authorization header, if any. */
  readonly authorization: string | undefined;
  readonly body: string;
}

/** The handler's answer: status, content type, body; `close` ends the connection after it. */
export interface FrontReply {
  readonly status: number;
  readonly type: string;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly close?: boolean;
}

export interface PostFrontOptions {
  readonly maxBodyBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** How often the deadlines are checked. */
  readonly checkMs: number;
}

export interface PostFrontModules {
  /** Answers one call; a reply with status 204 has no body. */
  readonly handle: (req: FrontRequest) => Promise<FrontReply>;
  /** Gives a connection to node:http; its unread bytes were put back on the socket. */
  readonly handOver: (socket: Socket) => void;
  /** A handler that threw (the client gets a 500). */
  readonly onError: (err: unknown) => void;
}

/** node:http's default limit on a request's head (--max-http-header-size). */
export const MAX_HEAD_BYTES = 16 * 1024;

const HEAD_END = Buffer.from('\r\n\r\n');
const REQUEST_LINE = 'POST / HTTP/1.1';
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Field values: visible ASCII, spaces and tabs (RFC 9110); anything else goes to node:http. */
const VALUE = /^[\t\x20-\x7e]*$/;

const REASONS: Record<number, string> = {
  200: 'OK',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

/** The parts of a request head this reader acts on; undefined: not for it. */
interface Head {
  readonly length: number;
  readonly authorization: string | undefined;
  readonly close: boolean;
}

/** Parses a head (without its final CRLF CRLF); undefined when it is not plainly a JSON-RPC call. */
export function parseHead(text: string): Head | undefined {
  const lines = text.split('\r\n');
  if (lines[0] !== REQUEST_LINE) return undefined;
  let length: number | undefined;
  let hosts = 0;
  let authorization: string | undefined;
  let close = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return undefined;
    const value = line.slice(colon + 1).trim();
    if (!VALUE.test(value)) return undefined;
    switch (name.toLowerCase()) {
      case 'content-length':
        if (length !== undefined || !/^\d{1,15}$/.test(value)) return undefined;
        length = Number(value);
        break;
      case 'host':
        hosts++;
        break;
      case 'authorization':
        if (authorization !== undefined) return undefined;
        authorization = value;
        break;
      case 'connection': {
        const options = value
          .toLowerCase()
          .split(',')
          .map((o) => o.trim());
        if (options.includes('upgrade')) return undefined;
        if (options.includes('close')) close = true;
        break;
      }
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
        return undefined;
    }
  }
  if (length === undefined || hosts !== 1) return undefined;
  return { length, authorization, close };
}

/** node:http's Date header, made at most once a second. */
let dateText = '';
let dateSecond = -1;
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** A client's address, IPv4 without its IPv6 mapping (one rate-limit bucket and log name per client). */
export function remoteIp(socket: Socket): string {
  const a = socket.remoteAddress ?? 'unknown';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** Appends a chunk to a connection's unread bytes. */
function append(c: Connection, chunk: Buffer): void {
  const len = c.buf.length;
  if (len === 0) {
    c.buf = chunk;
    c.store = undefined;
    return;
  }
  const need = len + chunk.length;
  const store = c.store;
  if (store !== undefined && c.buf.buffer === store.buffer) {
    const offset = c.buf.byteOffset - store.byteOffset;
    if (offset + need <= store.length) {
      chunk.copy(store, offset + len);
      c.buf = store.subarray(offset, offset + need);
      return;
    }
  }
  const grown = Buffer.allocUnsafe(Math.max(4096, 2 * need));
  c.buf.copy(grown, 0);
  chunk.copy(grown, len);
  c.store = grown;
  c.buf = grown.subarray(0, need);
}

/** One connection's state. */
class Connection {
  /** Bytes read and not yet taken (a view of `store` once more than one chunk has come). */
  buf: Buffer = Buffer.alloc(0);
  /** What `buf` is appended into: grown by doubling, so bytes arriving one at a time cost O(n). */
  store: Buffer | undefined;
  /** Bytes at the start of `buf` known to hold no head end (less 3: it may straddle a chunk). */
  scanned = 0;
  /** A call is being answered (or its answer waits for the socket to drain). */
  busy = false;
  /** Its answer is written and waits for the client to read it (since `since`). */
  draining = false;
  /** When the request now arriving started (its first byte), or the connection went idle. */
  since: number;
  /** Whether bytes of a request have arrived (else the connection is idle between requests). */
  reading = true;
  /** The head of the request whose body is awaited. */
  head: (Head & { bodyStart: number }) | undefined;
  closing = false;
  paused = false;
  /** The listeners this reader added to the socket (removed at the hand-over). */
  listeners: { data: (chunk: Buffer) => void; error: () => void; close: () => void } | undefined;

  constructor(
    readonly socket: Socket,
    readonly ip: string,
    now: number,
  ) {
    this.since = now;
  }
}

export class PostFront {
  readonly #opts: PostFrontOptions;
  readonly #m: PostFrontModules;
  readonly #conns = new Set<Connection>();
  readonly #timer: NodeJS.Timeout;
  #stopping = false;
  /** Calls answered here (tests, metrics). */
  served = 0;
  /** Connections given to node:http. */
  handedOver = 0;
  /** Times a connection was not read for running too far ahead (tests). */
  pauses = 0;

  constructor(opts: PostFrontOptions, modules: PostFrontModules) {
    this.#opts = opts;
    this.#m = modules;
    this.#timer = setInterval(() => this.#checkDeadlines(), opts.checkMs);
    this.#timer.unref();
  }

  /** Takes a newly accepted connection. */
  accept(socket: Socket): void {
    if (this.#stopping) {
      socket.destroy();
      return;
    }
    const c = new Connection(socket, remoteIp(socket), performance.now());
    this.#conns.add(c);
    socket.setNoDelay(true);
    const onData = (chunk: Buffer): void => {
      append(c, chunk);
      if (!c.reading) {
        c.reading = true;
        c.since = performance.now();
      }
      this.#next(c);
    };
    c.listeners = { data: onData, error: () => socket.destroy(), close: () => this.#conns.delete(c) };
    socket.on('data', c.listeners.data);
    socket.on('error', c.listeners.error);
    socket.on('close', c.listeners.close);
  }

  /**
   * Stops taking connections' requests: idle ones are closed now, one whose call is being answered
   * after its answer (which says `Connection: close`). `destroyAll()` ends the rest.
   */
  stop(): void {
    this.#stopping = true;
    clearInterval(this.#timer);
    for (const c of this.#conns) if (!c.busy) c.socket.destroy();
  }

  /** Ends every connection still here (after the stop's grace period). */
  destroyAll(): void {
    for (const c of this.#conns) c.socket.destroy();
    this.#conns.clear();
  }

  #next(c: Connection): void {
    this.#backpressure(c);
    if (c.busy || c.closing) return;
    if (c.head === undefined) {
      if (c.buf.length === 0) return;
      const end = c.buf.indexOf(HEAD_END, c.scanned);
      if (end < 0) {
        c.scanned = Math.max(0, c.buf.length - 3);
        // node:http refuses an over-long head (431); so does it here, after the hand-over
        if (c.buf.length > MAX_HEAD_BYTES) this.#handOver(c);
        return;
      }
      if (end > MAX_HEAD_BYTES) {
        this.#handOver(c);
        return;
      }
      const head = parseHead(c.buf.toString('latin1', 0, end));
      if (head === undefined) {
        this.#handOver(c);
        return;
      }
      if (head.length > this.#opts.maxBodyBytes) {
        this.#write(c, { status: 413, type: 'text/plain', body: 'request body too large\n', close: true });
        return;
      }
      c.head = { ...head, bodyStart: end + 4 };
    }
    const { head } = c;
    const bodyEnd = head.bodyStart + head.length;
    if (c.buf.length < bodyEnd) return;
    const body = c.buf.toString('utf8', head.bodyStart, bodyEnd);
    c.buf = c.buf.length === bodyEnd ? Buffer.alloc(0) : c.buf.subarray(bodyEnd);
    c.scanned = 0;
    c.head = undefined;
    c.busy = true;
    this.served++;
    this.#m.handle({ ip: c.ip, authorization: head.authorization, body }).then(
      (reply) => this.#write(c, head.close ? { ...reply, close: true } : reply),
      (err: unknown) => {
        this.#m.onError(err);
        this.#write(c, { status: 500, type: 'text/plain', body: 'internal error\n', close: true });
      },
    );
  }

  /**
   * Stops reading a connection that has sent more than a request's worth ahead of its answers
   * (pipelined while one is answered), and reads it again once that is taken.
   */
  #backpressure(c: Connection): void {
    const limit = MAX_HEAD_BYTES + this.#opts.maxBodyBytes;
    if (c.buf.length > limit && !c.paused) {
      c.paused = true;
      this.pauses++;
      c.socket.pause();
    } else if (c.buf.length <= limit && c.paused) {
      c.paused = false;
      c.socket.resume();
    }
  }

  #write(c: Connection, reply: FrontReply): void {
    const close = reply.close === true || this.#stopping;
    const noBody = reply.status === 204;
    let text = `HTTP/1.1 ${reply.status} ${REASONS[reply.status] ?? 'Unknown'}\r\n`;
    if (reply.headers !== undefined)
      for (const [k, v] of Object.entries(reply.headers)) text += `${k}: ${v}\r\n`;
    if (!noBody) {
      text +=
        `Content-Type: ${reply.type}\r\n` +
        `Content-Length: ${Buffer.byteLength(reply.body)}\r\n` +
        // browsers must not guess another type (the explorer and REST share the port with RPC)
        'X-Content-Type-Options: nosniff\r\n';
    }
    text += `Date: ${httpDate()}\r\n`;
    text += close
      ? 'Connection: close\r\n\r\n'
      : `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(this.#opts.keepAliveTimeoutMs / 1000)}\r\n\r\n`;
    if (!noBody) text += reply.body;
    if (c.socket.destroyed) return;
    if (close) {
      c.closing = true;
      c.socket.end(text);
      return;
    }
    const flushed = c.socket.write(text);
    const done = (): void => {
      c.busy = false;
      c.reading = c.buf.length > 0;
      c.since = performance.now();
      this.#next(c);
    };
    if (flushed) done();
    else {
      // a client that never reads is dropped after requestTimeoutMs, not held busy for good
      c.draining = true;
      c.since = performance.now();
      c.socket.once('drain', () => {
        c.draining = false;
        done();
      });
    }
  }

  #handOver(c: Connection): void {
    this.#conns.delete(c);
    const s = c.socket;
    if (c.listeners !== undefined) {
      s.removeListener('data', c.listeners.data);
      s.removeListener('error', c.listeners.error);
      s.removeListener('close', c.listeners.close);
    }
    if (c.paused) s.resume();
    // node:http reads the request again from its first byte
    if (c.buf.length > 0) s.unshift(c.buf);
    c.buf = Buffer.alloc(0);
    this.handedOver++;
    this.#m.handOver(s);
  }

  #checkDeadlines(): void {
    const now = performance.now();
    const o = this.#opts;
    for (const c of this.#conns) {
      if (c.draining) {
        if (now - c.since > o.requestTimeoutMs) c.socket.destroy();
        continue;
      }
      if (c.busy || c.closing) continue;
      if (!c.reading) {
        if (now - c.since > o.keepAliveTimeoutMs) c.socket.destroy();
        continue;
      }
      const limit = c.head === undefined ? o.headersTimeoutMs : o.requestTimeoutMs;
      if (now - c.since > limit)
        this.#write(c, { status: 408, type: 'text/plain', body: 'request timeout\n', close: true });
    }
  }
}
