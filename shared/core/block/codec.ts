/** Block encoding: header, tx count, transactions. */
import { Reader } from '../encoding/reader.ts';
import { Writer } from '../encoding/writer.ts';
import { DecodeError } from '../errors.ts';
import { sha256d } from '../hash.ts';
import { MAX_BLOCK_SIZE, MIN_TX_SIZE } from '../limits.ts';
import { encodeTx, readTx } from '../tx/codec.ts';
import { PreparedHashes } from '../tx/prepared.ts';
import type { DecodedTx, Transaction } from '../tx/types.ts';
import { encodeHeader, readHeader } from './header.ts';
import { type BlockHeader, type DecodedBlock, HEADER_SIZE } from './types.ts';

export function encodeBlock(header: BlockHeader, txs: readonly (Transaction | DecodedTx)[]): Uint8Array {
  const w = new Writer(HEADER_SIZE + 256 * txs.length);
  w.bytes(encodeHeader(header)).varint(txs.length);
  for (const t of txs) {
    w.bytes('raw' in t ? t.raw : encodeTx(t));
  }
  return w.finish();
}

export function decodeBlock(raw: Uint8Array): DecodedBlock {
  return readBlock(raw, undefined);
}

/**
 * Decodes a block a verify worker prepared (validation/block-prepare.ts) with the txids and input
 * owners it computed of these same bytes. Undefined when `pack` does not fit the block (not made
 * for it): decode it the ordinary way then.
 */
export function decodePreparedBlock(raw: Uint8Array, pack: Uint8Array): DecodedBlock | undefined {
  try {
    return readBlock(raw, pack);
  } catch {
    return undefined;
  }
}

/** The transaction count a block's bytes state (after the header), without decoding it. */
export function blockTxCount(raw: Uint8Array): number {
  return new Reader(raw, HEADER_SIZE).count('block.txs.count', Math.floor(raw.length / MIN_TX_SIZE));
}

function readBlock(raw: Uint8Array, pack: Uint8Array | undefined): DecodedBlock {
  if (raw.length > MAX_BLOCK_SIZE) {
    throw new DecodeError('decode-too-large', 'block', `${raw.length} bytes > ${MAX_BLOCK_SIZE}`);
  }
  const r = new Reader(raw);
  const header = readHeader(r);
  const n = r.count('block.txs.count', Math.floor(r.remaining / MIN_TX_SIZE));
  const known = pack === undefined ? undefined : new PreparedHashes(pack, n);
  const txs: DecodedTx[] = new Array(n);
  for (let i = 0; i < n; i++) {
    txs[i] = readTx(r, raw, known);
  }
  r.end('block');
  if (known !== undefined && !known.complete) throw new RangeError('prepared block: hashes left over');
  return { header, hash: sha256d(raw.subarray(0, HEADER_SIZE)), raw, txs };
}
