/**
 * CURVE helpers: socket options for servers and clients, and an application-level proof that a
 * peer holds the secret key of the CURVE public key it claims.
 *
 * Why the proof exists. CURVE authenticates the connection: the server learns the client's
 * long-term public key during the handshake, and our ZAP handler (zap.ts) lets the connection in
 * or not. But zeromq.js cannot read a received message's ZAP "User-Id" property
 * (zmq_msg_gets), so the application never learns WHICH key sent a given message. A peer that
 * connects with key Y could therefore claim "I am X" in its handshake message and borrow X's
 * reputation, allow-list entry or ring position. The proof closes that gap:
 *
 *   proof = HMAC-SHA256(key = X25519(mySecret, theirPublic), 'cairn-key-proof-v1' || context)
 *
 * X25519 is symmetric: X25519(c, S) = X25519(s, C). The client computes it with its own secret
 * and the server's public key; the server computes the same value with ITS secret and the CLAIMED
 * client public key. Only the holders of c or s can compute it, so a proof that the server did not
 * make itself shows the claimant holds c. A man in the middle cannot relay a proof either: the
 * real holder of c computes proofs only against the server key it actually talks to.
 *
 * Because both ends could compute the same value, `context` must say who proves to whom and must
 * carry a fresh challenge from the verifier, e.g. `'client->server' || serverNonce || C || S`;
 * otherwise a proof could be replayed or reflected back at its author. Low-order public keys
 * (which would make the shared secret predictable) are refused by OpenSSL's X25519.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { x25519PublicKey, x25519SharedSecret } from '../identity/x25519.ts';
import { isZ85Key, z85Decode } from '../identity/z85.ts';
import { TransportError } from './errors.ts';

/** A CURVE key pair, both halves in Z85 (40 characters each). */
export interface CurveKeys {
  publicKey: string;
  secretKey: string;
}

/** Socket options for a CURVE server. Spread them into a zeromq.js socket constructor. */
export interface CurveServerOptions {
  curveServer: true;
  curvePublicKey: string;
  curveSecretKey: string;
  zapDomain: string;
  /**
   * Fail closed: with no ZAP handler bound in the context, libzmq would otherwise let every CURVE
   * client in ("Stonehouse"); with this set it refuses the handshake instead.
   */
  zapEnforceDomain: true;
}

/** Socket options for a CURVE client of the server whose public key is `curveServerKey`. */
export interface CurveClientOptions {
  curveServer: false;
  curvePublicKey: string;
  curveSecretKey: string;
  curveServerKey: string;
}

/**
 * Bytes CURVE adds to every frame on the wire ('\x07MESSAGE' 8, nonce 8, flags 1, MAC 16).
 * libzmq checks ZMQ_MAXMSGSIZE against the encrypted frame, so a socket that must accept
 * application frames of N bytes sets maxMessageSize to N + this.
 */
export const CURVE_MESSAGE_OVERHEAD = 33;

const PROOF_TAG = new TextEncoder().encode('cairn-key-proof-v1');
export const KEY_PROOF_BYTES = 32;

function checkKey(what: string, key: string): void {
  if (typeof key !== 'string' || !isZ85Key(key))
    throw new TransportError('transport-config', `${what} is not a 40-character Z85 CURVE key`);
}

/** Throws a `transport-config` error unless both keys are Z85 and the public key matches the secret. */
export function checkCurveKeys(keys: CurveKeys, what = 'CURVE key pair'): void {
  checkKey(`${what}: public key`, keys.publicKey);
  checkKey(`${what}: secret key`, keys.secretKey);
  const derived = x25519PublicKey(z85Decode(keys.secretKey));
  if (!timingSafeEqual(derived, z85Decode(keys.publicKey)))
    throw new TransportError('transport-config', `${what}: the public key does not belong to the secret key`);
}

const ZAP_DOMAIN_MAX = 254;

export function checkZapDomain(zapDomain: string): void {
  if (typeof zapDomain !== 'string' || zapDomain.length === 0 || zapDomain.length > ZAP_DOMAIN_MAX)
    throw new TransportError('transport-config', `ZAP domain must be 1..${ZAP_DOMAIN_MAX} characters`);
}

export function serverOptions(keys: CurveKeys, zapDomain: string): CurveServerOptions {
  checkCurveKeys(keys, 'server CURVE key pair');
  checkZapDomain(zapDomain);
  return {
    curveServer: true,
    curvePublicKey: keys.publicKey,
    curveSecretKey: keys.secretKey,
    zapDomain,
    zapEnforceDomain: true,
  };
}

export function clientOptions(keys: CurveKeys, serverPublicKey: string): CurveClientOptions {
  checkCurveKeys(keys, 'client CURVE key pair');
  checkKey('server public key', serverPublicKey);
  return {
    curveServer: false,
    curvePublicKey: keys.publicKey,
    curveSecretKey: keys.secretKey,
    curveServerKey: serverPublicKey,
  };
}

function sharedSecret(mySecretZ85: string, theirPublicZ85: string): Uint8Array {
  checkKey('own secret key', mySecretZ85);
  checkKey('peer public key', theirPublicZ85);
  try {
    return x25519SharedSecret(z85Decode(mySecretZ85), z85Decode(theirPublicZ85));
  } catch (cause) {
    throw new TransportError('transport-config', 'peer public key is not usable for X25519 (low order)', {
      cause,
    });
  }
}

/**
 * HMAC-SHA256 keyed with X25519(mySecret, theirPublic) over 'cairn-key-proof-v1' || context.
 * See the module comment for what `context` must contain.
 */
export function keyProof(mySecretZ85: string, theirPublicZ85: string, context: Uint8Array): Uint8Array {
  const secret = sharedSecret(mySecretZ85, theirPublicZ85);
  try {
    const mac = createHmac('sha256', secret).update(PROOF_TAG).update(context).digest();
    return new Uint8Array(mac.buffer, mac.byteOffset, mac.byteLength);
  } finally {
    secret.fill(0);
  }
}

/**
 * True when `proof` is keyProof(theirSecret, myPublic, context), i.e. when the peer holding the
 * secret of `theirPublicZ85` made it (or we did: see the module comment). Constant-time compare;
 * a malformed or low-order peer key or a proof of the wrong length gives false, never a throw.
 * Throws only when our own secret key is malformed (a configuration error).
 */
export function verifyKeyProof(
  mySecretZ85: string,
  theirPublicZ85: string,
  context: Uint8Array,
  proof: Uint8Array,
): boolean {
  checkKey('own secret key', mySecretZ85);
  if (typeof theirPublicZ85 !== 'string' || !isZ85Key(theirPublicZ85)) return false;
  let expected: Uint8Array;
  try {
    expected = keyProof(mySecretZ85, theirPublicZ85, context);
  } catch {
    return false;
  }
  if (proof.length !== expected.length) return false;
  return timingSafeEqual(expected, proof);
}
