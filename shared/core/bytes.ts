/** Small helpers over Uint8Array; the core never depends on Node's Buffer in its types. */
import { Buffer } from 'node:buffer';

export type Bytes = Uint8Array;

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** Parses even-length hex; throws RangeError-free TypeError-free: returns null when not hex. */
export function fromHex(hex: string): Uint8Array | null {
  if (!HEX_RE.test(hex)) {
    return null;
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
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
