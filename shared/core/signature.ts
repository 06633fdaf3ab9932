/**
 * What the core needs from secp256k1: verification of 64-byte compact ECDSA signatures over a
 * 32-byte message hash, with 33-byte compressed public keys. Implementations live outside the core
 * (shared/crypto: native libsecp256k1, WASM, pure JS) and are passed in, so the core stays pure.
 */

export interface SignatureVerifier {
  /** Which implementation answers: 'native' | 'wasm' | 'noble'. */
  readonly name: string;
  /**
   * True iff `sig` (r||s, 64 bytes, s ≤ n/2) is a valid signature of `msg32` by `pubkey33`.
   * Must return false, never throw, for any malformed signature, key or message.
   */
  verify(sig: Uint8Array, msg32: Uint8Array, pubkey33: Uint8Array): boolean;
}

/** secp256k1 group order n, and n/2 (the low-S bound), as 32-byte big-endian. */
const N_HALF = Uint8Array.from([
  0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x5d, 0x57,
  0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
]);

/** s (bytes 32..63 of a compact signature) is in [1, n/2]: the only accepted form (no malleability). */
export function isLowS(sig: Uint8Array): boolean {
  if (sig.length !== 64) {
    return false;
  }
  let nonzero = false;
  for (let i = 32; i < 64; i++) {
    if (sig[i] !== 0) {
      nonzero = true;
    }
  }
  if (!nonzero) {
    return false;
  }
  for (let i = 0; i < 32; i++) {
    const s = sig[32 + i]!;
    const h = N_HALF[i]!;
    if (s !== h) {
      return s < h;
    }
  }
  return true; // s == n/2 exactly
}

/** A compressed public key has 33 bytes and prefix 02 or 03 (on-curve is checked by verify). */
export function isCompressedPubkeyShape(pk: Uint8Array): boolean {
  return pk.length === 33 && (pk[0] === 0x02 || pk[0] === 0x03);
}
