/**
 * Hash functions of the protocol. SHA-256 comes from node:crypto (OpenSSL), the fastest path
 * measured in Node; `crypto.hash` one-shot avoids a Hash object per call.
 *
 * Digests come back as small Uint8Arrays that V8 keeps inside its own heap (up to 64 bytes), built
 * from crypto.hash's 'binary' (latin1) string, not as its 'buffer' output: that is a new ArrayBuffer with a
 * malloc'd store per call, which every young-generation collection must sweep and V8's helper
 * threads free. A double SHA-256 of 120 bytes cost 1.8 µs of CPU that way, 0.67 µs this way
 * (docs/performance.md, issue 12's twelfth step); a syncing node hashes ~7 times per transaction.
 */
import { Buffer } from 'node:buffer';
import { hash as oneShot } from 'node:crypto';

/** A binary string (one char per byte: crypto.hash's 'binary' output) as bytes in V8's heap. */
function bytesOf(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function sha256(data: Uint8Array): Uint8Array {
  return bytesOf(oneShot('sha256', data, 'binary'));
}

/** SHA-256 applied twice: header PoW, block ids, tx ids. */
export function sha256d(data: Uint8Array): Uint8Array {
  return bytesOf(oneShot('sha256', bytesOf(oneShot('sha256', data, 'binary')), 'binary'));
}

/** RIPEMD-160(SHA-256(x)): the 20-byte owner hash of a public key. */
export function hash160(data: Uint8Array): Uint8Array {
  return bytesOf(oneShot('ripemd160', bytesOf(oneShot('sha256', data, 'binary')), 'binary'));
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
    return bytesOf(oneShot('sha256', buf, 'binary'));
  }
}

export const TAG_SIGHASH = new TaggedHash('cairn/sighash');
export const TAG_MERKLE = new TaggedHash('cairn/merkle');
export const TAG_BITMARK = new TaggedHash('cairn/bitmark');
export const TAG_ASSET = new TaggedHash('cairn/asset');
