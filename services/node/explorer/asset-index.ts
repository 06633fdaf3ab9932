/**
 * Registered assets in the order they were registered, so the explorer can list them newest first
 * (the ledger's asset index is keyed by id: it has no order in time). Kept in memory in three flat
 * arrays, 56 bytes an asset (id 32, registrant 20, height 4): a million assets take 56 MB. Built by
 * one scan of the asset index on first use, then kept up to date from the chain's connect and
 * disconnect events (the active chain only grows at its end, and shrinks from it).
 */
import { Buffer } from 'node:buffer';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { assetIdOf } from '../../../shared/core/tx/ids.ts';
import type { AssetRecord } from '../../../shared/core/validation/view.ts';
import type { Chain } from '../chain/chain.ts';

const ID = 32;
const OWNER = 20;
/** A scan of the ledger's asset index, this many at a time. */
const SCAN_PAGE = 1000;

export interface AssetPage {
  /** Newest first. */
  readonly assets: AssetRecord[];
  /** The asset id to pass as `after` for the next page; undefined on the last page. */
  readonly next: Uint8Array | undefined;
}

export class AssetIndex {
  readonly #chain: Chain;
  #count = 0;
  #ids = Buffer.alloc(0);
  #owners = Buffer.alloc(0);
  #heights = new Uint32Array(0);
  #built = false;
  readonly #onConnect = (block: DecodedBlock, entry: { height: number }) =>
    this.#connect(block, entry.height);
  readonly #onDisconnect = (_block: DecodedBlock, entry: { height: number }) => this.#truncate(entry.height);

  constructor(chain: Chain) {
    this.#chain = chain;
  }

  start(): void {
    this.#chain.on('block:connected', this.#onConnect);
    this.#chain.on('block:disconnected', this.#onDisconnect);
  }

  stop(): void {
    this.#chain.off('block:connected', this.#onConnect);
    this.#chain.off('block:disconnected', this.#onDisconnect);
  }

  get size(): number {
    this.#build();
    return this.#count;
  }

  /**
   * Up to `count` assets, newest first, after the asset `after` (exclusive; it must exist), only
   * those registered by `registrant` when given. Undefined when `after` is not a known asset.
   */
  page(opts: { count: number; after?: Uint8Array; registrant?: Uint8Array }): AssetPage | undefined {
    this.#build();
    let i = this.#count - 1;
    if (opts.after !== undefined) {
      const at = this.#find(opts.after);
      if (at === undefined) return undefined;
      i = at - 1;
    }
    const want = opts.registrant === undefined ? undefined : Buffer.from(opts.registrant);
    const found: AssetRecord[] = [];
    for (; i >= 0 && found.length < opts.count; i--) {
      if (want !== undefined && !want.equals(this.#owners.subarray(i * OWNER, (i + 1) * OWNER))) continue;
      const a = this.#chain.ledger.getAsset(this.#ids.subarray(i * ID, (i + 1) * ID));
      if (a !== undefined) found.push(a);
    }
    // more exist when the scan stopped on a full page before the start of the list
    let more = false;
    for (let j = i; j >= 0 && !more; j--)
      more = want === undefined || want.equals(this.#owners.subarray(j * OWNER, (j + 1) * OWNER));
    return { assets: found, next: more ? found[found.length - 1]?.id : undefined };
  }

  /** Position of asset `id`: found by its height (binary search), then among that height's assets. */
  #find(id: Uint8Array): number | undefined {
    const a = this.#chain.ledger.getAsset(id);
    if (a === undefined) return undefined;
    let lo = 0;
    let hi = this.#count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#heights[mid]! < a.height) lo = mid + 1;
      else hi = mid;
    }
    const key = Buffer.from(id);
    for (let i = lo; i < this.#count && this.#heights[i] === a.height; i++)
      if (key.equals(this.#ids.subarray(i * ID, (i + 1) * ID))) return i;
    return undefined;
  }

  #build(): void {
    if (this.#built) return;
    this.#built = true;
    const all: AssetRecord[] = [];
    let after: Uint8Array | undefined;
    for (;;) {
      const page = this.#chain.ledger.listAssets({ limit: SCAN_PAGE, ...(after ? { after } : {}) });
      all.push(...page);
      if (page.length < SCAN_PAGE) break;
      after = page[page.length - 1]!.id;
    }
    // within one block, id order (what #connect appends too)
    all.sort((x, y) => x.height - y.height || Buffer.compare(Buffer.from(x.id), Buffer.from(y.id)));
    this.#reserve(all.length);
    for (const a of all) this.#append(a);
  }

  #connect(block: DecodedBlock, height: number): void {
    if (!this.#built) return; // the first query's scan will find it
    const added: AssetRecord[] = [];
    for (const d of block.txs) {
      if (d.tx.kind !== 'asset') continue;
      const a = this.#chain.ledger.getAsset(assetIdOf(d.tx.asset.fingerprint));
      if (a !== undefined && a.height === height) added.push(a);
    }
    added.sort((x, y) => Buffer.compare(Buffer.from(x.id), Buffer.from(y.id)));
    this.#truncate(height); // a block at this height replaced another one (never both indexed)
    this.#reserve(this.#count + added.length);
    for (const a of added) this.#append(a);
  }

  /** Forgets assets registered at `height` or above (their block left the active chain). */
  #truncate(height: number): void {
    while (this.#count > 0 && this.#heights[this.#count - 1]! >= height) this.#count--;
  }

  #reserve(n: number): void {
    if (n <= this.#heights.length) return;
    const cap = Math.max(n, this.#heights.length * 2, 64);
    const ids = Buffer.alloc(cap * ID);
    this.#ids.copy(ids, 0, 0, this.#count * ID);
    const owners = Buffer.alloc(cap * OWNER);
    this.#owners.copy(owners, 0, 0, this.#count * OWNER);
    const heights = new Uint32Array(cap);
    heights.set(this.#heights.subarray(0, this.#count));
    this.#ids = ids;
    this.#owners = owners;
    this.#heights = heights;
  }

  #append(a: AssetRecord): void {
    const i = this.#count++;
    this.#ids.set(a.id, i * ID);
    this.#owners.set(a.registrant, i * OWNER);
    this.#heights[i] = a.height;
  }
}
