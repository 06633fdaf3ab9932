import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bytesKey, fromHex, toHex } from '../../../shared/core/bytes.ts';
import { hash160, sha256, sha256d, TaggedHash } from '../../../shared/core/hash.ts';
import { outpointKey } from '../../../shared/core/outpoint.ts';

/** What hex is: pairs of hex digits, either case (the oracle fromHex must agree with). */
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

describe('fromHex', () => {
  it('round-trips any bytes, either case', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        assert.deepEqual(fromHex(toHex(b)), b);
        assert.deepEqual(fromHex(toHex(b).toUpperCase()), b);
      }),
    );
  });

  it('is null exactly for text that is not hex (odd length, any bad character anywhere)', () => {
    const nearlyHex = fc
      .array(fc.constantFrom(...'0123456789abcdefABCDEF'.split(''), 'g', 'G', ' ', 'x', '\u00e9', '\u0660'), {
        maxLength: 40,
      })
      .map((a) => a.join(''));
    fc.assert(
      fc.property(
        fc.oneof(nearlyHex, fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 })),
        (s) => {
          const got = fromHex(s);
          assert.equal(got !== null, HEX.test(s), JSON.stringify(s));
        },
      ),
      { numRuns: 2000 },
    );
    for (const s of ['0', 'abc', '0g', 'g0', '00 ', ' 00', '0x00', 'aa\u0000', '\u0661\u0662'])
      assert.equal(fromHex(s), null, JSON.stringify(s));
    assert.deepEqual(fromHex(''), new Uint8Array(0));
  });

  it("returns bytes that own their memory (not a slice of Buffer's shared pool)", () => {
    const b = fromHex('00ff10')!;
    assert.deepEqual([...b], [0, 255, 16]);
    assert.equal(b.byteOffset, 0);
    assert.equal(b.buffer.byteLength, 3);
  });
});

describe('bytesKey and toHex', () => {
  // up to 64 bytes they read the array directly, beyond through a Buffer view: both must agree
  // with Buffer's own latin1 and hex, for arrays of their own and views into a larger one
  it("equal Buffer's latin1 and hex on both sides of 64 bytes, whole arrays and views", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(8), (b, cut) => {
        const view = b.length > cut ? b.subarray(cut) : b;
        for (const x of [b, view, Uint8Array.from(view)]) {
          const buf = Buffer.from(x);
          assert.equal(bytesKey(x), buf.toString('latin1'));
          assert.equal(toHex(x), buf.toString('hex'));
        }
      }),
      { numRuns: 500 },
    );
  });

  it("keys an outpoint by its txid's first 32 bytes, whatever array holds them", () => {
    const txid = sha256(Uint8Array.of(1, 2, 3));
    const longer = new Uint8Array(40);
    longer.set(txid);
    assert.equal(outpointKey(txid, 7), `${Buffer.from(txid).toString('latin1')}7`);
    assert.equal(outpointKey(longer, 7), outpointKey(txid, 7));
  });
});

describe("hashes (digests built in V8's heap)", () => {
  const node = (alg: string, d: Uint8Array) => createHash(alg).update(d).digest();
  it("equal node:crypto's own digests, as plain Uint8Arrays of the digest's size", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (d) => {
        const one = sha256(d);
        assert.deepEqual(Buffer.from(one), node('sha256', d));
        assert.deepEqual(Buffer.from(sha256d(d)), node('sha256', node('sha256', d)));
        assert.deepEqual(Buffer.from(hash160(d)), node('ripemd160', node('sha256', d)));
        assert.equal(one.length, 32);
        assert.equal(hash160(d).length, 20);
        // bytes of its own: no view into a pool another digest could overwrite
        assert.equal(one.byteOffset, 0);
        assert.equal(one.buffer.byteLength, 32);
      }),
      { numRuns: 300 },
    );
  });

  it('tags: SHA-256(SHA-256(tag) || SHA-256(tag) || parts)', () => {
    const t = node('sha256', Buffer.from('test/tag'));
    const tagged = new TaggedHash('test/tag');
    const a = Uint8Array.of(1, 2);
    const b = new Uint8Array(500).fill(9);
    assert.deepEqual(Buffer.from(tagged.digest(a, b)), node('sha256', Buffer.concat([t, t, a, b])));
  });
});
