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
 */
import { Buffer } from 'node:buffer';
import type { RootDatabase } from 'lmdb';
import { keyString, type PendingEntry, type Table } from './table.ts';

interface Recorded {
  readonly table: Table;
  readonly k: string;
  readonly entry: PendingEntry;
  /** The overlay's entry for this key before this write (restored on rollback). */
  readonly prev: PendingEntry | undefined;
  /** A clear of the table: the whole overlay before it (restored on rollback). */
  readonly cleared?: Map<string, PendingEntry>;
}

const EMPTY = Buffer.alloc(0);

export class WriteBehind {
  readonly #env: RootDatabase;
  readonly #onFailure: (e: unknown) => void;
  /** Writes of the outer write being built, in order. */
  #open: Recorded[] = [];
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

  record(table: Table, key: Buffer, value: Buffer | undefined): void {
    const k = keyString(key);
    const entry: PendingEntry = { key, value };
    this.#open.push({ table, k, entry, prev: table.overlay.get(k) });
    table.overlay.set(k, entry);
  }

  /** Empties `table`: its overlay now, LMDB's copy when the batch commits (reads skip LMDB till then). */
  recordClear(table: Table): void {
    const cleared = new Map(table.overlay);
    this.#open.push({ table, k: '', entry: { key: EMPTY, value: undefined }, prev: undefined, cleared });
    table.overlay.clear();
    table.clearing++;
  }

  /** A point to roll back to (a nested write's start). */
  savepoint(): number {
    return this.#open.length;
  }

  /** Undoes the writes recorded since `savepoint`, newest first. */
  rollback(savepoint: number): void {
    for (let i = this.#open.length - 1; i >= savepoint; i--) {
      const r = this.#open[i]!;
      if (r.cleared !== undefined) {
        for (const [k, e] of r.cleared) r.table.overlay.set(k, e);
        r.table.clearing--;
      } else if (r.prev === undefined) r.table.overlay.delete(r.k);
      else r.table.overlay.set(r.k, r.prev);
    }
    this.#open.length = savepoint;
  }

  /**
   * Hands the outer write's writes to the write thread as one batch: per table, the last write
   * of each key, in key order (neighbouring keys share B-tree pages).
   */
  submit(): void {
    const open = this.#open;
    this.#open = [];
    if (open.length === 0) return;
    const byTable = new Map<Table, Recorded[]>();
    const clears = new Set<Table>();
    let bytes = 0;
    for (const r of open) {
      if (r.cleared !== undefined) {
        clears.add(r.table);
        continue;
      }
      // superseded in this same write (a clear after it leaves it out of the overlay too)
      if (r.table.overlay.get(r.k) !== r.entry) continue;
      let list = byTable.get(r.table);
      if (list === undefined) {
        list = [];
        byTable.set(r.table, list);
      }
      list.push(r);
      bytes += r.entry.key.length + (r.entry.value?.length ?? 0);
    }
    for (const list of byTable.values()) list.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
    const committed = this.#env.batch(() => {
      // a clear goes first: the writes recorded before it are left out above
      for (const table of clears) table.lmdb.clearAsync();
      for (const [table, list] of byTable) {
        for (const { entry } of list) {
          if (entry.value === undefined) table.lmdb.remove(entry.key);
          else table.lmdb.put(entry.key, entry.value);
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
        for (const list of byTable.values())
          for (const r of list) if (r.table.overlay.get(r.k) === r.entry) r.table.overlay.delete(r.k);
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
