/** Small helpers over Uint8Array; the core never depends on Node's Buffer in its types. */
import { Buffer } from 'node:buffer';

export type Bytes = Uint8Array;

/**
 * Up to this many bytes (hashes, owners) are read here without asking for the array's `.buffer`:
 * V8 keeps typed arrays this small inside its heap (core/hash.ts makes its digests so), and their
 * `.buffer` moves them out to a new malloc'd store first (~1.9 µs, against ~0.2 µs for the string).
 */
const SMALL = 64;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A hash's 32 bytes: the array itself, or the first 32 of a longer one (the keys below take exactly those). */
export function hashBytes(b: Uint8Array): Uint8Array {
  return b.length === 32 ? b : b.subarray(0, 32);
}

/** The bytes as a string key for maps and sets (one character per byte). */
export function bytesKey(b: Uint8Array): string {
  if (b.length <= SMALL) return String.fromCharCode.apply(null, b as unknown as number[]);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

export function toHex(b: Uint8Array): string {
  if (b.length <= SMALL) {
    let s = '';
    for (let i = 0; i < b.length; i++) s += HEX[b[i]!];
    return s;
  }
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/**
 * Parses even-length hex (either case); null when not hex. The bytes are the result's own (no
 * share of Buffer's pool, which a kept transaction would hold alive). Buffer's decoder stops at
 * the first pair that is not hex, so fewer bytes written than asked means not hex: one pass and
 * one copy (a regular expression over the text and a second copy cost twice as much: the
 * sendrawtransaction path).
 */
export function fromHex(hex: string): Uint8Array | null {
  // ASCII only: the decoder reads a character's low byte alone ('\u0661' would pass for 'a')
  if (hex.length % 2 !== 0 || Buffer.byteLength(hex, 'utf8') !== hex.length) return null;
  const out = new Uint8Array(hex.length / 2);
  return Buffer.from(out.buffer).write(hex, 'hex') === out.length ? out : null;
}

/** Like fromHex but for constants the program itself supplies: a bad string is a bug. */
export function hexToBytes(hex: string): Uint8Array {
  const b = fromHex(hex);
  if (b === null) {
    throw new Error(`not hex: ${hex.slice(0, 16)}…`);
  }
  return b;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) {
    return false;
  }
  // hashes and owners (hot in connect): compared here, without a Buffer view to allocate
  if (a.length <= 64) {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) {
    n += p.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Hashes are stored little-endian (as Bitcoin); humans see them byte-reversed. */
export function hashToHex(hash: Uint8Array): string {
  return toHex(Uint8Array.from(hash).reverse());
}

export function hashFromHex(hex: string): Uint8Array | null {
  if (hex.length !== 64) {
    return null;
  }
  const b = fromHex(hex);
  return b === null ? null : b.reverse();
}

/** A 256-bit little-endian byte string as an unsigned integer. */
export function leBytesToBigInt(b: Uint8Array): bigint {
  return BigInt(`0x${toHex(Uint8Array.from(b).reverse()) || '0'}`);
}

export function bigIntToLeBytes(v: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = v;
  for (let i = 0; i < length; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}
