import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../shared/core/bytes.ts';

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
