/**
 * JSON-RPC 2.0 client of cairnd over HTTP with keep-alive. Credentials: `--rpcuser` and
 * `--rpcpassword`, else the cookie `<datadir>/.cookie` the node writes at start (Bitcoin Core's
 * scheme). Every failure is an RpcClientError saying what to do: nothing listening, credentials
 * refused, or the node's own error (code and message as the node sent them).
 */
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { NETWORKS } from '../../shared/core/params/networks.ts';
import type { NetworkName } from '../../shared/core/params/types.ts';
import { RpcClientError } from './errors.ts';

/** Replies larger than this are refused (a block at verbosity 0 is at most 8 MB of hex). */
const MAX_REPLY_BYTES = 64 << 20;

export interface RpcClientOptions {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly timeoutMs?: number;
}

export interface RpcConnectionArgs {
  readonly network: NetworkName;
  readonly datadir?: string | undefined;
  readonly rpcconnect?: string | undefined;
  readonly rpcport?: number | undefined;
  readonly rpcuser?: string | undefined;
  readonly rpcpassword?: string | undefined;
  readonly rpccookiefile?: string | undefined;
}

/** The node's default data directory for `network` (as cairnd's `data_dir` default). */
export function defaultDataDir(network: NetworkName): string {
  return join(homedir(), '.cairn', network);
}

/** The file cairnd writes beside its cookie: one line, the address its RPC listens on. */
export const RPC_ADDRESS_FILE = '.rpcaddress';

/**
 * The node's RPC address from `<datadir>/.rpcaddress` (`host:port` or `[v6]:port`), undefined when
 * the file is absent or unreadable (a node of an older version, or one not running). A wildcard
 * address (every interface) is reached on loopback from here.
 */
export function readRpcAddress(datadir: string): { host: string; port: number } | undefined {
  let text: string;
  try {
    text = readFileSync(join(datadir, RPC_ADDRESS_FILE), 'utf8').trim();
  } catch {
    return undefined;
  }
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text);
  if (m === null || Number(m[3]) < 1 || Number(m[3]) > 65535) return undefined;
  let host = m[1] ?? m[2]!;
  if (host === '0.0.0.0') host = '127.0.0.1';
  if (host === '::') host = '::1';
  return { host, port: Number(m[3]) };
}

/**
 * Where to connect and with which credentials, from the flags: --rpcconnect/--rpcport, else what
 * the node of the data directory wrote in `.rpcaddress`, else 127.0.0.1 and the network's port;
 * the cookie is found in the same data directory.
 */
export function resolveRpcOptions(a: RpcConnectionArgs): RpcClientOptions {
  const written =
    a.rpcconnect !== undefined && a.rpcport !== undefined
      ? undefined
      : readRpcAddress(a.datadir ?? defaultDataDir(a.network));
  const host = a.rpcconnect ?? written?.host ?? '127.0.0.1';
  const port = a.rpcport ?? written?.port ?? NETWORKS[a.network].ports.rpc;
  if (a.rpcuser !== undefined || a.rpcpassword !== undefined) {
    if (a.rpcuser === undefined || a.rpcpassword === undefined)
      throw new RpcClientError('rpc-no-credentials', '--rpcuser and --rpcpassword go together');
    return { host, port, user: a.rpcuser, password: a.rpcpassword };
  }
  const cookie = a.rpccookiefile ?? join(a.datadir ?? defaultDataDir(a.network), '.cookie');
  let text: string;
  try {
    text = readFileSync(cookie, 'utf8').trim();
  } catch (e) {
    throw new RpcClientError(
      'rpc-no-credentials',
      `cannot read the RPC cookie ${cookie} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): ` +
        'is cairnd running with that data directory? Use --datadir, --rpccookiefile or --rpcuser/--rpcpassword',
    );
  }
  const at = text.indexOf(':');
  if (at <= 0)
    throw new RpcClientError('rpc-no-credentials', `${cookie} is not a cookie file (user:password)`);
  return { host, port, user: text.slice(0, at), password: text.slice(at + 1) };
}

export interface BatchCall {
  readonly method: string;
  readonly params?: unknown[] | Record<string, unknown>;
}

export type BatchResult = { ok: true; result: unknown } | { ok: false; error: RpcClientError };

interface RpcReply {
  id?: unknown;
  result?: unknown;
  error?: { code: number; message: string } | null;
}

export class RpcClient {
  readonly #o: RpcClientOptions;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 4 });
  readonly #auth: string;
  #nextId = 1;

  constructor(opts: RpcClientOptions) {
    this.#o = opts;
    this.#auth = `Basic ${Buffer.from(`${opts.user}:${opts.password}`).toString('base64')}`;
  }

  get endpoint(): string {
    return `http://${this.#o.host}:${this.#o.port}/`;
  }

  /** Calls one method; throws RpcClientError `rpc-error` with the node's code and message. */
  async call<T = unknown>(method: string, params: unknown[] | Record<string, unknown> = []): Promise<T> {
    const reply = (await this.#post({ jsonrpc: '2.0', id: this.#nextId++, method, params })) as RpcReply;
    if (typeof reply !== 'object' || reply === null || Array.isArray(reply))
      throw new RpcClientError('rpc-protocol', `${method}: the reply is not a JSON-RPC object`);
    if (reply.error) throw errorOf(method, reply.error);
    return reply.result as T;
  }

  /** Several calls in one HTTP request (JSON-RPC batch); results in the order of `calls`. */
  async batch(calls: readonly BatchCall[]): Promise<BatchResult[]> {
    if (calls.length === 0) return [];
    const first = this.#nextId;
    this.#nextId += calls.length;
    const body = calls.map((c, i) => ({
      jsonrpc: '2.0',
      id: first + i,
      method: c.method,
      params: c.params ?? [],
    }));
    const reply = await this.#post(body);
    if (!Array.isArray(reply)) {
      const e = (reply as RpcReply)?.error;
      if (e) throw errorOf('batch', e);
      throw new RpcClientError('rpc-protocol', 'the reply to a batch is not an array');
    }
    const byId = new Map<unknown, RpcReply>((reply as RpcReply[]).map((r) => [r.id, r]));
    return calls.map((c, i) => {
      const r = byId.get(first + i);
      if (r === undefined)
        return { ok: false, error: new RpcClientError('rpc-protocol', `${c.method}: no reply in the batch`) };
      if (r.error) return { ok: false, error: errorOf(c.method, r.error) };
      return { ok: true, result: r.result };
    });
  }

  close(): void {
    this.#agent.destroy();
  }

  #post(payload: unknown): Promise<unknown> {
    const body = Buffer.from(JSON.stringify(payload), 'utf8');
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.#o.host,
          port: this.#o.port,
          method: 'POST',
          path: '/',
          agent: this.#agent,
          headers: {
            authorization: this.#auth,
            'content-type': 'application/json',
            'content-length': body.length,
          },
          timeout: this.#o.timeoutMs ?? 60_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (d: Buffer) => {
            size += d.length;
            if (size > MAX_REPLY_BYTES) {
              req.destroy(new RpcClientError('rpc-protocol', `reply larger than ${MAX_REPLY_BYTES} bytes`));
              return;
            }
            chunks.push(d);
          });
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status === 401)
              return reject(
                new RpcClientError(
                  'rpc-unauthorized',
                  `the node at ${this.endpoint} refused the credentials (HTTP 401): stale cookie or wrong --rpcuser/--rpcpassword`,
                ),
              );
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              return reject(
                new RpcClientError(
                  'rpc-protocol',
                  `HTTP ${status} from ${this.endpoint} without a JSON-RPC body: ${text.slice(0, 200)}`,
                ),
              );
            }
            resolve(parsed);
          });
        },
      );
      req.on('timeout', () =>
        req.destroy(new RpcClientError('rpc-unreachable', `no answer from ${this.endpoint} in time`)),
      );
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (e instanceof RpcClientError) return reject(e);
        const why =
          e.code === 'ECONNREFUSED'
            ? 'connection refused: is cairnd running, and on this network/port? (--network, --rpcport)'
            : e.message;
        reject(new RpcClientError('rpc-unreachable', `cannot reach the node at ${this.endpoint}: ${why}`));
      });
      req.end(body);
    });
  }
}

function errorOf(method: string, e: { code: number; message: string }): RpcClientError {
  return new RpcClientError('rpc-error', `${method}: ${e.message} (code ${e.code})`, e.code);
}
