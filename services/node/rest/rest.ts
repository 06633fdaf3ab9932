/**
 * The read-only REST API (JSON) and the web explorer, on the RPC server's port (a `HttpRoutes`
 * module of services/node/rpc/server.ts, behind its per-IP rate limit). No authentication, as
 * Bitcoin Core's `-rest`: it is opt-in (`rpc.rest`).
 *
 * Where an RPC method returns the same data, the answer is built by it (registry `run` after the
 * same parameter validation), so REST and JSON-RPC return the same JSON for the same object; this
 * file maps paths to methods and RPC errors to HTTP statuses. The endpoints marked * have no RPC
 * twin: services/node/explorer/ answers them. Every list has a row limit (`count`).
 *
 *   GET /rest/chaininfo                      getblockchaininfo
 *   GET /rest/netparams                    * chain, coin (base units per coin), decimals, address prefix, block spacing
 *   GET /rest/block/<hash>                   getblock <hash> 2 (transactions in full)
 *   GET /rest/block/notxdetails/<hash>       getblock <hash> 1 (txids)
 *   GET /rest/block-height/<n>               the same by height of the active chain
 *   GET /rest/block-height/notxdetails/<n>
 *   GET /rest/headers/<count>/<hash>         up to <count> (1..2000) getblockheader objects from <hash> on
 *   GET /rest/tx/<txid>                      getrawtransaction <txid> true
 *   GET /rest/tx/<txid>/prevouts           * the outputs it spends, one per input (null: unknown)
 *   GET /rest/address/<address>              getaddressinfo + `utxos` (listunspent, at most 1000)
 *   GET /rest/address/<address>/txs[?count=1..100&before=<txid>]  * its transactions, newest first
 *   GET /rest/asset/<id>                     getasset
 *   GET /rest/assets[?count=1..100&after=<id>&registrant=<address>]  * assets, newest first
 *   GET /rest/bitmark/<id>                   getbitmark + `provenance` (getprovenance)
 *   GET /rest/bitmarks[?asset=<id>&owner=<address>&count=1..1000&after=<id>]  listbitmarks
 *   GET /rest/shares/<address>               getsharebalances
 *   GET /rest/shareholders/<id>[?count=1..1000&after=<address>]  listshareholders
 *   GET /rest/share/<id>                     getshareprovenance (the split and every move)
 *   GET /rest/mempool/info                   getmempoolinfo
 *   GET /rest/mempool/contents[?verbose=false&count=1..10000]  getrawmempool true (false: txids
 *                                            only), highest fee rate first, at most count (1000)
 *   GET /rest/network                        getnetworkinfo, getpeerinfo (200), getmininginfo's
 *                                            recorders, getchaintips (100), sync state
 *   GET /rest/lookup/<text>                * what a search text names: {query, found: [height|address|block|tx|asset|bitmark]}
 *   GET /rest/stats/blocks[?count=1..1000] * figures of the latest blocks (interval, difficulty, txs)
 *   GET /rest/stats/mempool[?count=1..720] * mempool count, bytes and fee-rate bands over time
 *   GET /rest/stats/recorders[?count=1..720]  * each recorder's hash rate over time
 * A `.json` suffix on the last segment is accepted (Core's form). HEAD answers the same headers.
 * Statuses: 200; 400 `{error, param}` for a malformed parameter (named); 404 `{error}` for an
 * unknown object or endpoint; 405 for any other verb (Allow: GET, HEAD).
 *
 *   GET /explorer/ (and GET / from a browser: Accept text/html)   the explorer page
 *   GET /explorer/events                                          its live updates (Server-Sent Events)
 *   GET /explorer/explorer.js, explorer.css, vendor/uPlot.*       its script, style, chart library
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeAddress } from '../../../shared/core/address.ts';
import { hashFromHex, hashToHex } from '../../../shared/core/bytes.ts';
import { CairnError, DecodeError } from '../../../shared/core/errors.ts';
import type { NetworkParams } from '../../../shared/core/params/types.ts';
import type { Logger } from '../../../shared/log.ts';
import type { Explorer } from '../explorer/explorer.ts';
import { FEE_BANDS } from '../explorer/samples.ts';
import { respond } from '../http/respond.ts';
import type { ReservoirEntry } from '../reservoir/reservoir.ts';
import { jsonReplacer } from '../rpc/jsonrpc.ts';
import { type MethodRegistry, RPC, RpcError, validateParams } from '../rpc/method.ts';
import { entryJson } from '../rpc/methods/mempool.ts';
import type { HttpRoutes } from '../rpc/server.ts';

export interface RestModules {
  readonly registry: MethodRegistry;
  readonly params: NetworkParams;
  readonly logger: Logger;
  /** The explorer's page, live events and the endpoints only it answers; without it they are 404. */
  readonly explorer?: Explorer;
  /** The mempool's entries (mempool/contents picks the best `count` itself: no full list built). */
  readonly mempool?: () => Iterable<ReservoirEntry>;
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

/** `?name=` as an integer in [min, max], `fallback` when absent. */
function countParam(
  query: URLSearchParams,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const text = query.get(name);
  if (text === null) return fallback;
  if (!/^\d{1,7}$/.test(text) || Number(text) < min || Number(text) > max)
    throw new RestError(
      400,
      `${name}: expected an integer from ${min} to ${max}, got "${shown(text)}"`,
      name,
    );
  return Number(text);
}

/** `?name=` as a 64-hex id (display order), undefined when absent. */
function idParam(query: URLSearchParams, name: string): Uint8Array | undefined {
  const text = query.get(name);
  if (text === null) return undefined;
  const id = hashFromHex(text);
  if (id === null) throw new RestError(400, `${name}: expected 64 hex digits, got "${shown(text)}"`, name);
  return id;
}

function addressParam(p: NetworkParams, name: string, text: string): Uint8Array {
  try {
    return decodeAddress(p.addressPrefix, text);
  } catch (e) {
    if (e instanceof DecodeError) throw new RestError(400, `${name}: ${e.message}`, name);
    throw e;
  }
}

/** The `count` entries of highest fee rate, best first (a bounded selection: O(n log count)). */
function bestByFeeRate(entries: Iterable<ReservoirEntry>, count: number): ReservoirEntry[] {
  let kept: ReservoirEntry[] = [];
  const byRate = (a: ReservoirEntry, b: ReservoirEntry) => b.feeRate - a.feeRate;
  for (const e of entries) {
    kept.push(e);
    if (kept.length >= 2 * count) kept = kept.sort(byRate).slice(0, count);
  }
  return kept.sort(byRate).slice(0, count);
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
async function route(seg: string[], query: URLSearchParams, call: Call, m: RestModules): Promise<unknown> {
  const [head, ...rest] = seg;
  const one = (n: number) => rest.length === n;
  const p = m.params;
  const x = m.explorer;
  switch (head) {
    case 'chaininfo':
      if (one(0)) return call('getblockchaininfo', {});
      break;
    case 'netparams':
      if (one(0))
        return {
          chain: p.name,
          coin: p.coin,
          decimals: String(p.coin).length - 1,
          addressprefix: p.addressPrefix,
          targetspacing: p.targetSpacing,
        };
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
      if (one(2) && rest[1] === 'prevouts' && x !== undefined) {
        const txid = hashFromHex(rest[0]!);
        if (txid === null)
          throw new RestError(400, `txid: expected 64 hex digits, got "${shown(rest[0]!)}"`, 'txid');
        const d = x.queries.tx(txid);
        if (d === undefined) {
          // a transaction of a pruned block: getrawtransaction's 404 says "pruned data"
          await call('getrawtransaction', { txid: rest[0], verbose: false });
          throw new RestError(404, 'No such mempool or blockchain transaction');
        }
        return x.queries.prevouts(d);
      }
      break;
    case 'address': {
      if (!one(1) && !(one(2) && rest[1] === 'txs' && x !== undefined)) break;
      const address = rest[0]!;
      const owner = addressParam(p, 'address', address);
      if (one(2)) {
        const page = x!.queries.addressHistory(
          owner,
          countParam(query, 'count', 1, 100, 25),
          idParam(query, 'before'),
        );
        if (page === undefined) throw new RestError(404, 'before: no such transaction in the active chain');
        return page;
      }
      const info = (await call('getaddressinfo', { address })) as Args;
      return { ...info, utxos: await call('listunspent', { address, limit: 1000 }) };
    }
    case 'asset':
      if (one(1)) return call('getasset', { assetid: rest[0] });
      break;
    case 'assets': {
      if (!one(0) || x === undefined) break;
      const registrant = query.get('registrant');
      const page = x.assets.page({
        count: countParam(query, 'count', 1, 100, 25),
        ...(query.has('after') ? { after: idParam(query, 'after')! } : {}),
        ...(registrant === null ? {} : { registrant: addressParam(p, 'registrant', registrant) }),
      });
      if (page === undefined) throw new RestError(404, 'after: no such asset');
      const assets = [];
      for (const a of page.assets) assets.push(await call('getasset', { assetid: hashToHex(a.id) }));
      return { assets, ...(page.next === undefined ? {} : { next: hashToHex(page.next) }) };
    }
    case 'bitmarks': {
      if (!one(0)) break;
      const args: Args = { count: countParam(query, 'count', 1, 1000, 100) };
      for (const k of ['asset', 'owner', 'after']) {
        const v = query.get(k);
        if (v !== null) args[k] = v;
      }
      // a malformed owner is the caller's mistake (400), not an unknown object (RPC's -5 → 404)
      if (typeof args.owner === 'string') addressParam(p, 'owner', args.owner);
      return call('listbitmarks', args);
    }
    case 'bitmark': {
      if (!one(1)) break;
      const bitmark = (await call('getbitmark', { bitmarkid: rest[0] })) as Args;
      return { ...bitmark, provenance: await call('getprovenance', { bitmarkid: rest[0] }) };
    }
    case 'shares':
      if (!one(1)) break;
      addressParam(p, 'address', rest[0]!); // malformed: 400, as for /rest/address
      return call('getsharebalances', { address: rest[0] });
    case 'shareholders': {
      if (!one(1)) break;
      const after = query.get('after');
      if (after !== null) addressParam(p, 'after', after);
      return call('listshareholders', {
        bitmarkid: rest[0],
        count: countParam(query, 'count', 1, 1000, 100),
        ...(after === null ? {} : { after }),
      });
    }
    case 'share':
      if (one(1)) return call('getshareprovenance', { bitmarkid: rest[0] });
      break;
    case 'mempool':
      if (one(1) && rest[0] === 'info') return call('getmempoolinfo', {});
      if (one(1) && rest[0] === 'contents') {
        const v = query.get('verbose');
        if (v !== null && v !== 'true' && v !== 'false')
          throw new RestError(400, `verbose: expected true or false, got "${shown(v)}"`, 'verbose');
        const count = countParam(query, 'count', 1, 10_000, 1000);
        if (m.mempool === undefined) return call('getrawmempool', { verbose: v !== 'false' });
        const best = bestByFeeRate(m.mempool(), count);
        if (v === 'false') return best.map((e) => hashToHex(e.txid));
        return Object.fromEntries(best.map((e) => [hashToHex(e.txid), entryJson(e)]));
      }
      break;
    case 'network': {
      if (!one(0)) break;
      const mining = (await call('getmininginfo', {})) as { recorders: unknown[]; networkhashps: number };
      const tips = (await call('getchaintips', {})) as { height: number; status: string }[];
      const chain = (await call('getblockchaininfo', {})) as Args;
      return {
        network: await call('getnetworkinfo', {}),
        peers: ((await call('getpeerinfo', {})) as unknown[]).slice(0, 200),
        recorders: mining.recorders.slice(0, 200),
        networkhashps: mining.networkhashps,
        // the active tip first, then the longest branches
        tips: tips
          .sort(
            (a, b) => Number(b.status === 'active') - Number(a.status === 'active') || b.height - a.height,
          )
          .slice(0, 100),
        sync: {
          blocks: chain.blocks,
          headers: chain.headers,
          initialblockdownload: chain.initialblockdownload,
          verificationprogress: chain.verificationprogress,
          warnings: chain.warnings,
        },
      };
    }
    case 'lookup':
      // what a search text names (always 200: a search's guesses are not errors)
      if (one(1) && x !== undefined) return { query: rest[0], found: x.queries.lookup(rest[0]!) };
      break;
    case 'stats': {
      if (!one(1) || x === undefined) break;
      if (rest[0] === 'blocks') return x.queries.recentBlocks(countParam(query, 'count', 1, 1000, 100));
      if (rest[0] === 'mempool')
        return { bands: FEE_BANDS, samples: x.samples.mempool(countParam(query, 'count', 1, 720, 720)) };
      if (rest[0] === 'recorders')
        return { samples: x.samples.recorders(countParam(query, 'count', 1, 720, 720)) };
      break;
    }
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
    if (path === '/rest' || path.startsWith('/rest/')) return this.#rest(req, res).then(() => true);
    return this.#m.explorer?.handle(req, res, path) ?? false;
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
      const body = await route(seg, url.searchParams, call, this.#m);
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
