/**
 * The ledger state on LMDB: UTXO set, undo data and the indexes (tx, address, asset, bitmark,
 * provenance), and the active chain (height → hash, tip). `applyConnect` and `applyDisconnect`
 * must run inside one ChainDb.write transaction together with the tip update, so that a crash at
 * any moment leaves the state of exactly one block boundary.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { ownerOf } from '../../../shared/core/address.ts';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { assetIdOf, bitmarkIdOf } from '../../../shared/core/tx/ids.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import type { BlockEffects, OutpointCoin } from '../../../shared/core/validation/connect.ts';
import type { AssetRecord, Coin, LedgerView } from '../../../shared/core/validation/view.ts';
import { type BinaryDb, type ChainDb, INDEX_DBS, META_TIP } from '../db/chain-db.ts';
import { StorageError } from '../db/errors.ts';
import {
  addressTxKey,
  addressUtxoKey,
  outpointDbKey,
  prefixRange,
  provenanceKey,
  u32be,
} from '../db/keys.ts';
import {
  type BitmarkLocation,
  decodeAsset,
  decodeBitmarkLocation,
  decodeCoin,
  decodeHop,
  decodeTxLocation,
  decodeUndo,
  encodeAsset,
  encodeBitmarkLocation,
  encodeCoin,
  encodeHop,
  encodeTxLocation,
  encodeUndo,
  type ProvenanceHop,
} from '../db/records.ts';
import { WriteBatch } from '../db/write-batch.ts';

const PRESENT = Buffer.from([1]);

export class LedgerStore implements LedgerView {
  readonly #db: ChainDb;
  readonly #utxo: BinaryDb;
  readonly #undo: BinaryDb;
  readonly #chain: BinaryDb;
  readonly #txindex: BinaryDb;
  readonly #addrtx: BinaryDb;
  readonly #addrutxo: BinaryDb;
  readonly #assets: BinaryDb;
  readonly #bitmarks: BinaryDb;
  readonly #provenance: BinaryDb;
  readonly #meta: BinaryDb;

  constructor(db: ChainDb) {
    this.#db = db;
    this.#utxo = db.db('utxo');
    this.#undo = db.db('undo');
    this.#chain = db.db('chain');
    this.#txindex = db.db('txindex');
    this.#addrtx = db.db('addrtx');
    this.#addrutxo = db.db('addrutxo');
    this.#assets = db.db('assets');
    this.#bitmarks = db.db('bitmarks');
    this.#provenance = db.db('provenance');
    this.#meta = db.db('meta');
  }

  // ---- LedgerView (what validation reads) ----

  getCoin(txid: Uint8Array, vout: number): Coin | undefined {
    const v = this.#utxo.get(outpointDbKey(txid, vout));
    return v === undefined ? undefined : decodeCoin(v);
  }

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

  txLocation(txid: Uint8Array): { blockHash: Uint8Array; pos: number } | undefined {
    const v = this.#txindex.get(Buffer.from(txid));
    return v === undefined ? undefined : decodeTxLocation(v);
  }

  /** Transactions touching `owner` (as sender or receiver), oldest first: heights and positions. */
  addressHistory(owner: Uint8Array, limit = 1000): { height: number; pos: number; txid: Uint8Array }[] {
    const out: { height: number; pos: number; txid: Uint8Array }[] = [];
    for (const { key, value } of this.#addrtx.getRange({ ...prefixRange(owner, 8), limit })) {
      out.push({ height: key.readUInt32BE(20), pos: key.readUInt32BE(24), txid: value });
    }
    return out;
  }

  /** Unspent outputs owned by `owner`. */
  addressUnspent(owner: Uint8Array, limit = 10_000): OutpointCoin[] {
    const out: OutpointCoin[] = [];
    for (const key of this.#addrutxo.getKeys({ ...prefixRange(owner, 36), limit })) {
      const txid = key.subarray(20, 52);
      const vout = key.readUInt32BE(52);
      const coin = this.getCoin(txid, vout);
      if (coin === undefined)
        throw new StorageError(
          'storage-corrupt',
          `address index names a missing output ${txid.toString('hex')}:${vout}`,
        );
      out.push({ txid, vout, coin });
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

  // ---- writes (inside ChainDb.write) ----

  /** Applies a validated block's effects and indexes at `height`, and makes it the tip. */
  applyConnect(block: DecodedBlock, height: number, fx: BlockEffects): void {
    const w = new WriteBatch();
    for (const s of fx.spent) {
      w.remove(this.#utxo, outpointDbKey(s.txid, s.vout));
      w.remove(this.#addrutxo, addressUtxoKey(s.coin.owner, s.txid, s.vout));
    }
    for (const c of fx.created) {
      w.put(this.#utxo, outpointDbKey(c.txid, c.vout), encodeCoin(c.coin));
      w.put(this.#addrutxo, addressUtxoKey(c.coin.owner, c.txid, c.vout), PRESENT);
    }
    w.put(this.#undo, Buffer.from(block.hash), encodeUndo(fx.spent));
    for (const a of fx.assets) w.put(this.#assets, Buffer.from(a.id), encodeAsset(a));

    for (let pos = 0; pos < block.txs.length; pos++) {
      const d = block.txs[pos]!;
      w.put(this.#txindex, Buffer.from(d.txid), encodeTxLocation(block.hash, pos));
      for (const owner of touchedOwners(d)) w.put(this.#addrtx, addressTxKey(owner, height, pos), d.txid);
    }
    w.put(this.#chain, u32be(height), block.hash);
    w.put(this.#meta, META_TIP, block.hash);
    w.apply();
    // bitmark moves read the index as they go (a bitmark may move twice in one block): unbatched
    for (let pos = 0; pos < block.txs.length; pos++) this.#indexBitmarksOf(block.txs[pos]!, height, pos);
  }

  #indexBitmarksOf(d: DecodedTx, height: number, pos: number): void {
    const tx = d.tx;
    for (let vout = 0; vout < tx.outputs.length; vout++) {
      const o = tx.outputs[vout]!;
      if (o.bitmark.type === 'none') continue;
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
          throw new StorageError(
            'storage-corrupt',
            `bitmark ${Buffer.from(id).toString('hex')} moved but is not indexed`,
          );
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
  applyDisconnect(block: DecodedBlock, height: number, parentHash: Uint8Array): OutpointCoin[] {
    const undoBytes = this.#undo.get(Buffer.from(block.hash));
    if (undoBytes === undefined)
      throw new StorageError('storage-corrupt', `no undo data for block at height ${height}`);
    const spent = decodeUndo(undoBytes);

    // Bitmarks first, newest hop first, so a bitmark moved twice in the block ends where it began.
    for (let pos = block.txs.length - 1; pos >= 0; pos--) {
      const d = block.txs[pos]!;
      const tx = d.tx;
      for (let vout = tx.outputs.length - 1; vout >= 0; vout--) {
        const o = tx.outputs[vout]!;
        if (o.bitmark.type === 'none') continue;
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

    for (let pos = block.txs.length - 1; pos >= 0; pos--) {
      const d = block.txs[pos]!;
      for (let vout = 0; vout < d.tx.outputs.length; vout++) {
        // Outputs spent later in the same block are absent already: removeSync just returns false.
        this.#utxo.removeSync(outpointDbKey(d.txid, vout));
        this.#addrutxo.removeSync(addressUtxoKey(d.tx.outputs[vout]!.owner, d.txid, vout));
      }
      this.#txindex.removeSync(Buffer.from(d.txid));
      for (const owner of touchedOwners(d)) this.#addrtx.removeSync(addressTxKey(owner, height, pos));
      if (d.tx.kind === 'asset') this.#assets.removeSync(Buffer.from(assetIdOf(d.tx.asset.fingerprint)));
    }
    for (const s of spent) {
      this.#utxo.putSync(outpointDbKey(s.txid, s.vout), Buffer.from(encodeCoin(s.coin)));
      this.#addrutxo.putSync(addressUtxoKey(s.coin.owner, s.txid, s.vout), PRESENT);
    }
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

/** Owners a tx touches: the owners of its inputs (from their keys) and of its outputs, once each. */
function touchedOwners(d: DecodedTx): Uint8Array[] {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  const add = (o: Uint8Array) => {
    const k = Buffer.from(o).toString('latin1');
    if (!seen.has(k)) {
      seen.add(k);
      out.push(o);
    }
  };
  if (d.tx.kind !== 'coinbase') for (const i of d.tx.inputs) add(ownerOf(i.pubkey));
  for (const o of d.tx.outputs) add(o.owner);
  return out;
}
