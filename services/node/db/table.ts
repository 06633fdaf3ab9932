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

  /** The stored value's size, 0 when absent (read in place, without a copy). */
  valueBytes(key: Buffer): number {
    return this.#db.getBinaryFast(key)?.length ?? 0;
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
