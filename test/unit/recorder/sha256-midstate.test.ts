/** The midstate SHA-256d engine gives the same top 32 bits as node:crypto, for any header and nonce. */
import assert from 'node:assert/strict';
import { hash, randomBytes } from 'node:crypto';
import { it } from 'node:test';
import fc from 'fast-check';
import { bswap32, MidstateSha256d, top32Of } from '../../../services/recorder/sha256-midstate.ts';
import { NONCE_OFFSET } from '../../../shared/core/block/types.ts';

function reference(header: Uint8Array, hi: number, lo: number): number {
  const b = Buffer.from(header);
  b.writeUInt32LE(lo, NONCE_OFFSET);
  b.writeUInt32LE(hi, NONCE_OFFSET + 4);
  return top32Of(hash('sha256', hash('sha256', b, 'buffer'), 'buffer') as Buffer);
}

it('bswap32 reverses the bytes of a u32', () => {
  assert.equal(bswap32(0x11223344) >>> 0, 0x44332211);
  assert.equal(bswap32(0xff000000) >>> 0, 0xff);
});

it('top32 equals the most significant 32 bits of node:crypto SHA-256d (property)', () => {
  const m = new MidstateSha256d();
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 88, maxLength: 88 }),
      fc.nat({ max: 0xffffffff }),
      fc.array(fc.nat({ max: 0xffffffff }), { minLength: 1, maxLength: 4 }),
      (header, hi, los) => {
        m.setHeader(header, hi);
        for (const lo of los) assert.equal(m.top32(lo), reference(header, hi, lo));
      },
    ),
    { numRuns: 300 },
  );
});

it('follows setHi without a new header, and many consecutive nonces', () => {
  const m = new MidstateSha256d();
  const header = new Uint8Array(randomBytes(88));
  m.setHeader(header, 0);
  for (let lo = 0; lo < 2_000; lo++) assert.equal(m.top32(lo), reference(header, 0, lo));
  m.setHi(7);
  for (let lo = 0xfffffff0; lo <= 0xffffffff; lo++) assert.equal(m.top32(lo), reference(header, 7, lo));
});
