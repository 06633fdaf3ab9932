/**
 * Block template selection by ancestor fee rate (Bitcoin Core's addPackageTxs): repeatedly take the
 * transaction whose package (itself plus its not-yet-selected ancestors) pays the best fee rate,
 * add the whole package parents first, and lower the package totals of its descendants by what was
 * just taken. A child paying a high fee thus lifts its parents (child pays for parent).
 */
import { compareBytes } from '../../../shared/core/bytes.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import { ancestorsOf, type PoolEntry, type ReservoirEntry, withDescendants } from './entry.ts';
import { Heap } from './heap.ts';

interface Candidate {
  readonly entry: PoolEntry;
  /** Totals of the package still to be selected: itself and its unselected ancestors. */
  readonly fee: number;
  readonly size: number;
  readonly rate: number;
}

/** Higher package fee rate first; equal rates by txid (bytes ascending), so the order is deterministic. */
function better(a: Candidate, b: Candidate): boolean {
  if (a.rate !== b.rate) {
    return a.rate > b.rate;
  }
  return compareBytes(a.entry.txid, b.entry.txid) < 0;
}

/** Parents before children: an ancestor has fewer ancestors than its descendant. Ties by txid. */
export function topological(a: ReservoirEntry, b: ReservoirEntry): number {
  return a.ancestorCount - b.ancestorCount || compareBytes(a.txid, b.txid);
}

/** Once the block is this close to full and this many packages in a row did not fit, stop looking. */
const NEAR_FULL_BYTES = 4000;
const MAX_CONSECUTIVE_FAILURES = 1000;

export function selectPackages(entries: Iterable<PoolEntry>, maxBytes: number): DecodedTx[] {
  const candidates: Candidate[] = [];
  for (const e of entries) {
    candidates.push({
      entry: e,
      fee: e.ancestorFee,
      size: e.ancestorSize,
      rate: e.ancestorFee / e.ancestorSize,
    });
  }
  const heap = new Heap(better, candidates);
  /** The current candidate of each entry whose package shrank; older heap items for it are stale. */
  const modified = new Map<PoolEntry, Candidate>();
  const selected = new Set<PoolEntry>();
  const out: DecodedTx[] = [];
  let total = 0;
  let failures = 0;

  for (let c = heap.pop(); c !== undefined; c = heap.pop()) {
    const e = c.entry;
    if (selected.has(e)) {
      continue;
    }
    const current = modified.get(e);
    if (current !== undefined && current !== c) {
      continue;
    }
    if (total + c.size > maxBytes) {
      failures++;
      if (failures > MAX_CONSECUTIVE_FAILURES && total > maxBytes - NEAR_FULL_BYTES) {
        break;
      }
      continue;
    }
    failures = 0;
    const pkg = [e];
    for (const a of ancestorsOf(e.parents)!) {
      if (!selected.has(a)) {
        pkg.push(a);
      }
    }
    pkg.sort(topological);
    for (const t of pkg) {
      selected.add(t);
      out.push(t.tx);
      total += t.size;
    }
    for (const t of pkg) {
      for (const d of withDescendants(t.children)!) {
        if (selected.has(d)) {
          continue;
        }
        const prev = modified.get(d) ?? {
          entry: d,
          fee: d.ancestorFee,
          size: d.ancestorSize,
          rate: 0,
        };
        const fee = prev.fee - t.fee;
        const size = prev.size - t.size;
        const next: Candidate = { entry: d, fee, size, rate: fee / size };
        modified.set(d, next);
        heap.push(next);
      }
    }
  }
  return out;
}
