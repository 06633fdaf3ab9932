/**
 * Sync's pipeline (issue 12): with verify workers, a batch's signatures are checked on them
 * (Chain.preverify) while the main thread connects the batch before. It must reach the same state
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
import { toDecodedTx } from '../../../shared/core/tx/codec.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import { createBatchVerifier } from '../../../shared/crypto/batch.ts';
import { signTx } from '../../../shared/crypto/sign-tx.ts';
import { silentLogger } from '../../../shared/log.ts';
import { MemoryLedger, makeKey, out, spend } from '../../helpers/chain.ts';
import { digestHex, openChain, tempDir, verifier } from '../../helpers/node.ts';

const dir = tempDir('cairn-sync-pipe-');
const pool = createBatchVerifier(verifier, { backend: 'native', workers: 1 });
after(async () => {
  await pool.close();
  dir.remove();
});

const HEIGHT = 60;
const BAD = 40;

/** 12 blocks of coinbases, then blocks each splitting a mature coinbase among 30 outputs and spending 8 of the last split's; `badAt` gets a corrupted signature. */
function buildChain(badAt?: number): DecodedBlock[] {
  const miner = makeKey();
  const ledger = new MemoryLedger();
  const cbs = ledger.mine(12, miner.owner);
  let last: { tx: DecodedTx; each: number } | undefined;
  while (ledger.height < HEIGHT) {
    const h = ledger.height + 1;
    const cb = cbs.shift() ?? ledger.blocks[h - 11]!.txs[0]!;
    const amount = cb.tx.outputs[0]!.amount;
    const each = Math.floor((amount - 1000) / 30);
    const txs: DecodedTx[] = [];
    const split = signTx(
      {
        version: 1,
        kind: 'transfer',
        inputs: [spend(miner, cb.txid, 0)],
        outputs: Array.from({ length: 30 }, () => out(miner.owner, each)),
      },
      LOCAL.genesisHash,
    );
    if (h === badAt) (split.inputs[0]!.signature as Uint8Array)[5]! ^= 0x01;
    const splitTx = toDecodedTx(split);
    txs.push(splitTx);
    let fees = amount - each * 30;
    if (last !== undefined) {
      const spends = signTx(
        {
          version: 1,
          kind: 'transfer',
          inputs: Array.from({ length: 8 }, (_, k) => spend(miner, last!.tx.txid, k)),
          outputs: [out(makeKey().owner, last.each * 8 - 1000)],
        },
        LOCAL.genesisHash,
      );
      txs.push(toDecodedTx(spends));
      fees += 1000;
    }
    last = { tx: splitTx, each };
    const b = ledger.nextBlock(txs, miner.owner, fees);
    ledger.apply(b);
  }
  return ledger.blocks.slice(1);
}

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
      withWorkers.chain.preverifiedBlocks >= HEIGHT - 16,
      `pipelined: ${withWorkers.chain.preverifiedBlocks}`,
    );
    assert.equal(inline.chain.preverifiedBlocks, 0);
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
