/**
 * Fork choice without scanning every header: BlockIndex keeps the entries with block data in
 * work order and the top header incrementally. Checked against the plain scans they replaced, on
 * random header trees with random status changes (data arriving, blocks connected, invalid
 * subtrees), for every possible current tip.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlockIndex, type IndexEntry } from '../../../services/node/chain/block-index.ts';
import { BlockStatus, type BlockStatusValue } from '../../../services/node/db/records.ts';
import type { BlockHeader } from '../../../shared/core/block/types.ts';
import { prng } from '../../helpers/chaos.ts';

function header(n: number): BlockHeader {
  return {
    version: 1,
    prevHash: new Uint8Array(32),
    merkleRoot: new Uint8Array(32),
    time: n,
    bits: 0,
    nonce: 0n,
  };
}

function hash(n: number): Uint8Array {
  const h = new Uint8Array(32);
  new DataView(h.buffer).setUint32(0, n);
  return h;
}

/** The scans fork choice used before (the reference). */
function connectable(e: IndexEntry): boolean {
  for (let x: IndexEntry | null = e; x !== null; x = x.parent) {
    if (x.status === BlockStatus.invalid || x.status === BlockStatus.headerOnly) return false;
    if (x.status === BlockStatus.valid) return true;
  }
  return true;
}

function scanBestCandidate(all: IndexEntry[], current: IndexEntry): IndexEntry {
  let best = current;
  for (const e of all) {
    if (e.work < best.work) continue;
    if (e.work === best.work && (e === best || best === current || e.sequence >= best.sequence)) continue;
    if (connectable(e)) best = e;
  }
  return best;
}

function scanTop(all: IndexEntry[]): IndexEntry | undefined {
  let top: IndexEntry | undefined;
  for (const e of all)
    if (
      e.status !== BlockStatus.invalid &&
      (top === undefined || e.work > top.work || (e.work === top.work && e.sequence < top.sequence))
    )
      top = e;
  return top;
}

describe('block index fork choice', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`matches the full scans on a random tree (seed ${seed})`, () => {
      const r = prng(seed);
      const index = new BlockIndex();
      const all: IndexEntry[] = [index.add(hash(0), header(0), 0, 1n, BlockStatus.valid, null)];
      const check = (step: number) => {
        assert.equal(index.topHeader(), scanTop(all), `top header, seed ${seed} step ${step}`);
        for (const current of all) {
          if (current.status !== BlockStatus.valid) continue;
          assert.equal(
            index.bestCandidate(current),
            scanBestCandidate(all, current),
            `best candidate from ${current.key.slice(0, 8)}, seed ${seed} step ${step}`,
          );
        }
      };
      for (let step = 1; step < 160; step++) {
        const op = r();
        if (op < 0.55) {
          // a new header (or block) on a random parent; equal work happens (ties)
          const parent = all[Math.floor(r() * all.length)]!;
          const status: BlockStatusValue = r() < 0.5 ? BlockStatus.headerOnly : BlockStatus.haveData;
          const work = parent.work + BigInt(1 + Math.floor(r() * 3));
          all.push(index.add(hash(step), header(step), parent.height + 1, work, status, parent));
        } else {
          const e = all[1 + Math.floor(r() * (all.length - 1))];
          if (e === undefined) continue;
          const to = op < 0.75 ? BlockStatus.haveData : op < 0.92 ? BlockStatus.valid : BlockStatus.invalid;
          if (e.status === BlockStatus.invalid) continue;
          index.setStatus(e, to);
          if (to === BlockStatus.invalid)
            for (const d of index.descendants(e)) index.setStatus(d, BlockStatus.invalid);
        }
        check(step);
      }
    });
  }
});
