/**
 * What the chain keeps of blocks in memory. Its cache of decoded blocks stays bounded: a connected
 * block leaves it; blocks of a side branch stay (so a reorg onto them does not decode them again)
 * up to 32 blocks and `decodedCacheBytes` raw bytes, the newest always; a reorg that connects them
 * empties it. And the header tree holds no block's bytes (decoded header hashes are views of them).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { IndexEntry } from '../../../services/node/chain/block-index.ts';
import type { Chain, ChainOptions } from '../../../services/node/chain/chain.ts';
import { loadGc } from '../../../services/node/memory/release.ts';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { makeKey, out, signed, spend } from '../../helpers/chain.ts';
import { blockOn, openChain, tempDir } from '../../helpers/node.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function fresh(opts: ChainOptions = {}): Chain {
  const dir = tempDir();
  const c = openChain(dir.path, undefined, opts);
  cleanups.push(dir.remove);
  cleanups.push(() => c.close());
  return c.chain;
}

const miner = makeKey();

/** `n` blocks on `from`, each processed at once; the statuses they got. */
function extend(
  chain: Chain,
  from: IndexEntry,
  n: number,
  tag: string,
): { blocks: DecodedBlock[]; statuses: string[] } {
  const blocks: DecodedBlock[] = [];
  const statuses: string[] = [];
  let parent = from;
  for (let i = 0; i < n; i++) {
    const b = blockOn(parent, [], miner.owner, 0, `${tag}${i}`);
    statuses.push(chain.processBlock(b.raw).status);
    blocks.push(b);
    parent = chain.entry(b.hash)!;
  }
  return { blocks, statuses };
}

describe('decoded block cache', () => {
  it('holds no connected block', () => {
    const chain = fresh();
    const { statuses } = extend(chain, chain.tip, 20, 'main');
    assert.ok(statuses.every((s) => s === 'connected'));
    assert.deepEqual(chain.decodedCache, { blocks: 0, bytes: 0 });
  });

  it('keeps side-branch blocks up to 32 of them, and empties when a reorg connects them', () => {
    const chain = fresh();
    const genesis = chain.tip;
    extend(chain, genesis, 40, 'main');
    // equal work: the first seen keeps the tip, these 40 are a side branch
    const side = extend(chain, genesis, 40, 'side');
    assert.ok(side.statuses.every((s) => s === 'side'));
    const kept = side.blocks.slice(-32);
    assert.deepEqual(chain.decodedCache, {
      blocks: 32,
      bytes: kept.reduce((n, b) => n + b.raw.length, 0),
    });
    // one more: the side branch has more work, the chain reorganises onto it
    const last = extend(chain, chain.entry(side.blocks.at(-1)!.hash)!, 1, 'side-tip');
    assert.deepEqual(last.statuses, ['connected']);
    assert.equal(chain.tipHeight(), 41);
    assert.deepEqual(chain.decodedCache, { blocks: 0, bytes: 0 });
  });

  it('keeps at most decodedCacheBytes raw bytes of side blocks, the newest always', () => {
    const probe = fresh();
    const size = blockOn(probe.tip, [], miner.owner, 0, 'side0').raw.length;

    const small = fresh({ decodedCacheBytes: 3 * size });
    const genesis = small.tip;
    extend(small, genesis, 10, 'main');
    extend(small, genesis, 10, 'side');
    assert.equal(small.decodedCache.blocks, 3);
    assert.ok(small.decodedCache.bytes <= 3 * size);

    const tiny = fresh({ decodedCacheBytes: 1 });
    const tinyGenesis = tiny.tip;
    extend(tiny, tinyGenesis, 5, 'main');
    extend(tiny, tinyGenesis, 5, 'side');
    assert.equal(tiny.decodedCache.blocks, 1);
  });

  it('keeps no connected block in memory: the header tree holds copies of its hashes', async () => {
    const chain = fresh();
    // built and processed in a function of its own, so that only the WeakRefs outlive it
    const connect = (): { raw: WeakRef<ArrayBuffer>; hash: Uint8Array }[] => {
      const made: { raw: WeakRef<ArrayBuffer>; hash: Uint8Array }[] = [];
      let parent = chain.tip;
      const cbs: DecodedBlock[] = [];
      for (let i = 0; i < 15; i++) {
        // from height 11 on, a transfer of a mature coinbase: blocks with more than a header
        const mature = cbs[i - 10];
        const txs =
          mature === undefined
            ? []
            : [
                signed({
                  version: 1,
                  kind: 'transfer',
                  inputs: [spend(miner, mature.txs[0]!.txid, 0)],
                  outputs: [out(miner.owner, mature.txs[0]!.tx.outputs[0]!.amount - 1000)],
                }),
              ];
        const b = blockOn(parent, txs, miner.owner, txs.length * 1000, `m${i}`);
        // a copy the chain alone gets: its buffer is garbage unless the chain keeps it
        const raw = Uint8Array.from(b.raw);
        assert.equal(chain.processBlock(raw).status, 'connected');
        made.push({ raw: new WeakRef(raw.buffer), hash: b.hash });
        cbs.push(b);
        parent = chain.entry(b.hash)!;
      }
      return made;
    };
    const made = connect();
    for (const { hash } of made) {
      const h = chain.entry(hash)!.header;
      assert.equal(h.prevHash.buffer.byteLength, 64);
      assert.equal(h.merkleRoot.buffer, h.prevHash.buffer);
    }
    await new Promise((r) => setImmediate(r));
    loadGc()!();
    const kept = made.filter((m) => m.raw.deref() !== undefined).length;
    assert.equal(kept, 0, `${kept} of ${made.length} raw blocks still in memory`);
  });
});
