/**
 * SHA-256d of an 88-byte block header for nonce search, in plain JavaScript with the classic
 * miner shortcuts. Why: a `crypto.hash` call costs ≈ 1 µs of JS↔native overhead on top of the
 * hash itself, and a double hash takes two calls: ≈ 0.45 M nonces/s per core here, while the
 * SHA-256 work per nonce is only three 64-byte compressions. Here:
 *
 *   - midstate: the first 64 header bytes (version, previous hash, 28 bytes of merkle root) do not
 *     change with the nonce, so their compression is done once per job; per nonce only the second
 *     block (merkle tail, time, bits, nonce, padding) and the 32-byte second hash are compressed;
 *   - rounds 0..3 of the second block use only job constants: done once per job; message words
 *     16..18 too; padding words are constants;
 *   - the caller needs the hash's most significant 32 bits first (a hash is compared with a
 *     target as a little-endian integer: bytes 31..28 = the last digest word, byte-swapped), and
 *     that word is final after round 60 of the last compression: rounds 61..63 are skipped. A
 *     candidate (top bits ≤ the target's) is then hashed in full by the caller with node:crypto.
 *
 * Checked against node:crypto in test/unit/recorder/sha256-midstate.test.ts.
 */
import { HEADER_SIZE, NONCE_OFFSET } from '../../shared/core/block/types.ts';
import { UsageError } from '../../shared/core/errors.ts';

const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const IV = Int32Array.from([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

/** The 4 bytes of a u32 reversed: a little-endian nonce word read as SHA-256's big-endian word. */
export function bswap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}

const sigma0 = (x: number) => ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
const sigma1 = (x: number) => ((x >>> 17) | (x << 15)) ^ ((x >>> 19) | (x << 13)) ^ (x >>> 10);

/** One full compression of `w[0..15]` into `state` (used once per job for the midstate). */
function compress(state: Int32Array, w: Int32Array, out: Int32Array): void {
  for (let i = 16; i < 64; i++) w[i] = (w[i - 16]! + sigma0(w[i - 15]!) + w[i - 7]! + sigma1(w[i - 2]!)) | 0;
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let i = 0; i < 64; i++) {
    const t1 =
      (h +
        (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
        ((e & f) ^ (~e & g)) +
        K[i]! +
        w[i]!) |
      0;
    const t2 =
      ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
        ((a & b) ^ (a & c) ^ (b & c))) |
      0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  out[0] = (state[0]! + a) | 0;
  out[1] = (state[1]! + b) | 0;
  out[2] = (state[2]! + c) | 0;
  out[3] = (state[3]! + d) | 0;
  out[4] = (state[4]! + e) | 0;
  out[5] = (state[5]! + f) | 0;
  out[6] = (state[6]! + g) | 0;
  out[7] = (state[7]! + h) | 0;
}

export class MidstateSha256d {
  /** State after the first header block. */
  readonly #mid = new Int32Array(8);
  /** State after rounds 0..3 of the second block. */
  readonly #pre = new Int32Array(8);
  /** Message schedule of the second header block (words 0..3, 6..18 are per-job constants). */
  readonly #w = new Int32Array(64);
  /** Message schedule of the second hash (words 8..15 are padding constants). */
  readonly #v = new Int32Array(64);

  constructor() {
    this.#v[8] = 0x80000000 | 0;
    this.#v[15] = 256;
  }

  /** Takes a job's header (bytes 0..80; the nonce bytes are ignored) and the nonce's high word. */
  setHeader(header: Uint8Array, hi = 0): void {
    if (header.length !== HEADER_SIZE) throw new UsageError(`a header has ${HEADER_SIZE} bytes`);
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    const w = this.#w;
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(i * 4, false);
    compress(IV, w, this.#mid);
    for (let i = 0; i < 4; i++) w[i] = view.getInt32(64 + i * 4, false);
    w[6] = 0x80000000 | 0;
    for (let i = 7; i < 15; i++) w[i] = 0;
    w[15] = HEADER_SIZE * 8;
    w[16] = (sigma1(w[14]!) + w[9]! + sigma0(w[1]!) + w[0]!) | 0;
    w[17] = (sigma1(w[15]!) + w[10]! + sigma0(w[2]!) + w[1]!) | 0;
    w[18] = (sigma1(w[16]!) + w[11]! + sigma0(w[3]!) + w[2]!) | 0;
    // rounds 0..3 of the second block
    const m = this.#mid;
    let a = m[0]!;
    let b = m[1]!;
    let c = m[2]!;
    let d = m[3]!;
    let e = m[4]!;
    let f = m[5]!;
    let g = m[6]!;
    let h = m[7]!;
    for (let i = 0; i < 4; i++) {
      const t1 =
        (h +
          (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
          ((e & f) ^ (~e & g)) +
          K[i]! +
          w[i]!) |
        0;
      const t2 =
        ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
          ((a & b) ^ (a & c) ^ (b & c))) |
        0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    const p = this.#pre;
    p[0] = a;
    p[1] = b;
    p[2] = c;
    p[3] = d;
    p[4] = e;
    p[5] = f;
    p[6] = g;
    p[7] = h;
    this.setHi(hi);
  }

  /** Sets the nonce's high 32 bits (header bytes 84..88, little-endian). */
  setHi(hi: number): void {
    this.#w[5] = bswap32(hi);
  }

  /**
   * The most significant 32 bits of SHA-256d(header with nonce (hi, lo)) read as a little-endian
   * 256-bit integer, i.e. hash bytes 28..31 as a little-endian u32 (0..2^32−1).
   */
  top32(lo: number): number {
    const w = this.#w;
    w[4] = bswap32(lo);
    for (let i = 19; i < 64; i++)
      w[i] = (w[i - 16]! + sigma0(w[i - 15]!) + w[i - 7]! + sigma1(w[i - 2]!)) | 0;
    const p = this.#pre;
    let a = p[0]!;
    let b = p[1]!;
    let c = p[2]!;
    let d = p[3]!;
    let e = p[4]!;
    let f = p[5]!;
    let g = p[6]!;
    let h = p[7]!;
    for (let i = 4; i < 64; i++) {
      const t1 =
        (h +
          (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
          ((e & f) ^ (~e & g)) +
          K[i]! +
          w[i]!) |
        0;
      const t2 =
        ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
          ((a & b) ^ (a & c) ^ (b & c))) |
        0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    const m = this.#mid;
    const v = this.#v;
    v[0] = (m[0]! + a) | 0;
    v[1] = (m[1]! + b) | 0;
    v[2] = (m[2]! + c) | 0;
    v[3] = (m[3]! + d) | 0;
    v[4] = (m[4]! + e) | 0;
    v[5] = (m[5]! + f) | 0;
    v[6] = (m[6]! + g) | 0;
    v[7] = (m[7]! + h) | 0;
    for (let i = 16; i < 61; i++)
      v[i] = (v[i - 16]! + sigma0(v[i - 15]!) + v[i - 7]! + sigma1(v[i - 2]!)) | 0;
    a = IV[0]!;
    b = IV[1]!;
    c = IV[2]!;
    d = IV[3]!;
    e = IV[4]!;
    f = IV[5]!;
    g = IV[6]!;
    h = IV[7]!;
    for (let i = 0; i < 61; i++) {
      const t1 =
        (h +
          (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
          ((e & f) ^ (~e & g)) +
          K[i]! +
          v[i]!) |
        0;
      const t2 =
        ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
          ((a & b) ^ (a & c) ^ (b & c))) |
        0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    // after round 60, e is what h is after round 63: the last digest word is IV[7] + e
    return bswap32((IV[7]! + e) | 0) >>> 0;
  }
}

/** The most significant 32 bits of a 32-byte little-endian target (or hash): bytes 28..31 as u32 LE. */
export function top32Of(le32: Uint8Array): number {
  return (le32[28]! | (le32[29]! << 8) | (le32[30]! << 16) | (le32[31]! << 24)) >>> 0;
}

/** Writes nonce (hi, lo) into a header buffer at bytes 80..88. */
export function writeNonce(header: Buffer, hi: number, lo: number): void {
  header.writeUInt32LE(lo, NONCE_OFFSET);
  header.writeUInt32LE(hi, NONCE_OFFSET + 4);
}
