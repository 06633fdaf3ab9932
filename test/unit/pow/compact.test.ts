import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bigIntToLeBytes, leBytesToBigInt } from '../../../shared/core/bytes.ts';
import { UsageError } from '../../../shared/core/errors.ts';
import {
  decodeCompact,
  encodeCompact,
  hashMeetsTarget,
  hashMeetsTargetBytes,
  targetFromBits,
  targetToLeBytes,
  workFromTarget,
} from '../../../shared/core/pow/compact.ts';

const MAX_U256 = (1n << 256n) - 1n;
const BTC_POW_LIMIT = 0xffffn << 208n; // target of 0x1d00ffff

const u256 = fc.bigInt({ min: 0n, max: MAX_U256 });
/** 256-bit values with every magnitude equally likely (plain bigInt is almost always ~2^255). */
const u256AnySize = fc
  .tuple(fc.integer({ min: 0, max: 256 }), u256)
  .map(([bits, v]) => v & ((1n << BigInt(bits)) - 1n));
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe('decodeCompact / encodeCompact (Bitcoin Core bignum_SetCompact cases)', () => {
  // [bits, target, negative, overflow, GetCompact() of the result (non-negative encoding)]
  const cases: [number, bigint, boolean, boolean, number][] = [
    [0x00000000, 0n, false, false, 0],
    [0x00123456, 0n, false, false, 0],
    [0x01003456, 0n, false, false, 0],
    [0x02000056, 0n, false, false, 0],
    [0x03000000, 0n, false, false, 0],
    [0x04000000, 0n, false, false, 0],
    [0x00923456, 0n, false, false, 0],
    [0x01803456, 0n, false, false, 0],
    [0x02800056, 0n, false, false, 0],
    [0x03800000, 0n, false, false, 0],
    [0x04800000, 0n, false, false, 0],
    [0x01123456, 0x12n, false, false, 0x01120000],
    [0x01fedcba, 0x7en, true, false, 0x017e0000],
    [0x02123456, 0x1234n, false, false, 0x02123400],
    [0x03123456, 0x123456n, false, false, 0x03123456],
    [0x04123456, 0x12345600n, false, false, 0x04123456],
    [0x04923456, 0x12345600n, true, false, 0x04123456],
    [0x05009234, 0x92340000n, false, false, 0x05009234],
    [0x20123456, 0x123456n << 232n, false, false, 0x20123456],
    [0x1d00ffff, BTC_POW_LIMIT, false, false, 0x1d00ffff],
  ];
  for (const [bits, target, negative, overflow, reencoded] of cases) {
    it(`0x${bits.toString(16).padStart(8, '0')}`, () => {
      assert.deepEqual(decodeCompact(bits), { target, negative, overflow });
      assert.equal(encodeCompact(target), reencoded);
    });
  }

  it('never sets the sign bit when encoding (0x80 -> 0x02008000)', () => {
    assert.equal(encodeCompact(0x80n), 0x02008000);
    assert.equal(encodeCompact(0x800000n), 0x04008000);
  });

  it('flags overflow like SetCompact', () => {
    assert.equal(decodeCompact(0xff123456).overflow, true);
    assert.equal(decodeCompact(0xff123456).negative, false);
    // Overflow exactly when the value needs more than 256 bits.
    const fits: [number, bigint][] = [
      [0x22000001, 1n << 248n],
      [0x21000100, 1n << 248n],
      [0x2100ffff, 0xffffn << 240n],
      [0x20010000, 1n << 248n],
      [0x207fffff, 0x7fffffn << 232n],
    ];
    for (const [bits, target] of fits) {
      assert.deepEqual(decodeCompact(bits), { target, negative: false, overflow: false });
    }
    for (const bits of [0x23000001, 0x22000100, 0x21010000, 0x2200ffff, 0x217fffff]) {
      assert.equal(decodeCompact(bits).overflow, true, bits.toString(16));
    }
    // A zero mantissa never overflows, whatever the size.
    assert.deepEqual(decodeCompact(0xff000000), { target: 0n, negative: false, overflow: false });
  });

  it('round-trips every canonical encoding', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (bits) => {
        const d = decodeCompact(bits);
        if (d.negative || d.overflow) {
          return;
        }
        const again = encodeCompact(d.target);
        assert.equal(decodeCompact(again).target, d.target);
        assert.equal(decodeCompact(again).negative, false);
      }),
      { numRuns: 5000 },
    );
  });

  it('encodes any target to the target truncated to its top 23 significant bits', () => {
    fc.assert(
      fc.property(u256AnySize, (t) => {
        const bits = encodeCompact(t);
        const d = decodeCompact(bits);
        assert.equal(d.negative, false);
        assert.equal(d.overflow, false);
        assert.ok(d.target <= t);
        // Only bits below the top 3 bytes of the encoding are dropped.
        const size = bits >>> 24;
        const dropped = size > 3 ? BigInt(8 * (size - 3)) : 0n;
        assert.equal(d.target, (t >> dropped) << dropped);
        assert.equal(encodeCompact(d.target), bits);
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects arguments no caller should pass', () => {
    assert.throws(() => decodeCompact(-1), UsageError);
    assert.throws(() => decodeCompact(2 ** 32), UsageError);
    assert.throws(() => decodeCompact(1.5), UsageError);
    assert.throws(() => encodeCompact(-1n), UsageError);
    assert.throws(() => encodeCompact(1n << 256n), UsageError);
  });
});

describe('targetFromBits', () => {
  it('accepts targets up to powLimit', () => {
    assert.equal(targetFromBits(0x1d00ffff, BTC_POW_LIMIT), BTC_POW_LIMIT);
    assert.equal(targetFromBits(0x1b0404cb, BTC_POW_LIMIT), 0x0404cbn << 192n);
    assert.equal(targetFromBits(0x01010000, BTC_POW_LIMIT), 1n);
  });

  it('rejects negative, zero, overflowing and too-easy targets', () => {
    assert.equal(targetFromBits(0x04923456, BTC_POW_LIMIT), null); // negative
    assert.equal(targetFromBits(0x01fedcba, BTC_POW_LIMIT), null); // negative
    assert.equal(targetFromBits(0x00000000, BTC_POW_LIMIT), null); // zero
    assert.equal(targetFromBits(0x01003456, BTC_POW_LIMIT), null); // zero
    assert.equal(targetFromBits(0xff123456, MAX_U256), null); // overflow
    assert.equal(targetFromBits(0x23000001, MAX_U256), null); // overflow
    assert.equal(targetFromBits(0x1d010000, BTC_POW_LIMIT), null); // powLimit + 1 (in compact terms)
    assert.equal(targetFromBits(0x1e00ffff, BTC_POW_LIMIT), null);
  });
});

describe('workFromTarget', () => {
  it("is 4295032833 for Bitcoin's genesis bits 0x1d00ffff", () => {
    assert.equal(workFromTarget(decodeCompact(0x1d00ffff).target), 4295032833n);
  });

  it('is 2^256 / (target + 1)', () => {
    assert.equal(workFromTarget(1n), 1n << 255n);
    assert.equal(workFromTarget(MAX_U256), 1n);
    assert.equal(workFromTarget((1n << 255n) - 1n), 2n);
    assert.equal(workFromTarget(2n), (1n << 256n) / 3n);
  });

  it('rejects zero and out-of-range targets', () => {
    assert.throws(() => workFromTarget(0n), UsageError);
    assert.throws(() => workFromTarget(-5n), UsageError);
    assert.throws(() => workFromTarget(1n << 256n), UsageError);
  });
});

describe('hashMeetsTarget', () => {
  const target = decodeCompact(0x1b0404cb).target;
  const le = (v: bigint) => bigIntToLeBytes(v, 32);

  it('passes hash == target and fails target + 1', () => {
    assert.equal(hashMeetsTarget(le(target), target), true);
    assert.equal(hashMeetsTarget(le(target + 1n), target), false);
    assert.equal(hashMeetsTarget(le(target - 1n), target), true);
    assert.equal(hashMeetsTarget(le(0n), target), true);
    assert.equal(hashMeetsTarget(le(MAX_U256), target), false);
  });

  it('handles the extreme targets', () => {
    assert.equal(hashMeetsTarget(le(0n), 0n), true);
    assert.equal(hashMeetsTarget(le(1n), 0n), false);
    assert.equal(hashMeetsTarget(le(MAX_U256), MAX_U256), true);
    // The top byte of a little-endian hash is the most significant.
    const h = new Uint8Array(32);
    h[31] = 1;
    assert.equal(hashMeetsTarget(h, (1n << 248n) - 1n), false);
    assert.equal(hashMeetsTarget(h, 1n << 248n), true);
  });

  it('targetToLeBytes matches bigIntToLeBytes', () => {
    fc.assert(
      fc.property(u256AnySize, (t) => {
        assert.deepEqual(targetToLeBytes(t), bigIntToLeBytes(t, 32));
      }),
    );
  });

  it('hashMeetsTargetBytes agrees with the BigInt comparison', () => {
    // Random pairs, plus pairs that share a long most-significant prefix (the hard case).
    const nearPair = fc
      .tuple(bytes32, fc.integer({ min: 0, max: 31 }), fc.integer({ min: 0, max: 255 }), fc.boolean())
      .map(([h, i, b, lowerRandom]): [Uint8Array, Uint8Array] => {
        const t = Uint8Array.from(h);
        t[i] = b;
        if (lowerRandom) {
          for (let j = 0; j < i; j++) {
            t[j] = (h[j]! * 7 + 13) & 0xff;
          }
        }
        return [h, t];
      });
    fc.assert(
      fc.property(fc.oneof(fc.tuple(bytes32, bytes32), nearPair), ([hash, targetLe]) => {
        const expected = leBytesToBigInt(hash) <= leBytesToBigInt(targetLe);
        assert.equal(hashMeetsTargetBytes(hash, targetLe), expected);
        assert.equal(hashMeetsTarget(hash, leBytesToBigInt(targetLe)), expected);
      }),
      { numRuns: 5000 },
    );
  });

  it('rejects wrong lengths and out-of-range targets', () => {
    assert.throws(() => hashMeetsTargetBytes(new Uint8Array(31), new Uint8Array(32)), UsageError);
    assert.throws(() => hashMeetsTargetBytes(new Uint8Array(32), new Uint8Array(33)), UsageError);
    assert.throws(() => hashMeetsTarget(new Uint8Array(32), -1n), UsageError);
    assert.throws(() => targetToLeBytes(1n << 256n), UsageError);
  });
});
