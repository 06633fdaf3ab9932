/**
 * SignatureVerifier backed by `@noble/secp256k1` (audited pure JS, bigint arithmetic): the fallback
 * of last resort, slow but with no native or WASM dependency.
 */
import { verify as nobleVerify } from '@noble/secp256k1';
import type { SignatureVerifier } from '../core/signature.ts';
import { guardedVerifier } from './guarded.ts';

/** Options for noble's verify: msg32 is already a digest, low-S only, 64-byte r||s. Shared, frozen. */
const VERIFY_OPTS = Object.freeze({ prehash: false, lowS: true, format: 'compact' as const });

/**
 * Returns a verifier over @noble/secp256k1 (throws only if the module is unusable).
 *
 * Semantics (identical across backends): true iff sig is 64 bytes with s in [1, n/2] (checked here
 * with the core's `isLowS`), msg32 is 32 bytes, pubkey33 is 33 bytes with prefix 02/03 (checked
 * here), and the ECDSA check passes. noble rejects r or s outside [1, n-1] and a key off the curve
 * (returns false); it throws on wrong lengths, which the pre-checks exclude, and we catch anyway.
 */
export function createNobleVerifier(): SignatureVerifier {
  if (typeof nobleVerify !== 'function') {
    throw new Error('@noble/secp256k1 has no verify');
  }
  return guardedVerifier('noble', (sig, msg, pub) => nobleVerify(sig, msg, pub, VERIFY_OPTS));
}
