/**
 * One named database of the chain environment, as the rest of the node sees it: the few lmdb-js
 * calls it uses, on whichever environment is open now. ChainDb closes and reopens its environment
 * after a sync (releaseWriteMemory) and points every Table at the new handle, so the stores that
 * keep a Table from their constructor never hold a closed one.
 */
import type { Buffer } from 'node:buffer';
import type { Database, RangeIterable, RangeOptions } from 'lmdb';

type Handle = Database<Buffer, Buffer>;

export class Table {
  readonly name: string;
  #db: Handle;

  constructor(name: string, db: Handle) {
    this.name = name;
    this.#db = db;
  }

  /** The environment was reopened: this database's handle in it. */
  rebind(db: Handle): void {
    this.#db = db;
  }

  get(key: Buffer): Buffer | undefined {
    return this.#db.get(key);
  }

  /**
   * `read` of the stored value read in place, without a copy (undefined when absent): `read` must
   * not keep the bytes or anything viewing them, which the next read overwrites.
   */
  peek<T>(key: Buffer, read: (value: Buffer) => T): T | undefined {
    const v = this.#db.getBinaryFast(key);
    return v === undefined ? undefined : read(v);
  }

  /** The stored value's size, 0 when absent (read in place, without a copy). */
  valueBytes(key: Buffer): number {
    return this.peek(key, (v) => v.length) ?? 0;
  }

  doesExist(key: Buffer): boolean {
    return this.#db.doesExist(key);
  }

  getRange(options?: RangeOptions): RangeIterable<{ key: Buffer; value: Buffer }> {
    return this.#db.getRange(options);
  }

  putSync(key: Buffer, value: Uint8Array): void {
    this.#db.putSync(key, value as Buffer);
  }

  removeSync(key: Buffer): boolean {
    return this.#db.removeSync(key);
  }

  clearSync(): void {
    this.#db.clearSync();
  }

  getStats(): object {
    return this.#db.getStats();
  }
}
