import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z85Encode } from '../../../shared/identity/z85.ts';
import {
  checkCurveKeys,
  clientOptions,
  KEY_PROOF_BYTES,
  keyProof,
  serverOptions,
  verifyKeyProof,
} from '../../../shared/zmq/curve.ts';
import { TransportError } from '../../../shared/zmq/errors.ts';
import { keys } from './helpers.ts';

const ctx = (s: string) => new TextEncoder().encode(s);

describe('key proof', () => {
  const client = keys();
  const server = keys();
  const other = keys();
  const context = ctx('client->server|nonce-123');

  it('the server verifies a proof made by the holder of the claimed key', () => {
    const proof = keyProof(client.secretKey, server.publicKey, context);
    assert.equal(proof.length, KEY_PROOF_BYTES);
    assert.ok(verifyKeyProof(server.secretKey, client.publicKey, context, proof));
  });

  it('is symmetric (X25519): the client side can check a server proof the same way', () => {
    const proof = keyProof(server.secretKey, client.publicKey, context);
    assert.ok(verifyKeyProof(client.secretKey, server.publicKey, context, proof));
  });

  it('refuses a proof for another claimed key, from another key, or for another server', () => {
    const proof = keyProof(client.secretKey, server.publicKey, context);
    // claims to be `other` but holds `client`'s secret
    assert.equal(verifyKeyProof(server.secretKey, other.publicKey, context, proof), false);
    // made by `other` while claiming `client`
    const forged = keyProof(other.secretKey, server.publicKey, context);
    assert.equal(verifyKeyProof(server.secretKey, client.publicKey, context, forged), false);
    // a proof made for another server does not verify here (no relaying)
    const forOther = keyProof(client.secretKey, other.publicKey, context);
    assert.equal(verifyKeyProof(server.secretKey, client.publicKey, context, forOther), false);
  });

  it('refuses a tampered context or proof', () => {
    const proof = keyProof(client.secretKey, server.publicKey, context);
    assert.equal(
      verifyKeyProof(server.secretKey, client.publicKey, ctx('client->server|nonce-124'), proof),
      false,
    );
    const bad = Uint8Array.from(proof);
    bad[0]! ^= 1;
    assert.equal(verifyKeyProof(server.secretKey, client.publicKey, context, bad), false);
    assert.equal(verifyKeyProof(server.secretKey, client.publicKey, context, proof.subarray(0, 31)), false);
    assert.equal(verifyKeyProof(server.secretKey, client.publicKey, context, new Uint8Array(0)), false);
  });

  it('never accepts low-order or malformed peer keys (the shared secret would be predictable)', () => {
    const zero = z85Encode(new Uint8Array(32)); // u = 0: shared secret would be all zeros
    const one = new Uint8Array(32);
    one[0] = 1;
    assert.throws(() => keyProof(client.secretKey, zero, context), TransportError);
    assert.equal(verifyKeyProof(server.secretKey, zero, context, new Uint8Array(32)), false);
    assert.equal(verifyKeyProof(server.secretKey, z85Encode(one), context, new Uint8Array(32)), false);
    assert.equal(verifyKeyProof(server.secretKey, 'not a key', context, new Uint8Array(32)), false);
    assert.throws(() => verifyKeyProof('bad', client.publicKey, context, new Uint8Array(32)), TransportError);
  });
});

describe('socket options', () => {
  it('server options fail closed and carry the ZAP domain', () => {
    const k = keys();
    const o = serverOptions(k, 'peers');
    assert.deepEqual(o, {
      curveServer: true,
      curvePublicKey: k.publicKey,
      curveSecretKey: k.secretKey,
      zapDomain: 'peers',
      zapEnforceDomain: true,
    });
    assert.throws(() => serverOptions(k, ''), { code: 'transport-config' });
  });

  it('client options need a valid key pair and server key', () => {
    const k = keys();
    const s = keys();
    assert.equal(clientOptions(k, s.publicKey).curveServerKey, s.publicKey);
    assert.throws(() => clientOptions(k, 'x'.repeat(40).replace(/x/g, '~')), { code: 'transport-config' });
    assert.throws(() => clientOptions({ publicKey: s.publicKey, secretKey: k.secretKey }, s.publicKey), {
      code: 'transport-config',
      message: /does not belong/,
    });
    assert.throws(() => checkCurveKeys({ publicKey: k.publicKey, secretKey: 'short' }), {
      code: 'transport-config',
    });
  });
});
