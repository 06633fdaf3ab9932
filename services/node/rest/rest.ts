/**
 * The read-only REST API (JSON) and the web explorer, on the RPC server's port (a `HttpRoutes`
 * module of services/node/rpc/server.ts, behind its per-IP rate limit). No authentication, as
 * Bitcoin Core's `-rest`: it is opt-in (`rpc.rest`).
 *
 * Every answer is built by the RPC method of the same data (registry `run` after the same
 * parameter validation), so REST and JSON-RPC return the same JSON for the same object; this file
 * only maps paths to methods and RPC errors to HTTP statuses.
 *
 *   GET /rest/chaininfo                      getblockchaininfo
 *   GET /rest/block/<hash>                   getblock <hash> 2 (transactions in full)
 *   GET /rest/block/notxdetails/<hash>       getblock <hash> 1 (txids)
 *   GET /rest/block-height/<n>               the same by height of the active chain
 *   GET /rest/block-height/notxdetails/<n>
 *   GET /rest/headers/<count>/<hash>         up to <count> (1..2000) getblockheader objects from <hash> on
 *   GET /rest/tx/<txid>                      getrawtransaction <txid> true
 *   GET /rest/address/<address>              getaddressinfo + `utxos` (listunspent, at most 1000)
 *   GET /rest/asset/<id>                     getasset
 *   GET /rest/bitmark/<id>                   getbitmark + `provenance` (getprovenance)
 *   GET /rest/mempool/info                   getmempoolinfo
 *   GET /rest/mempool/contents[?verbose=false]  getrawmempool true (false: txids only)
 * A `.json` suffix on the last segment is accepted (Core's form). HEAD answers the same headers.
 * Statuses: 200; 400 `{error, param}` for a malformed parameter (named); 404 `{error}` for an
 * unknown object or endpoint; 405 for any other verb (Allow: GET, HEAD).
 *
 *   GET /explorer/ (and GET / from a browser: Accept text/html)   the explorer page
 *   GET /explorer/explorer.js, /explorer/explorer.css              its script and style
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeAddress } from '../../../shared/core/address.ts';
import { CairnError, DecodeError } from '../../../shared/core/errors.ts';
import type { NetworkParams } from '../../../shared/core/params/types.ts';
import type { Logger } from '../../../shared/log.ts';
import { respond } from '../http/respond.ts';
import { jsonReplacer } from '../rpc/jsonrpc.ts';
import { type MethodRegistry, RPC, RpcError, validateParams } from '../rpc/method.ts';
import type { HttpRoutes } from '../rpc/server.ts';
import { EXPLORER_CSS, EXPLORER_HTML, EXPLORER_JS } from './explorer-page.ts';

export interface RestModules {
  readonly registry: MethodRegistry;
  readonly params: NetworkParams;
  readonly logger: Logger;
}

/** A refusal with its HTTP status (`code` rest-<status>); `param` names the malformed parameter of a 400. */
export class RestError extends CairnError {
  readonly code: string;
  constructor(
    readonly status: number,
    message: string,
    readonly param?: string,
  ) {
    super(message);
    this.code = `rest-${status}`;
  }
}

const MAX_HEADERS = 2000;
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

type Args = Record<string, unknown>;
type Call = (method: string, args: Args) => Promise<unknown>;

function heightParam(name: string, text: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) > 0xffff_ffff)
    throw new RestError(
      400,
      `${name}: expected a block height (a non-negative integer), got "${shown(text)}"`,
      name,
    );
  return Number(text);
}

function shown(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** The method's answer; a "not found" RPC error becomes 404 (`notFound` adds codes that mean it here). */
async function lookup(call: Call, method: string, args: Args, notFound: number[] = []): Promise<unknown> {
  try {
    return await call(method, args);
  } catch (e) {
    if (e instanceof RpcError && notFound.includes(e.rpcCode)) throw new RestError(404, e.message);
    throw e;
  }
}

/** Path segments after /rest/ → the answer. Throws RestError (or RpcError, mapped by the caller). */
async function route(seg: string[], query: URLSearchParams, call: Call, p: NetworkParams): Promise<unknown> {
  const [head, ...rest] = seg;
  const one = (n: number) => rest.length === n;
  switch (head) {
    case 'chaininfo':
      if (one(0)) return call('getblockchaininfo', {});
      break;
    case 'block': {
      const details = rest[0] !== 'notxdetails';
      const tail = details ? rest : rest.slice(1);
      if (tail.length === 1) return call('getblock', { blockhash: tail[0], verbosity: details ? 2 : 1 });
      break;
    }
    case 'block-height': {
      const details = rest[0] !== 'notxdetails';
      const tail = details ? rest : rest.slice(1);
      if (tail.length !== 1) break;
      const height = heightParam('height', tail[0]!);
      const hash = await lookup(call, 'getblockhash', { height }, [RPC.INVALID_PARAMETER]);
      return call('getblock', { blockhash: hash, verbosity: details ? 2 : 1 });
    }
    case 'headers': {
      if (!one(2)) break;
      const count = rest[0]!;
      if (!/^\d{1,4}$/.test(count) || Number(count) < 1 || Number(count) > MAX_HEADERS)
        throw new RestError(
          400,
          `count: expected an integer from 1 to ${MAX_HEADERS}, got "${shown(count)}"`,
          'count',
        );
      const out: unknown[] = [];
      let hash: unknown = rest[1];
      while (out.length < Number(count) && typeof hash === 'string') {
        const h = (await call('getblockheader', { blockhash: hash })) as { nextblockhash?: string };
        out.push(h);
        hash = h.nextblockhash;
      }
      return out;
    }
    case 'tx':
      if (one(1)) return call('getrawtransaction', { txid: rest[0], verbose: true });
      break;
    case 'address': {
      if (!one(1)) break;
      const address = rest[0]!;
      try {
        decodeAddress(p.addressPrefix, address);
      } catch (e) {
        if (e instanceof DecodeError) throw new RestError(400, `address: ${e.message}`, 'address');
        throw e;
      }
      const info = (await call('getaddressinfo', { address })) as Args;
      return { ...info, utxos: await call('listunspent', { address, limit: 1000 }) };
    }
    case 'asset':
      if (one(1)) return call('getasset', { assetid: rest[0] });
      break;
    case 'bitmark': {
      if (!one(1)) break;
      const bitmark = (await call('getbitmark', { bitmarkid: rest[0] })) as Args;
      return { ...bitmark, provenance: await call('getprovenance', { bitmarkid: rest[0] }) };
    }
    case 'mempool':
      if (one(1) && rest[0] === 'info') return call('getmempoolinfo', {});
      if (one(1) && rest[0] === 'contents') {
        const v = query.get('verbose');
        if (v !== null && v !== 'true' && v !== 'false')
          throw new RestError(400, `verbose: expected true or false, got "${shown(v)}"`, 'verbose');
        return call('getrawmempool', { verbose: v !== 'false' });
      }
      break;
  }
  throw new RestError(404, `no REST endpoint /rest/${shown(seg.join('/'))}`);
}

/** RpcError → HTTP: bad parameters 400 (named), "not found" (-5, or headers only) 404. */
function fromRpc(e: RpcError): RestError {
  switch (e.rpcCode) {
    case RPC.INVALID_PARAMS:
    case RPC.INVALID_PARAMETER:
    case RPC.DESERIALIZATION:
    case RPC.TYPE: {
      const m = /^([a-z_]+): /.exec(e.message);
      return new RestError(400, e.message, m?.[1]);
    }
    case RPC.INVALID_ADDRESS:
    case RPC.MISC:
      return new RestError(404, e.message);
    default:
      return new RestError(500, e.message);
  }
}

export class RestApi implements HttpRoutes {
  readonly #m: RestModules;

  constructor(modules: RestModules) {
    this.#m = modules;
  }

  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean | Promise<boolean> {
    if (path === '/') {
      const accept = String(req.headers.accept ?? '');
      if (!accept.includes('text/html')) return false;
      this.#page(req, res, '/explorer/');
      return true;
    }
    if (path === '/explorer') {
      req.resume();
      res.writeHead(301, { Location: '/explorer/', 'Content-Length': '0' });
      res.end();
      return true;
    }
    if (path.startsWith('/explorer/')) {
      this.#page(req, res, path);
      return true;
    }
    if (path === '/rest' || path.startsWith('/rest/')) return this.#rest(req, res).then(() => true);
    return false;
  }

  #page(req: IncomingMessage, res: ServerResponse, path: string): void {
    req.resume();
    const files: Record<string, [string, string]> = {
      '/explorer/': ['text/html; charset=utf-8', EXPLORER_HTML],
      '/explorer/index.html': ['text/html; charset=utf-8', EXPLORER_HTML],
      '/explorer/explorer.js': ['text/javascript; charset=utf-8', EXPLORER_JS],
      '/explorer/explorer.css': ['text/css; charset=utf-8', EXPLORER_CSS],
    };
    const file = files[path];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      respond(res, 405, 'text/plain', 'method not allowed\n', { Allow: 'GET, HEAD' });
      return;
    }
    if (file === undefined) {
      respond(res, 404, 'text/plain', 'not found\n');
      return;
    }
    respond(res, 200, file[0], file[1], {
      'Content-Security-Policy': CSP,
      'Cache-Control': 'no-cache',
    });
  }

  async #rest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.#json(
        res,
        405,
        { error: `method ${req.method} not allowed: the REST API is read-only` },
        {
          Allow: 'GET, HEAD',
        },
      );
      return;
    }
    const ip = req.socket.remoteAddress ?? 'unknown';
    const call: Call = async (method, args) => {
      const def = this.#m.registry.get(method);
      if (def === undefined) throw new RestError(404, `${method} is not available`);
      return def.run(validateParams(def, args), { user: '__rest__', ip });
    };
    let seg: string[];
    try {
      seg = url.pathname
        .slice('/rest/'.length)
        .split('/')
        .map((s) => decodeURIComponent(s));
    } catch {
      this.#json(res, 400, { error: 'path: not valid percent-encoding', param: 'path' });
      return;
    }
    const last = seg.length - 1;
    if (seg[last]!.endsWith('.json')) seg[last] = seg[last]!.slice(0, -'.json'.length);
    try {
      const body = await route(seg, url.searchParams, call, this.#m.params);
      this.#json(res, 200, body);
    } catch (e) {
      const err = e instanceof RpcError ? fromRpc(e) : e;
      if (!(err instanceof RestError) || err.status === 500) {
        this.#m.logger.error({ err: e, path: url.pathname }, 'rest request failed');
        this.#json(res, 500, { error: 'internal error' });
        return;
      }
      this.#json(
        res,
        err.status,
        err.param === undefined ? { error: err.message } : { error: err.message, param: err.param },
      );
    }
  }

  #json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    respond(res, status, 'application/json; charset=utf-8', `${JSON.stringify(body, jsonReplacer)}\n`, {
      'Cache-Control': 'no-store',
      ...headers,
    });
  }
}
