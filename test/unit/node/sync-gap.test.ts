/**
 * Sync when some blocks ahead of the tip already have data (relayed while we were behind, or
 * stored before a crash) and the ones between them do not. The devnet stall of issue 11: the
 * download list stopped at the first block with data, so the blocks below it were never asked
 * for and the node sat at `blocks 699, headers 1419` for good. The real chain on LMDB must reach
 * the peer's tip whatever subset of the blocks ahead it already holds.
 * The peer is a stand-in for OutboundPeer that serves a real chain.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import type { OutboundPeer } from '../../../services/node/p2p/outbound.ts';
import { Sync } from '../../../services/node/p2p/sync.ts';
import { encodeHeader } from '../../../shared/core/block/header.ts';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { silentLogger } from '../../../shared/log.ts';
import { MemoryLedger, makeKey } from '../../helpers/chain.ts';
import { openChain, tempDir } from '../../helpers/node.ts';

const dir = tempDir('cairn-sync-gap-');
after(() => dir.remove());

const HEIGHT = 60;
const miner = makeKey();
const ledger = new MemoryLedger();
for (let i = 0; i < HEIGHT; i++) ledger.apply(ledger.nextBlock([], miner.owner));
const blocks: DecodedBlock[] = ledger.blocks.slice(1);
const tip = blocks[blocks.length - 1]!;

function fullPeer(): OutboundPeer & { asked: number } {
  const byHash = new Map(blocks.map((b) => [Buffer.from(b.hash).toString('hex'), b.raw]));
  const p = {
    key: 'full',
    asked: 0,
    remote: { height: HEIGHT, work: 1_000_000n, tipHash: tip.hash },
    getHeaders: async () => blocks.map((b) => encodeHeader(b.header)),
    getBlocks: async (hashes: readonly Uint8Array[]) => {
      p.asked++;
      return hashes.map((h) => byHash.get(Buffer.from(h).toString('hex'))).filter((r) => r !== undefined);
    },
  };
  return p as unknown as OutboundPeer & { asked: number };
}

/** Deterministic subsets: the heights (1-based) whose blocks arrive before sync. */
const cases: Record<string, number[]> = {
  'one block in the middle': [30],
  'the tip block only': [HEIGHT],
  'several scattered blocks': [7, 8, 21, 40, 41, 42, 59],
  'every other block': blocks.map((_, i) => i + 1).filter((h) => h % 2 === 0),
};

for (const [name, heights] of Object.entries(cases)) {
  it(`reaches the peer's tip when blocks ahead already have data (${name})`, async () => {
    const c = openChain(`${dir.path}/${name.replaceAll(' ', '-')}`);
    try {
      // headers first (as a getheaders answer), then the relayed blocks, as a node behind sees them
      for (const b of blocks) c.chain.processHeader(b.header);
      for (const h of heights) {
        const r = c.chain.processBlock(blocks[h - 1]!);
        assert.equal(r.status, 'side', `block ${h} is stored but cannot connect yet`);
      }
      assert.equal(c.chain.tipHeight(), 0);
      const peer = fullPeer();
      const sync = new Sync({
        chain: c.chain,
        peers: () => [peer],
        logger: silentLogger(),
        misbehaved: () => undefined,
      });
      await sync.run();
      assert.equal(c.chain.tipHeight(), HEIGHT, 'sync stopped below the best header');
      assert.ok(peer.asked > 0);
      // every block that was missing was asked for, none twice in a pass that made progress
      assert.deepEqual(c.chain.missingBlocks(c.chain.bestHeader(), 10_000), []);
    } finally {
      c.close();
    }
  });
}
