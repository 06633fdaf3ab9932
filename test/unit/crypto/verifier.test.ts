/**
 * Differential tests of the three SignatureVerifier backends (native libsecp256k1, WASM, pure JS):
 * on every input they must give the same answer, and never throw.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { etc, verify as nobleVerify, Point } from '@noble/secp256k1';
import fc from 'fast-check';
import type * as Secp256k1 from 'secp256k1';
import { isLowS, type SignatureVerifier } from '../../../shared/core/signature.ts';
import { generatePrivateKey, publicKeyOf, signCompact } from '../../../shared/crypto/keys.ts';
import { DEFAULT_LOADERS, loadVerifier } from '../../../shared/crypto/load.ts';
import { createNativeVerifier } from '../../../shared/crypto/native.ts';
import { createNobleVerifier } from '../../../shared/crypto/noble.ts';
import { createWasmVerifier } from '../../../shared/crypto/wasm.ts';

const BACKENDS: readonly SignatureVerifier[] = [
  createNativeVerifier(),
  createWasmVerifier(),
  createNobleVerifier(),
];

const { n: N, p: P } = Point.CURVE();
const HALF_N = N >> 1n;

const toBytes32 = (x: bigint): Uint8Array => etc.numberToBytesBE(x);
const toBig = (b: Uint8Array): bigint => etc.bytesToNumberBE(b);
const concat = (...parts: Uint8Array[]): Uint8Array => etc.concatBytes(...parts);
const rand = (len: number): Uint8Array => new Uint8Array(randomBytes(len));
const withS = (sig: Uint8Array, s: bigint): Uint8Array => concat(sig.subarray(0, 32), toBytes32(s));
const withR = (sig: Uint8Array, r: bigint): Uint8Array => concat(toBytes32(r), sig.subarray(32));

/** Every backend's answer; fails the test if any backend throws. */
function answers(sig: Uint8Array, msg: Uint8Array, pub: Uint8Array): boolean[] {
  return BACKENDS.map((v) => {
    let result: boolean;
    assert.doesNotThrow(() => {
      result = v.verify(sig, msg, pub);
    }, `${v.name} threw`);
    return result!;
  });
}

/** Asserts every backend answers `expected` (and none throws). */
function expectAll(expected: boolean, sig: Uint8Array, msg: Uint8Array, pub: Uint8Array, what: string): void {
  const got = answers(sig, msg, pub);
  assert.deepEqual(
    got,
    BACKENDS.map(() => expected),
    `${what}: ${BACKENDS.map((v, i) => `${v.name}=${got[i]}`).join(' ')}`,
  );
}

/** Asserts all backends agree, and returns the common answer. */
function agreed(sig: Uint8Array, msg: Uint8Array, pub: Uint8Array): boolean {
  const got = answers(sig, msg, pub);
  assert.ok(
    got.every((x) => x === got[0]),
    `backends disagree: ${BACKENDS.map((v, i) => `${v.name}=${got[i]}`).join(' ')}`,
  );
  return got[0]!;
}

interface Triple {
  sig: Uint8Array;
  msg: Uint8Array;
  pub: Uint8Array;
  priv: Uint8Array;
}

function freshTriple(): Triple {
  const priv = generatePrivateKey();
  const msg = rand(32);
  return { sig: signCompact(msg, priv), msg, pub: publicKeyOf(priv), priv };
}

/** A valid signature with a chosen s: pick k, r = (kG).x, then solve for the private key. */
function tripleWithS(s: bigint): { sig: Uint8Array; msg: Uint8Array; pub: Uint8Array } {
  for (;;) {
    const k = toBig(generatePrivateKey());
    const r = Point.BASE.multiply(k).x % N;
    const msg = rand(32);
    const z = toBig(msg) % N;
    const d = etc.mod((s * k - z) * etc.invert(r, N), N);
    if (r === 0n || d === 0n) {
      continue;
    }
    return { sig: concat(toBytes32(r), toBytes32(s)), msg, pub: Point.BASE.multiply(d).toBytes(true) };
  }
}

/** An x in [0, p) with no point on the curve (x³ + 7 is not a square mod p). */
function xNotOnCurve(start: bigint): Uint8Array {
  for (let x = start; ; x++) {
    const pub = concat(Uint8Array.of(0x02), toBytes32(x % P));
    try {
      Point.fromBytes(pub);
    } catch {
      return pub;
    }
  }
}

const isOnCurve = (pub: Uint8Array): boolean => {
  try {
    Point.fromBytes(pub);
    return true;
  } catch {
    return false;
  }
};

const flipBit = (b: Uint8Array, bit: number): Uint8Array => {
  const c = Uint8Array.from(b);
  c[bit >> 3]! ^= 1 << (bit & 7);
  return c;
};

describe('secp256k1 backends', () => {
  it('load as native, wasm and noble', () => {
    assert.deepEqual(
      BACKENDS.map((v) => v.name),
      ['native', 'wasm', 'noble'],
    );
  });

  it('all accept a few hundred valid signatures from random keys and messages', () => {
    for (let i = 0; i < 300; i++) {
      const t = freshTriple();
      expectAll(true, t.sig, t.msg, t.pub, `valid #${i}`);
    }
  });

  it('all reduce the message mod n alike: zero, n − 1, n and 2^256 − 1 as the digest', () => {
    const priv = generatePrivateKey();
    const pub = publicKeyOf(priv);
    for (const z of [0n, 1n, N - 1n, N, N + 1n, P, (1n << 256n) - 1n]) {
      const msg = toBytes32(z);
      const sig = signCompact(msg, priv);
      expectAll(true, sig, msg, pub, `digest ${z.toString(16)}`);
    }
    // z and z + n are the same scalar: a signature over one verifies for the other, everywhere.
    const sig = signCompact(toBytes32(1n), priv);
    expectAll(true, sig, toBytes32(N + 1n), pub, 'digest 1 vs n + 1');
  });

  it('all accept inputs that are views into larger buffers (no copy needed)', () => {
    const t = freshTriple();
    const big = concat(rand(7), t.sig, rand(3), t.msg, rand(5), t.pub, rand(11));
    const sig = big.subarray(7, 71);
    const msg = big.subarray(74, 106);
    const pub = big.subarray(111, 144);
    assert.deepEqual([sig, msg, pub], [t.sig, t.msg, t.pub]);
    expectAll(true, sig, msg, pub, 'subarray views');
    // And the inputs are left untouched.
    assert.deepEqual([sig, msg, pub], [t.sig, t.msg, t.pub]);
  });

  it('all reject a valid signature checked against another message or another key', () => {
    const a = freshTriple();
    const b = freshTriple();
    expectAll(false, a.sig, b.msg, a.pub, 'other message');
    expectAll(false, a.sig, a.msg, b.pub, 'other key');
    const negated = Uint8Array.from(a.pub);
    negated[0] = negated[0] === 0x02 ? 0x03 : 0x02; // -Q: same x, other y
    expectAll(false, a.sig, a.msg, negated, 'negated key');
  });

  it('all reject every single-bit flip of signature, message and key', () => {
    const t = freshTriple();
    for (let bit = 0; bit < 512; bit++) {
      expectAll(false, flipBit(t.sig, bit), t.msg, t.pub, `sig bit ${bit}`);
    }
    for (let bit = 0; bit < 256; bit++) {
      expectAll(false, t.sig, flipBit(t.msg, bit), t.pub, `msg bit ${bit}`);
    }
    for (let bit = 0; bit < 264; bit++) {
      expectAll(false, t.sig, t.msg, flipBit(t.pub, bit), `key bit ${bit}`);
    }
  });

  it('all reject the malleated high-S twin (s → n − s) of a valid signature', () => {
    for (let i = 0; i < 20; i++) {
      const t = freshTriple();
      const s = toBig(t.sig.subarray(32));
      assert.ok(s <= HALF_N, 'signCompact produced low-S');
      const high = withS(t.sig, N - s);
      // The twin is a mathematically valid ECDSA signature: only the low-S rule rejects it.
      assert.equal(nobleVerify(high, t.msg, t.pub, { prehash: false, lowS: false }), true);
      expectAll(false, high, t.msg, t.pub, `high-S twin #${i}`);
    }
  });

  it('all accept s = ⌊n/2⌋ exactly and all reject s = ⌊n/2⌋ + 1 (the low-S boundary)', () => {
    const atBound = tripleWithS(HALF_N);
    expectAll(true, atBound.sig, atBound.msg, atBound.pub, 's = n/2');
    const above = tripleWithS(HALF_N + 1n);
    assert.equal(nobleVerify(above.sig, above.msg, above.pub, { prehash: false, lowS: false }), true);
    expectAll(false, above.sig, above.msg, above.pub, 's = n/2 + 1');
    // Its low-S twin n − s = ⌊n/2⌋ is accepted.
    expectAll(true, withS(above.sig, N - (HALF_N + 1n)), above.msg, above.pub, 'twin of s = n/2 + 1');
  });

  it('all reject out-of-range r and s', () => {
    const t = freshTriple();
    const s = toBig(t.sig.subarray(32));
    const r = toBig(t.sig.subarray(0, 32));
    const MAX = (1n << 256n) - 1n;
    const cases: [string, Uint8Array][] = [
      ['r = 0', withR(t.sig, 0n)],
      ['s = 0', withS(t.sig, 0n)],
      ['r = s = 0', new Uint8Array(64)],
      ['r = n', withR(t.sig, N)],
      ['r = n + 1', withR(t.sig, N + 1n)],
      ['r = (r + n) mod 2^256', withR(t.sig, (N + r) & MAX)],
      ['r = p', withR(t.sig, P)],
      ['r = 2^256 - 1', withR(t.sig, MAX)],
      ['s = n', withS(t.sig, N)],
      ['s = n + 1', withS(t.sig, N + 1n)],
      ['s = (s + n) mod 2^256', withS(t.sig, (N + s) & MAX)],
      ['s = 2^256 - 1', withS(t.sig, MAX)],
      ['r = n - 1 (in range, wrong)', withR(t.sig, N - 1n)],
      ['r = 1 (in range, wrong)', withR(t.sig, 1n)],
      ['s = 1 (in range, wrong)', withS(t.sig, 1n)],
      ['all 0xff', new Uint8Array(64).fill(0xff)],
    ];
    for (const [what, sig] of cases) {
      expectAll(false, sig, t.msg, t.pub, what);
    }
  });

  it('all reject wrong-length signatures, messages and keys', () => {
    const t = freshTriple();
    for (const len of [0, 1, 32, 63, 65, 72, 128]) {
      const sig = len <= 64 ? t.sig.slice(0, len) : concat(t.sig, new Uint8Array(len - 64));
      // the valid call first: a backend that copies into buffers of its own (native) must not
      // complete a short argument with the bytes the call before left there
      expectAll(true, t.sig, t.msg, t.pub, `valid, before sig length ${len}`);
      expectAll(false, sig, t.msg, t.pub, `sig length ${len}`);
    }
    // A 65-byte "recovered" form (recovery byte + r||s) is not accepted either.
    expectAll(false, concat(Uint8Array.of(0), t.sig), t.msg, t.pub, 'recovered-format sig');
    for (const len of [0, 20, 31, 33, 64]) {
      const msg = len <= 32 ? t.msg.slice(0, len) : concat(t.msg, new Uint8Array(len - 32));
      expectAll(true, t.sig, t.msg, t.pub, `valid, before msg length ${len}`);
      expectAll(false, t.sig, msg, t.pub, `msg length ${len}`);
    }
    for (const len of [0, 32, 34, 64]) {
      const pub = len <= 33 ? t.pub.slice(0, len) : concat(t.pub, new Uint8Array(len - 33));
      expectAll(true, t.sig, t.msg, t.pub, `valid, before key length ${len}`);
      expectAll(false, t.sig, t.msg, pub, `key length ${len}`);
    }
    expectAll(false, t.sig, t.msg, t.pub.subarray(1), 'x-only key (32 bytes)');
  });

  it('all reject uncompressed, hybrid and otherwise mis-prefixed keys of the right signer', () => {
    const t = freshTriple();
    const point = Point.fromBytes(t.pub);
    const uncompressed = point.toBytes(false);
    assert.equal(uncompressed.length, 65);
    // The uncompressed key is the right signer's: only the compressed-key rule rejects it.
    assert.equal(nobleVerify(t.sig, t.msg, uncompressed, { prehash: false }), true);
    expectAll(false, t.sig, t.msg, uncompressed, 'uncompressed 04 key');
    const hybrid = Uint8Array.from(uncompressed);
    hybrid[0] = point.y & 1n ? 0x07 : 0x06;
    expectAll(false, t.sig, t.msg, hybrid, 'hybrid 06/07 key');
    for (const prefix of [0x00, 0x01, 0x04, 0x05, 0x06, 0x07, 0x12, 0x82, 0xff]) {
      const pub = Uint8Array.from(t.pub);
      pub[0] = prefix;
      expectAll(false, t.sig, t.msg, pub, `prefix 0x${prefix.toString(16)}`);
    }
  });

  it('all reject keys whose x is not on the curve or not a field element', () => {
    const t = freshTriple();
    const xs = [
      xNotOnCurve(toBig(t.pub.subarray(1)) + 1n),
      xNotOnCurve(0n),
      xNotOnCurve(P - 100n),
      concat(Uint8Array.of(0x02), toBytes32(P)),
      concat(Uint8Array.of(0x03), toBytes32(P + 1n)),
      concat(Uint8Array.of(0x02), new Uint8Array(32).fill(0xff)),
    ];
    for (const pub of xs) {
      for (const prefix of [0x02, 0x03]) {
        const k = Uint8Array.from(pub);
        k[0] = prefix;
        assert.throws(() => Point.fromBytes(k), Error, 'test key is really invalid');
        expectAll(false, t.sig, t.msg, k, `invalid x ${etc.bytesToHex(k)}`);
      }
    }
  });

  it('property: arbitrary bytes — all agree and none throws', () => {
    // Weighted towards well-formed shapes (so most runs reach the backends' curve arithmetic), with
    // boundary scalars and on-curve keys mixed in, plus fully arbitrary bytes.
    const scalar = fc.oneof(
      { arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }), weight: 3 },
      {
        arbitrary: fc
          .constantFrom(0n, 1n, HALF_N, HALF_N + 1n, N - 1n, N, N + 1n, P, (1n << 256n) - 1n)
          .map(toBytes32),
        weight: 1,
      },
    );
    const sig = fc.oneof(
      { arbitrary: fc.tuple(scalar, scalar).map(([r, s]) => concat(r, s)), weight: 4 },
      { arbitrary: fc.uint8Array({ minLength: 0, maxLength: 80 }), weight: 1 },
    );
    const msg = fc.oneof(
      { arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }), weight: 4 },
      { arbitrary: fc.uint8Array({ minLength: 0, maxLength: 40 }), weight: 1 },
    );
    const pub = fc.oneof(
      { arbitrary: fc.bigInt(1n, N - 1n).map((d) => Point.BASE.multiply(d).toBytes(true)), weight: 3 },
      {
        arbitrary: fc
          .tuple(fc.constantFrom(0x02, 0x03), fc.uint8Array({ minLength: 32, maxLength: 32 }))
          .map(([p, x]) => concat(Uint8Array.of(p), x)),
        weight: 2,
      },
      { arbitrary: fc.uint8Array({ minLength: 0, maxLength: 70 }), weight: 1 },
    );
    let reachedCurve = 0; // runs with a well-formed low-S sig, 32-byte msg and on-curve key
    fc.assert(
      fc.property(sig, msg, pub, (s, m, k) => {
        agreed(s, m, k);
        if (isLowS(s) && m.length === 32 && k.length === 33 && isOnCurve(k)) {
          reachedCurve++;
        }
      }),
      { numRuns: 400 },
    );
    assert.ok(reachedCurve >= 20, `only ${reachedCurve} runs reached the ECDSA check`);
  });

  it('property: signatures of random keys verify everywhere; one corrupted byte fails everywhere', () => {
    const priv = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((d) => toBig(d) > 0n && toBig(d) < N);
    const msg = fc.uint8Array({ minLength: 32, maxLength: 32 });
    fc.assert(
      fc.property(
        priv,
        msg,
        fc.nat({ max: 64 + 32 + 33 - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (d, m, at, mask) => {
          const sig = signCompact(m, d);
          const pub = publicKeyOf(d);
          assert.equal(agreed(sig, m, pub), true);
          const all = concat(sig, m, pub);
          all[at]! ^= mask;
          assert.equal(agreed(all.subarray(0, 64), all.subarray(64, 96), all.subarray(96)), false);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('keys', () => {
  const native = createRequire(import.meta.url)('secp256k1/bindings') as typeof Secp256k1;

  it('generatePrivateKey gives distinct valid 32-byte scalars', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const d = generatePrivateKey();
      assert.equal(d.length, 32);
      assert.ok(native.privateKeyVerify(d));
      seen.add(etc.bytesToHex(d));
    }
    assert.equal(seen.size, 100);
  });

  it('publicKeyOf gives the 33-byte compressed key libsecp256k1 derives', () => {
    for (let i = 0; i < 20; i++) {
      const d = generatePrivateKey();
      const pub = publicKeyOf(d);
      assert.equal(pub.length, 33);
      assert.ok(pub[0] === 0x02 || pub[0] === 0x03);
      assert.deepEqual(pub, Uint8Array.from(native.publicKeyCreate(d, true)));
    }
  });

  it('signCompact is deterministic, low-S, and matches libsecp256k1 RFC 6979 signatures', () => {
    for (let i = 0; i < 100; i++) {
      const d = generatePrivateKey();
      const m = rand(32);
      const sig = signCompact(m, d);
      assert.equal(sig.length, 64);
      assert.ok(isLowS(sig), 'low-S');
      assert.deepEqual(signCompact(Uint8Array.from(m), Uint8Array.from(d)), sig, 'same inputs, same sig');
      // libsecp256k1's default nonce function is RFC 6979 (no extra data) with low-S normalisation.
      assert.deepEqual(sig, Uint8Array.from(native.ecdsaSign(m, d).signature));
    }
    const d = generatePrivateKey();
    const m = rand(32);
    const m2 = Uint8Array.from(m);
    m2[31]! ^= 1;
    assert.notDeepEqual(signCompact(m, d), signCompact(m2, d), 'different message, different sig');
  });

  it('signCompact signs the 32 bytes as given (no prehash) and refuses other lengths', () => {
    const d = generatePrivateKey();
    const m = rand(32);
    assert.equal(nobleVerify(signCompact(m, d), m, publicKeyOf(d), { prehash: false }), true);
    assert.throws(() => signCompact(rand(31), d), RangeError);
    assert.throws(() => signCompact(rand(33), d), RangeError);
    assert.throws(() => signCompact(m, new Uint8Array(32)));
  });
});

describe('loadVerifier', () => {
  const boom = (msg: string) => (): SignatureVerifier => {
    throw new Error(msg);
  };

  it("'auto' picks native on this machine, with no fallbacks", () => {
    const { verifier, fallbacks } = loadVerifier('auto');
    assert.equal(verifier.name, 'native');
    assert.deepEqual(fallbacks, []);
    const t = freshTriple();
    assert.equal(verifier.verify(t.sig, t.msg, t.pub), true);
    assert.equal(loadVerifier().verifier.name, 'native', 'auto is the default');
  });

  it('a forced backend loads that backend only', () => {
    for (const name of ['native', 'wasm', 'noble'] as const) {
      const { verifier, fallbacks } = loadVerifier(name);
      assert.equal(verifier.name, name);
      assert.deepEqual(fallbacks, []);
    }
    assert.throws(() => loadVerifier('wasm', { wasm: boom('no wasm') }), /no wasm/);
  });

  it('falls back native → wasm and records why native failed', () => {
    const { verifier, fallbacks } = loadVerifier('auto', { native: boom('addon ABI mismatch\nstack...') });
    assert.equal(verifier.name, 'wasm');
    assert.deepEqual(fallbacks, [{ name: 'native', reason: 'addon ABI mismatch' }]);
    assert.equal(fallbacks[0]?.name, 'native', 'native failure is detectable');
  });

  it('falls back to noble when native and wasm both fail', () => {
    const { verifier, fallbacks } = loadVerifier('auto', {
      native: boom('no addon'),
      wasm: () => {
        throw 'not an Error';
      },
    });
    assert.equal(verifier.name, 'noble');
    assert.deepEqual(fallbacks, [
      { name: 'native', reason: 'no addon' },
      { name: 'wasm', reason: 'not an Error' },
    ]);
  });

  it('throws with every reason when nothing loads', () => {
    assert.throws(
      () => loadVerifier('auto', { native: boom('a'), wasm: boom('b'), noble: boom('c') }),
      /no secp256k1 backend could be loaded \(native: a; wasm: b; noble: c\)/,
    );
  });

  it('exposes the default loaders in preference order', () => {
    assert.deepEqual(Object.keys(DEFAULT_LOADERS), ['native', 'wasm', 'noble']);
  });
});
