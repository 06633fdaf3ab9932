import { isCompressedPubkeyShape, isLowS, type SignatureVerifier } from '../core/signature.ts';

/** A backend's bare verify: may throw on malformed input, may accept forms we refuse. */
export type RawVerify = (sig: Uint8Array, msg32: Uint8Array, pubkey33: Uint8Array) => boolean;

/**
 * Gives every backend the same semantics: the shape checks (64-byte low-S signature, 32-byte
 * message, 33-byte compressed key) are ours, made before the backend sees anything, and whatever
 * a backend throws on input it cannot parse becomes `false`.
 */
export function guardedVerifier(name: string, raw: RawVerify): SignatureVerifier {
  return {
    name,
    verify(sig: Uint8Array, msg32: Uint8Array, pubkey33: Uint8Array): boolean {
      if (!isLowS(sig) || msg32.length !== 32 || !isCompressedPubkeyShape(pubkey33)) return false;
      try {
        return raw(sig, msg32, pubkey33);
      } catch {
        return false; // unparsable signature (r or s ≥ n) or key (x ≥ p, not on the curve)
      }
    },
  };
}
