/**
 * The explorer's reads of the ledger that no RPC method answers: an address's history a page at a
 * time, newest first; the outputs a transaction spends (to show who paid, and the fee); per-block
 * figures for the charts. Every answer is bounded by its caller's `count`; ids are in display
 * order (hashToHex), as everywhere else.
 */
import { Buffer } from 'node:buffer';
import { decodeAddress, ownerOf } from '../../../shared/core/address.ts';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { hashFromHex, hashToHex } from '../../../shared/core/bytes.ts';
import { blockSubsidy } from '../../../shared/core/params/networks.ts';
import type { NetworkParams } from '../../../shared/core/params/types.ts';
import { targetFromBits } from '../../../shared/core/pow/compact.ts';
import type { DecodedTx, TxOutput } from '../../../shared/core/tx/types.ts';
import type { ChainState } from '../chain-state.ts';
import { addressTxKey, prefixRange } from '../db/keys.ts';
import { decodeAddressTx } from '../db/records.ts';
import { outputJson } from '../render.ts';

export interface HistoryRow {
  txid: string;
  height: number;
  time: number;
  kind: string;
  /** Base units paid to the address by this transaction. */
  received: number;
  /** Base units of the address's coins this transaction spent (null: a spent output could not be read). */
  spent: number | null;
  /** Bitmarks this transaction put at the address. */
  bitmarks: string[];
}

/** Figures of one block of the active chain, for the charts. */
export interface BlockStats {
  height: number;
  hash: string;
  time: number;
  /** Seconds since the previous block (0 for genesis). */
  interval: number;
  difficulty: number;
  ntx: number;
  size: number;
  /** Fees collected by the coinbase, base units. */
  fees: number;
}

const STATS_CACHE = 4096;

export class LedgerQueries {
  readonly #state: ChainState;
  readonly #p: NetworkParams;
  /** Per-block figures by block hash (hex): a chart asks for the same recent blocks over and over. */
  readonly #stats = new Map<string, Omit<BlockStats, 'interval'>>();

  constructor(state: ChainState, params: NetworkParams) {
    this.#state = state;
    this.#p = params;
  }

  /**
   * Up to `count` transactions touching `owner`, newest first, before the transaction `before`
   * (exclusive; undefined when it is not in the active chain). `next` is the txid for the next page.
   */
  addressHistory(
    owner: Uint8Array,
    count: number,
    before?: Uint8Array,
  ): { txs: HistoryRow[]; next?: string } | undefined {
    const chain = this.#state.chain;
    const range = prefixRange(owner, 8);
    let start = range.end;
    if (before !== undefined) {
      const loc = chain.ledger.txLocation(before);
      if (loc === undefined) return undefined;
      start = addressTxKey(owner, loc.height, loc.pos);
    }
    const rows: { height: number; pos: number; txid: Uint8Array; vouts: number[] }[] = [];
    // reverse: from `start` (inclusive: skipped when it is the cursor) down to the prefix
    for (const { key, value } of this.#state.db
      .db('addrtx')
      .getRange({ start, end: range.start, reverse: true, limit: count + 2 })) {
      if (before !== undefined && key.equals(start)) continue;
      if (rows.length === count + 1) break;
      rows.push({ height: key.readUInt32BE(20), pos: key.readUInt32BE(24), ...decodeAddressTx(value) });
    }
    const more = rows.length > count;
    const page = rows.slice(0, count);
    const blocks = new Map<number, DecodedBlock | undefined>();
    const blockAt = (height: number) => {
      if (!blocks.has(height)) {
        const e = chain.entryAt(height);
        blocks.set(height, e === undefined ? undefined : chain.getBlock(e.hash));
      }
      return blocks.get(height);
    };
    const want = Buffer.from(owner);
    const txs: HistoryRow[] = [];
    for (const r of page) {
      const b = blockAt(r.height);
      const d = b?.txs[r.pos];
      if (b === undefined || d === undefined) continue;
      let received = 0;
      const bitmarks: string[] = [];
      for (const v of r.vouts) {
        const o = d.tx.outputs[v];
        if (o === undefined) continue;
        received += o.amount;
        const j = outputJson(o, this.#p, d.txid, v);
        if (typeof j.bitmark === 'string') bitmarks.push(j.bitmark);
      }
      let spent: number | null = 0;
      if (d.tx.kind !== 'coinbase')
        for (const input of d.tx.inputs) {
          if (!want.equals(ownerOf(input.pubkey))) continue;
          const prev = this.#output(input.prevTxid, input.vout);
          spent = prev === undefined || spent === null ? null : spent + prev.amount;
        }
      txs.push({
        txid: hashToHex(d.txid),
        height: r.height,
        time: b.header.time,
        kind: d.tx.kind,
        received,
        spent,
        bitmarks,
      });
    }
    const last = page[page.length - 1];
    return { txs, ...(more && last ? { next: hashToHex(last.txid) } : {}) };
  }

  /**
   * The outputs `tx` spends, one per input, in input order (address, value, bitmark), from the
   * active chain or the mempool; null for one that cannot be found.
   */
  prevouts(d: DecodedTx): (Record<string, unknown> | null)[] {
    if (d.tx.kind === 'coinbase') return [];
    return d.tx.inputs.map((i) => {
      const o = this.#output(i.prevTxid, i.vout);
      return o === undefined
        ? null
        : { txid: hashToHex(i.prevTxid), ...outputJson(o, this.#p, i.prevTxid, i.vout) };
    });
  }

  /**
   * What a search text names, without a 404 for each guess: `height` (of the active chain),
   * `address` (a valid one), or for a 64-hex id each of `block`, `tx`, `asset`, `bitmark` it is.
   */
  lookup(text: string): string[] {
    const q = text.trim();
    const chain = this.#state.chain;
    if (/^\d{1,10}$/.test(q)) return Number(q) <= chain.tipHeight() ? ['height'] : [];
    const id = /^[0-9a-fA-F]{64}$/.test(q) ? hashFromHex(q) : null;
    if (id === null) {
      try {
        decodeAddress(this.#p.addressPrefix, q);
        return ['address'];
      } catch {
        return [];
      }
    }
    const found: string[] = [];
    if (chain.entry(id) !== undefined) found.push('block');
    if (this.tx(id) !== undefined) found.push('tx');
    if (chain.ledger.getAsset(id) !== undefined) found.push('asset');
    if (chain.ledger.bitmark(id) !== undefined) found.push('bitmark');
    return found;
  }

  /** The transaction `txid` from the mempool or the active chain. */
  tx(txid: Uint8Array): DecodedTx | undefined {
    const pooled = this.#state.reservoir.get(txid);
    if (pooled !== undefined) return pooled.tx;
    const loc = this.#state.chain.ledger.txLocation(txid);
    if (loc === undefined) return undefined;
    return this.#state.chain.getBlock(loc.blockHash)?.txs[loc.pos];
  }

  /** Figures of the last `count` blocks of the active chain, oldest first. */
  recentBlocks(count: number): BlockStats[] {
    const chain = this.#state.chain;
    const tip = chain.tipHeight();
    const from = Math.max(0, tip - count + 1);
    const out: BlockStats[] = [];
    let prevTime = from > 0 ? (chain.entryAt(from - 1)?.header.time ?? 0) : 0;
    for (let h = from; h <= tip; h++) {
      const e = chain.entryAt(h);
      if (e === undefined) break;
      const s = this.#blockStats(e.hash, h);
      if (s === undefined) continue;
      out.push({ ...s, interval: h === 0 ? 0 : s.time - prevTime });
      prevTime = s.time;
    }
    return out;
  }

  /** Remembers a connected block's figures (it is decoded already: no read when a chart asks). */
  noteBlock(block: DecodedBlock, height: number): Omit<BlockStats, 'interval'> {
    const s = this.#figures(block, height);
    this.#remember(s);
    return s;
  }

  difficulty(bits: number): number {
    const target = targetFromBits(bits, this.#p.powLimit) ?? this.#p.powLimit;
    return Number((this.#p.powLimit * 1000n) / target) / 1000;
  }

  #blockStats(hash: Uint8Array, height: number): Omit<BlockStats, 'interval'> | undefined {
    const key = hashToHex(hash);
    const hit = this.#stats.get(key);
    if (hit !== undefined) return hit;
    const b = this.#state.chain.getBlock(hash);
    if (b === undefined) return undefined;
    const s = this.#figures(b, height);
    this.#remember(s);
    return s;
  }

  #figures(b: DecodedBlock, height: number): Omit<BlockStats, 'interval'> {
    const cb = b.txs[0]?.tx;
    const paid = cb === undefined ? 0 : cb.outputs.reduce((s, o) => s + o.amount, 0);
    return {
      height,
      hash: hashToHex(b.hash),
      time: b.header.time,
      difficulty: this.difficulty(b.header.bits),
      ntx: b.txs.length,
      size: b.raw.length,
      fees: Math.max(0, paid - blockSubsidy(height, this.#p)),
    };
  }

  #remember(s: Omit<BlockStats, 'interval'>): void {
    this.#stats.set(s.hash, s);
    if (this.#stats.size > STATS_CACHE) this.#stats.delete(this.#stats.keys().next().value!);
  }

  #output(txid: Uint8Array, vout: number): TxOutput | undefined {
    return this.tx(txid)?.tx.outputs[vout];
  }
}
