/**
 * Free space under the data directory, checked before writes (as Bitcoin Core's CheckDiskSpace):
 * the node stops cleanly while space is low instead of letting LMDB meet ENOSPC. lmdb-js can corrupt
 * its native heap and abort the process on a failed page write ("malloc(): invalid next size"
 * after "Write error: No space left on device"), before any JavaScript sees an error, so a stop
 * after the failure cannot be made clean: only a stop before it can.
 */
import { statfsSync } from 'node:fs';
import { StorageError } from './errors.ts';

export class DiskSpaceGuard {
  readonly #dir: string;
  readonly #minFreeBytes: number;

  /**
   * `minFreeBytes` 0 turns the guard off; 'auto' is 50 MB (Core's figure: room for the largest
   * block's commit many times over), or 5% of a file system smaller than 1 GB (a devnet's tmpfs).
   */
  constructor(dir: string, minFreeBytes: number | 'auto') {
    this.#dir = dir;
    this.#minFreeBytes = minFreeBytes === 'auto' ? autoReserve(dir) : minFreeBytes;
  }

  /** The reserve in force, in bytes. */
  get minFreeBytes(): number {
    return this.#minFreeBytes;
  }

  /**
   * Bytes available to us under the directory (unprivileged). Read at every call: statfs costs
   * ~4 µs, a commit far more, and a figure kept for later would widen the window in which another
   * process can fill the disk under us.
   */
  freeBytes(): number {
    try {
      const s = statfsSync(this.#dir);
      return Number(s.bavail) * Number(s.bsize);
    } catch {
      // a file system that cannot say: the write itself will tell
      return Number.POSITIVE_INFINITY;
    }
  }

  /**
   * Throws StorageError 'storage-disk-full' when less than the reserve (plus `writing`, what the
   * coming commit is expected to write) is free.
   */
  check(writing = 0): void {
    if (this.#minFreeBytes === 0) return;
    const free = this.freeBytes();
    if (free >= this.#minFreeBytes + writing) return;
    const mb = (n: number) => (n / 1e6).toFixed(1);
    throw new StorageError(
      'storage-disk-full',
      `disk space is too low: ${mb(free)} MB free under ${this.#dir}, storage.min_free_mb is ${mb(this.#minFreeBytes)}; free some space, then restart (the database keeps its last committed block)`,
    );
  }
}

export const DEFAULT_RESERVE_BYTES = 50_000_000;

function autoReserve(dir: string): number {
  try {
    const s = statfsSync(dir);
    return Math.min(DEFAULT_RESERVE_BYTES, Math.floor(Number(s.blocks) * Number(s.bsize) * 0.05));
  } catch {
    return DEFAULT_RESERVE_BYTES;
  }
}
