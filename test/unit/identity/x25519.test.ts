/**
 * X25519 on node:crypto: RFC 7748's test vectors, agreement with an independent implementation
 * (@noble/curves) on random keys, and refusal of low-order public keys and wrong sizes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { x25519 } from '@noble/curves/ed25519.js';
import { x25519PublicKey, x25519SecretKey, x25519SharedSecret } from '../../../shared/identity/x25519.ts';

const hex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('X25519 (node:crypto)', () => {
  it("RFC 7748 §6.1: Alice's and Bob's public keys and their shared secret", () => {
    const a = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const b = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
    const A = x25519PublicKey(a);
    const B = x25519PublicKey(b);
    assert.equal(toHex(A), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    assert.equal(toHex(B), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    const k = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
    assert.equal(toHex(x25519SharedSecret(a, B)), k);
    assert.equal(toHex(x25519SharedSecret(b, A)), k);
  });

  it('agrees with @noble/curves on random keys (unclamped bytes included)', () => {
    for (let i = 0; i < 50; i++) {
      const s = new Uint8Array(randomBytes(32));
      const t = i === 0 ? x25519SecretKey() : new Uint8Array(randomBytes(32));
      assert.equal(toHex(x25519PublicKey(s)), toHex(x25519.getPublicKey(s)));
      const T = x25519.getPublicKey(t);
      assert.equal(toHex(x25519SharedSecret(s, T)), toHex(x25519.getSharedSecret(s, T)));
    }
  });

  it('refuses low-order public keys and keys of the wrong size', () => {
    const s = x25519SecretKey();
    const zero = new Uint8Array(32);
    const one = new Uint8Array(32);
    one[0] = 1;
    assert.throws(() => x25519SharedSecret(s, zero));
    assert.throws(() => x25519SharedSecret(s, one));
    assert.throws(() => x25519SharedSecret(s, new Uint8Array(31)), /32 bytes, not 31/);
    assert.throws(() => x25519PublicKey(new Uint8Array(33)), /32 bytes, not 33/);
  });
});
