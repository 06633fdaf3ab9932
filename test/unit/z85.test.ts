import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { curveKeyPair } from 'zeromq';
import { isZ85Key, Z85Error, z85Decode, z85Encode } from '../../shared/identity/z85.ts';

it('matches the RFC 32 test vector', () => {
  const bytes = Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
  assert.equal(z85Encode(bytes), 'HelloWorld');
  assert.deepEqual(z85Decode('HelloWorld'), bytes);
});

it('round-trips (property) and agrees with libzmq-generated keys', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 64 }).filter((b) => b.length % 4 === 0),
      (b) => {
        assert.deepEqual(z85Decode(z85Encode(b)), b);
      },
    ),
  );
  const k = curveKeyPair();
  assert.ok(isZ85Key(k.publicKey) && isZ85Key(k.secretKey));
  assert.equal(z85Encode(z85Decode(k.publicKey)), k.publicKey);
});

it('refuses bad lengths and characters with a typed error', () => {
  assert.throws(() => z85Decode('Hell'), Z85Error);
  assert.throws(() => z85Decode('Hello Worl'), Z85Error);
  assert.throws(() => z85Encode(new Uint8Array(3)), Z85Error);
  assert.equal(isZ85Key('x'.repeat(39)), false);
  assert.equal(isZ85Key('~'.repeat(40)), false);
});
