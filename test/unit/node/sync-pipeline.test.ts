/**
 * Sync's pipeline (issue 12): with verify workers, a batch's signatures are checked on them
 * (Chain.prepare) while the main thread connects the batch before. It must reach the same state
 * as sync without workers, and a block with a bad signature must still be refused with its reject
 * code (and the peer scored), with the blocks before it connected and none after.
 * Real chain on LMDB, real worker threads; the peer is a stand-in serving a real chain.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { BlockStatus } from '../../../services/node/db/records.ts';
import type { OutboundPeer } from '../../../services/node/p2p/outbound.ts';
import { Sync } from '../../../services/node/p2p/sync.ts';
import { encodeHeader } from '../../../shared/core/block/header.ts';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { createBatchVerifier } from '../../../shared/crypto/batch.ts';
import { silentLogger } from '../../../shared/log.ts';
import { buildSpendingChain } from '../../helpers/chain.ts';
import { digestHex, openChain, tempDir, verifier } from '../../helpers/node.ts';

const dir = tempDir('cairn-sync-pipe-');
const pool = createBatchVerifier(verifier, { backend: 'native', workers: 1, params: LOCAL });
after(async () => {
  await pool.close();
  dir.remove();
});

const HEIGHT = 60;
const BAD = 40;

const buildChain = (badAt?: number) => buildSpendingChain(HEIGHT, badAt);

function peer(blocks: DecodedBlock[]): OutboundPeer {
  const byHash = new Map(blocks.map((b) => [Buffer.from(b.hash).toString('hex'), b.raw]));
  const tip = blocks[blocks.length - 1]!;
  return {
    key: 'full',
    remote: { height: blocks.length, work: 1_000_000n, tipHash: tip.hash },
    getHeaders: async () => blocks.map((b) => encodeHeader(b.header)),
    getBlocks: async (hashes: readonly Uint8Array[]) =>
      hashes.map((h) => byHash.get(Buffer.from(h).toString('hex'))).filter((r) => r !== undefined),
  } as unknown as OutboundPeer;
}

it('with verify workers, sync reaches the same state as without', async () => {
  const blocks = buildChain();
  const withWorkers = openChain(`${dir.path}/workers`, LOCAL, {}, pool);
  const inline = openChain(`${dir.path}/inline`);
  try {
    for (const c of [withWorkers, inline]) {
      await new Sync({
        chain: c.chain,
        peers: () => [peer(blocks)],
        logger: silentLogger(),
        misbehaved: () => undefined,
      }).run();
      assert.equal(c.chain.tipHeight(), HEIGHT);
    }
    assert.equal(digestHex(withWorkers.chain), digestHex(inline.chain));
    assert.ok(
      withWorkers.chain.preparedBlocks >= HEIGHT - 16,
      `pipelined: ${withWorkers.chain.preparedBlocks}`,
    );
    assert.equal(inline.chain.preparedBlocks, 0);
  } finally {
    withWorkers.close();
    inline.close();
  }
});

it('a bad signature in a pre-verified batch is still refused, with its code, and scored', async () => {
  const blocks = buildChain(BAD);
  const c = openChain(`${dir.path}/bad`, LOCAL, {}, pool);
  const scored: string[] = [];
  try {
    await new Sync({
      chain: c.chain,
      peers: () => [peer(blocks)],
      logger: silentLogger(),
      misbehaved: (_p, points, reason) => scored.push(`${points} ${reason}`),
    }).run();
    assert.equal(c.chain.tipHeight(), BAD - 1, 'every block before the bad one connected, none after');
    assert.equal(c.chain.entry(blocks[BAD - 1]!.hash)?.status, BlockStatus.invalid);
    assert.equal(c.chain.entry(blocks[HEIGHT - 1]!.hash)?.status, BlockStatus.invalid, 'its descendants too');
    assert.ok(
      scored.some((s) => /signature does not verify/.test(s)),
      scored.join('; '),
    );
  } finally {
    c.close();
  }
});
