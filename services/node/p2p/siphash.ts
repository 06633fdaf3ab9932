/**
 * SipHash-2-4 (Aumasson & Bernstein), the keyed hash BIP152 uses for short transaction ids.
 * 64-bit lanes are kept as pairs of 32-bit halves in a Uint32Array: BigInt arithmetic was ~50×
 * slower, and a receiver hashes its whole mempool for every compact block.
 */

/** A 128-bit key as four 32-bit words: k0 low, k0 high, k1 low, k1 high (k0/k1 little-endian u64). */
export type SipKey = Uint32Array;

/** The key from 16 bytes: k0 = bytes 0..7, k1 = bytes 8..15, each read little-endian. */
export function sipKey(bytes: Uint8Array): SipKey {
  if (bytes.length < 16) throw new RangeError('a SipHash key is 16 bytes');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, 16);
  return Uint32Array.of(
    dv.getUint32(0, true),
    dv.getUint32(4, true),
    dv.getUint32(8, true),
    dv.getUint32(12, true),
  );
}

// state: v0 lo,hi | v1 lo,hi | v2 lo,hi | v3 lo,hi
const v = new Uint32Array(8);

function add(a: number, b: number): void {
  const lo = (v[a]! + v[b]!) >>> 0;
  v[a + 1] = (v[a + 1]! + v[b + 1]! + (lo < v[a]! ? 1 : 0)) >>> 0;
  v[a] = lo;
}

function rotl(a: number, n: number): void {
  const lo = v[a]!;
  const hi = v[a + 1]!;
  v[a] = ((lo << n) | (hi >>> (32 - n))) >>> 0;
  v[a + 1] = ((hi << n) | (lo >>> (32 - n))) >>> 0;
}

function swap(a: number): void {
  const lo = v[a]!;
  v[a] = v[a + 1]!;
  v[a + 1] = lo;
}

function xor(a: number, b: number): void {
  v[a] = (v[a]! ^ v[b]!) >>> 0;
  v[a + 1] = (v[a + 1]! ^ v[b + 1]!) >>> 0;
}

const V0 = 0;
const V1 = 2;
const V2 = 4;
const V3 = 6;

function round(): void {
  add(V0, V1);
  rotl(V1, 13);
  xor(V1, V0);
  swap(V0);
  add(V2, V3);
  rotl(V3, 16);
  xor(V3, V2);
  add(V0, V3);
  rotl(V3, 21);
  xor(V3, V0);
  add(V2, V1);
  rotl(V1, 17);
  xor(V1, V2);
  swap(V2);
}

function compress(lo: number, hi: number): void {
  v[V3] = (v[V3]! ^ lo) >>> 0;
  v[V3 + 1] = (v[V3 + 1]! ^ hi) >>> 0;
  round();
  round();
  v[V0] = (v[V0]! ^ lo) >>> 0;
  v[V0 + 1] = (v[V0 + 1]! ^ hi) >>> 0;
}

/** SipHash-2-4 of `msg` under `key`, as [low 32 bits, high 32 bits] of the 64-bit result. */
export function siphash24(key: SipKey, msg: Uint8Array): [number, number] {
  // "somepseudorandomlygeneratedbytes"
  v[0] = (key[0]! ^ 0x70736575) >>> 0;
  v[1] = (key[1]! ^ 0x736f6d65) >>> 0;
  v[2] = (key[2]! ^ 0x6e646f6d) >>> 0;
  v[3] = (key[3]! ^ 0x646f7261) >>> 0;
  v[4] = (key[0]! ^ 0x6e657261) >>> 0;
  v[5] = (key[1]! ^ 0x6c796765) >>> 0;
  v[6] = (key[2]! ^ 0x79746573) >>> 0;
  v[7] = (key[3]! ^ 0x74656462) >>> 0;
  const n = msg.length;
  const whole = n - (n % 8);
  for (let i = 0; i < whole; i += 8) {
    compress(
      (msg[i]! | (msg[i + 1]! << 8) | (msg[i + 2]! << 16) | (msg[i + 3]! << 24)) >>> 0,
      (msg[i + 4]! | (msg[i + 5]! << 8) | (msg[i + 6]! << 16) | (msg[i + 7]! << 24)) >>> 0,
    );
  }
  // last block: the remaining bytes, the length's low byte at the top
  const last = new Uint8Array(8);
  last.set(msg.subarray(whole));
  last[7] = n & 0xff;
  compress(
    (last[0]! | (last[1]! << 8) | (last[2]! << 16) | (last[3]! << 24)) >>> 0,
    (last[4]! | (last[5]! << 8) | (last[6]! << 16) | (last[7]! << 24)) >>> 0,
  );
  v[V2] = (v[V2]! ^ 0xff) >>> 0;
  round();
  round();
  round();
  round();
  return [(v[0]! ^ v[2]! ^ v[4]! ^ v[6]!) >>> 0, (v[1]! ^ v[3]! ^ v[5]! ^ v[7]!) >>> 0];
}
