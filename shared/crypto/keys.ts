/**
 * Client-side key handling and signing (wallet/CLI, tests, benchmarks) over @noble/secp256k1.
 * The node itself only verifies; see the SignatureVerifier backends next to this file.
 *
 * noble v3 signs synchronously only once `hashes.sha256` / `hashes.hmacSha256` are provided; we
 * provide them from node:crypto on first import, unless something else already configured them.
 */
import { createHash, createHmac } from 'node:crypto';
import { getPublicKey, hashes, sign, utils } from '@noble/secp256k1';

hashes.sha256 ??= (message) => new Uint8Array(createHash('sha256').update(message).digest());
hashes.hmacSha256 ??= (key, message) => new Uint8Array(createHmac('sha256', key).update(message).digest());

/** Options for noble's sign: msg32 is already a digest, RFC 6979 nonce with no extra entropy, low-S. */
const SIGN_OPTS = Object.freeze({
  prehash: false,
  lowS: true,
  format: 'compact' as const,
  extraEntropy: false,
});

/** A fresh private key: 32 bytes, uniformly distributed scalar in [1, n-1], from the OS CSPRNG. */
export function generatePrivateKey(): Uint8Array {
  return utils.randomSecretKey();
}

/** The 33-byte compressed (02/03 || x) public key of `priv`. Throws if `priv` is not a valid scalar. */
export function publicKeyOf(priv: Uint8Array): Uint8Array {
  return getPublicKey(priv, true);
}

/**
 * Signs the 32-byte digest `msg32` (no further hashing) with `priv`: 64-byte r||s, deterministic
 * RFC 6979 nonce (same inputs → same signature), s normalised to the low half (s ≤ n/2).
 * Throws on a message that is not 32 bytes or an invalid private key.
 */
export function signCompact(msg32: Uint8Array, priv: Uint8Array): Uint8Array {
  if (msg32.length !== 32) {
    throw new RangeError(`message must be 32 bytes, got ${msg32.length}`);
  }
  return sign(msg32, priv, SIGN_OPTS);
}
