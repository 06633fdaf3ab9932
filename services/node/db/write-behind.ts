/**
 * Write-behind for ChainDb: the writes of one outer ChainDb.write are kept in the tables'
 * overlays and handed, sorted, to lmdb-js's write thread as ONE batch (one LMDB transaction),
 * instead of being put synchronously on the main thread. A synchronous put costs the main thread
 * ~3 µs (LMDB's B-tree work and page copies), an async one ~0.6 µs to queue, and the commit and
 * its fsync leave the main thread too: connecting the next blocks overlaps with writing these.
 *
 * Why it stays correct:
 * - every write of the node goes through here, in order, so batches commit in the order they were
 *   made (a synchronous write beside them could land in the middle of the write thread's batch);
 * - a batch is atomic (lmdb-js `batch`): a crash leaves the state after some whole outer write,
 *   i.e. at a block boundary, as before; what was not yet committed is redone at start from the
 *   stored blocks, or fetched again;
 * - a table's reads look in its overlay first, until the batch holding the write has committed;
 * - a nested write that throws is rolled back in the overlay, as an lmdb child transaction was.
 *
 * Why parallel arrays and not an object per write: the writes live until their commit, long
 * enough to be promoted out of V8's young generation, and a syncing node makes ~6 per transaction.
 */
import { Buffer } from 'node:buffer';
import type { RootDatabase } from 'lmdb';
import { keyString, type Overlaid, Removed, type Table } from './table.ts';

/** The writes of one outer write, in order (index i across the arrays is one write). */
class Log {
  readonly tables: Table[] = [];
  readonly keys: string[] = [];
  readonly keyBytes: Buffer[] = [];
  readonly values: Overlaid[] = [];
  /** The overlay's entry before each write (restored on rollback), or the whole overlay before a clear. */
  readonly prevs: (Overlaid | Map<string, Overlaid> | undefined)[] = [];
  /** Indexes of clears in this log. */
  readonly clears: number[] = [];
}

/** What one batch leaves in the overlays until it commits: per table, its keys and entries. */
interface Handed {
  readonly table: Table;
  readonly keys: string[];
  readonly keyBytes: Buffer[];
  readonly values: Overlaid[];
}

export class WriteBehind {
  readonly #env: RootDatabase;
  readonly #onFailure: (e: unknown) => void;
  #log = new Log();
  #inflightBatches = 0;
  #inflightBytes = 0;
  #last: Promise<void> = Promise.resolve();
  #failure: unknown;

  constructor(env: RootDatabase, onFailure: (e: unknown) => void) {
    this.#env = env;
    this.#onFailure = onFailure;
  }

  /** Bytes handed to the write thread and not yet committed (keys and values). */
  get pendingBytes(): number {
    return this.#inflightBytes;
  }

  /** Batches handed to the write thread and not yet committed. */
  get pendingBatches(): number {
    return this.#inflightBatches;
  }

  /** Resolves when everything handed over so far is committed; rejects if a commit failed. */
  settled(): Promise<void> {
    return this.#last;
  }

  /** A put (`value`) or a remove (undefined) of `key` in `table`. */
  record(table: Table, key: Buffer, value: Buffer | undefined): void {
    const k = keyString(key);
    // a remove is a new Removed each time: entries are told apart by identity at commit
    const v: Overlaid = value ?? new Removed();
    const log = this.#log;
    log.tables.push(table);
    log.keys.push(k);
    log.keyBytes.push(key);
    log.values.push(v);
    log.prevs.push(table.overlay.get(k));
    table.overlay.set(k, v);
  }

  /** Empties `table`: its overlay now, LMDB's copy when the batch commits (reads skip LMDB till then). */
  recordClear(table: Table): void {
    const log = this.#log;
    log.clears.push(log.tables.length);
    log.tables.push(table);
    log.keys.push('');
    log.keyBytes.push(EMPTY);
    log.values.push(new Removed());
    log.prevs.push(new Map(table.overlay));
    table.overlay.clear();
    table.clearing++;
  }

  /** A point to roll back to (a nested write's start). */
  savepoint(): number {
    return this.#log.tables.length;
  }

  /** Undoes the writes recorded since `savepoint`, newest first. */
  rollback(savepoint: number): void {
    const log = this.#log;
    for (let i = log.tables.length - 1; i >= savepoint; i--) {
      const table = log.tables[i]!;
      const prev = log.prevs[i];
      if (prev instanceof Map) {
        for (const [k, e] of prev) table.overlay.set(k, e);
        table.clearing--;
      } else if (prev === undefined) table.overlay.delete(log.keys[i]!);
      else table.overlay.set(log.keys[i]!, prev);
    }
    log.tables.length = savepoint;
    log.keys.length = savepoint;
    log.keyBytes.length = savepoint;
    log.values.length = savepoint;
    log.prevs.length = savepoint;
    while (log.clears.length > 0 && log.clears[log.clears.length - 1]! >= savepoint) log.clears.pop();
  }

  /**
   * Hands the outer write's writes to the write thread as one batch: per table, the last write
   * of each key, in key order (neighbouring keys share B-tree pages).
   */
  submit(): void {
    const log = this.#log;
    this.#log = new Log();
    if (log.tables.length === 0) return;
    const clears = new Set(log.clears.map((i) => log.tables[i]!));
    const byTable = new Map<Table, number[]>();
    let bytes = 0;
    for (let i = 0; i < log.tables.length; i++) {
      const table = log.tables[i]!;
      const v = log.values[i]!;
      // superseded in this same write (a clear after it leaves it out of the overlay too)
      if (table.overlay.get(log.keys[i]!) !== v) continue;
      let list = byTable.get(table);
      if (list === undefined) {
        list = [];
        byTable.set(table, list);
      }
      list.push(i);
      bytes += log.keys[i]!.length + (v instanceof Removed ? 0 : v.length);
    }
    const handed: Handed[] = [];
    for (const [table, list] of byTable) {
      list.sort((a, b) => (log.keys[a]! < log.keys[b]! ? -1 : log.keys[a]! > log.keys[b]! ? 1 : 0));
      handed.push({
        table,
        keys: list.map((i) => log.keys[i]!),
        keyBytes: list.map((i) => log.keyBytes[i]!),
        values: list.map((i) => log.values[i]!),
      });
    }
    const committed = this.#env.batch(() => {
      // a clear goes first: the writes recorded before it are left out above
      for (const table of clears) table.lmdb.clearAsync();
      for (const { table, keyBytes, values } of handed) {
        for (let i = 0; i < values.length; i++) {
          const v = values[i]!;
          if (v instanceof Removed) table.lmdb.remove(keyBytes[i]!);
          else table.lmdb.put(keyBytes[i]!, v);
        }
      }
    });
    this.#inflightBatches++;
    this.#inflightBytes += bytes;
    const done = Promise.resolve(committed).then(
      () => {
        this.#inflightBatches--;
        this.#inflightBytes -= bytes;
        for (const table of clears) table.clearing--;
        // lmdb-js renewed its read snapshot before resolving: LMDB now has these
        for (const { table, keys, values } of handed)
          for (let i = 0; i < keys.length; i++)
            if (table.overlay.get(keys[i]!) === values[i]) table.overlay.delete(keys[i]!);
      },
      async (e: unknown) => {
        // lmdb-js rejects with "Commit failed" and the cause in a promise beside it
        const cause = (e as { commitError?: Promise<unknown> } | undefined)?.commitError;
        const why =
          cause === undefined
            ? e
            : await cause.then(
                () => e,
                (c: unknown) => c,
              );
        // the overlay keeps what did not reach the disk; the node stops on this
        if (this.#failure === undefined) {
          this.#failure = why;
          this.#onFailure(why);
        }
        throw why;
      },
    );
    done.catch(() => undefined); // reported through onFailure; settled() rejects with it
    this.#last = done;
  }
}

const EMPTY = Buffer.alloc(0);
