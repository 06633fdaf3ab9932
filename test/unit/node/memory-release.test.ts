/**
 * MemoryRelease on a real reservoir: one full collection once the pool has drained after a burst
 * (peak seen through 'tx:added' even when no check ran while it was full), none for a small pool,
 * none while the pool is still full or transactions still pour in, at most one burst per
 * minIntervalMs, a second one at the next look when still quiet; and the collection is real.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadGc, MemoryRelease } from '../../../services/node/memory/release.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import { silentLogger } from '../../../shared/log.ts';
import { type Env, makeEnv, mine, NOW, payFee, SUBSIDY } from '../../helpers/reservoir.ts';

/** `count` transfers of split outputs (the split confirmed), ready to enter the pool. */
function transfers(env: Env, fund: number, count: number): DecodedTx[] {
  const split = payFee(env.alice, [env.funds[fund]!, 0], SUBSIDY, 10_000, env.alice, count);
  env.reservoir.accept(split, NOW);
  mine(env, [split]);
  return split.tx.outputs.map((o, v) => payFee(env.alice, [split, v], o.amount, 1000, env.alice, 1));
}

function acceptAll(env: Env, txs: DecodedTx[]): void {
  for (const t of txs) assert.equal(env.reservoir.accept(t, NOW).status, 'added');
}

describe('memory release', () => {
  it('collects once the pool drained after a burst, at most once per interval', async () => {
    const env = makeEnv({}, 4);
    const gc = loadGc();
    assert.ok(gc !== undefined);
    let collections = 0;
    let t = 0;
    const release = new MemoryRelease(
      { minPeak: 10, minIntervalMs: 60_000 },
      {
        reservoir: env.reservoir,
        logger: silentLogger(),
        gc: () => {
          collections++;
          gc();
        },
        clock: () => t,
      },
    );
    release.start();
    try {
      // below minPeak: nothing
      const few = transfers(env, 0, 5);
      acceptAll(env, few);
      mine(env, few);
      assert.equal(release.check(), false);

      // a burst, seen through 'tx:added' (no check while it was full), then drained by a block
      const burst = transfers(env, 1, 20);
      acceptAll(env, burst);
      assert.equal(release.peak, 20);
      assert.equal(release.check(), false, 'the pool is still full');
      mine(env, burst.slice(0, 17));
      assert.equal(release.check(), false, 'more than a tenth of the peak is left');
      mine(env, burst.slice(17));

      // the collection is real: an object unreachable since the last turn is gone after it
      let garbage: object | undefined = { big: new Array(1000).fill(0) };
      const ref = new WeakRef(garbage);
      garbage = undefined;
      await new Promise((r) => setImmediate(r));
      assert.equal(release.check(), true);
      assert.equal(collections, 1);
      assert.equal(ref.deref(), undefined);
      assert.equal(release.peak, 0);
      // still quiet at the next look: the second collection; then nothing
      assert.equal(release.check(), true);
      assert.equal(collections, 2);
      assert.equal(release.check(), false);

      // another burst within the interval: not yet; after it: yes, and its second one is dropped
      // when transactions came back in between
      const again = transfers(env, 2, 20);
      acceptAll(env, again);
      mine(env, again);
      t = 30_000;
      assert.equal(release.check(), false);
      t = 60_000;
      assert.equal(release.check(), true);
      assert.equal(collections, 3);
      const busy = transfers(env, 3, 20);
      acceptAll(env, busy.slice(0, 17));
      mine(env, busy.slice(0, 17));
      assert.equal(release.check(), false, 'no second collection: 17 arrived since the first');
      assert.equal(collections, 3);

      // a pool that blocks empty while transactions keep coming: not over until a quiet look
      t = 200_000;
      acceptAll(env, busy.slice(17));
      mine(env, busy.slice(17));
      assert.equal(release.check(), false, '3 more arrived since the last look (peak 17)');
      assert.equal(release.check(), true);
      assert.equal(collections, 4);
    } finally {
      release.stop();
    }
  });
});
