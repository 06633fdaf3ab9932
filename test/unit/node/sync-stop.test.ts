/**
 * Sync.stop() (the node shutting down in the middle of a sync): the running pass ends at once,
 * even while a peer idles until it may take over a slow peer's batch and the slow peer has not
 * answered; nothing is connected after it; a new Sync finishes the chain later.
 * Real chain on LMDB; the peers are stand-ins serving a real chain.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import type { OutboundPeer } from '../../../services/node/p2p/outbound.ts';
import { Sync } from '../../../services/node/p2p/sync.ts';
import { encodeHeader } from '../../../shared/core/block/header.ts';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { silentLogger } from '../../../shared/log.ts';
import { buildSpendingChain } from '../../helpers/chain.ts';
import { openChain, tempDir } from '../../helpers/node.ts';

const dir = tempDir('cairn-sync-stop-');
after(() => dir.remove());

const HEIGHT = 40;
const blocks = buildSpendingChain(HEIGHT);

/** A peer serving `blocks`; `hold` makes it keep its answers until released (or forever). */
function peer(key: string, hold: Promise<void> | undefined): OutboundPeer {
  const byHash = new Map(blocks.map((b: DecodedBlock) => [Buffer.from(b.hash).toString('hex'), b.raw]));
  const tip = blocks[blocks.length - 1]!;
  return {
    key,
    remote: { height: HEIGHT, work: 1_000_000n, tipHash: tip.hash },
    getHeaders: async () => blocks.map((b) => encodeHeader(b.header)),
    getBlocks: async (hashes: readonly Uint8Array[]) => {
      if (hold !== undefined) await hold;
      return hashes.map((h) => byHash.get(Buffer.from(h).toString('hex'))).filter((r) => r !== undefined);
    },
  } as unknown as OutboundPeer;
}

it('stop() ends the running pass at once and connects nothing after it; a new Sync finishes later', {
  timeout: 30_000,
}, async () => {
  const c = openChain(`${dir.path}/a`);
  try {
    const never = new Promise<void>(() => undefined);
    // the slow peer holds every batch it is asked for; the other one waits a minute to take them over
    const peers = [peer('slow', never), peer('idle', never)];
    const sync = new Sync(
      { chain: c.chain, peers: () => peers, logger: silentLogger(), misbehaved: () => undefined },
      { stealAfterMs: 60_000 },
    );
    const pass = sync.run();
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(sync.running, 'the pass waits on its peers');
    await sync.stop(); // before the fix: the steal wait (60 s) and the held requests kept it
    await pass;
    assert.equal(sync.running, false);
    const at = c.chain.tipHeight();
    await sync.run(); // a stopped sync starts no pass
    assert.equal(c.chain.tipHeight(), at);

    const again = new Sync({
      chain: c.chain,
      peers: () => [peer('good', undefined)],
      logger: silentLogger(),
      misbehaved: () => undefined,
    });
    await again.run();
    assert.equal(c.chain.tipHeight(), HEIGHT);
    assert.deepEqual(c.chain.checkInvariants(true), []);
  } finally {
    c.close();
  }
});
