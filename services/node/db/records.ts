/** Value encodings of the named databases (canonical, with the core's Reader/Writer). */

import { Buffer } from 'node:buffer';
import { decodeHeader, encodeHeader } from '../../../shared/core/block/header.ts';
import { type BlockHeader, HEADER_SIZE } from '../../../shared/core/block/types.ts';
import { bigIntToLeBytes, leBytesToBigInt } from '../../../shared/core/bytes.ts';
import { Reader } from '../../../shared/core/encoding/reader.ts';
import { Writer } from '../../../shared/core/encoding/writer.ts';
import { DecodeError } from '../../../shared/core/errors.ts';
import {
  HASH_SIZE,
  MAX_ASSET_FINGERPRINT,
  MAX_ASSET_METADATA,
  MAX_ASSET_NAME,
  MAX_SHARES,
  OWNER_SIZE,
} from '../../../shared/core/limits.ts';
import type { AssetRecord, Coin } from '../../../shared/core/validation/view.ts';

const COIN_COINBASE = 1;
const COIN_BITMARK = 2;
const COIN_SHARES = 4;

/**
 * One writer for the records written per coin and per address row while a block connects (several
 * per transaction), never held across a call: each encode then allocates only its result, a copy
 * in Node's Buffer pool, which is also what the write batch hands to lmdb-js (write-batch.ts).
 */
const scratch = new Writer(256);

/** owner 20 | amount varint | height varint | flags u8 | [bitmark 32] | [share kind 32 | quantity varint] */
export function encodeCoin(c: Coin): Buffer {
  return Buffer.from(writeCoin(scratch.reset(), c).written());
}

function writeCoin(w: Writer, c: Coin): Writer {
  w.bytes(c.owner).varint(c.amount).varint(c.height);
  const flags =
    (c.coinbase ? COIN_COINBASE : 0) |
    (c.bitmark !== null ? COIN_BITMARK : 0) |
    (c.shares !== undefined ? COIN_SHARES : 0);
  w.u8(flags);
  if (c.bitmark !== null) w.bytes(c.bitmark);
  if (c.shares !== undefined) w.bytes(c.shares.id).varint(c.shares.quantity);
  return w;
}

export function readCoin(r: Reader): Coin {
  const owner = r.bytes(OWNER_SIZE, 'coin.owner');
  const amount = r.varint('coin.amount');
  const height = r.varint('coin.height');
  const flags = r.u8('coin.flags');
  const bitmark = flags & COIN_BITMARK ? r.bytes(HASH_SIZE, 'coin.bitmark') : null;
  const coinbase = (flags & COIN_COINBASE) !== 0;
  if ((flags & COIN_SHARES) === 0) return { owner, amount, height, coinbase, bitmark };
  const shares = {
    id: r.bytes(HASH_SIZE, 'coin.shares.id'),
    quantity: r.varint('coin.shares.quantity', MAX_SHARES),
  };
  return { owner, amount, height, coinbase, bitmark, shares };
}

export function decodeCoin(b: Uint8Array): Coin {
  const r = new Reader(b);
  const c = readCoin(r);
  r.end('coin');
  return c;
}

/** A coin spent by a block, with where it was created (txid, position in its block, vout). */
export interface SpentCoin {
  readonly txid: Uint8Array;
  readonly pos: number;
  readonly vout: number;
  readonly coin: Coin;
}

/** Undo data of a block: the coins it spent, in block order. */
export function encodeUndo(spent: readonly SpentCoin[]): Uint8Array {
  const w = new Writer(64 + spent.length * 80).varint(spent.length);
  for (const s of spent) writeCoin(w.bytes(s.txid).varint(s.pos).varint(s.vout), s.coin);
  return w.finish();
}

export function decodeUndo(b: Uint8Array): SpentCoin[] {
  const r = new Reader(b);
  const n = r.count('undo.count', Math.floor(b.length / 56));
  const out: SpentCoin[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const txid = r.bytes(HASH_SIZE, 'undo.txid');
    const pos = r.varint('undo.pos', 0xffffffff);
    const vout = r.varint('undo.vout', 0xffffffff);
    out[i] = { txid, pos, vout, coin: readCoin(r) };
  }
  r.end('undo');
  return out;
}

export function encodeAsset(a: AssetRecord): Uint8Array {
  return new Writer(128)
    .bytes(a.id)
    .varBytes(new TextEncoder().encode(a.name))
    .varBytes(a.fingerprint)
    .varBytes(a.metadata)
    .bytes(a.registrant)
    .bytes(a.txid)
    .varint(a.height)
    .finish();
}

export function decodeAsset(b: Uint8Array): AssetRecord {
  const r = new Reader(b);
  const a: AssetRecord = {
    id: r.bytes(HASH_SIZE, 'asset.id'),
    name: new TextDecoder().decode(r.varBytes('asset.name', MAX_ASSET_NAME)),
    fingerprint: r.varBytes('asset.fingerprint', MAX_ASSET_FINGERPRINT),
    metadata: r.varBytes('asset.metadata', MAX_ASSET_METADATA),
    registrant: r.bytes(OWNER_SIZE, 'asset.registrant'),
    txid: r.bytes(HASH_SIZE, 'asset.txid'),
    height: r.varint('asset.height'),
  };
  r.end('asset');
  return a;
}

export const BlockStatus = { headerOnly: 0, haveData: 1, valid: 2, invalid: 3 } as const;
export type BlockStatusValue = (typeof BlockStatus)[keyof typeof BlockStatus];

export interface HeaderRecord {
  readonly header: BlockHeader;
  readonly height: number;
  /** Cumulative work of the chain ending at this block. */
  readonly work: bigint;
  readonly status: BlockStatusValue;
}

/** header 88 | height u32 | cumulative work 32 (LE) | status u8 */
export function encodeHeaderRecord(h: HeaderRecord): Uint8Array {
  return new Writer(HEADER_SIZE + 40)
    .bytes(encodeHeader(h.header))
    .u32(h.height)
    .bytes(bigIntToLeBytes(h.work, 32))
    .u8(h.status)
    .finish();
}

export function decodeHeaderRecord(b: Uint8Array): HeaderRecord {
  const r = new Reader(b);
  const header = decodeHeader(r.bytes(HEADER_SIZE, 'record.header'));
  const height = r.u32('record.height');
  const work = leBytesToBigInt(r.bytes(32, 'record.work'));
  const status = r.u8('record.status');
  r.end('record');
  if (status > BlockStatus.invalid) throw new Error(`unknown block status ${status}`);
  return { header, height, work, status: status as BlockStatusValue };
}

/** Where a bitmark is now: its asset and the output holding it. */
export interface BitmarkLocation {
  readonly assetId: Uint8Array;
  readonly txid: Uint8Array;
  readonly vout: number;
}

export function encodeBitmarkLocation(l: BitmarkLocation): Uint8Array {
  return new Writer(72).bytes(l.assetId).bytes(l.txid).varint(l.vout).finish();
}

export function decodeBitmarkLocation(b: Uint8Array): BitmarkLocation {
  const r = new Reader(b);
  const l = {
    assetId: r.bytes(HASH_SIZE, 'bitmark.asset'),
    txid: r.bytes(HASH_SIZE, 'bitmark.txid'),
    vout: r.varint('bitmark.vout', 0xffffffff),
  };
  r.end('bitmark');
  return l;
}

/** One hop of provenance: the output that received the bitmark, and its owner. */
export interface ProvenanceHop {
  readonly txid: Uint8Array;
  readonly vout: number;
  readonly owner: Uint8Array;
}

export function encodeHop(h: ProvenanceHop): Uint8Array {
  return new Writer(64).bytes(h.txid).varint(h.vout).bytes(h.owner).finish();
}

export function decodeHop(b: Uint8Array): ProvenanceHop {
  const r = new Reader(b);
  const h = {
    txid: r.bytes(HASH_SIZE, 'hop.txid'),
    vout: r.varint('hop.vout', 0xffffffff),
    owner: r.bytes(OWNER_SIZE, 'hop.owner'),
  };
  r.end('hop');
  return h;
}

/** Where a tx of the active chain is: height u32 | position u32 (the block hash is the chain's at that height). */
export interface TxLocation {
  readonly height: number;
  readonly pos: number;
}

export function encodeTxLocation(l: TxLocation): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32BE(l.height, 0);
  b.writeUInt32BE(l.pos, 4);
  return b;
}

export function decodeTxLocation(b: Uint8Array): TxLocation {
  if (b.length !== 8) throw new DecodeError('decode-bad-value', 'txloc', `${b.length} bytes, expected 8`);
  const v = new DataView(b.buffer, b.byteOffset, 8);
  return { height: v.getUint32(0), pos: v.getUint32(4) };
}

/** Address history value: the txid and which of its outputs the address owns. */
export function encodeAddressTx(txid: Uint8Array, vouts: readonly number[]): Buffer {
  const w = scratch.reset().bytes(txid).varint(vouts.length);
  for (const v of vouts) w.varint(v);
  return Buffer.from(w.written());
}

export function decodeAddressTx(b: Uint8Array): { txid: Uint8Array; vouts: number[] } {
  const r = new Reader(b);
  const txid = r.bytes(HASH_SIZE, 'addrtx.txid');
  const n = r.count('addrtx.count', r.remaining);
  const vouts: number[] = new Array(n);
  for (let i = 0; i < n; i++) vouts[i] = r.varint('addrtx.vout', 0xffffffff);
  r.end('addrtx');
  return { txid, vouts };
}

/** A bitmark that was split into shares: the kind's fixed facts, from its split. */
export interface ShareKindRecord {
  readonly assetId: Uint8Array;
  readonly total: number;
  /** The split transaction, where it is, and who split (the owner of the bitmark). */
  readonly txid: Uint8Array;
  readonly height: number;
  readonly pos: number;
  readonly owner: Uint8Array;
}

/** asset id 32 | total varint | split txid 32 | height varint | position varint | owner 20 */
export function encodeShareKind(k: ShareKindRecord): Uint8Array {
  return new Writer(128)
    .bytes(k.assetId)
    .varint(k.total)
    .bytes(k.txid)
    .varint(k.height)
    .varint(k.pos)
    .bytes(k.owner)
    .finish();
}

export function decodeShareKind(b: Uint8Array): ShareKindRecord {
  const r = new Reader(b);
  const k = {
    assetId: r.bytes(HASH_SIZE, 'sharekind.asset'),
    total: r.varint('sharekind.total', MAX_SHARES),
    txid: r.bytes(HASH_SIZE, 'sharekind.txid'),
    height: r.varint('sharekind.height', 0xffffffff),
    pos: r.varint('sharekind.pos', 0xffffffff),
    owner: r.bytes(OWNER_SIZE, 'sharekind.owner'),
  };
  r.end('sharekind');
  return k;
}

/** An owner and a quantity of one kind of shares. */
export interface ShareAmount {
  readonly owner: Uint8Array;
  readonly quantity: number;
}

/** One transaction's move of one kind of shares: who gave how many, and which outputs got how many. */
export interface ShareMove {
  readonly txid: Uint8Array;
  readonly from: readonly ShareAmount[];
  readonly to: readonly (ShareAmount & { readonly vout: number })[];
}

/** txid 32 | from count | (owner 20 | quantity)* | to count | (vout | owner 20 | quantity)* */
export function encodeShareMove(m: ShareMove): Uint8Array {
  const w = new Writer(64 + 32 * (m.from.length + m.to.length)).bytes(m.txid).varint(m.from.length);
  for (const f of m.from) w.bytes(f.owner).varint(f.quantity);
  w.varint(m.to.length);
  for (const t of m.to) w.varint(t.vout).bytes(t.owner).varint(t.quantity);
  return w.finish();
}

export function decodeShareMove(b: Uint8Array): ShareMove {
  const r = new Reader(b);
  const txid = r.bytes(HASH_SIZE, 'sharemove.txid');
  const from: ShareAmount[] = [];
  for (let n = r.count('sharemove.from', Math.floor(r.remaining / 21)); n > 0; n--)
    from.push({
      owner: r.bytes(OWNER_SIZE, 'sharemove.from.owner'),
      quantity: r.varint('sharemove.from.quantity', MAX_SHARES),
    });
  const to: (ShareAmount & { vout: number })[] = [];
  for (let n = r.count('sharemove.to', Math.floor(r.remaining / 22)); n > 0; n--) {
    const vout = r.varint('sharemove.to.vout', 0xffffffff);
    to.push({
      vout,
      owner: r.bytes(OWNER_SIZE, 'sharemove.to.owner'),
      quantity: r.varint('sharemove.to.quantity', MAX_SHARES),
    });
  }
  r.end('sharemove');
  return { txid, from, to };
}
