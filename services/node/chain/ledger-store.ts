/**
 * The ledger state on LMDB: UTXO set, undo data and the indexes (tx, address, asset, bitmark,
 * provenance), and the active chain (height → hash, tip). `applyConnect` and `applyDisconnect`
 * must run inside one ChainDb.write transaction together with the tip update, so that a crash at
 * any moment leaves the state of exactly one block boundary.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { hashToHex } from '../../../shared/core/bytes.ts';
import { assetIdOf, bitmarkIdOf } from '../../../shared/core/tx/ids.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import type { BlockEffects, OutpointCoin } from '../../../shared/core/validation/connect.ts';
import type { AssetRecord, Coin, LedgerView } from '../../../shared/core/validation/view.ts';
import { type BinaryDb, type ChainDb, INDEX_DBS, META_TIP } from '../db/chain-db.ts';
import { StorageError } from '../db/errors.ts';
import { addressTxKey, prefixRange, provenanceKey, u32be, utxoKey } from '../db/keys.ts';
import {
  type BitmarkLocation,
  decodeAddressTx,
  decodeAsset,
  decodeBitmarkLocation,
  decodeCoin,
  decodeHop,
  decodeTxLocation,
  decodeUndo,
  encodeAddressTx,
  encodeAsset,
  encodeBitmarkLocation,
  encodeCoin,
  encodeHop,
  encodeTxLocation,
  encodeUndo,
  type ProvenanceHop,
  type SpentCoin,
} from '../db/records.ts';
import { WriteBatch } from '../db/write-batch.ts';
import { ShareIndex } from './share-index.ts';
import { TouchedOwners } from './touched-owners.ts';

/** The address index's rows of a tx (one, reused: connects and disconnects run one at a time). */
const touched = new TouchedOwners();

export class LedgerStore implements LedgerView {
  readonly #db: ChainDb;
  readonly #utxo: BinaryDb;
  readonly #undo: BinaryDb;
  readonly #chain: BinaryDb;
  readonly #txindex: BinaryDb;
  readonly #addrtx: BinaryDb;
  readonly #assets: BinaryDb;
  readonly #bitmarks: BinaryDb;
  readonly #provenance: BinaryDb;
  readonly #meta: BinaryDb;
  /** Share kinds, balances, holders and moves (kept with the block's other writes). */
  readonly shares: ShareIndex;

  constructor(db: ChainDb) {
    this.#db = db;
    this.#utxo = db.db('utxo');
    this.#undo = db.db('undo');
    this.#chain = db.db('chain');
    this.#txindex = db.db('txindex');
    this.#addrtx = db.db('addrtx');
    this.#assets = db.db('assets');
    this.#bitmarks = db.db('bitmarks');
    this.#provenance = db.db('provenance');
    this.#meta = db.db('meta');
    this.shares = new ShareIndex(db);
  }

  // ---- LedgerView (what validation reads) ----

  getCoin(txid: Uint8Array, vout: number): Coin | undefined {
    // the location is decoded at once: read in place (a copy per input added to a sync's garbage)
    const loc = this.#txindex.peek(
      Buffer.from(txid.buffer, txid.byteOffset, txid.byteLength),
      decodeTxLocation,
    );
    if (loc === undefined) return undefined;
    const { height, pos } = loc;
    const v = this.#utxo.get(utxoKey(height, pos, vout));
    if (v === undefined) return undefined;
    const coin = decodeCoin(v);
    this.#positions.set(coin, pos);
    return coin;
  }

  /**
   * The tx position of coins getCoin returned: connecting a block deletes the coins its
   * validation just read, and their keys need the position (a second tx index read otherwise).
   */
  readonly #positions = new WeakMap<Coin, number>();

  getAsset(assetId: Uint8Array): AssetRecord | undefined {
    const v = this.#assets.get(Buffer.from(assetId));
    return v === undefined ? undefined : decodeAsset(v);
  }

  // ---- queries ----

  tipHash(): Uint8Array | undefined {
    return this.#meta.get(META_TIP);
  }

  hashAt(height: number): Uint8Array | undefined {
    return this.#chain.get(u32be(height));
  }

  /** Where a tx of the active chain is: its block's height and hash, and its position. */
  txLocation(txid: Uint8Array): { height: number; pos: number; blockHash: Uint8Array } | undefined {
    const v = this.#txindex.get(Buffer.from(txid));
    if (v === undefined) return undefined;
    const loc = decodeTxLocation(v);
    const blockHash = this.hashAt(loc.height);
    if (blockHash === undefined)
      throw new StorageError('storage-corrupt', `tx index points at height ${loc.height}, beyond the chain`);
    return { ...loc, blockHash };
  }

  /** Transactions touching `owner` (as sender or receiver), oldest first, with the outputs it got. */
  addressHistory(
    owner: Uint8Array,
    limit = 1000,
  ): { height: number; pos: number; txid: Uint8Array; vouts: number[] }[] {
    const out: { height: number; pos: number; txid: Uint8Array; vouts: number[] }[] = [];
    for (const { key, value } of this.#addrtx.getRange({ ...prefixRange(owner, 8), limit })) {
      out.push({ height: key.readUInt32BE(20), pos: key.readUInt32BE(24), ...decodeAddressTx(value) });
    }
    return out;
  }

  /** Unspent outputs owned by `owner`: its history's outputs that are still in the UTXO set. */
  addressUnspent(owner: Uint8Array, limit = 10_000): OutpointCoin[] {
    const out: OutpointCoin[] = [];
    for (const { key, value } of this.#addrtx.getRange(prefixRange(owner, 8))) {
      const height = key.readUInt32BE(20);
      const pos = key.readUInt32BE(24);
      const { txid, vouts } = decodeAddressTx(value);
      for (const vout of vouts) {
        const v = this.#utxo.get(utxoKey(height, pos, vout));
        if (v !== undefined) out.push({ txid, vout, coin: decodeCoin(v) });
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  bitmark(id: Uint8Array): BitmarkLocation | undefined {
    const v = this.#bitmarks.get(Buffer.from(id));
    return v === undefined ? undefined : decodeBitmarkLocation(v);
  }

  /** Every output that held the bitmark, from its issue to now, with height and tx position. */
  provenance(id: Uint8Array): (ProvenanceHop & { height: number; pos: number })[] {
    const out: (ProvenanceHop & { height: number; pos: number })[] = [];
    for (const { key, value } of this.#provenance.getRange(prefixRange(id, 8))) {
      out.push({ ...decodeHop(value), height: key.readUInt32BE(32), pos: key.readUInt32BE(36) });
    }
    return out;
  }

  /**
   * Registered assets in id order after `after` (exclusive), at most `limit`; with `registrant`,
   * only that owner's (a scan of the asset index: cost grows with the number of assets).
   */
  listAssets(opts: { limit: number; after?: Uint8Array; registrant?: Uint8Array }): AssetRecord[] {
    const out: AssetRecord[] = [];
    const start = opts.after === undefined ? undefined : Buffer.concat([opts.after, Buffer.from([0])]);
    const want = opts.registrant === undefined ? undefined : Buffer.from(opts.registrant);
    for (const { value } of this.#assets.getRange(start === undefined ? {} : { start })) {
      const a = decodeAsset(value);
      if (want !== undefined && !want.equals(a.registrant)) continue;
      out.push(a);
      if (out.length >= opts.limit) break;
    }
    return out;
  }

  /**
   * Bitmarks in id order after `after` (exclusive), at most `limit`, with where each is now; with
   * `assetId`, only that asset's (a scan of the bitmark index: cost grows with the bitmarks).
   */
  listBitmarks(opts: {
    limit: number;
    after?: Uint8Array;
    assetId?: Uint8Array;
  }): (BitmarkLocation & { id: Uint8Array })[] {
    const out: (BitmarkLocation & { id: Uint8Array })[] = [];
    const start = opts.after === undefined ? undefined : Buffer.concat([opts.after, Buffer.from([0])]);
    const want = opts.assetId === undefined ? undefined : Buffer.from(opts.assetId);
    for (const { key, value } of this.#bitmarks.getRange(start === undefined ? {} : { start })) {
      const loc = decodeBitmarkLocation(value);
      if (want !== undefined && !want.equals(loc.assetId)) continue;
      out.push({ id: new Uint8Array(key), ...loc });
      if (out.length >= opts.limit) break;
    }
    return out;
  }

  // ---- writes (inside ChainDb.write) ----

  /** Applies a validated block's effects and indexes at `height`, and makes it the tip. */
  applyConnect(block: DecodedBlock, height: number, fx: BlockEffects): void {
    const w = new WriteBatch();

    const undo: SpentCoin[] = new Array(fx.spent.length);
    fx.spent.forEach((s, k) => {
      let pos = this.#positions.get(s.coin);
      if (pos === undefined) {
        const loc = this.#txindex.get(Buffer.from(s.txid));
        if (loc === undefined)
          throw new StorageError('storage-corrupt', `spent output's tx ${hashToHex(s.txid)} is not indexed`);
        pos = decodeTxLocation(loc).pos;
      }
      w.remove(this.#utxo, utxoKey(s.coin.height, pos, s.vout));
      undo[k] = { txid: s.txid, pos, vout: s.vout, coin: s.coin };
    });
    for (const c of fx.created) {
      w.put(this.#utxo, utxoKey(height, c.pos, c.vout), encodeCoin(c.coin));
    }
    w.put(this.#undo, Buffer.from(block.hash), encodeUndo(undo));
    for (const a of fx.assets) w.put(this.#assets, Buffer.from(a.id), encodeAsset(a));

    for (let pos = 0; pos < block.txs.length; pos++) {
      const d = block.txs[pos]!;
      w.put(this.#txindex, Buffer.from(d.txid), encodeTxLocation({ height, pos }));
      const t = touched.of(d, fx.inputOwners?.[pos]);
      for (let i = 0; i < t.count; i++)
        w.put(this.#addrtx, addressTxKey(t.owners[i]!, height, pos), encodeAddressTx(d.txid, t.vouts[i]!));
    }
    w.put(this.#chain, u32be(height), block.hash);
    w.put(this.#meta, META_TIP, block.hash);
    w.apply();
    // bitmark moves read the index as they go (a bitmark may move twice in one block): unbatched
    for (let pos = 0; pos < block.txs.length; pos++) this.#indexBitmarksOf(block.txs[pos]!, height, pos);
    this.shares.connect(block, height, fx.spent, fx.created, (id) => this.bitmark(id));
  }

  #indexBitmarksOf(d: DecodedTx, height: number, pos: number): void {
    const tx = d.tx;
    for (let vout = 0; vout < tx.outputs.length; vout++) {
      const o = tx.outputs[vout]!;
      if (o.bitmark.type === 'none' || o.bitmark.type === 'shares') continue;
      let id: Uint8Array;
      let assetId: Uint8Array;
      if (o.bitmark.type === 'mint') {
        if (tx.kind !== 'issue')
          throw new StorageError('storage-corrupt', 'mint outside issue reached storage');
        id = bitmarkIdOf(d.txid, vout);
        assetId = tx.assetId;
      } else {
        id = o.bitmark.id;
        const prev = this.bitmark(id);
        if (prev === undefined)
          throw new StorageError('storage-corrupt', `bitmark ${hashToHex(id)} moved but is not indexed`);
        assetId = prev.assetId;
      }
      this.#bitmarks.putSync(
        Buffer.from(id),
        Buffer.from(encodeBitmarkLocation({ assetId, txid: d.txid, vout })),
      );
      this.#provenance.putSync(
        provenanceKey(id, height, pos),
        Buffer.from(encodeHop({ txid: d.txid, vout, owner: o.owner })),
      );
    }
  }

  /**
   * Undoes the tip block at `height` (its parent becomes the tip): removes what it created and
   * indexed, restores the coins it spent from its undo data. Returns the restored coins.
   */
  applyDisconnect(block: DecodedBlock, height: number, parentHash: Uint8Array): SpentCoin[] {
    const undoBytes = this.#undo.get(Buffer.from(block.hash));
    if (undoBytes === undefined)
      throw new StorageError('storage-corrupt', `no undo data for block at height ${height}`);
    const spent = decodeUndo(undoBytes);
    this.shares.disconnect(block, height, spent);

    // Bitmarks first, newest hop first, so a bitmark moved twice in the block ends where it began.
    for (let pos = block.txs.length - 1; pos >= 0; pos--) {
      const d = block.txs[pos]!;
      const tx = d.tx;
      for (let vout = tx.outputs.length - 1; vout >= 0; vout--) {
        const o = tx.outputs[vout]!;
        if (o.bitmark.type === 'none' || o.bitmark.type === 'shares') continue;
        const id = o.bitmark.type === 'mint' ? bitmarkIdOf(d.txid, vout) : o.bitmark.id;
        this.#provenance.removeSync(provenanceKey(id, height, pos));
        if (o.bitmark.type === 'mint') {
          this.#bitmarks.removeSync(Buffer.from(id));
          continue;
        }
        const here = this.bitmark(id);
        const from = this.#previousHolder(d, id, block, spent);
        if (here === undefined || from === undefined)
          throw new StorageError('storage-corrupt', 'bitmark history broken during disconnect');
        this.#bitmarks.putSync(
          Buffer.from(id),
          Buffer.from(encodeBitmarkLocation({ assetId: here.assetId, ...from })),
        );
      }
    }

    const w = new WriteBatch();
    for (let pos = block.txs.length - 1; pos >= 0; pos--) {
      const d = block.txs[pos]!;
      // outputs spent later in the same block are absent already: the remove finds nothing
      for (let vout = 0; vout < d.tx.outputs.length; vout++) w.remove(this.#utxo, utxoKey(height, pos, vout));
      w.remove(this.#txindex, Buffer.from(d.txid));
      const t = touched.of(d);
      for (let i = 0; i < t.count; i++) w.remove(this.#addrtx, addressTxKey(t.owners[i]!, height, pos));
      if (d.tx.kind === 'asset') w.remove(this.#assets, Buffer.from(assetIdOf(d.tx.asset.fingerprint)));
    }
    for (const s of spent) w.put(this.#utxo, utxoKey(s.coin.height, s.pos, s.vout), encodeCoin(s.coin));
    w.apply();
    this.#undo.removeSync(Buffer.from(block.hash));
    this.#chain.removeSync(u32be(height));
    this.#meta.putSync(META_TIP, Buffer.from(parentHash));
    return spent;
  }

  /** The outpoint that held bitmark `id` before tx `d` (an input of d spending it). */
  #previousHolder(
    d: DecodedTx,
    id: Uint8Array,
    block: DecodedBlock,
    spent: readonly OutpointCoin[],
  ): { txid: Uint8Array; vout: number } | undefined {
    if (d.tx.kind === 'coinbase') return undefined;
    const idBuf = Buffer.from(id);
    for (const input of d.tx.inputs) {
      // held by an output of the same block, or by a coin from before it (in the undo data)
      const inBlock = block.txs.find((t) => Buffer.from(t.txid).equals(input.prevTxid));
      if (inBlock !== undefined) {
        const o = inBlock.tx.outputs[input.vout];
        const held =
          o?.bitmark.type === 'carry'
            ? o.bitmark.id
            : o?.bitmark.type === 'mint'
              ? bitmarkIdOf(inBlock.txid, input.vout)
              : undefined;
        if (held !== undefined && idBuf.equals(held)) return { txid: input.prevTxid, vout: input.vout };
        continue;
      }
      const s = spent.find((c) => c.vout === input.vout && Buffer.from(c.txid).equals(input.prevTxid));
      if (s?.coin.bitmark && idBuf.equals(s.coin.bitmark)) return { txid: input.prevTxid, vout: input.vout };
    }
    return undefined;
  }

  /** Empties every derived database (reindex rebuilds them from stored blocks). */
  clearIndexes(): void {
    for (const name of INDEX_DBS) this.#db.db(name).clearSync();
    this.#meta.removeSync(META_TIP);
  }

  /**
   * The UTXO set in one read transaction: outputs, coins, and SHA-256 over every key and value in
   * key order (two nodes at the same tip with the same UTXO set have the same hash).
   */
  utxoStats(): { txouts: number; amount: bigint; hash: Uint8Array } {
    const h = createHash('sha256');
    let txouts = 0;
    let amount = 0n;
    for (const { key, value } of this.#utxo.getRange({ snapshot: true })) {
      h.update(u32be(key.length)).update(key).update(u32be(value.length)).update(value);
      txouts++;
      amount += BigInt(decodeCoin(value).amount);
    }
    return { txouts, amount, hash: h.digest() };
  }

  /**
   * SHA-256 over every key and value of the derived databases, in key order: two nodes (or a
   * node before and after reindex) with the same digest have byte-identical ledger state.
   */
  digest(): Uint8Array {
    const h = createHash('sha256');
    for (const name of INDEX_DBS) {
      h.update(name);
      for (const { key, value } of this.#db.db(name).getRange({})) {
        h.update(u32be(key.length)).update(key).update(u32be(value.length)).update(value);
      }
    }
    return h.digest();
  }
}
