/**
 * Binary keys of the named databases. Integers in keys are big-endian so LMDB's byte order is
 * numeric order (heights sort, an address's history is in chain order).
 */
import { Buffer } from 'node:buffer';

export function u32be(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n, 0);
  return b;
}

/**
 * height (u32 BE) | tx position (u32 BE) | vout (u32 BE): where an output was created. New outputs
 * sort after all older ones, so a block's outputs are appended at the end of the UTXO tree (a few
 * pages) instead of scattered over it as txid-keyed entries would be.
 */
export function utxoKey(height: number, pos: number, vout: number): Buffer {
  const b = Buffer.allocUnsafe(12);
  b.writeUInt32BE(height, 0);
  b.writeUInt32BE(pos, 4);
  b.writeUInt32BE(vout, 8);
  return b;
}

/** owner (20) | height (u32 BE) | tx position (u32 BE): an address's transactions in chain order. */
export function addressTxKey(owner: Uint8Array, height: number, pos: number): Buffer {
  const b = Buffer.allocUnsafe(28);
  b.set(owner, 0);
  b.writeUInt32BE(height, 20);
  b.writeUInt32BE(pos, 24);
  return b;
}

/** bitmark id (32) | height (u32 BE) | tx position (u32 BE): one hop of a bitmark's provenance. */
export function provenanceKey(bitmark: Uint8Array, height: number, pos: number): Buffer {
  const b = Buffer.allocUnsafe(40);
  b.set(bitmark, 0);
  b.writeUInt32BE(height, 32);
  b.writeUInt32BE(pos, 36);
  return b;
}

/** The smallest and largest keys that begin with `prefix` followed by `tail` more bytes. */
export function prefixRange(prefix: Uint8Array, tail: number): { start: Buffer; end: Buffer } {
  const start = Buffer.alloc(prefix.length + tail);
  start.set(prefix);
  const end = Buffer.alloc(prefix.length + tail, 0xff);
  end.set(prefix);
  return { start, end };
}

/** owner (20) | share kind (32): an address's balance of one kind of shares. */
export function shareBalanceKey(owner: Uint8Array, kind: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(52);
  b.set(owner, 0);
  b.set(kind, 20);
  return b;
}

/** share kind (32) | owner (20): a holder of one kind of shares (the balance again, by kind). */
export function shareHolderKey(kind: Uint8Array, owner: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(52);
  b.set(kind, 0);
  b.set(owner, 32);
  return b;
}
