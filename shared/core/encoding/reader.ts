/**
 * Reads the canonical encoding. Every read names the field it is for, so a DecodeError says what
 * was wrong where; every length read from the input is checked against a cap before anything is
 * sliced or allocated.
 */
import { DecodeError } from '../errors.ts';

/** LEB128 varints stop at 2^53-1 so every decoded value is an exact JS number. */
export const MAX_VARINT = Number.MAX_SAFE_INTEGER;
const MAX_VARINT_BYTES = 8; // 8 × 7 = 56 bits ≥ 53
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class Reader {
  readonly #buf: Uint8Array;
  #pos: number;
  readonly #end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.#buf = buf;
    this.#pos = start;
    this.#end = end;
  }

  get position(): number {
    return this.#pos;
  }

  get remaining(): number {
    return this.#end - this.#pos;
  }

  #need(n: number, field: string): void {
    if (this.#end - this.#pos < n) {
      throw new DecodeError('decode-truncated', field, `needs ${n} bytes, ${this.#end - this.#pos} left`);
    }
  }

  u8(field: string): number {
    this.#need(1, field);
    return this.#buf[this.#pos++]!;
  }

  u32(field: string): number {
    this.#need(4, field);
    const b = this.#buf;
    const p = this.#pos;
    this.#pos = p + 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
  }

  /** A u64 field that must fit in 2^53-1 (times, amounts); larger is a decode error, not a rounding. */
  u64(field: string): number {
    const lo = this.u32(field);
    const hi = this.u32(field);
    if (hi > 0x1fffff) {
      throw new DecodeError('decode-too-large', field, 'exceeds 2^53-1');
    }
    return hi * 0x100000000 + lo;
  }

  /** A full 64-bit unsigned field (the header nonce). */
  u64big(field: string): bigint {
    const lo = this.u32(field);
    const hi = this.u32(field);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Unsigned LEB128, shortest form only: a final 0x00 byte after the first is an overlong encoding. */
  varint(field: string, max = MAX_VARINT): number {
    const b = this.#buf;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.#pos >= this.#end) {
        throw new DecodeError('decode-truncated', field, 'varint cut short');
      }
      const byte = b[this.#pos++]!;
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (byte === 0 && i > 0) {
          throw new DecodeError('decode-noncanonical-varint', field, 'overlong varint');
        }
        if (result > max) {
          throw new DecodeError('decode-too-large', field, `${result} exceeds ${max}`);
        }
        return result;
      }
      scale *= 128;
    }
    throw new DecodeError('decode-varint-overflow', field, 'varint longer than 8 bytes');
  }

  /** A list length: checked against `max` before the caller allocates anything for it. */
  count(field: string, max: number): number {
    return this.varint(field, max);
  }

  /** Fixed-size field; returns a view (no copy) into the input. */
  bytes(n: number, field: string): Uint8Array {
    this.#need(n, field);
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  /** Length-prefixed field of at most `max` bytes. */
  varBytes(field: string, max: number): Uint8Array {
    const n = this.varint(field, max);
    return this.bytes(n, field);
  }

  /**
   * Length-prefixed UTF-8 text of at most `max` bytes. Strict: invalid UTF-8 is an error, and a
   * leading byte-order mark is kept (U+FEFF), never silently dropped.
   */
  utf8(field: string, max: number): string {
    const b = this.varBytes(field, max);
    try {
      return UTF8.decode(b);
    } catch {
      throw new DecodeError('decode-bad-value', field, 'not valid UTF-8');
    }
  }

  /** Decoding a whole message must consume it exactly. */
  end(what: string): void {
    if (this.#pos !== this.#end) {
      throw new DecodeError('decode-trailing-bytes', what, `${this.#end - this.#pos} bytes after the end`);
    }
  }
}
