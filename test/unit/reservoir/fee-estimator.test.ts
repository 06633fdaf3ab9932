/** The fee estimator: its documented percentile rule, data thresholds, window, floor, and wiring. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FeeEstimator, percentileForTarget } from '../../../services/node/reservoir/fee-estimator.ts';
import { makeEnv, mine, NOW, payFee, SUBSIDY } from '../../helpers/reservoir.ts';

/** Rates 1..100 in each block. */
const ONE_TO_HUNDRED = Array.from({ length: 100 }, (_, i) => i + 1);

describe('fee estimator', () => {
  it('has no answer without enough blocks or samples', () => {
    const f = new FeeEstimator({ minBlocks: 6, minSamples: 20 });
    assert.equal(f.estimateSmartFee(1), null);
    for (let h = 1; h <= 5; h++) f.processBlock(h, ONE_TO_HUNDRED);
    assert.equal(f.estimateSmartFee(1), null, '5 blocks < 6');
    f.processBlock(6, ONE_TO_HUNDRED);
    assert.notEqual(f.estimateSmartFee(1), null);

    const sparse = new FeeEstimator({ minBlocks: 6, minSamples: 20 });
    for (let h = 1; h <= 10; h++) sparse.processBlock(h, [5]);
    assert.equal(sparse.estimateSmartFee(1), null, '10 samples < 20');
    for (let h = 11; h <= 20; h++) sparse.processBlock(h, [5]);
    assert.deepEqual(sparse.estimateSmartFee(1), { feeRate: 5, blocks: 1 });
  });

  it('uses the p-th percentile with p = max(10%, 95% - 15% log2 t)', () => {
    assert.equal(percentileForTarget(1), 0.95);
    assert.ok(Math.abs(percentileForTarget(2) - 0.8) < 1e-12);
    assert.ok(Math.abs(percentileForTarget(8) - 0.5) < 1e-12);
    assert.equal(percentileForTarget(1000), 0.1);
    const f = new FeeEstimator();
    for (let h = 1; h <= 10; h++) f.processBlock(h, ONE_TO_HUNDRED);
    // 1,000 samples, each rate 1..100 ten times: the nearest-rank percentile p is rate ceil(100 p).
    assert.deepEqual(f.estimateSmartFee(1), { feeRate: 95, blocks: 1 });
    assert.deepEqual(f.estimateSmartFee(2), { feeRate: 80, blocks: 2 });
    assert.deepEqual(f.estimateSmartFee(8), { feeRate: 50, blocks: 8 });
    assert.deepEqual(f.estimateSmartFee(0), { feeRate: 95, blocks: 1 });
    assert.deepEqual(f.estimateSmartFee(5000), { feeRate: 10, blocks: 100 });
    // Monotone: a longer target never costs more.
    let prev = Number.POSITIVE_INFINITY;
    for (let t = 1; t <= 100; t++) {
      const e = f.estimateSmartFee(t)!;
      assert.ok(e.feeRate <= prev);
      prev = e.feeRate;
    }
  });

  it('rounds up and floors at the minimum relay fee rate', () => {
    const f = new FeeEstimator({ minRelayFeeRate: 3 });
    for (let h = 1; h <= 10; h++) f.processBlock(h, [0.5, 1, 1.2, 2]);
    assert.equal(f.estimateSmartFee(1)!.feeRate, 3);
    const g = new FeeEstimator({ minRelayFeeRate: 1 });
    for (let h = 1; h <= 10; h++) g.processBlock(h, [4.2, 4.2]);
    assert.equal(g.estimateSmartFee(1)!.feeRate, 5);
  });

  it('keeps only the last maxBlocks blocks and forgets disconnected ones', () => {
    const f = new FeeEstimator({ maxBlocks: 10, minBlocks: 5, minSamples: 5 });
    for (let h = 1; h <= 10; h++) f.processBlock(h, [500, 500]);
    for (let h = 11; h <= 20; h++) f.processBlock(h, [7, 7]);
    assert.equal(f.blockCount, 10);
    assert.deepEqual(f.estimateSmartFee(1), { feeRate: 7, blocks: 1 });
    // A reorg: blocks 16..20 leave, a replacement 16 pays more.
    f.blockDisconnected(16);
    assert.equal(f.blockCount, 5);
    f.processBlock(16, [90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90]);
    assert.deepEqual(f.estimateSmartFee(1), { feeRate: 90, blocks: 1 });
    // Processing a height again replaces it.
    f.processBlock(16, [7]);
    assert.deepEqual(f.estimateSmartFee(1), { feeRate: 7, blocks: 1 });
  });

  it('is deterministic and independent of block order within the window', () => {
    const a = new FeeEstimator();
    const b = new FeeEstimator();
    const blocks = Array.from({ length: 30 }, (_, h) =>
      Array.from({ length: 7 }, (_, i) => ((h * 31 + i * 17) % 97) + 1),
    );
    blocks.forEach((r, h) => {
      a.processBlock(h, r);
      b.processBlock(h, [...r].reverse());
    });
    for (const t of [1, 2, 3, 6, 12, 25, 100]) {
      assert.deepEqual(a.estimateSmartFee(t), b.estimateSmartFee(t));
    }
  });

  it('learns from the reservoir block:connected event', () => {
    const env = makeEnv();
    const { reservoir, alice, funds } = env;
    const f = new FeeEstimator({ minBlocks: 2, minSamples: 4 });
    reservoir.on('block:connected', (txs, confirmed) => {
      const cb = txs[0]!.tx;
      f.processBlock(
        cb.kind === 'coinbase' ? cb.height : 0,
        confirmed.map((e) => e.feeRate),
      );
    });
    let n = 0;
    for (let b = 0; b < 2; b++) {
      const txs = [0, 1].map(() => payFee(alice, [funds[n++]!, 0], SUBSIDY, 40 * 190));
      for (const d of txs) reservoir.accept(d, NOW);
      mine(env, txs);
    }
    const e = f.estimateSmartFee(1)!;
    assert.ok(e.feeRate >= 38 && e.feeRate <= 42, `${e.feeRate}`);
  });
});
