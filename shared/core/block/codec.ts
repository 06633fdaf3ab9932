/** Block encoding: header, tx count, transactions. */
import { Reader } from '../encoding/reader.ts';
import { Writer } from '../encoding/writer.ts';
import { DecodeError } from '../errors.ts';
import { sha256d } from '../hash.ts';
import { MAX_BLOCK_SIZE, MIN_TX_SIZE } from '../limits.ts';
import { encodeTx, readTx } from '../tx/codec.ts';
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
  if (raw.length > MAX_BLOCK_SIZE) {
    throw new DecodeError('decode-too-large', 'block', `${raw.length} bytes > ${MAX_BLOCK_SIZE}`);
  }
  const r = new Reader(raw);
  const header = readHeader(r);
  const n = r.count('block.txs.count', Math.floor(r.remaining / MIN_TX_SIZE));
  const txs: DecodedTx[] = new Array(n);
  for (let i = 0; i < n; i++) {
    txs[i] = readTx(r, raw);
  }
  r.end('block');
  return { header, hash: sha256d(raw.subarray(0, HEADER_SIZE)), raw, txs };
}
