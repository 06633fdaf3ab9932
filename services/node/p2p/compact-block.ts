/**
 * Compact block relay (BIP152, adapted): the byte formats of `cmpctblock`, `blocktxn` and their
 * reply, and the short transaction ids. docs/protocol.md §Compact blocks has the layout and test
 * vectors.
 *
 * A short id is the low 48 bits of SipHash-2-4(k0, k1, txid), keyed by SHA-256(header ‖ nonce)
 * as Core does: the key depends on the block's header (which the sender cannot choose freely
 * without redoing its proof of work) and on a nonce the sender picks per block, so nobody can grind
 * transactions whose ids collide in blocks yet to come, and one unlucky collision does not repeat
 * to every peer.
 */
import { encodeHeader, readHeader } from '../../../shared/core/block/header.ts';
import { type BlockHeader, type DecodedBlock, HEADER_SIZE } from '../../../shared/core/block/types.ts';
import { Reader } from '../../../shared/core/encoding/reader.ts';
import { Writer } from '../../../shared/core/encoding/writer.ts';
import { DecodeError } from '../../../shared/core/errors.ts';
import { sha256 } from '../../../shared/core/hash.ts';
import { HASH_SIZE, MAX_BLOCK_SIZE, MIN_TX_SIZE } from '../../../shared/core/limits.ts';
import { readTx } from '../../../shared/core/tx/codec.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import { type PushStatus, pushStatusByte, pushStatusOf } from './messages.ts';
import { type SipKey, siphash24, sipKey } from './siphash.ts';

export const SHORT_ID_BYTES = 6;
/** Transactions a compact block may list: as many as the largest block can hold. */
export const MAX_COMPACT_TXS = Math.floor(MAX_BLOCK_SIZE / MIN_TX_SIZE);

export interface PrefilledTx {
  readonly index: number;
  readonly tx: DecodedTx;
}

export interface CompactBlock {
  readonly header: BlockHeader;
  /** The 88 header bytes as sent (the short-id key and the block hash come from them). */
  readonly rawHeader: Uint8Array;
  readonly nonce: bigint;
  /** 48-bit short ids of the transactions not prefilled, in block order. */
  readonly shortIds: readonly number[];
  /** Transactions sent whole, by block index, ascending (the coinbase always). */
  readonly prefilled: readonly PrefilledTx[];
}

/** SHA-256(header ‖ nonce as u64 LE): k0 = its bytes 0..7, k1 = 8..15. */
export function shortIdKey(rawHeader: Uint8Array, nonce: bigint): SipKey {
  return sipKey(sha256(new Writer(HEADER_SIZE + 8).bytes(rawHeader).u64big(nonce).finish()));
}

/** The 48-bit short id of a transaction id, as a number (exact: below 2^53). */
export function shortId(key: SipKey, txid: Uint8Array): number {
  const [lo, hi] = siphash24(key, txid);
  return (hi & 0xffff) * 0x1_0000_0000 + lo;
}

/**
 * The compact form of a block: the coinbase and the transactions the peer is not known to have
 * are sent whole (it would have to ask for them: a round trip), the rest as short ids.
 */
export function compactBlock(
  block: DecodedBlock,
  nonce: bigint,
  peerHas: (txid: Uint8Array) => boolean,
): CompactBlock {
  const rawHeader = block.raw.subarray(0, HEADER_SIZE);
  const key = shortIdKey(rawHeader, nonce);
  const shortIds: number[] = [];
  const prefilled: PrefilledTx[] = [];
  block.txs.forEach((tx, index) => {
    if (index === 0 || !peerHas(tx.txid)) prefilled.push({ index, tx });
    else shortIds.push(shortId(key, tx.txid));
  });
  return { header: block.header, rawHeader, nonce, shortIds, prefilled };
}

function writeShortId(w: Writer, id: number): void {
  const hi = Math.floor(id / 0x1_0000_0000);
  w.u32(id >>> 0)
    .u8(hi & 0xff)
    .u8(hi >>> 8);
}

function readShortId(r: Reader, field: string): number {
  const lo = r.u32(field);
  const b4 = r.u8(field);
  const b5 = r.u8(field);
  return (b4 | (b5 << 8)) * 0x1_0000_0000 + lo;
}

/** header 88 | nonce u64 | varint n, n × 6-byte short id | varint m, m × (varint index delta, tx). */
export function encodeCompactBlock(c: CompactBlock): Uint8Array {
  const w = new Writer(HEADER_SIZE + 16 + c.shortIds.length * SHORT_ID_BYTES + c.prefilled.length * 300);
  w.bytes(encodeHeader(c.header)).u64big(c.nonce).varint(c.shortIds.length);
  for (const id of c.shortIds) writeShortId(w, id);
  w.varint(c.prefilled.length);
  let next = 0;
  for (const p of c.prefilled) {
    // differential, as BIP152: the gap since the previous prefilled index + 1
    w.varint(p.index - next).bytes(p.tx.raw);
    next = p.index + 1;
  }
  return w.finish();
}

export function decodeCompactBlock(b: Uint8Array): CompactBlock {
  const r = new Reader(b);
  const header = readHeader(r);
  const rawHeader = b.subarray(0, HEADER_SIZE);
  const nonce = r.u64big('cmpctblock.nonce');
  const n = r.count(
    'cmpctblock.shortids',
    Math.min(MAX_COMPACT_TXS, Math.floor(r.remaining / SHORT_ID_BYTES)),
  );
  const shortIds: number[] = new Array(n);
  for (let i = 0; i < n; i++) shortIds[i] = readShortId(r, 'cmpctblock.shortid');
  const m = r.count(
    'cmpctblock.prefilled',
    Math.min(MAX_COMPACT_TXS - n, Math.floor(r.remaining / MIN_TX_SIZE)),
  );
  if (n + m === 0) throw new DecodeError('decode-bad-value', 'cmpctblock', 'a block has at least a coinbase');
  const prefilled: PrefilledTx[] = [];
  let next = 0;
  for (let i = 0; i < m; i++) {
    const index = next + r.varint('cmpctblock.prefilled.index', n + m - 1 - next);
    prefilled.push({ index, tx: readTx(r, b) });
    next = index + 1;
  }
  r.end('cmpctblock');
  return { header, rawHeader, nonce, shortIds, prefilled };
}

/** `blocktxn`: the block's hash and the transactions asked for, in the order asked. */
export interface BlockTxns {
  readonly hash: Uint8Array;
  readonly txs: readonly DecodedTx[];
}

export function encodeBlockTxns(m: BlockTxns): Uint8Array {
  const w = new Writer(HASH_SIZE + 8 + m.txs.reduce((s, t) => s + t.raw.length, 0));
  w.bytes(m.hash).varint(m.txs.length);
  for (const t of m.txs) w.bytes(t.raw);
  return w.finish();
}

export function decodeBlockTxns(b: Uint8Array): BlockTxns {
  const r = new Reader(b);
  const hash = r.bytes(HASH_SIZE, 'blocktxn.hash');
  const n = r.count('blocktxn.txs', Math.min(MAX_COMPACT_TXS, Math.floor(r.remaining / MIN_TX_SIZE)));
  const txs: DecodedTx[] = new Array(n);
  for (let i = 0; i < n; i++) txs[i] = readTx(r, b);
  r.end('blocktxn');
  return { hash, txs };
}

/**
 * The answer to `cmpctblock` and `blocktxn`: what became of the block (as for a pushed block), or
 * what the receiver still needs: the transactions at these block indexes, or the whole block (the
 * compact form did not rebuild: a short-id collision, a merkle root that does not match).
 */
export type CompactReply =
  | { readonly status: PushStatus }
  | { readonly status: 'want-txs'; readonly indexes: readonly number[] }
  | { readonly status: 'want-block' };

const WANT_TXS = 4;
const WANT_BLOCK = 5;

export function encodeCompactReply(m: CompactReply): Uint8Array {
  if (m.status === 'want-block') return Uint8Array.of(WANT_BLOCK);
  if (m.status !== 'want-txs') return Uint8Array.of(pushStatusByte(m.status));
  const w = new Writer(8 + m.indexes.length * 2).u8(WANT_TXS).varint(m.indexes.length);
  let next = 0;
  for (const i of m.indexes) {
    w.varint(i - next);
    next = i + 1;
  }
  return w.finish();
}

export function decodeCompactReply(b: Uint8Array): CompactReply {
  const r = new Reader(b);
  const s = r.u8('cmpctreply.status');
  let out: CompactReply;
  if (s === WANT_BLOCK) out = { status: 'want-block' };
  else if (s === WANT_TXS) {
    const n = r.count('cmpctreply.indexes', Math.min(MAX_COMPACT_TXS, r.remaining));
    const indexes: number[] = new Array(n);
    let next = 0;
    for (let i = 0; i < n; i++) {
      indexes[i] = next + r.varint('cmpctreply.index', MAX_COMPACT_TXS - 1 - next);
      next = indexes[i]! + 1;
    }
    out = { status: 'want-txs', indexes };
  } else out = { status: pushStatusOf(s) };
  r.end('cmpctreply');
  return out;
}
