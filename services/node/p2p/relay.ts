/**
 * Relay of new blocks and transactions to outbound peers, with per-peer known inventory so
 * nothing is sent back to where it came from, or twice. Blocks go to every peer at once (lowest
 * latency: one round trip per hop): compactly to peers that take it (header + short ids, the
 * transactions it is not known to have whole; a second round trip only for what its mempool
 * lacked), whole to the others or when the compact form did not rebuild. Transactions are
 * announced in batches and pushed when wanted.
 */
import { randomBytes } from 'node:crypto';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import type { Logger } from '../../../shared/log.ts';
import type { Chain } from '../chain/chain.ts';
import type { Reservoir } from '../reservoir/reservoir.ts';
import { compactBlock } from './compact-block.ts';
import { COMPACT_BLOCKS_VERSION, type PushStatus } from './messages.ts';
import type { OutboundPeer } from './outbound.ts';

export interface RelayModules {
  readonly chain: Chain;
  readonly reservoir: Reservoir;
  readonly peers: () => OutboundPeer[];
  readonly logger: Logger;
  /** True while catching up: blocks connected then are old news, not relayed. */
  readonly syncing: () => boolean;
  /** Send compact blocks to peers that take them (default true). */
  readonly compactBlocks?: boolean;
}

const TX_FLUSH_MS = 50;
/** Bytes of transactions per `txs` push (well under peering.max_message_bytes' minimum). */
const PUSH_BATCH_BYTES = 1_000_000;

/** Peers of protocol 2 take `txs` (several transactions per request). */
function batches(peer: OutboundPeer): boolean {
  return (peer.remote?.version ?? 0) >= COMPACT_BLOCKS_VERSION;
}

/** Consecutive groups of at most `maxBytes` (a larger transaction goes alone). */
function byBytes(txs: readonly DecodedTx[], maxBytes: number): DecodedTx[][] {
  const out: DecodedTx[][] = [];
  let cur: DecodedTx[] = [];
  let bytes = 0;
  for (const t of txs) {
    if (cur.length > 0 && bytes + t.raw.length > maxBytes) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(t);
    bytes += t.raw.length;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
/** Mempool transactions announced to a peer that just connected (oldest first). */
const GREET_TXS = 10_000;

export class Relay {
  readonly #m: RelayModules;
  readonly #pendingTxs: DecodedTx[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #onBlock = (block: DecodedBlock) => this.#blockConnected(block);
  readonly #onTx = (entry: { tx: DecodedTx }) => this.#txAdded(entry.tx);

  constructor(modules: RelayModules) {
    this.#m = modules;
  }

  start(): void {
    this.#m.chain.on('block:connected', this.#onBlock);
    this.#m.reservoir.on('tx:added', this.#onTx);
  }

  stop(): void {
    this.#m.chain.off('block:connected', this.#onBlock);
    this.#m.reservoir.off('tx:added', this.#onTx);
    clearTimeout(this.#timer);
  }

  /**
   * A new outbound peer hears of the mempool transactions it does not know: a transaction accepted
   * while we had no peers (just started, or all dropped) was relayed to nobody and would otherwise
   * wait for a block of ours.
   */
  greet(peer: OutboundPeer): void {
    const txs: DecodedTx[] = [];
    for (const e of this.#m.reservoir.entries()) {
      if (txs.length >= GREET_TXS) break;
      if (!peer.known.has(e.tx.txid)) txs.push(e.tx);
    }
    if (txs.length > 0) void this.#announceTxs(peer, txs);
  }

  #blockConnected(block: DecodedBlock): void {
    const chain = this.#m.chain;
    // only the tip, and only once we are caught up (not every block of a long sync)
    if (this.#m.syncing() && chain.bestHeader() !== chain.tip) return;
    if (Buffer.compare(Buffer.from(chain.tip.hash), Buffer.from(block.hash)) !== 0) return;
    for (const peer of this.#m.peers()) {
      if (peer.remote === undefined || peer.known.has(block.hash)) continue;
      peer.known.add(block.hash);
      this.#sendBlock(peer, block).then(
        (status) => this.#m.logger.debug({ peer: peer.key, status }, 'relayed block'),
        (e) => this.#m.logger.debug({ peer: peer.key, err: (e as Error).message }, 'block relay failed'),
      );
    }
  }

  async #sendBlock(peer: OutboundPeer, block: DecodedBlock): Promise<PushStatus> {
    const compact = this.#m.compactBlocks !== false && (peer.remote?.version ?? 0) >= COMPACT_BLOCKS_VERSION;
    if (!compact) return peer.pushBlock(block.raw);
    const nonce = randomBytes(8).readBigUInt64LE();
    let r = await peer.pushCompact(compactBlock(block, nonce, (txid) => peer.known.has(txid)));
    if (r.status === 'want-txs') {
      const txs = r.indexes.map((i) => block.txs[i]);
      r = txs.every((t) => t !== undefined)
        ? await peer.pushBlockTxns({ hash: block.hash, txs: txs as DecodedTx[] })
        : { status: 'want-block' }; // indexes beyond the block: odd, but the whole block settles it
    }
    // the whole block when the compact form did not rebuild (or a peer asks for txs twice)
    if (r.status === 'want-block' || r.status === 'want-txs') return peer.pushBlock(block.raw);
    return r.status;
  }

  #txAdded(tx: DecodedTx): void {
    this.#pendingTxs.push(tx);
    this.#timer ??= setTimeout(() => this.#flushTxs(), TX_FLUSH_MS);
  }

  #flushTxs(): void {
    this.#timer = undefined;
    const txs = this.#pendingTxs.splice(0, this.#pendingTxs.length);
    for (const peer of this.#m.peers()) {
      if (peer.remote === undefined) continue;
      const fresh = txs.filter((t) => !peer.known.has(t.txid));
      if (fresh.length === 0) continue;
      void this.#announceTxs(peer, fresh);
    }
  }

  async #announceTxs(peer: OutboundPeer, txs: DecodedTx[]): Promise<void> {
    try {
      for (let i = 0; i < txs.length; i += 1000) {
        const chunk = txs.slice(i, i + 1000);
        const want = await peer.announce({ blocks: [], txs: chunk.map((t) => t.txid) });
        const wanted = want.txs.map((k) => chunk[k]).filter((t) => t !== undefined);
        if (batches(peer)) {
          // one request per ≤ 1,000 transactions / ≤ 1 MB instead of one round trip each
          for (const batch of byBytes(wanted, PUSH_BATCH_BYTES)) await peer.pushTxs(batch.map((t) => t.raw));
        } else for (const t of wanted) await peer.pushTx(t.raw);
      }
    } catch (e) {
      this.#m.logger.debug({ peer: peer.key, err: (e as Error).message }, 'tx relay failed');
    }
  }
}
