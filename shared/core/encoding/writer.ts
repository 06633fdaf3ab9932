/** Writes the canonical encoding into a growable buffer. */
import { UsageError } from '../errors.ts';
import { MAX_VARINT } from './reader.ts';

export class Writer {
  #buf: Uint8Array;
  #pos = 0;

  constructor(initialSize = 256) {
    this.#buf = new Uint8Array(initialSize);
  }

  get length(): number {
    return this.#pos;
  }

  /** Empties the writer, keeping its buffer: one writer reused on a hot path allocates only finish()'s copy. */
  reset(): this {
    this.#pos = 0;
    return this;
  }

  #room(n: number): void {
    if (this.#pos + n <= this.#buf.length) {
      return;
    }
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) {
      size *= 2;
    }
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
  }

  u8(v: number): this {
    this.#room(1);
    this.#buf[this.#pos++] = v;
    return this;
  }

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new UsageError(`u32 out of range: ${v}`);
    }
    this.#room(4);
    const b = this.#buf;
    const p = this.#pos;
    b[p] = v & 0xff;
    b[p + 1] = (v >>> 8) & 0xff;
    b[p + 2] = (v >>> 16) & 0xff;
    b[p + 3] = (v >>> 24) & 0xff;
    this.#pos = p + 4;
    return this;
  }

  u64(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new UsageError(`u64 out of range: ${v}`);
    }
    this.u32(v % 0x100000000);
    return this.u32(Math.floor(v / 0x100000000));
  }

  u64big(v: bigint): this {
    if (v < 0n || v > 0xffffffffffffffffn) {
      throw new UsageError(`u64 out of range: ${v}`);
    }
    this.u32(Number(v & 0xffffffffn));
    return this.u32(Number(v >> 32n));
  }

  varint(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > MAX_VARINT) {
      throw new UsageError(`varint out of range: ${v}`);
    }
    this.#room(8);
    let x = v;
    while (x >= 0x80) {
      this.#buf[this.#pos++] = (x % 128) | 0x80;
      x = Math.floor(x / 128);
    }
    this.#buf[this.#pos++] = x;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.#room(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
    return this;
  }

  varBytes(b: Uint8Array): this {
    return this.varint(b.length).bytes(b);
  }

  /** The bytes written so far, not copied: valid until the writer is written to or reset. */
  written(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }

  /** The written bytes (a copy sized exactly). */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#pos);
  }
}

/** Size of a varint encoding, for computing sizes without writing. */
export function varintSize(v: number): number {
  let n = 1;
  let x = v;
  while (x >= 0x80) {
    x = Math.floor(x / 128);
    n++;
  }
  return n;
}
