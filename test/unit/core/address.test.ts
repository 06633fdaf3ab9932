import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeAddress, encodeAddress, ownerOf } from '../../../shared/core/address.ts';
import { hexToBytes } from '../../../shared/core/bytes.ts';
import { DecodeError, UsageError } from '../../../shared/core/errors.ts';
import { LOCAL, MAIN, TEST } from '../../../shared/core/params/networks.ts';

describe('addresses (bech32m)', () => {
  it('round-trips every owner on every network (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), (owner) => {
        for (const p of [MAIN, TEST, LOCAL]) {
          const a = encodeAddress(p.addressPrefix, owner);
          assert.ok(a.startsWith(`${p.addressPrefix}1`));
          assert.deepEqual(decodeAddress(p.addressPrefix, a), owner);
        }
      }),
    );
  });

  it('matches the protocol vector', () => {
    // owner of the generator point's compressed key (private key 1)
    const pub = hexToBytes('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798');
    const owner = ownerOf(pub);
    assert.equal(Buffer.from(owner).toString('hex'), '751e76e8199196d454941c45d1b3a323f1433bd6');
    assert.equal(encodeAddress('cairn', owner), 'cairn1qw508d6qejxtdg4y5r3zarvary0c5xw7kc5wujt');
  });

  it('refuses another network, a bad checksum, another version, a wrong length', () => {
    const owner = new Uint8Array(20).fill(7);
    const a = encodeAddress('cairn', owner);
    const bad = (fn: () => unknown, msg: RegExp) =>
      assert.throws(
        fn,
        (e: unknown) => e instanceof DecodeError && e.field === 'address' && msg.test(e.message),
      );
    bad(() => decodeAddress('lcairn', a), /prefix 'cairn' is not this network's 'lcairn'/);
    bad(() => decodeAddress('cairn', `${a.slice(0, -1)}${a.endsWith('q') ? 'p' : 'q'}`), /bech32m/);
    bad(() => decodeAddress('cairn', 'not an address'), /bech32m/);
    bad(
      () => decodeAddress('cairn', encodeAddress('cairn', owner).replace('cairn1q', 'cairn1p')),
      /bech32m|version/,
    );
    assert.throws(() => encodeAddress('cairn', new Uint8Array(19)), UsageError);
  });
});
