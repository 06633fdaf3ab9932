/**
 * Hash functions of the protocol. SHA-256 comes from node:crypto (OpenSSL), the fastest path
 * measured in Node; `crypto.hash` one-shot avoids a Hash object per call.
 */
import { Buffer } from 'node:buffer';
import { hash as oneShot } from 'node:crypto';

export function sha256(data: Uint8Array): Uint8Array {
  return oneShot('sha256', data, 'buffer');
}

/** SHA-256 applied twice: header PoW, block ids, tx ids. */
export function sha256d(data: Uint8Array): Uint8Array {
  return oneShot('sha256', oneShot('sha256', data, 'buffer'), 'buffer');
}

/** RIPEMD-160(SHA-256(x)): the 20-byte owner hash of a public key. */
export function hash160(data: Uint8Array): Uint8Array {
  return oneShot('ripemd160', oneShot('sha256', data, 'buffer'), 'buffer');
}

/**
 * BIP-340 style tagged hash: SHA-256(SHA-256(tag) || SHA-256(tag) || data). Separates the domains
 * of signature hashes, merkle nodes and derived ids so that no value of one kind can pass for another.
 */
export class TaggedHash {
  readonly tag: string;
  readonly #prefix: Buffer;

  constructor(tag: string) {
    this.tag = tag;
    const t = oneShot('sha256', tag, 'buffer');
    this.#prefix = Buffer.concat([t, t]);
  }

  /** One-shot over one pooled buffer: cheaper than cloning a Hash object per call (GC pressure). */
  digest(...parts: Uint8Array[]): Uint8Array {
    let n = 64;
    for (const p of parts) {
      n += p.length;
    }
    const buf = Buffer.allocUnsafe(n);
    this.#prefix.copy(buf, 0);
    let o = 64;
    for (const p of parts) {
      buf.set(p, o);
      o += p.length;
    }
    return oneShot('sha256', buf, 'buffer');
  }
}

export const TAG_SIGHASH = new TaggedHash('cairn/sighash');
export const TAG_MERKLE = new TaggedHash('cairn/merkle');
export const TAG_BITMARK = new TaggedHash('cairn/bitmark');
export const TAG_ASSET = new TaggedHash('cairn/asset');
