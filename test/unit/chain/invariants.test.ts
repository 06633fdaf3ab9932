/**
 * The chain's invariants under random histories (issue 11): after every step — blocks on random
 * branches, headers first and blocks later, blocks that break a contextual rule, a storage
 * failure injected in the middle of a connect, restarts — the active chain is one valid linked
 * path whose tip is the stored tip (Chain.checkInvariants), and the tip is the connectable block
 * with the most work. A restart resumes at the same tip; after a failure it resumes at the last
 * committed block and then reaches the best chain its stored blocks allow.
 * Real LMDB in temp dirs; the fault is injected by making a database's put throw mid-transaction.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import fc from 'fast-check';
import type { IndexEntry } from '../../../services/node/chain/block-index.ts';
import type { Chain } from '../../../services/node/chain/chain.ts';
import { StorageError } from '../../../services/node/db/errors.ts';
import { BlockStatus } from '../../../services/node/db/records.ts';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { hashToHex } from '../../../shared/core/bytes.ts';
import { makeKey } from '../../helpers/chain.ts';
import { blockOn, type OpenChain, openChain, tempDir } from '../../helpers/node.ts';

const dir = tempDir('cairn-invariants-');
after(() => dir.remove());

type Op =
  | { kind: 'block'; on: number }
  | { kind: 'header'; on: number }
  | { kind: 'deliver'; which: number }
  | { kind: 'invalid'; on: number }
  | { kind: 'batch'; on: number; count: number; invalidAt: number }
  | { kind: 'fail'; after: number; on: number; batch: boolean }
  | { kind: 'restart' };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('block' as const), on: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('header' as const), on: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('deliver' as const), which: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('invalid' as const), on: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('batch' as const),
      on: fc.nat(),
      count: fc.integer({ min: 2, max: 6 }),
      invalidAt: fc.integer({ min: -3, max: 5 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('fail' as const),
      after: fc.nat({ max: 3 }),
      on: fc.nat(),
      batch: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

const miner = makeKey();

/** The connectable entry with the most work, found by brute force (not by the index's lists). */
function bestConnectableWork(chain: Chain): bigint {
  let best = 0n;
  for (const e of chain.entries()) {
    let ok = true;
    for (let x: IndexEntry | null = e; x !== null; x = x.parent)
      if (x.status === BlockStatus.invalid || x.status === BlockStatus.headerOnly) ok = false;
    if (ok && e.work > best) best = e.work;
  }
  return best;
}

function checkSound(chain: Chain, when: string): void {
  assert.deepEqual(chain.checkInvariants(true), [], `invariants after ${when}`);
  assert.equal(
    chain.tip.work,
    bestConnectableWork(chain),
    `the tip is the best connectable block after ${when}`,
  );
}

/** What blockOn needs of a block not processed yet, to build on it (a batch is built ahead). */
function childEntry(parent: IndexEntry, b: DecodedBlock): IndexEntry {
  const height = parent.height + 1;
  return {
    ...parent,
    hash: b.hash,
    height,
    header: b.header,
    anchorTime: height <= 1 ? b.header.time : parent.anchorTime,
  } as IndexEntry;
}

/** Entries a new block may build on: with data, not invalid. */
function parents(chain: Chain): IndexEntry[] {
  return [...chain.entries()]
    .filter((e) => e.status === BlockStatus.valid || e.status === BlockStatus.haveData)
    .sort((a, b) => a.sequence - b.sequence);
}

let run = 0;
it('random histories keep one valid active chain equal to the stored one, across failures and restarts', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(arbOp, { minLength: 5, maxLength: 30 }), async (ops) => {
      const path = `${dir.path}/run-${run++}`;
      let c: OpenChain = openChain(path);
      const withheld: DecodedBlock[] = [];
      let tags = 0;
      const restart = (why: string) => {
        const before = c.chain.tip;
        const failed = c.db.failed !== undefined;
        c.close();
        c = openChain(path);
        checkSound(c.chain, `restart (${why})`);
        // a clean restart resumes at the same tip; after a failure the stored blocks decide
        if (!failed)
          assert.equal(hashToHex(c.chain.tip.hash), hashToHex(before.hash), 'same tip after restart');
      };
      try {
        for (const op of ops) {
          const ps = parents(c.chain);
          switch (op.kind) {
            case 'block':
              c.chain.processBlock(blockOn(ps[op.on % ps.length]!, [], miner.owner, 0, `t${tags++}`));
              break;
            case 'header': {
              const b = blockOn(ps[op.on % ps.length]!, [], miner.owner, 0, `t${tags++}`);
              c.chain.processHeader(b.header);
              withheld.push(b);
              break;
            }
            case 'deliver':
              if (withheld.length > 0)
                c.chain.processBlock(withheld.splice(op.which % withheld.length, 1)[0]!);
              break;
            case 'batch': {
              // a chain of blocks in one commit (sync's batches), maybe one breaking a contextual rule
              const chainOf: DecodedBlock[] = [];
              const base = ps[op.on % ps.length]!;
              let parent = base;
              for (let k = 0; k < op.count; k++) {
                const b = blockOn(parent, [], miner.owner, k === op.invalidAt ? 1 : 0, `t${tags++}`);
                chainOf.push(b);
                parent = childEntry(parent, b);
              }
              const results = c.chain.processBlocks(chainOf);
              // on a validated parent, a batch without a bad block connects or waits as a side branch
              if (base.status === BlockStatus.valid && (op.invalidAt < 0 || op.invalidAt >= op.count))
                for (const r of results)
                  assert.ok(r.status === 'connected' || r.status === 'side', r.error?.message);
              break;
            }
            case 'invalid':
              // the coinbase claims a fee no transaction pays: found only when connecting
              c.chain.processBlock(blockOn(ps[op.on % ps.length]!, [], miner.owner, 1, `t${tags++}`));
              break;
            case 'fail': {
              // fault: the utxo database's put fails mid-transaction from the (after+1)-th call on
              const utxo = c.db.db('utxo');
              const put = utxo.putSync.bind(utxo);
              let calls = 0;
              utxo.putSync = ((...a: Parameters<typeof put>) => {
                if (calls++ >= op.after) throw new Error('EIO: i/o error, write (Input/output error)');
                return put(...a);
              }) as typeof put;
              // blocks on the tip connect at once, so the fault hits a connect (alone, or in a batch)
              for (let i = 0; i < 4 && c.db.failed === undefined; i++) {
                try {
                  if (op.batch) {
                    const first = blockOn(c.chain.tip, [], miner.owner, 0, `t${tags++}`);
                    const next = childEntry(c.chain.tip, first);
                    c.chain.processBlocks([first, blockOn(next, [], miner.owner, 0, `t${tags++}`)]);
                  } else c.chain.processBlock(blockOn(c.chain.tip, [], miner.owner, 0, `t${tags++}`));
                } catch (e) {
                  assert.ok(e instanceof StorageError, `a failed write is a StorageError (${e})`);
                }
              }
              assert.ok(c.db.failed !== undefined, 'the injected fault stopped the database');
              // a single block's failure leaves memory as the disk is; a batch's is undone on disk
              // only (the node stops and reloads): the invariants are checked after the restart
              if (!op.batch)
                assert.deepEqual(c.chain.checkInvariants(true), [], 'invariants right after the failure');
              restart('after a storage failure');
              break;
            }
            case 'restart':
              restart('clean');
              break;
          }
          checkSound(c.chain, op.kind);
        }
      } finally {
        c.close();
      }
    }),
    { numRuns: 40, seed: Number(process.env.PROPERTY_SEED ?? 11), endOnFailure: true },
  );
});
