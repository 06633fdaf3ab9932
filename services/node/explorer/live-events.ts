/**
 * The explorer's live updates: Server-Sent Events at GET /explorer/events, fed by the same chain
 * and mempool events as the ZMQ feed. The node's cost does not grow with the event rate or with a
 * slow tab: an event only updates a bounded summary (the latest blocks and transactions, counts),
 * and a flush every `flushMs` serializes it once and writes it to each client. A client whose
 * unsent bytes pass `maxBufferedBytes` (a tab that does not read) is dropped; at most `maxClients`
 * at once and `maxClientsPerAddress` from one non-loopback address (then 503), and a comment line
 * every `heartbeatMs` finds dead connections.
 *
 * Events: `hello` (on connect: chain, tip, mempool, sync), then `tip` {height, hash, time, blocks
 * (the latest connected, at most 10, oldest first), connected (how many since the last flush),
 * sync} after blocks connect or disconnect, and `mempool` {count, bytes, txs (the latest added, at
 * most 10, newest last), added} after the mempool changes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { hashToHex } from '../../../shared/core/bytes.ts';
import type { Logger } from '../../../shared/log.ts';
import type { Chain } from '../chain/chain.ts';
import { respond } from '../http/respond.ts';
import type { Reservoir, ReservoirEntry } from '../reservoir/reservoir.ts';
import type { BlockStats } from './ledger-queries.ts';

export interface LiveOptions {
  readonly maxClients: number;
  /** Streams one address may hold at once, so one host cannot take every slot. */
  readonly maxClientsPerAddress: number;
  /** Loopback addresses are not capped per address (a local user, or a proxy on this host). */
  readonly exemptLoopback: boolean;
  readonly maxBufferedBytes: number;
  readonly flushMs: number;
  readonly heartbeatMs: number;
}

export const LIVE_DEFAULTS: LiveOptions = {
  maxClients: 100,
  maxClientsPerAddress: 8,
  exemptLoopback: true,
  maxBufferedBytes: 64 * 1024,
  flushMs: 200,
  heartbeatMs: 15_000,
};

export interface SyncState {
  blocks: number;
  headers: number;
  initialblockdownload: boolean;
}

export interface LiveModules {
  readonly chain: Chain;
  readonly reservoir: Reservoir;
  readonly logger: Logger;
  readonly network: string;
  /** A connected block's figures (ledger-queries; cached for the charts too). */
  readonly blockFigures: (block: DecodedBlock, height: number) => Omit<BlockStats, 'interval'>;
  readonly sync: () => SyncState;
}

const RECENT = 10;

export class LiveEvents {
  readonly #o: LiveOptions;
  readonly #m: LiveModules;
  readonly #clients = new Set<ServerResponse>();
  /** Open streams per (capped) remote address. */
  readonly #perAddress = new Map<string, number>();
  #blocks: Omit<BlockStats, 'interval'>[] = [];
  #connected = 0;
  #tipDirty = false;
  /** The latest added, rendered at the flush (hex for the latest ten, not for every transaction). */
  #txs: ReservoirEntry[] = [];
  #added = 0;
  #poolDirty = false;
  #flushTimer: NodeJS.Timeout | undefined;
  #beat: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Clients dropped for not reading (for tests and logs). */
  dropped = 0;

  readonly #onConnect = (block: DecodedBlock, entry: { height: number }) => {
    this.#blocks.push(this.#m.blockFigures(block, entry.height));
    if (this.#blocks.length > RECENT) this.#blocks.shift();
    this.#connected++;
    this.#tipDirty = true;
    this.#poolDirty = true; // its transactions left the mempool
    this.#schedule();
  };
  readonly #onDisconnect = () => {
    this.#blocks = [];
    this.#tipDirty = true;
    this.#schedule();
  };
  readonly #onAdded = (e: ReservoirEntry) => {
    this.#txs.push(e);
    if (this.#txs.length > RECENT) this.#txs.shift();
    this.#added++;
    this.#poolDirty = true;
    this.#schedule();
  };
  readonly #onRemoved = () => {
    this.#poolDirty = true;
    this.#schedule();
  };

  constructor(opts: LiveOptions, modules: LiveModules) {
    this.#o = opts;
    this.#m = modules;
  }

  get clients(): number {
    return this.#clients.size;
  }

  start(): void {
    this.#m.chain.on('block:connected', this.#onConnect);
    this.#m.chain.on('block:disconnected', this.#onDisconnect);
    this.#m.reservoir.on('tx:added', this.#onAdded);
    this.#m.reservoir.on('tx:removed', this.#onRemoved);
    this.#beat = setInterval(() => this.#broadcast(': keep-alive\n\n'), this.#o.heartbeatMs);
    this.#beat.unref();
  }

  /** Ends every stream (before the HTTP server closes: it would otherwise wait for them). */
  stop(): void {
    this.#stopped = true;
    this.#m.chain.off('block:connected', this.#onConnect);
    this.#m.chain.off('block:disconnected', this.#onDisconnect);
    this.#m.reservoir.off('tx:added', this.#onAdded);
    this.#m.reservoir.off('tx:removed', this.#onRemoved);
    clearInterval(this.#beat);
    clearTimeout(this.#flushTimer);
    for (const c of this.#clients) c.end();
    this.#clients.clear();
    this.#perAddress.clear();
  }

  /** GET /explorer/events. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    if (req.method !== 'GET') {
      respond(res, 405, 'text/plain', 'method not allowed\n', { Allow: 'GET' });
      return;
    }
    if (this.#stopped || this.#clients.size >= this.#o.maxClients) {
      respond(res, 503, 'text/plain', 'too many live clients\n', { 'Retry-After': '30' });
      return;
    }
    const address = req.socket.remoteAddress ?? 'unknown';
    const capped = !(this.#o.exemptLoopback && isLoopbackAddress(address));
    if (capped && (this.#perAddress.get(address) ?? 0) >= this.#o.maxClientsPerAddress) {
      respond(res, 503, 'text/plain', 'too many live streams from your address\n', { 'Retry-After': '30' });
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      // a proxy must pass events on as they come
      'X-Accel-Buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    this.#clients.add(res);
    if (capped) this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1);
    let forgotten = false;
    const forget = () => {
      this.#clients.delete(res);
      if (forgotten || !capped) return;
      forgotten = true;
      const n = (this.#perAddress.get(address) ?? 1) - 1;
      if (n > 0) this.#perAddress.set(address, n);
      else this.#perAddress.delete(address);
    };
    res.on('close', forget);
    res.on('error', forget);
    const tip = this.#m.chain.tip;
    this.#write(
      res,
      // the browser reconnects after 2 s when the stream breaks
      `retry: 2000\n\n${frame('hello', {
        chain: this.#m.network,
        height: tip.height,
        hash: hashToHex(tip.hash),
        time: tip.header.time,
        mempool: { count: this.#m.reservoir.size, bytes: this.#m.reservoir.info().bytes },
        sync: this.#m.sync(),
      })}`,
    );
  }

  #schedule(): void {
    if (this.#flushTimer !== undefined || this.#stopped) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flush();
    }, this.#o.flushMs);
    this.#flushTimer.unref();
  }

  #flush(): void {
    let text = '';
    if (this.#tipDirty) {
      const tip = this.#m.chain.tip;
      text += frame('tip', {
        height: tip.height,
        hash: hashToHex(tip.hash),
        time: tip.header.time,
        blocks: this.#blocks,
        connected: this.#connected,
        sync: this.#m.sync(),
      });
      this.#blocks = [];
      this.#connected = 0;
      this.#tipDirty = false;
    }
    if (this.#poolDirty) {
      const pool = this.#m.reservoir;
      text += frame('mempool', {
        count: pool.size,
        bytes: pool.info().bytes,
        txs: this.#txs.map((e) => ({
          txid: hashToHex(e.txid),
          size: e.size,
          fee: e.fee,
          feerate: e.feeRate,
        })),
        added: this.#added,
      });
      this.#txs = [];
      this.#added = 0;
      this.#poolDirty = false;
    }
    if (text !== '') this.#broadcast(text);
  }

  #broadcast(text: string): void {
    for (const c of this.#clients) this.#write(c, text);
  }

  #write(res: ServerResponse, text: string): void {
    if (res.writableLength > this.#o.maxBufferedBytes) {
      // this tab does not read: drop it rather than hold its backlog
      this.dropped++;
      this.#clients.delete(res);
      this.#m.logger.debug({ buffered: res.writableLength }, 'explorer live client dropped: not reading');
      res.destroy();
      return;
    }
    res.write(text);
  }
}

function isLoopbackAddress(a: string): boolean {
  return a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
