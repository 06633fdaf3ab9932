/**
 * One named database of the chain environment, as the node's code sees it: lmdb-js's own
 * method names (get, getRange, putSync, removeSync, …), so storage code reads as plain lmdb-js,
 * but writes go through ChainDb.write. With write-behind on (the default), a write lands in this
 * table's overlay at once and reaches LMDB when lmdb-js's write thread commits it; every read
 * looks in the overlay first, so readers see their own writes whether committed yet or not.
 */
import { Buffer } from 'node:buffer';
import type { Database } from 'lmdb';

/** A write not yet committed to LMDB; `value` undefined = removed. */
export interface PendingEntry {
  readonly key: Buffer;
  readonly value: Buffer | undefined;
}

/** Where a table's writes go: ChainDb's write-behind journal (or straight to lmdb when off). */
export interface TableWriter {
  /** Records a write in the current ChainDb.write (opening one around it when none is open). */
  record(table: Table, key: Buffer, value: Buffer | undefined): void;
  /** Records emptying the table, in order with the writes around it. */
  recordClear(table: Table): void;
  /** True when writes go straight to lmdb in its synchronous transaction (write-behind off). */
  readonly direct: boolean;
}

export interface RangeOptions {
  readonly start?: Uint8Array;
  readonly end?: Uint8Array;
  readonly limit?: number;
  readonly reverse?: boolean;
  readonly snapshot?: boolean;
}

export class Table {
  readonly name: string;
  /** lmdb-js's handle: only ChainDb's journal writes through it. */
  readonly lmdb: Database<Buffer, Buffer>;
  /** Uncommitted writes by key (latin1 of the key bytes); maintained by the journal. */
  readonly overlay = new Map<string, PendingEntry>();
  /** Clears handed to the write thread and not yet committed: LMDB's content is stale meanwhile. */
  clearing = 0;
  readonly #writer: TableWriter;

  constructor(name: string, lmdb: Database<Buffer, Buffer>, writer: TableWriter) {
    this.name = name;
    this.lmdb = lmdb;
    this.#writer = writer;
  }

  get(key: Uint8Array): Buffer | undefined {
    if (this.overlay.size !== 0 || this.clearing !== 0) {
      const e = this.overlay.get(keyString(key));
      if (e !== undefined) return e.value;
      if (this.clearing !== 0) return undefined;
    }
    return this.lmdb.get(asBuffer(key));
  }

  doesExist(key: Uint8Array): boolean {
    return this.get(key) !== undefined;
  }

  /**
   * Entries in key order (lmdb-js's range semantics: `start` inclusive, `end` exclusive; with
   * `reverse`, from `start` down to `end`), the overlay merged over what LMDB holds.
   */
  *getRange(opts: RangeOptions = {}): Generator<{ key: Buffer; value: Buffer }> {
    const lmdbOpts = {
      ...opts,
      ...(opts.start === undefined ? {} : { start: asBuffer(opts.start) }),
      ...(opts.end === undefined ? {} : { end: asBuffer(opts.end) }),
    };
    if (this.overlay.size === 0 && this.clearing === 0) {
      yield* this.lmdb.getRange(lmdbOpts) as Iterable<{ key: Buffer; value: Buffer }>;
      return;
    }
    const rev = opts.reverse === true;
    const order = (a: Buffer, b: Buffer) => (rev ? Buffer.compare(b, a) : Buffer.compare(a, b));
    const start = opts.start === undefined ? undefined : asBuffer(opts.start);
    const end = opts.end === undefined ? undefined : asBuffer(opts.end);
    const pending = [...this.overlay.values()]
      .filter(
        (e) =>
          (start === undefined || order(e.key, start) >= 0) && (end === undefined || order(e.key, end) < 0),
      )
      .sort((a, b) => order(a.key, b.key));
    const limit = opts.limit ?? Number.POSITIVE_INFINITY;
    // overlay entries can hide as many stored ones: ask lmdb for that many more
    const stored = (
      this.clearing !== 0
        ? []
        : this.lmdb.getRange(
            opts.limit === undefined ? lmdbOpts : { ...lmdbOpts, limit: opts.limit + pending.length },
          )
    ) as Iterable<{ key: Buffer; value: Buffer }>;
    let n = 0;
    let i = 0;
    for (const s of stored) {
      while (i < pending.length && order(pending[i]!.key, s.key) < 0) {
        const p = pending[i++]!;
        if (p.value === undefined) continue;
        yield { key: p.key, value: p.value };
        if (++n >= limit) return;
      }
      if (i < pending.length && order(pending[i]!.key, s.key) === 0) {
        const p = pending[i++]!;
        if (p.value === undefined) continue;
        yield { key: p.key, value: p.value };
      } else yield s;
      if (++n >= limit) return;
    }
    for (; i < pending.length; i++) {
      const p = pending[i]!;
      if (p.value === undefined) continue;
      yield { key: p.key, value: p.value };
      if (++n >= limit) return;
    }
  }

  /** Puts `value` at `key` in the current ChainDb.write. */
  putSync(key: Uint8Array, value: Uint8Array): void {
    if (this.#writer.direct) this.lmdb.putSync(asBuffer(key), asBuffer(value));
    else this.#writer.record(this, asBuffer(key), asBuffer(value));
  }

  /** Removes `key` in the current ChainDb.write (nothing when absent). */
  removeSync(key: Uint8Array): void {
    if (this.#writer.direct) this.lmdb.removeSync(asBuffer(key));
    else this.#writer.record(this, asBuffer(key), undefined);
  }

  /** Empties the table in the current ChainDb.write (reindex). */
  clearSync(): void {
    if (this.#writer.direct) this.lmdb.clearSync();
    else this.#writer.recordClear(this);
  }
}

export function keyString(key: Uint8Array): string {
  return asBuffer(key).toString('latin1');
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
