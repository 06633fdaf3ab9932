/** Orphans: waiting for parents, resolution, bounds and expiry. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PolicyError } from '../../../services/node/reservoir/errors.ts';
import { hex, makeEnv, NOW, payFee, SUBSIDY } from '../../helpers/reservoir.ts';

describe('orphan pool', () => {
  it('keeps a child that arrives before its parent and accepts it with the parent', () => {
    const env = makeEnv();
    const { reservoir, alice, bob, funds } = env;
    const parent = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000, bob);
    const child = payFee(bob, [parent, 1], SUBSIDY / 2 - 500, 1000, bob);
    const grandchild = payFee(bob, [child, 0], (SUBSIDY / 2 - 1500) / 2, 1000, alice);
    const r = reservoir.accept(child, NOW);
    assert.ok(r.status === 'orphan');
    assert.deepEqual(
      r.missing.map((m) => Buffer.from(m).toString('hex')),
      [hex(parent)],
    );
    assert.equal(reservoir.accept(grandchild, NOW).status, 'orphan');
    assert.ok(reservoir.hasOrphan(child.txid) && !reservoir.has(child.txid));
    assert.equal(reservoir.orphanCount, 2);
    assert.equal(reservoir.size, 0);
    // Submitting the orphan again changes nothing.
    assert.equal(reservoir.accept(child, NOW).status, 'orphan');
    assert.equal(reservoir.orphanCount, 2);

    const res = reservoir.accept(parent, NOW + 5);
    assert.ok(res.status === 'added');
    assert.deepEqual(res.resolved.map(hex), [hex(child), hex(grandchild)]);
    assert.equal(reservoir.size, 3);
    assert.equal(reservoir.orphanCount, 0);
    assert.equal(reservoir.get(child.txid)?.time, NOW, 'an orphan keeps its arrival time');
    assert.equal(reservoir.get(grandchild.txid)?.ancestorCount, 3);
    assert.deepEqual(
      env.events.map((e) => e.txid),
      [hex(parent), hex(child), hex(grandchild)],
    );
  });

  it('drops an orphan that turns out invalid when its parent arrives', () => {
    const { reservoir, alice, bob, funds } = makeEnv();
    const parent = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000, bob);
    // Spends bob's output with alice's key: wrong owner, seen only once the parent is known.
    const bad = payFee(alice, [parent, 0], SUBSIDY / 2 - 500, 1000);
    assert.equal(reservoir.accept(bad, NOW).status, 'orphan');
    const res = reservoir.accept(parent, NOW);
    assert.ok(res.status === 'added');
    assert.deepEqual(res.resolved, []);
    assert.ok(!reservoir.has(bad.txid) && !reservoir.hasOrphan(bad.txid));
  });

  it('is bounded: the oldest orphan leaves first', () => {
    const { reservoir, alice, bob, funds } = makeEnv({ maxOrphans: 2 });
    const orphans = [0, 1, 2].map((i) => {
      const parent = payFee(alice, [funds[i]!, 0], SUBSIDY, 1000, bob);
      return payFee(bob, [parent, 0], SUBSIDY / 2 - 500, 1000);
    });
    orphans.forEach((o, i) => {
      assert.equal(reservoir.accept(o, NOW + i).status, 'orphan');
    });
    assert.equal(reservoir.orphanCount, 2);
    assert.ok(!reservoir.hasOrphan(orphans[0]!.txid));
    assert.ok(reservoir.hasOrphan(orphans[1]!.txid) && reservoir.hasOrphan(orphans[2]!.txid));
  });

  it('expires orphans whose parents do not come', () => {
    const { reservoir, alice, bob, funds } = makeEnv({ orphanExpirySeconds: 60 });
    const parent = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000, bob);
    const a = payFee(bob, [parent, 0], SUBSIDY / 2 - 500, 1000);
    const b = payFee(bob, [parent, 1], SUBSIDY / 2 - 500, 1000);
    reservoir.accept(a, NOW);
    reservoir.accept(b, NOW + 30);
    reservoir.expire(NOW + 60);
    assert.equal(reservoir.orphanCount, 2);
    reservoir.expire(NOW + 61);
    assert.ok(!reservoir.hasOrphan(a.txid) && reservoir.hasOrphan(b.txid));
    reservoir.expire(NOW + 91);
    assert.equal(reservoir.orphanCount, 0);
  });

  it('refuses orphans when the pool takes none, or when they are too large', () => {
    const none = makeEnv({ maxOrphans: 0 });
    const parent = payFee(none.alice, [none.funds[0]!, 0], SUBSIDY, 1000, none.bob);
    const orphan = payFee(none.bob, [parent, 0], SUBSIDY / 2 - 500, 1000);
    assert.throws(
      () => none.reservoir.accept(orphan, NOW),
      (e: unknown) => e instanceof PolicyError && e.code === 'orphan-pool-full',
    );
    const small = makeEnv({ maxOrphanTxSize: 100 });
    assert.throws(
      () => small.reservoir.accept(orphan, NOW),
      (e: unknown) => e instanceof PolicyError && e.code === 'orphan-too-large',
    );
    assert.equal(small.reservoir.orphanCount, 0);
  });
});
