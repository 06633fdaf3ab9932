/**
 * The share indexes (docs/architecture.md §Storage): each split bitmark's kind record, the share
 * balances per address and per kind (one value kept under two key orders), and each kind's
 * history of moves. LedgerStore calls connect/disconnect inside the block's write transaction;
 * blocks without shares cost one scan of their outputs.
 */
import { Buffer } from 'node:buffer';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { bytesKey, equalBytes, hashToHex } from '../../../shared/core/bytes.ts';
import { Reader } from '../../../shared/core/encoding/reader.ts';
import { Writer } from '../../../shared/core/encoding/writer.ts';
import { MAX_SHARES } from '../../../shared/core/limits.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import type { OutpointCoin } from '../../../shared/core/validation/connect.ts';
import { createdCoins } from '../../../shared/core/validation/tx-inputs.ts';
import { type Coin, outpointKey } from '../../../shared/core/validation/view.ts';
import type { BinaryDb, ChainDb } from '../db/chain-db.ts';
import { StorageError } from '../db/errors.ts';
import { prefixRange, provenanceKey, shareBalanceKey, shareHolderKey } from '../db/keys.ts';
import {
  type BitmarkLocation,
  decodeShareKind,
  decodeShareMove,
  encodeShareKind,
  encodeShareMove,
  type ShareAmount,
  type ShareKindRecord,
  type ShareMove,
} from '../db/records.ts';

/** A balance of one kind of shares. */
export interface ShareBalance {
  readonly id: Uint8Array;
  readonly quantity: number;
}

export class ShareIndex {
  readonly #kinds: BinaryDb;
  readonly #balances: BinaryDb;
  readonly #holders: BinaryDb;
  readonly #moves: BinaryDb;

  constructor(db: ChainDb) {
    this.#kinds = db.db('sharekinds');
    this.#balances = db.db('sharebal');
    this.#holders = db.db('shareholders');
    this.#moves = db.db('shareprov');
  }

  // ---- queries ----

  kind(id: Uint8Array): ShareKindRecord | undefined {
    const v = this.#kinds.get(Buffer.from(id));
    return v === undefined ? undefined : decodeShareKind(v);
  }

  /** Every kind of shares `owner` holds, in kind id order. */
  balances(owner: Uint8Array, limit = 1000): ShareBalance[] {
    const out: ShareBalance[] = [];
    for (const { key, value } of this.#balances.getRange({ ...prefixRange(owner, 32), limit })) {
      out.push({ id: new Uint8Array(key.subarray(20, 52)), quantity: decodeQuantity(value) });
    }
    return out;
  }

  /** Holders of kind `id` in owner order after `after` (exclusive), at most `limit`. */
  holders(id: Uint8Array, opts: { limit: number; after?: Uint8Array }): ShareAmount[] {
    const range = prefixRange(id, 20);
    const start = opts.after === undefined ? range.start : Buffer.concat([id, opts.after, Buffer.from([0])]);
    const out: ShareAmount[] = [];
    for (const { key, value } of this.#holders.getRange({ start, end: range.end, limit: opts.limit })) {
      out.push({ owner: new Uint8Array(key.subarray(32, 52)), quantity: decodeQuantity(value) });
    }
    return out;
  }

  /** The moves of kind `id`, oldest first (the split first), at most `limit`. */
  history(id: Uint8Array, limit = 1000): (ShareMove & { height: number; pos: number })[] {
    const out: (ShareMove & { height: number; pos: number })[] = [];
    for (const { key, value } of this.#moves.getRange({ ...prefixRange(id, 8), limit })) {
      out.push({ ...decodeShareMove(value), height: key.readUInt32BE(32), pos: key.readUInt32BE(36) });
    }
    return out;
  }

  // ---- writes (inside ChainDb.write, after the block's UTXO and bitmark writes) ----

  /**
   * Indexes a connected block: `spent` and `created` are its net UTXO effects (BlockEffects),
   * `bitmarkAt` reads the bitmark index (a split's asset).
   */
  connect(
    block: DecodedBlock,
    height: number,
    spent: readonly OutpointCoin[],
    created: readonly OutpointCoin[],
    bitmarkAt: (id: Uint8Array) => BitmarkLocation | undefined,
  ): void {
    if (!hasShares(block)) return;
    const deltas = new BalanceDeltas();
    for (const s of spent) deltas.add(s.coin, -1);
    for (const c of created) deltas.add(c.coin, 1);
    this.#applyDeltas(deltas);

    const coinOf = inputCoins(block, height, spent);
    for (let pos = 0; pos < block.txs.length; pos++) {
      const d = block.txs[pos]!;
      const tx = d.tx;
      const kinds = kindsOut(d);
      if (tx.kind === 'coinbase' || (tx.kind !== 'split' && kinds.length === 0)) continue;
      const inputs = tx.inputs.map((i) => coinOf(i.prevTxid, i.vout));
      if (tx.kind === 'split') {
        const holder = inputs.find((c) => c.bitmark !== null && equalBytes(c.bitmark, tx.bitmarkId));
        const where = bitmarkAt(tx.bitmarkId);
        if (holder === undefined || where === undefined)
          throw new StorageError(
            'storage-corrupt',
            `split bitmark ${hashToHex(tx.bitmarkId)} is not indexed`,
          );
        const record = {
          assetId: where.assetId,
          total: tx.total,
          txid: d.txid,
          height,
          pos,
          owner: holder.owner,
        };
        this.#kinds.putSync(Buffer.from(tx.bitmarkId), Buffer.from(encodeShareKind(record)));
      }
      for (const [kind, move] of movesOf(d, kinds, inputs)) {
        this.#moves.putSync(provenanceKey(kind, height, pos), Buffer.from(encodeShareMove(move)));
      }
    }
  }

  /** Undoes connect for the tip block; `spent` is its undo data (the coins it had spent). */
  disconnect(block: DecodedBlock, height: number, spent: readonly OutpointCoin[]): void {
    if (!hasShares(block)) return;
    const deltas = new BalanceDeltas();
    for (const s of spent) deltas.add(s.coin, 1);
    for (const c of createdAtEnd(block, height)) deltas.add(c, -1);
    this.#applyDeltas(deltas);
    for (let pos = 0; pos < block.txs.length; pos++) {
      const d = block.txs[pos]!;
      if (d.tx.kind === 'split') this.#kinds.removeSync(Buffer.from(d.tx.bitmarkId));
      for (const kind of kindsOut(d)) this.#moves.removeSync(provenanceKey(kind, height, pos));
    }
  }

  #applyDeltas(deltas: BalanceDeltas): void {
    for (const { owner, kind, delta } of deltas.values()) {
      if (delta === 0) continue;
      const bKey = shareBalanceKey(owner, kind);
      const old = this.#balances.get(bKey);
      const now = (old === undefined ? 0 : decodeQuantity(old)) + delta;
      if (now < 0 || now > MAX_SHARES)
        throw new StorageError('storage-corrupt', `share balance of ${hashToHex(kind)} would be ${now}`);
      const hKey = shareHolderKey(kind, owner);
      if (now === 0) {
        this.#balances.removeSync(bKey);
        this.#holders.removeSync(hKey);
      } else {
        const v = Buffer.from(new Writer(9).varint(now).finish());
        this.#balances.putSync(bKey, v);
        this.#holders.putSync(hKey, v);
      }
    }
  }
}

function decodeQuantity(b: Uint8Array): number {
  const r = new Reader(b);
  const q = r.varint('sharebal.quantity', MAX_SHARES);
  r.end('sharebal');
  return q;
}

/** Every tx that moves shares creates share outputs (conservation), so outputs tell. */
function hasShares(block: DecodedBlock): boolean {
  return block.txs.some((d) => d.tx.outputs.some((o) => o.bitmark.type === 'shares'));
}

/** Net balance changes per (owner, kind). */
class BalanceDeltas {
  readonly #m = new Map<string, { owner: Uint8Array; kind: Uint8Array; delta: number }>();

  add(c: Coin, sign: 1 | -1): void {
    if (c.shares === undefined) return;
    const k = Buffer.concat([c.owner, c.shares.id]).toString('latin1');
    const e = this.#m.get(k);
    if (e === undefined)
      this.#m.set(k, { owner: c.owner, kind: c.shares.id, delta: sign * c.shares.quantity });
    else e.delta += sign * c.shares.quantity;
  }

  values() {
    return this.#m.values();
  }
}

/** The coin each input of the block spends: from before the block (`spent`) or created in it. */
function inputCoins(
  block: DecodedBlock,
  height: number,
  spent: readonly OutpointCoin[],
): (txid: Uint8Array, vout: number) => Coin {
  const before = new Map<string, Coin>();
  for (const s of spent) before.set(outpointKey(s.txid, s.vout), s.coin);
  // outputs of the block's own transactions, resolved only for the txs a share move spends from
  const inBlock = new Map<string, DecodedTx>();
  for (const d of block.txs) inBlock.set(bytesKey(d.txid), d);
  const created = new Map<DecodedTx, Coin[]>();
  return (txid, vout) => {
    let c = before.get(outpointKey(txid, vout));
    if (c === undefined) {
      const d = inBlock.get(bytesKey(txid));
      if (d !== undefined) {
        let coins = created.get(d);
        if (coins === undefined) {
          coins = createdCoins(d, height);
          created.set(d, coins);
        }
        c = coins[vout];
      }
    }
    if (c === undefined)
      throw new StorageError(
        'storage-corrupt',
        `input ${hashToHex(txid)}:${vout} of a share move is unknown`,
      );
    return c;
  };
}

/** Share coins the block created that no later tx of it spent. */
function createdAtEnd(block: DecodedBlock, height: number): Coin[] {
  const spentHere = new Set<string>();
  for (const d of block.txs) {
    if (d.tx.kind !== 'coinbase') for (const i of d.tx.inputs) spentHere.add(outpointKey(i.prevTxid, i.vout));
  }
  const out: Coin[] = [];
  for (const d of block.txs) {
    createdCoins(d, height).forEach((c, v) => {
      if (c.shares !== undefined && !spentHere.has(outpointKey(d.txid, v))) out.push(c);
    });
  }
  return out;
}

/** Kinds of shares a tx's outputs hold, each once, in order. */
function kindsOut(d: DecodedTx): Uint8Array[] {
  const kinds: Uint8Array[] = [];
  for (const o of d.tx.outputs) {
    const b = o.bitmark;
    if (b.type === 'shares' && !kinds.some((k) => equalBytes(k, b.id))) kinds.push(b.id);
  }
  return kinds;
}

/** Per kind the tx's outputs hold: who gave (input owners, summed) and what each output got. */
function movesOf(
  d: DecodedTx,
  kinds: readonly Uint8Array[],
  inputs: readonly Coin[],
): [Uint8Array, ShareMove][] {
  return kinds.map((kind) => {
    const from = new Map<string, { owner: Uint8Array; quantity: number }>();
    for (const c of inputs) {
      if (c.shares === undefined || !equalBytes(c.shares.id, kind)) continue;
      const k = bytesKey(c.owner);
      const e = from.get(k);
      if (e === undefined) from.set(k, { owner: c.owner, quantity: c.shares.quantity });
      else e.quantity += c.shares.quantity;
    }
    const to: (ShareAmount & { vout: number })[] = [];
    d.tx.outputs.forEach((o, vout) => {
      if (o.bitmark.type === 'shares' && equalBytes(o.bitmark.id, kind))
        to.push({ vout, owner: o.owner, quantity: o.bitmark.quantity });
    });
    return [kind, { txid: d.txid, from: [...from.values()], to }];
  });
}
