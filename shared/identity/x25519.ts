/**
 * X25519 (RFC 7748) on node:crypto (OpenSSL): CURVE's key agreement, for deriving a public key
 * from a secret key and for the key proofs (shared/zmq/curve.ts). A JavaScript implementation
 * cost every process ~45 ms of start-up to load and each operation ~1 ms; OpenSSL's is built in.
 * Keys are the raw 32 bytes, handed to OpenSSL in the fixed DER wrappings of RFC 8410.
 */
import { Buffer } from 'node:buffer';
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject, randomBytes } from 'node:crypto';

/** PKCS#8 PrivateKeyInfo of an X25519 key, up to its 32 raw bytes. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
/** SubjectPublicKeyInfo of an X25519 key, up to its 32 raw bytes. */
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const KEY_BYTES = 32;

function privateKey(secret: Uint8Array): KeyObject {
  if (secret.length !== KEY_BYTES)
    throw new RangeError(`X25519 secret key must be 32 bytes, not ${secret.length}`);
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secret]), format: 'der', type: 'pkcs8' });
}

/** A new random secret key (any 32 bytes are one: X25519 clamps them). */
export function x25519SecretKey(): Uint8Array {
  return new Uint8Array(randomBytes(KEY_BYTES));
}

/** The public key of `secret`: the base point multiplied by it. */
export function x25519PublicKey(secret: Uint8Array): Uint8Array {
  const der = createPublicKey(privateKey(secret)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(SPKI_PREFIX.length));
}

/**
 * X25519(secret, theirPublic). Throws for a public key of low order, whose shared secret would be
 * all zeros whatever the secret (OpenSSL refuses it), and for a key of the wrong size.
 */
export function x25519SharedSecret(secret: Uint8Array, theirPublic: Uint8Array): Uint8Array {
  if (theirPublic.length !== KEY_BYTES)
    throw new RangeError(`X25519 public key must be 32 bytes, not ${theirPublic.length}`);
  const publicKey = createPublicKey({
    key: Buffer.concat([SPKI_PREFIX, theirPublic]),
    format: 'der',
    type: 'spki',
  });
  return new Uint8Array(diffieHellman({ privateKey: privateKey(secret), publicKey }));
}
