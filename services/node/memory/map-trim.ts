/**
 * Keeps LMDB's map from filling this process's RSS, and gives memory back once a sync is over.
 *
 * LMDB reads in place from its map of data.mdb, so every page a read touches stays mapped: during
 * a sync that is the whole coin set, tx index and address index, and the RSS grows with the chain
 * (97 MB of data.mdb after 2,000 blocks of 50 transfers, 420 MB at 4×). LevelDB (bcoin) and Core
 * read with pread into caches of a fixed size, so their RSS does not. The pages are the kernel's
 * page cache either way; this drops them from our page tables (madvise(MADV_DONTNEED), native/memory.c)
 * whenever the file pages mapped have grown more than `mapCacheBytes` since the last release. A
 * page read again is a minor fault from the page cache, not disk I/O.
 *
 * Once the chain has moved `idleBlocks` or more and then stood still for `idleMs` (a sync is over),
 * it also collects the JS heap, has storage reopen LMDB (which frees its dirty-page list only at
 * close) and runs malloc_trim: what was freed goes back to the kernel instead of staying in glibc's
 * arenas. Without the native addon only the collection and the reopen run.
 */
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../../shared/log.ts';
import { type Mapping, ownMappingsOf, rssFileBytes } from './file-mappings.ts';
import type { NativeMemory } from './native.ts';

export interface MapTrimOptions {
  /** The LMDB environment's directory (its data.mdb is the map). */
  readonly dbPath: string;
  /** File pages that may be mapped beyond the baseline before the map is released. 0: after every look. */
  readonly mapCacheBytes: number;
  /** How often RssFile is looked at. Default 250 ms (a look reads /proc/self/status: tens of µs). */
  readonly checkMs?: number;
  /** How long the chain must stand still after moving before the idle trim. Default 2,000 ms. */
  readonly idleMs?: number;
  /** How far it must have moved since the last idle trim (not after every block at the tip). Default 100. */
  readonly idleBlocks?: number;
}

export interface MapTrimModules {
  /**
   * The addon (madvise, malloc_trim). Without it (no C compiler at build) only the idle trim's
   * collection and storage release run: the map budget is not enforced.
   */
  readonly native: NativeMemory | undefined;
  readonly logger: Logger;
  /** Where the chain is (the tip height). */
  readonly activity: () => number;
  /** A full garbage collection, if there is one (`loadGc()`). */
  readonly gc?: () => void;
  /**
   * Frees what storage keeps from its largest write transaction (ChainDb.releaseWriteMemory:
   * LMDB's dirty-page free list), at the idle trim; false when it could not run.
   */
  readonly releaseStorage?: () => boolean;
  /**
   * The chain's 'block:connected' events: a look after each block too (at most one per
   * LOOK_GAP_MS), since a syncing node's group commit of up to 64 blocks can map most of the
   * database between two timer looks. Releasing pages under an open write transaction is safe:
   * LMDB writes through malloc'd pages, never through the map, whose pages read back unchanged.
   */
  readonly blocks?: BlockEvents;
  /** Milliseconds, monotonic. */
  readonly clock?: () => number;
}

/** What MapTrim needs of the chain's events. */
export interface BlockEvents {
  on(event: 'block:connected', fn: () => void): unknown;
  off(event: 'block:connected', fn: () => void): unknown;
}

const MB = 1024 * 1024;
/** Least time between two looks prompted by blocks (a look reads /proc/self/status: ~20 µs). */
const LOOK_GAP_MS = 10;

export class MapTrim {
  readonly #dataFile: string;
  readonly #budget: number;
  readonly #checkMs: number;
  readonly #idleMs: number;
  readonly #idleBlocks: number;
  readonly #m: MapTrimModules;
  readonly #clock: () => number;
  /** RssFile just after the last release: the binary, libraries and what was left mapped. */
  #baseline: number | undefined;
  #lastActivity: number;
  #movedAt: number;
  /** activity() at the last idle trim (or at the start). */
  #trimmedAt: number;
  #timer: NodeJS.Timeout | undefined;
  #releases = 0;
  #releasedBytes = 0;
  #idleTrims = 0;
  #storageReleases = 0;
  /** The map could not be released (no mapping, madvise failed): the budget is not enforced. */
  #failed = false;
  #lookedAt = Number.NEGATIVE_INFINITY;
  readonly #onBlock = () => {
    if (this.#clock() - this.#lookedAt >= LOOK_GAP_MS) this.check();
  };

  constructor(opts: MapTrimOptions, modules: MapTrimModules) {
    const file = join(opts.dbPath, 'data.mdb');
    let real = file;
    try {
      real = realpathSync(file);
    } catch {
      // not there yet: /proc/self/maps would name the resolved path, which is this one
    }
    this.#dataFile = real;
    this.#budget = opts.mapCacheBytes;
    this.#checkMs = opts.checkMs ?? 250;
    this.#idleMs = opts.idleMs ?? 2000;
    this.#idleBlocks = opts.idleBlocks ?? 100;
    this.#m = modules;
    this.#failed = modules.native === undefined;
    this.#clock = modules.clock ?? (() => performance.now());
    this.#lastActivity = modules.activity();
    this.#trimmedAt = this.#lastActivity;
    this.#movedAt = this.#clock();
  }

  /** The budget: file pages that may be mapped beyond the baseline. */
  get budgetBytes(): number {
    return this.#budget;
  }

  /** Map releases so far (budget and idle). */
  get releases(): number {
    return this.#releases;
  }

  /** File-page bytes the releases took out of RSS (RssFile before − after). */
  get releasedBytes(): number {
    return this.#releasedBytes;
  }

  /** Idle trims so far (heap collected, malloc_trim, map released). */
  get idleTrims(): number {
    return this.#idleTrims;
  }

  /** Whether the map budget is enforced (the addon loaded, /proc readable, no release failed). */
  get enforcing(): boolean {
    return !this.#failed;
  }

  /** Idle trims in which storage gave back its write memory (releaseStorage returned true). */
  get storageReleases(): number {
    return this.#storageReleases;
  }

  start(): void {
    this.#baseline = rssFileBytes();
    this.#timer = setInterval(() => this.check(), this.#checkMs);
    this.#timer.unref();
    this.#m.blocks?.on('block:connected', this.#onBlock);
  }

  stop(): void {
    this.#m.blocks?.off('block:connected', this.#onBlock);
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One look (the timer's): releases the map when over budget, trims when the chain went idle. */
  check(): void {
    const now = this.#clock();
    this.#lookedAt = now;
    const activity = this.#m.activity();
    if (activity !== this.#lastActivity) {
      this.#lastActivity = activity;
      this.#movedAt = now;
    } else if (
      Math.abs(activity - this.#trimmedAt) >= this.#idleBlocks &&
      now - this.#movedAt >= this.#idleMs
    ) {
      this.#trimmedAt = activity;
      this.#idleTrim();
      return;
    }
    if (this.#failed) return;
    const rss = rssFileBytes();
    if (rss === undefined) return;
    if (this.#baseline === undefined || rss < this.#baseline) this.#baseline = rss;
    if (rss - this.#baseline > this.#budget) this.releaseMap(rss);
  }

  /** Drops every page of the map from RSS; returns the bytes RssFile fell by. */
  releaseMap(before = rssFileBytes()): number {
    if (this.#failed) return 0;
    const maps: Mapping[] = ownMappingsOf(this.#dataFile);
    if (maps.length === 0) {
      this.#failed = true;
      this.#m.logger.warn(
        { file: this.#dataFile },
        `${this.#dataFile} is not in /proc/self/maps: storage.map_cache_mb is not enforced`,
      );
      return 0;
    }
    for (const { start, length } of maps) {
      const errno = this.#m.native!.releaseRange(start, length);
      if (errno !== 0) {
        // EINVAL would mean a locked or huge-page mapping: nothing to gain from trying again
        this.#failed = true;
        this.#m.logger.warn(
          { errno, file: this.#dataFile },
          `releasing LMDB's map pages failed (errno ${errno}): storage.map_cache_mb is not enforced`,
        );
        return 0;
      }
    }
    const after = rssFileBytes();
    this.#baseline = after;
    this.#releases++;
    const fell = before !== undefined && after !== undefined ? Math.max(0, before - after) : 0;
    this.#releasedBytes += fell;
    return fell;
  }

  #idleTrim(): void {
    const started = performance.now();
    const before = process.memoryUsage().rss;
    this.#m.gc?.();
    // before malloc_trim, so the pages LMDB kept go back to the system with the rest
    const storageReleased = this.#m.releaseStorage?.() ?? false;
    if (storageReleased) this.#storageReleases++;
    const trimmed = this.#m.native?.trimHeap() ?? false;
    const mapFell = this.releaseMap();
    const after = process.memoryUsage().rss;
    this.#idleTrims++;
    this.#m.logger.info(
      {
        ms: Math.round(performance.now() - started),
        rssMB: [Math.round(before / MB), Math.round(after / MB)],
        mapMB: Math.round(mapFell / MB),
        mallocTrim: trimmed,
        storageReleased,
      },
      `chain idle: memory trimmed, RSS ${Math.round(before / MB)} → ${Math.round(after / MB)} MB`,
    );
  }
}
