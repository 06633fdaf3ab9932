/** The fixed-size block header: encoding, id and proof-of-work check. */
import { Reader } from '../encoding/reader.ts';
import { Writer } from '../encoding/writer.ts';
import { DecodeError } from '../errors.ts';
import { sha256d } from '../hash.ts';
import { HASH_SIZE } from '../limits.ts';
import { type BlockHeader, HEADER_SIZE } from './types.ts';

export function encodeHeader(h: BlockHeader): Uint8Array {
  return new Writer(HEADER_SIZE)
    .u32(h.version)
    .bytes(h.prevHash)
    .bytes(h.merkleRoot)
    .u64(h.time)
    .u32(h.bits)
    .u64big(h.nonce)
    .finish();
}

export function readHeader(r: Reader): BlockHeader {
  return {
    version: r.u32('header.version'),
    prevHash: r.bytes(HASH_SIZE, 'header.prevHash'),
    merkleRoot: r.bytes(HASH_SIZE, 'header.merkleRoot'),
    time: r.u64('header.time'),
    bits: r.u32('header.bits'),
    nonce: r.u64big('header.nonce'),
  };
}

export function decodeHeader(raw: Uint8Array): BlockHeader {
  if (raw.length !== HEADER_SIZE) {
    throw new DecodeError(
      raw.length < HEADER_SIZE ? 'decode-truncated' : 'decode-trailing-bytes',
      'header',
      `${raw.length} bytes, expected ${HEADER_SIZE}`,
    );
  }
  return readHeader(new Reader(raw));
}

export function headerHash(h: BlockHeader): Uint8Array {
  return sha256d(encodeHeader(h));
}
