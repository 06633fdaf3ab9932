import { readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIPv6, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../../../shared/log.ts';
import { respond } from '../http/respond.ts';
import { Authenticator, CookieFile, writeAtomic } from './auth.ts';
import { answerJsonRpc, errorResponse, type OnCall } from './jsonrpc.ts';
import { type MethodRegistry, RPC } from './method.ts';
import { type FrontReply, type FrontRequest, PostFront, remoteIp } from './post-front.ts';

export interface RateLimit {
  /** Tokens added per second. */
  perSecond: number;
  /** Bucket size. */
  burst: number;
}

export interface RpcServerOptions {
  /** `host:port`, IPv6 bracketed (`[::1]:2131`); port 0 = any free port (tests). */
  listen: readonly string[];
  /** Where `.cookie` is written; undefined = no cookie (then only `rpcauth` users get in). */
  dataDir?: string;
  /** `user:salt$hmac` entries (share/rpcauth/rpcauth.py format). */
  rpcauth?: readonly string[];
  /** Default 1 MiB. */
  maxBodyBytes?: number;
  /** Default 30 000. */
  requestTimeoutMs?: number;
  /** Default 5 000. */
  keepAliveTimeoutMs?: number;
  /** Default 100/s, burst 200; `false` = none. */
  rateLimit?: RateLimit | false;
  /** Wait before a 401. Default 250. */
  authFailDelayMs?: number;
  /** Most requests in one batch. Default 1000. */
  maxBatch?: number;
  /** How long `stop()` lets in-flight requests finish. Default 1000. */
  stopGraceMs?: number;
  /**
   * JSON-RPC calls (`POST /`) read by the minimal HTTP/1.1 front (post-front.ts) instead of
   * node:http. Default true; false: node:http reads every request (a test compares the answers).
   */
  postFront?: boolean;
}

export interface RpcServerModules {
  registry: MethodRegistry;
  logger: Logger;
  /** More routes on the same port (REST, explorer); no auth is checked for them here. */
  routes?: HttpRoutes;
  /** Told of every method call and its outcome (metrics). */
  onCall?: OnCall;
}

/** A handler of other paths: answers and returns true, or returns false (then 404 / 405). */
export interface HttpRoutes {
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean | Promise<boolean>;
}

/** Beside `.cookie`: the first address the RPC server listens on, for local clients. */
export const RPC_ADDRESS_FILE = '.rpcaddress';

/** `host:port` / `[v6]:port`, port 0..65535. Undefined when not one. */
export function parseListenAddress(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  if (m[1] !== undefined && !isIPv6(m[1])) return undefined;
  return { host: m[1] ?? m[2]!, port };
}

class TokenBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  static readonly MAX_TRACKED = 10_000;
  constructor(readonly limit: RateLimit) {}

  take(ip: string, now: number): boolean {
    let b = this.#buckets.get(ip);
    if (b === undefined) {
      b = { tokens: this.limit.burst, at: now };
      if (this.#buckets.size >= TokenBuckets.MAX_TRACKED) this.#prune(now);
    } else {
      this.#buckets.delete(ip); // keep least-recently-seen first
      b.tokens = Math.min(this.limit.burst, b.tokens + ((now - b.at) / 1000) * this.limit.perSecond);
      b.at = now;
    }
    this.#buckets.set(ip, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  #prune(now: number): void {
    // drop buckets that would be full again (forgetting them changes nothing), else the oldest
    const fullAfterMs = (this.limit.burst / this.limit.perSecond) * 1000;
    for (const [ip, b] of this.#buckets) {
      if (now - b.at >= fullAfterMs) this.#buckets.delete(ip);
    }
    if (this.#buckets.size >= TokenBuckets.MAX_TRACKED) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest !== undefined) this.#buckets.delete(oldest);
    }
  }
}

class BodyTooLarge extends Error {}

function clientIp(req: IncomingMessage): string {
  return remoteIp(req.socket);
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > max) {
        done = true;
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (err) => {
      if (done) return;
      done = true;
      reject(err);
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class RpcServer {
  readonly #opts: Required<Omit<RpcServerOptions, 'dataDir' | 'rpcauth'>> &
    Pick<RpcServerOptions, 'dataDir' | 'rpcauth'>;
  readonly #registry: MethodRegistry;
  readonly #routes: HttpRoutes | undefined;
  readonly #onCall: OnCall | undefined;
  readonly #log: Logger;
  readonly #servers: Server[] = [];
  readonly #fronts: PostFront[] = [];
  readonly #buckets: TokenBuckets | undefined;
  #cookie: CookieFile | undefined;
  #auth: Authenticator | undefined;
  #bound: string[] = [];
  /** `.rpcaddress` as written (removed at stop only while it still says this). */
  #addressFile: { path: string; text: string } | undefined;

  constructor(opts: RpcServerOptions, modules: RpcServerModules) {
    for (const a of opts.listen) {
      if (parseListenAddress(a) === undefined)
        throw new TypeError(`rpc listen address "${a}" is not host:port`);
    }
    this.#opts = {
      maxBodyBytes: 1024 * 1024,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      rateLimit: { perSecond: 100, burst: 200 },
      authFailDelayMs: 250,
      maxBatch: 1000,
      stopGraceMs: 1000,
      postFront: true,
      ...opts,
    };
    this.#registry = modules.registry;
    this.#routes = modules.routes;
    this.#onCall = modules.onCall;
    this.#log = modules.logger;
    this.#buckets = this.#opts.rateLimit === false ? undefined : new TokenBuckets(this.#opts.rateLimit);
    // parse rpcauth now, so a bad entry fails construction (a config error), not the first request
    new Authenticator({ rpcauth: opts.rpcauth ?? [] });
  }

  /** The bound addresses (`host:port`, real ports when 0 was asked), after `start()`. */
  addresses(): string[] {
    return [...this.#bound];
  }

  /** The cookie file's path, after `start()` (undefined without a data dir). */
  get cookiePath(): string | undefined {
    return this.#cookie?.path;
  }

  /** The `.rpcaddress` file's path, after `start()` (undefined without a data dir). */
  get addressFilePath(): string | undefined {
    return this.#addressFile?.path;
  }

  /** Failed authentications from `ip` since start. */
  authFailures(ip: string): number {
    return this.#auth?.failures(ip) ?? 0;
  }

  async start(): Promise<void> {
    if (this.#opts.dataDir !== undefined) this.#cookie = CookieFile.write(this.#opts.dataDir);
    this.#auth = new Authenticator({
      ...(this.#cookie ? { cookiePassword: this.#cookie.password } : {}),
      rpcauth: this.#opts.rpcauth ?? [],
    });
    try {
      for (const address of this.#opts.listen) {
        const { host, port } = parseListenAddress(address)!;
        const server = createServer(
          {
            keepAlive: true,
            requestTimeout: this.#opts.requestTimeoutMs,
            headersTimeout: Math.min(10_000, this.#opts.requestTimeoutMs),
            keepAliveTimeout: this.#opts.keepAliveTimeoutMs,
            // node:http enforces the two timeouts above only when it checks (30 s by default): a
            // slow client would hold its socket that much longer
            connectionsCheckingInterval: Math.min(1_000, this.#opts.requestTimeoutMs),
          },
          (req, res) => {
            this.#handle(req, res).catch((err: unknown) => {
              this.#log.error({ err }, 'rpc request handler failed');
              if (!res.headersSent) respond(res, 500, 'text/plain', 'internal error\n');
              else res.destroy();
            });
          },
        );
        this.#servers.push(server);
        this.#installFront(server);
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, host, () => {
            server.off('error', reject);
            resolve();
          });
        });
        server.on('error', (err) => this.#log.error({ err, address }, 'rpc server error'));
        const a = server.address() as AddressInfo;
        const bound = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
        this.#bound.push(bound);
        this.#log.info({ address: bound }, 'rpc listening');
      }
      if (this.#opts.dataDir !== undefined && this.#bound.length > 0) {
        const path = join(this.#opts.dataDir, RPC_ADDRESS_FILE);
        const text = `${this.#bound[0]}\n`;
        writeAtomic(path, text, 0o644);
        this.#addressFile = { path, text };
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Calls answered by the POST front, connections it gave to node:http, reads it paused (tests). */
  frontCounts(): { served: number; handedOver: number; pauses: number } {
    let served = 0;
    let handedOver = 0;
    let pauses = 0;
    for (const f of this.#fronts) {
      served += f.served;
      handedOver += f.handedOver;
      pauses += f.pauses;
    }
    return { served, handedOver, pauses };
  }

  /**
   * Puts the POST front before node:http's own connection listener, which then gets only the
   * connections the front hands over. Left out (node:http reads everything) when disabled, or if
   * this Node's server does not have exactly that one listener.
   */
  #installFront(server: Server): void {
    const listeners = server.listeners('connection');
    if (!this.#opts.postFront || listeners.length !== 1) return;
    const nodeConnection = listeners[0] as (socket: Socket) => void;
    const o = this.#opts;
    const front = new PostFront(
      {
        maxBodyBytes: o.maxBodyBytes,
        headersTimeoutMs: Math.min(10_000, o.requestTimeoutMs),
        requestTimeoutMs: o.requestTimeoutMs,
        keepAliveTimeoutMs: o.keepAliveTimeoutMs,
        checkMs: Math.min(1_000, o.requestTimeoutMs),
      },
      {
        handle: (req) => this.#call(req),
        handOver: (socket) => nodeConnection.call(server, socket),
        onError: (err) => this.#log.error({ err }, 'rpc request handler failed'),
      },
    );
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => front.accept(socket));
    this.#fronts.push(front);
  }

  async stop(): Promise<void> {
    const servers = this.#servers.splice(0);
    const fronts = this.#fronts.splice(0);
    for (const f of fronts) f.stop();
    await Promise.all(
      servers.map(async (s) => {
        const closed = new Promise<void>((resolve) => {
          s.close(() => resolve());
        });
        s.closeIdleConnections();
        const grace = setTimeout(() => {
          s.closeAllConnections();
          for (const f of fronts) f.destroyAll();
        }, this.#opts.stopGraceMs);
        await closed;
        clearTimeout(grace);
      }),
    );
    this.#bound = [];
    this.#cookie?.remove();
    this.#cookie = undefined;
    if (this.#addressFile !== undefined) {
      try {
        if (readFileSync(this.#addressFile.path, 'utf8') === this.#addressFile.text)
          rmSync(this.#addressFile.path);
      } catch {
        // already gone
      }
      this.#addressFile = undefined;
    }
  }

  /** The 429 reply when `ip` is over its rate, else undefined (and a token taken). */
  #limited(ip: string): FrontReply | undefined {
    if (this.#buckets === undefined || this.#buckets.take(ip, performance.now())) return undefined;
    return {
      status: 429,
      type: 'application/json',
      body: `${errorResponse(null, RPC.RATE_LIMITED, 'rate limited')}\n`,
      headers: { 'Retry-After': '1' },
    };
  }

  /** The user the `Authorization` header names, or the 401 reply (after the failure delay). */
  async #authorize(header: string | undefined, ip: string): Promise<string | FrontReply> {
    const user = this.#auth?.check(header, ip);
    if (user !== undefined) return user;
    this.#log.warn({ ip, failures: this.authFailures(ip) }, 'rpc: incorrect credentials');
    await sleep(this.#opts.authFailDelayMs);
    return {
      status: 401,
      type: 'text/plain',
      body: 'unauthorized\n',
      headers: { 'WWW-Authenticate': 'Basic realm="jsonrpc"' },
    };
  }

  /** Answers an authorized JSON-RPC body (204: nothing to answer, only notifications). */
  async #answer(body: string, user: string, ip: string): Promise<FrontReply> {
    const out = await answerJsonRpc(
      body,
      this.#registry,
      { user, ip },
      {
        logger: this.#log,
        maxBatch: this.#opts.maxBatch,
        ...(this.#onCall === undefined ? {} : { onCall: this.#onCall }),
      },
    );
    if (out.body === undefined) return { status: 204, type: 'application/json', body: '' };
    return { status: out.status, type: 'application/json', body: `${out.body}\n` };
  }

  /** One call read by the POST front: the same limits, credentials and answers as below. */
  async #call(req: FrontRequest): Promise<FrontReply> {
    const limited = this.#limited(req.ip);
    if (limited !== undefined) return limited;
    const user = await this.#authorize(req.authorization, req.ip);
    if (typeof user !== 'string') return user;
    return this.#answer(req.body, user, req.ip);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ip = clientIp(req);
    const limited = this.#limited(ip);
    if (limited !== undefined) {
      // drop the body unread; the connection may stay open
      req.resume();
      send(res, limited);
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') {
      req.resume();
      if (req.method === 'GET' || req.method === 'HEAD') respond(res, 200, 'text/plain', 'ok\n');
      else respond(res, 405, 'text/plain', 'method not allowed\n', { Allow: 'GET, HEAD' });
      return;
    }
    if (this.#routes !== undefined && (path !== '/' || req.method === 'GET' || req.method === 'HEAD')) {
      if (await this.#routes.handle(req, res, path ?? '/')) return;
    }
    if (path !== '/') {
      req.resume();
      respond(res, 404, 'text/plain', 'not found\n');
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      respond(res, 405, 'text/plain', 'method not allowed\n', { Allow: 'POST' });
      return;
    }
    const user = await this.#authorize(req.headers.authorization, ip);
    if (typeof user !== 'string') {
      req.resume();
      send(res, user);
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    let body: string;
    try {
      if (declared > this.#opts.maxBodyBytes) throw new BodyTooLarge();
      body = await readBody(req, this.#opts.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        respond(res, 413, 'text/plain', 'request body too large\n', { Connection: 'close' });
        return;
      }
      throw err;
    }
    send(res, await this.#answer(body, user, ip));
  }
}

/** Writes a reply through node:http. */
function send(res: ServerResponse, reply: FrontReply): void {
  if (reply.status === 204) {
    res.writeHead(204, reply.headers);
    res.end();
    return;
  }
  respond(res, reply.status, reply.type, reply.body, reply.headers === undefined ? {} : { ...reply.headers });
}
