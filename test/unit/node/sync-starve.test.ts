/**
 * Sync with one peer that has the blocks and one that has none (the topology a node gets from
 * discovery: connected to every node, some still at genesis). The empty peer must not starve the
 * full one: the real chain on LMDB reaches the peer's height, whatever order the peers come in.
 * The peers are stand-ins for OutboundPeer (the fault injected: one answers nothing).
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

const dir = tempDir('cairn-sync-');
after(() => dir.remove());

const miner = makeKey();
const ledger = new MemoryLedger();
for (let i = 0; i < 40; i++) ledger.apply(ledger.nextBlock([], miner.owner));
const blocks: DecodedBlock[] = ledger.blocks.slice(1);
const tip = blocks[blocks.length - 1]!;

function peer(key: string, has: boolean): OutboundPeer {
  const byHash = new Map(blocks.map((b) => [Buffer.from(b.hash).toString('hex'), b.raw]));
  return {
    key,
    remote: has
      ? { height: 40, work: 1_000_000n, tipHash: tip.hash }
      : { height: 0, work: 1n, tipHash: new Uint8Array(32) },
    getHeaders: async () => (has ? blocks.map((b) => encodeHeader(b.header)) : []),
    getBlocks: async (hashes: readonly Uint8Array[]) =>
      has
        ? hashes.map((h) => byHash.get(Buffer.from(h).toString('hex'))!).filter((r) => r !== undefined)
        : [],
  } as unknown as OutboundPeer;
}

for (const order of ['empty peer first', 'full peer first']) {
  it(`syncs 40 blocks from the peer that has them (${order})`, async () => {
    const c = openChain(`${dir.path}/${order.replaceAll(' ', '-')}`);
    try {
      const peers =
        order === 'empty peer first'
          ? [peer('empty', false), peer('full', true)]
          : [peer('full', true), peer('empty', false)];
      const sync = new Sync({
        chain: c.chain,
        peers: () => peers,
        logger: silentLogger(),
        misbehaved: () => undefined,
      });
      await sync.run();
      assert.equal(c.chain.tipHeight(), 40);
    } finally {
      c.close();
    }
  });
}
