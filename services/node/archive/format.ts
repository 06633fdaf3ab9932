/**
 * The block archive format (docs/protocol.md §15), version 1. Integers little-endian.
 *
 *   header (52 bytes): magic 'CAIRNBLK' | version u32 | genesis hash (32) | first height u32 |
 *                      check (4)
 *   block records:     length u32 (88..8,000,000) | raw block | check (4)
 *   end record:        0 u32 | block count u32 | hash of the last block (32) | check (4)
 *
 * Every check is the first 4 bytes of SHA-256 of the bytes of its part before it, so a flipped
 * byte is found in the part it damaged (and its offset named) before that part is used. The end
 * record tells a complete file from one cut at a record boundary. Blocks follow each other in
 * chain order: each builds on the one before (checked by the reader).
 */
import { Buffer } from 'node:buffer';
import { HEADER_SIZE } from '../../../shared/core/block/types.ts';
import { sha256 } from '../../../shared/core/hash.ts';
import { HASH_SIZE, MAX_BLOCK_SIZE } from '../../../shared/core/limits.ts';

export const ARCHIVE_MAGIC = 'CAIRNBLK';
export const ARCHIVE_VERSION = 1;
const MAGIC = Buffer.from(ARCHIVE_MAGIC, 'latin1');
export const CHECK_SIZE = 4;
/** magic 8 + version 4 + genesis 32 + first height 4 + check 4. */
export const FILE_HEADER_SIZE = 52;
export const HEADER_OFFSETS = { magic: 0, version: 8, genesis: 12, from: 44, check: 48 } as const;
/** length 4 + count 4 + last hash 32 + check 4. */
export const END_SIZE = 44;
/** A block is at least its header; at most the encoding's cap. */
export const MIN_RECORD_BLOCK = HEADER_SIZE;
export const MAX_RECORD_BLOCK = MAX_BLOCK_SIZE;

export function check(bytes: Uint8Array): Buffer {
  return Buffer.from(sha256(bytes).subarray(0, CHECK_SIZE));
}

export interface ArchiveHeader {
  readonly version: number;
  readonly genesisHash: Uint8Array;
  /** Height of the first block record. */
  readonly from: number;
}

export function encodeFileHeader(h: ArchiveHeader): Buffer {
  const b = Buffer.alloc(FILE_HEADER_SIZE);
  MAGIC.copy(b, HEADER_OFFSETS.magic);
  b.writeUInt32LE(h.version, HEADER_OFFSETS.version);
  b.set(h.genesisHash, HEADER_OFFSETS.genesis);
  b.writeUInt32LE(h.from, HEADER_OFFSETS.from);
  check(b.subarray(0, HEADER_OFFSETS.check)).copy(b, HEADER_OFFSETS.check);
  return b;
}

/** True when `b` is the magic or its beginning. */
export function isMagicPrefix(b: Uint8Array): boolean {
  return b.length <= MAGIC.length && MAGIC.subarray(0, b.length).equals(b);
}

/** Size of a block's record: length, block, check. */
export function recordSize(blockLength: number): number {
  return 4 + blockLength + CHECK_SIZE;
}

/** Writes the record of `raw` into `out` at `at`; returns the offset after it. */
export function writeRecord(out: Buffer, at: number, raw: Uint8Array): number {
  out.writeUInt32LE(raw.length, at);
  out.set(raw, at + 4);
  const end = at + 4 + raw.length;
  check(out.subarray(at, end)).copy(out, end);
  return end + CHECK_SIZE;
}

export function encodeRecord(raw: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(recordSize(raw.length));
  writeRecord(b, 0, raw);
  return b;
}

export function encodeEnd(count: number, lastHash: Uint8Array): Buffer {
  const b = Buffer.alloc(END_SIZE);
  b.writeUInt32LE(0, 0);
  b.writeUInt32LE(count, 4);
  b.set(lastHash.subarray(0, HASH_SIZE), 8);
  check(b.subarray(0, END_SIZE - CHECK_SIZE)).copy(b, END_SIZE - CHECK_SIZE);
  return b;
}

/** A whole archive image (tests, vectors); export streams the same bytes. */
export function encodeArchive(
  genesisHash: Uint8Array,
  from: number,
  blocks: readonly { raw: Uint8Array; hash: Uint8Array }[],
  version = ARCHIVE_VERSION,
): Buffer {
  return Buffer.concat([
    encodeFileHeader({ version, genesisHash, from }),
    ...blocks.map((b) => encodeRecord(b.raw)),
    encodeEnd(blocks.length, blocks.at(-1)?.hash ?? new Uint8Array(HASH_SIZE)),
  ]);
}
