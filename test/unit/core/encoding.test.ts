import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_VARINT, Reader } from '../../../shared/core/encoding/reader.ts';
import { varintSize, Writer } from '../../../shared/core/encoding/writer.ts';
import { DecodeError, UsageError } from '../../../shared/core/errors.ts';

const decodeVarint = (b: number[], max?: number) => {
  const r = new Reader(Uint8Array.from(b));
  const v = r.varint('v', max);
  r.end('v');
  return v;
};

function assertDecodeError(fn: () => unknown, code: string, field?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DecodeError, `expected DecodeError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (field !== undefined) {
      assert.equal(e.field, field);
    }
    return true;
  });
}

describe('varint (unsigned LEB128, canonical)', () => {
  it('encodes the documented vectors', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [1, '01'],
      [127, '7f'],
      [128, '8001'],
      [300, 'ac02'],
      [16384, '808001'],
      [MAX_VARINT, 'ffffffffffffff0f'],
    ];
    for (const [v, hex] of cases) {
      const enc = new Writer().varint(v).finish();
      assert.equal(Buffer.from(enc).toString('hex'), hex, `encode ${v}`);
      assert.equal(varintSize(v), enc.length);
      assert.equal(decodeVarint([...enc]), v);
    }
  });

  it('round-trips every safe integer (property)', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (v) => {
        const enc = new Writer().varint(v).finish();
        assert.equal(decodeVarint([...enc]), v);
        assert.equal(enc.length, varintSize(v));
      }),
    );
  });

  it('rejects overlong encodings', () => {
    assertDecodeError(() => decodeVarint([0x80, 0x00]), 'decode-noncanonical-varint', 'v');
    assertDecodeError(() => decodeVarint([0xff, 0x80, 0x00]), 'decode-noncanonical-varint');
  });

  it('rejects values above 2^53-1 and encodings longer than 8 bytes', () => {
    assertDecodeError(
      () => decodeVarint([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x10]),
      'decode-too-large',
    );
    assertDecodeError(
      () => decodeVarint([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
      'decode-varint-overflow',
    );
  });

  it('rejects a value above the caller cap', () => {
    assertDecodeError(() => decodeVarint([0xac, 0x02], 299), 'decode-too-large');
    assert.equal(decodeVarint([0xac, 0x02], 300), 300);
  });

  it('rejects truncation and trailing bytes', () => {
    assertDecodeError(() => decodeVarint([0x80]), 'decode-truncated');
    assertDecodeError(() => decodeVarint([]), 'decode-truncated');
    assertDecodeError(() => decodeVarint([0x01, 0x00]), 'decode-trailing-bytes');
  });

  it('refuses to encode what it cannot decode', () => {
    assert.throws(() => new Writer().varint(-1), UsageError);
    assert.throws(() => new Writer().varint(1.5), UsageError);
    assert.throws(() => new Writer().varint(MAX_VARINT + 1), UsageError);
  });
});

describe('fixed-width integers', () => {
  it('u32 and u64 are little-endian and round-trip', () => {
    const w = new Writer()
      .u32(0x01020304)
      .u64(2 ** 53 - 1)
      .u64big(0xfedcba9876543210n);
    const b = w.finish();
    assert.equal(Buffer.from(b.subarray(0, 4)).toString('hex'), '04030201');
    const r = new Reader(b);
    assert.equal(r.u32('a'), 0x01020304);
    assert.equal(r.u64('b'), 2 ** 53 - 1);
    assert.equal(r.u64big('c'), 0xfedcba9876543210n);
    r.end('x');
  });

  it('u64 above 2^53-1 is a decode error, not a rounded number', () => {
    const b = new Writer().u64big(2n ** 53n).finish();
    assertDecodeError(() => new Reader(b).u64('time'), 'decode-too-large', 'time');
  });

  it('property: u64big round-trips all 64-bit values', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (v) => {
        assert.equal(new Reader(new Writer().u64big(v).finish()).u64big('n'), v);
      }),
    );
  });
});

describe('length-prefixed bytes', () => {
  it('checks the length against the cap before reading', () => {
    const enc = new Writer().varBytes(new Uint8Array(65)).finish();
    assertDecodeError(() => new Reader(enc).varBytes('name', 64), 'decode-too-large', 'name');
    assert.equal(new Reader(enc).varBytes('name', 65).length, 65);
  });

  it('a huge declared length on short input is an error, not an allocation', () => {
    const enc = new Writer().varint(2 ** 40).finish();
    assertDecodeError(() => new Reader(enc).varBytes('blob', 2 ** 50), 'decode-truncated', 'blob');
  });
});
