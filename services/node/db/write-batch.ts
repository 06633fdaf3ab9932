/**
 * Collects the puts and removes of one block for several databases, then applies them inside the
 * current write transaction sorted by key: neighbouring keys share B-tree pages, so sorted
 * writes touch (and copy, and commit) each page once instead of jumping around the tree.
 */
import { Buffer } from 'node:buffer';
import type { BinaryDb } from './chain-db.ts';

interface Op {
  readonly key: Buffer;
  /** undefined = remove */
  readonly value: Buffer | undefined;
}

export class WriteBatch {
  readonly #ops = new Map<BinaryDb, Op[]>();

  #list(db: BinaryDb): Op[] {
    let l = this.#ops.get(db);
    if (l === undefined) {
      l = [];
      this.#ops.set(db, l);
    }
    return l;
  }

  put(db: BinaryDb, key: Buffer, value: Uint8Array): void {
    this.#list(db).push({ key, value: Buffer.from(value.buffer, value.byteOffset, value.byteLength) });
  }

  remove(db: BinaryDb, key: Buffer): void {
    this.#list(db).push({ key, value: undefined });
  }

  /** Applies everything; must run inside ChainDb.write. Same-key operations keep their order. */
  apply(): void {
    for (const [db, ops] of this.#ops) {
      ops.sort((a, b) => Buffer.compare(a.key, b.key)); // stable: same-key ops keep their order
      for (const op of ops) {
        if (op.value === undefined) db.removeSync(op.key);
        else db.putSync(op.key, op.value);
      }
    }
    this.#ops.clear();
  }
}
