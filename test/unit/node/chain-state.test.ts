/**
 * Chain, reservoir, fee estimator and templates wired together on real LMDB: every template
 * connects, reorgs give transactions back to the pool, the pool cache survives a restart.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ChainState } from '../../../services/node/chain-state.ts';
import { solveTemplate } from '../../../services/node/mining/solve.ts';
import { hashToHex, toHex } from '../../../shared/core/bytes.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { assetIdOf } from '../../../shared/core/tx/ids.ts';
import { type DecodedTx, MINT } from '../../../shared/core/tx/types.ts';
import { silentLogger } from '../../../shared/log.ts';
import { makeKey, out, signed, spend, type TestKey } from '../../helpers/chain.ts';
import { blockOn, tempDir } from '../../helpers/node.ts';

const p = LOCAL;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

let clock = p.genesisTime + 100;
async function open(dir?: string): Promise<{ state: ChainState; dir: string }> {
  const d = dir ?? tempDir().path;
  const state = await ChainState.open(
    { dataDir: d, params: p, verifyWorkers: 1 },
    { logger: silentLogger(), clock: () => clock },
  );
  return { state, dir: d };
}

/** Mines one block from the state's own template; returns the template's transactions. */
function mine(state: ChainState, miner: TestKey): readonly DecodedTx[] {
  clock += p.targetSpacing;
  const t = state.template({ payouts: [{ owner: miner.owner }] });
  assert.equal(t.fallbackReason, undefined, t.fallbackReason);
  const raw = solveTemplate(t);
  assert.ok(raw !== null);
  const r = state.chain.processBlock(raw);
  assert.equal(r.status, 'connected', r.error?.message);
  return t.txs;
}

describe('chain state: chain + reservoir + templates', () => {
  it('every template connects, over a churning pool with chains, assets and issues', async () => {
    const { state, dir } = await open();
    cleanups.push(async () => state.close());
    void dir;
    const miner = makeKey();
    const coinbases: DecodedTx[] = [];
    for (let i = 0; i < 12; i++) coinbases.push(mine(state, miner)[0]!);

    let spendable = coinbases
      .slice(0, 3)
      .map((cb) => ({ tx: cb, vout: 0, amount: cb.tx.outputs[0]!.amount }));
    const keys = [miner];
    let templates = 0;
    for (let round = 0; round < 20; round++) {
      // a few transfers, some spending unconfirmed outputs of this round
      const next: typeof spendable = [];
      for (const s of spendable) {
        const to = makeKey();
        keys.push(to);
        const fee = 1000 + ((round * 7919) % 5000);
        const a = signed({
          version: 1,
          kind: 'transfer',
          inputs: [spend(miner, s.tx.txid, s.vout)],
          outputs: [out(miner.owner, s.amount - fee - 10_000), out(to.owner, 10_000)],
        });
        assert.equal(state.reservoir.accept(a.raw, clock).status, 'added');
        next.push({ tx: a, vout: 0, amount: a.tx.outputs[0]!.amount });
      }
      if (round % 5 === 0) {
        // register an asset and issue it while both are unconfirmed
        const s = next.pop()!;
        const fingerprint = new TextEncoder().encode(`sha256:round-${round}`);
        const reg = signed({
          version: 1,
          kind: 'asset',
          asset: { name: `Asset ${round}`, fingerprint, metadata: new Uint8Array() },
          inputs: [spend(miner, s.tx.txid, s.vout)],
          outputs: [out(miner.owner, s.amount - 5000)],
        });
        assert.equal(state.reservoir.accept(reg.raw, clock).status, 'added');
        const issue = signed({
          version: 1,
          kind: 'issue',
          assetId: assetIdOf(fingerprint),
          inputs: [spend(miner, reg.txid, 0)],
          outputs: [out(miner.owner, 0, MINT), out(miner.owner, s.amount - 10000)],
        });
        assert.equal(state.reservoir.accept(issue.raw, clock).status, 'added');
        next.push({ tx: issue, vout: 1, amount: s.amount - 10000 });
      }
      spendable = next.slice(0, 4);
      if (round % 2 === 1) {
        const before = state.reservoir.size;
        const txs = mine(state, miner);
        templates++;
        assert.ok(txs.length > 1, 'the template took pool transactions');
        assert.equal(state.reservoir.size, before - (txs.length - 1), 'confirmed transactions left the pool');
      }
    }
    assert.ok(templates >= 10);
  });

  it('a reorg gives the disconnected transactions back to the pool', async () => {
    const { state } = await open();
    cleanups.push(async () => state.close());
    const miner = makeKey();
    const cbs: DecodedTx[] = [];
    for (let i = 0; i < 12; i++) cbs.push(mine(state, miner)[0]!);
    const fork = state.chain.tip;
    const tx = signed({
      version: 1,
      kind: 'transfer',
      inputs: [spend(miner, cbs[0]!.txid, 0)],
      outputs: [out(makeKey().owner, 24 * p.coin)],
    });
    state.reservoir.accept(tx.raw, clock);
    const txs = mine(state, miner);
    assert.ok(txs.some((t) => toHex(t.txid) === toHex(tx.txid)));
    assert.equal(state.reservoir.has(tx.txid), false);
    // a heavier branch from the fork without it
    const b1 = blockOn(fork, [], miner.owner, 0, 'other-1');
    state.chain.processBlock(b1.raw);
    const b2 = blockOn(state.chain.entry(b1.hash)!, [], miner.owner, 0, 'other-2');
    const r = state.chain.processBlock(b2.raw);
    assert.equal(r.status, 'connected');
    assert.equal(hashToHex(state.chain.tip.hash), hashToHex(b2.hash));
    assert.equal(state.reservoir.has(tx.txid), true, 'back in the pool');
    // and the next template includes it again
    assert.ok(mine(state, miner).some((t) => toHex(t.txid) === toHex(tx.txid)));
  });

  it('the pool survives a restart through its cache file; the fee estimator learns from blocks', async () => {
    const first = await open();
    const miner = makeKey();
    const cbs: DecodedTx[] = [];
    for (let i = 0; i < 12; i++) cbs.push(mine(first.state, miner)[0]!);
    // 8 blocks each confirming 4 transactions with known fee rates
    let coin = { tx: cbs[0]!, vout: 0, amount: cbs[0]!.tx.outputs[0]!.amount };
    for (let b = 0; b < 8; b++) {
      for (let k = 0; k < 4; k++) {
        const fee = 2000 * (k + 1);
        const t = signed({
          version: 1,
          kind: 'transfer',
          inputs: [spend(miner, coin.tx.txid, coin.vout)],
          outputs: [out(miner.owner, coin.amount - fee)],
        });
        first.state.reservoir.accept(t.raw, clock);
        coin = { tx: t, vout: 0, amount: coin.amount - fee };
      }
      mine(first.state, miner);
    }
    const estimate = first.state.fees.estimateSmartFee(2);
    assert.ok(estimate !== null && estimate.feeRate > 1, `estimate ${JSON.stringify(estimate)}`);

    const pending = signed({
      version: 1,
      kind: 'transfer',
      inputs: [spend(miner, coin.tx.txid, coin.vout)],
      outputs: [out(makeKey().owner, coin.amount - 5000)],
    });
    first.state.reservoir.accept(pending.raw, clock);
    await first.state.close();
    const again = await open(first.dir);
    cleanups.push(async () => again.state.close());
    assert.equal(again.state.chain.tipHeight(), 20);
    assert.equal(again.state.reservoir.has(pending.txid), true);
  });
});
