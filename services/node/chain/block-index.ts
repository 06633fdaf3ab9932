/**
 * The tree of every known header, in memory (loaded from the `headers` database at start): height,
 * cumulative work, status, parent. Fork choice reads it: the best chain is the valid-or-unknown
 * entry with full data along its path and the most cumulative work.
 */

import type { BlockHeader } from '../../../shared/core/block/types.ts';
import { hashBytes, hashToHex, toHex } from '../../../shared/core/bytes.ts';
import { BlockStatus, type BlockStatusValue } from '../db/records.ts';

export interface IndexEntry {
  readonly hash: Uint8Array;
  readonly key: string;
  readonly header: BlockHeader;
  readonly height: number;
  readonly work: bigint;
  /** Changed only through BlockIndex.setStatus. */
  readonly status: BlockStatusValue;
  readonly parent: IndexEntry | null;
  /** Arrival order: among equal work, the first seen wins (no switching on ties). */
  readonly sequence: number;
  /** Time of block 1 on this branch (the difficulty anchor); genesis: its own time. */
  readonly anchorTime: number;
}

export function hashKey(hash: Uint8Array): string {
  return toHex(hashBytes(hash));
}

/**
 * The header with its two hashes copied into one 64-byte buffer of its own: decoded, they are views
 * of the block (or headers message) they came in, which an index entry would keep in memory for the
 * life of the process.
 */
function ownHeader(h: BlockHeader): BlockHeader {
  const bytes = new Uint8Array(64);
  bytes.set(h.prevHash, 0);
  bytes.set(h.merkleRoot, 32);
  return { ...h, prevHash: bytes.subarray(0, 32), merkleRoot: bytes.subarray(32) };
}

/** Orders entries by work, then by arrival (the first seen is "larger": it wins ties). */
function before(a: IndexEntry, b: IndexEntry): boolean {
  return a.work < b.work || (a.work === b.work && a.sequence > b.sequence);
}

export class BlockIndex {
  readonly #entries = new Map<string, IndexEntry>();
  readonly #children = new Map<string, IndexEntry[]>();
  /**
   * Entries with block data and not invalid, ordered by `before` (ascending): fork choice looks
   * only at the top of it, down to the current tip's work, instead of at every header.
   */
  readonly #withData: IndexEntry[] = [];
  /** The not-invalid entry with the most work (the first seen among equals); headers included. */
  #top: IndexEntry | undefined;
  #topStale = false;
  #sequence = 0;

  get size(): number {
    return this.#entries.size;
  }

  get(hash: Uint8Array): IndexEntry | undefined {
    return this.#entries.get(hashKey(hash));
  }

  add(
    hash: Uint8Array,
    header: BlockHeader,
    height: number,
    work: bigint,
    status: BlockStatusValue,
    parent: IndexEntry | null,
  ): IndexEntry {
    const key = hashKey(hash);
    const entry: IndexEntry = {
      hash: Uint8Array.from(hash),
      key,
      header: ownHeader(header),
      height,
      work,
      status,
      parent,
      sequence: this.#sequence++,
      anchorTime: parent === null || height <= 1 ? header.time : parent.anchorTime,
    };
    this.#entries.set(key, entry);
    this.#track(entry);
    if (parent !== null) {
      const siblings = this.#children.get(parent.key);
      if (siblings === undefined) this.#children.set(parent.key, [entry]);
      else siblings.push(entry);
    }
    return entry;
  }

  /** Changes an entry's status (the only way to: fork choice keeps its sets in step). */
  setStatus(e: IndexEntry, status: BlockStatusValue): void {
    if (e.status === status) return;
    const had = hasData(e.status);
    (e as { status: BlockStatusValue }).status = status;
    if (had && !hasData(status)) this.#withData.splice(this.#position(e), 1);
    else if (!had && hasData(status)) this.#withData.splice(this.#insertionPoint(e), 0, e);
    // found again on the next read: a whole invalid subtree then costs one scan, not one per entry
    if (status === BlockStatus.invalid && e === this.#top) this.#topStale = true;
  }

  /** The not-invalid header with the most work (the first seen among equals). */
  topHeader(): IndexEntry | undefined {
    if (this.#topStale) {
      this.#top = this.#scanTop();
      this.#topStale = false;
    }
    return this.#top;
  }

  #track(e: IndexEntry): void {
    if (e.status === BlockStatus.invalid) return;
    if (!this.#topStale && (this.#top === undefined || before(this.#top, e))) this.#top = e;
    if (hasData(e.status)) this.#withData.splice(this.#insertionPoint(e), 0, e);
  }

  #scanTop(): IndexEntry | undefined {
    let top: IndexEntry | undefined;
    for (const e of this.#entries.values())
      if (e.status !== BlockStatus.invalid && (top === undefined || before(top, e))) top = e;
    return top;
  }

  /** Index before which `e` keeps #withData ordered (new entries usually go last: O(1)). */
  #insertionPoint(e: IndexEntry): number {
    const list = this.#withData;
    if (list.length === 0 || before(list[list.length - 1]!, e)) return list.length;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(list[mid]!, e)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #position(e: IndexEntry): number {
    const i = this.#insertionPoint(e);
    if (this.#withData[i] !== e) throw new Error(`index entry ${e.key} missing from the candidate list`);
    return i;
  }

  children(e: IndexEntry): readonly IndexEntry[] {
    return this.#children.get(e.key) ?? [];
  }

  /** `e` and every entry below it. */
  descendants(e: IndexEntry): IndexEntry[] {
    const out: IndexEntry[] = [];
    const stack = [e];
    while (stack.length > 0) {
      const x = stack.pop()!;
      out.push(x);
      stack.push(...this.children(x));
    }
    return out;
  }

  /** The entry of `e`'s chain at `height` (e's ancestor, or e). */
  ancestor(e: IndexEntry, height: number): IndexEntry | undefined {
    let x: IndexEntry | null = e;
    while (x !== null && x.height > height) x = x.parent;
    return x !== null && x.height === height ? x : undefined;
  }

  /** Last common entry of the chains ending at a and b. */
  fork(a: IndexEntry, b: IndexEntry): IndexEntry {
    let x: IndexEntry | null = a;
    let y: IndexEntry | null = b;
    while (x !== null && y !== null && x !== y) {
      if (x.height > y.height) x = x.parent;
      else if (y.height > x.height) y = y.parent;
      else {
        x = x.parent;
        y = y.parent;
      }
    }
    if (x === null || y === null)
      throw new Error(`no common ancestor of ${hashToHex(a.hash)} and ${hashToHex(b.hash)}`);
    return x;
  }

  /** Times of `e` and its ancestors, newest first, at most `n`: for median time past. */
  recentTimes(e: IndexEntry, n: number): number[] {
    const out: number[] = [];
    for (let x: IndexEntry | null = e; x !== null && out.length < n; x = x.parent) out.push(x.header.time);
    return out;
  }

  /**
   * The entry with the most work whose whole path has block data and none of it invalid (the
   * chain we can switch to). `current` wins ties, then the first seen.
   */
  bestCandidate(current: IndexEntry): IndexEntry {
    // from the most work down (among equal work, the first seen first); nothing with no more
    // work than `current` can replace it
    const list = this.#withData;
    for (let i = list.length - 1; i >= 0; i--) {
      const e = list[i]!;
      if (e.work <= current.work) break;
      if (this.#connectable(e)) return e;
    }
    return current;
  }

  #connectable(e: IndexEntry): boolean {
    for (let x: IndexEntry | null = e; x !== null; x = x.parent) {
      if (x.status === BlockStatus.invalid || x.status === BlockStatus.headerOnly) return false;
      if (x.status === BlockStatus.valid) return true;
    }
    return true;
  }

  *values(): IterableIterator<IndexEntry> {
    yield* this.#entries.values();
  }
}

function hasData(s: BlockStatusValue): boolean {
  return s === BlockStatus.haveData || s === BlockStatus.valid;
}
