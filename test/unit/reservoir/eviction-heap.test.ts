/**
 * The eviction heap keeps no removed entry alive: it is rebuilt when stale items outnumber live
 * ones and emptied with the pool, so once blocks have confirmed the whole pool no entry (nor its
 * transaction) stays reachable from the reservoir.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadGc } from '../../../services/node/memory/release.ts';
import { makeEnv, mine, NOW, payFee, SUBSIDY } from '../../helpers/reservoir.ts';

const COINBASES = 4;
const SPLIT = 400;

describe('eviction heap', () => {
  it('shrinks with the pool, is empty with it, and holds no removed entry', async () => {
    const env = makeEnv({}, COINBASES);
    const { reservoir, alice } = env;
    const splits = env.funds.map((f) => payFee(alice, [f, 0], SUBSIDY, 100_000, alice, SPLIT));
    for (const s of splits) assert.equal(reservoir.accept(s, NOW).status, 'added');
    mine(env, splits);
    assert.equal(reservoir.size, 0);

    const txs = splits.flatMap((s) =>
      s.tx.outputs.map((o, v) => payFee(alice, [s, v], o.amount, 1000, alice, 1)),
    );
    // in a function of its own: a suspended async frame may still hold its last local
    const accept = () =>
      txs.map((t) => {
        const r = reservoir.accept(t, NOW);
        assert.ok(r.status === 'added');
        return new WeakRef<object>(r.entry);
      });
    const refs = accept();
    const n = COINBASES * SPLIT;
    assert.equal(reservoir.size, n);
    assert.ok(reservoir.evictionQueueSize <= 2 * n + 1024);

    // a block confirming three quarters: the heap follows the pool down
    mine(env, txs.slice(0, (3 * n) / 4));
    assert.equal(reservoir.size, n / 4);
    assert.ok(
      reservoir.evictionQueueSize <= 2 * (n / 4) + 1024,
      `${reservoir.evictionQueueSize} items for ${n / 4} entries`,
    );

    // the rest: the pool is empty, and so is the heap
    mine(env, txs.slice((3 * n) / 4));
    assert.equal(reservoir.size, 0);
    assert.equal(reservoir.evictionQueueSize, 0);

    // and the removed entries are garbage (WeakRefs are kept alive until the end of the job)
    await new Promise((r) => setImmediate(r));
    const gc = loadGc();
    assert.ok(gc !== undefined, 'a gc function');
    gc();
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    assert.equal(alive, 0, `${alive} removed entries still reachable`);
  });
});
