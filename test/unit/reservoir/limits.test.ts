/** Size cap (eviction by descendant score, rolling minimum fee) and expiry. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PolicyError } from '../../../services/node/reservoir/errors.ts';
import { hex, makeEnv, NOW, payFee, SUBSIDY } from '../../helpers/reservoir.ts';

describe('size cap', () => {
  it('evicts the lowest fee rate, refuses what would be evicted at once, and raises the minimum fee', () => {
    // Probe one entry's usage, then cap the pool at two and a half entries.
    const probe = makeEnv();
    const r0 = probe.reservoir.accept(payFee(probe.alice, [probe.funds[0]!, 0], SUBSIDY, 1000), NOW);
    assert.ok(r0.status === 'added');
    const usage = r0.entry.usage;

    const env = makeEnv({ maxBytes: Math.floor(2.5 * usage) });
    const { reservoir, alice, funds } = env;
    const size = r0.entry.size;
    const rate10 = payFee(alice, [funds[0]!, 0], SUBSIDY, 10 * size);
    const rate20 = payFee(alice, [funds[1]!, 0], SUBSIDY, 20 * size);
    reservoir.accept(rate10, NOW);
    reservoir.accept(rate20, NOW);
    assert.equal(reservoir.size, 2);
    assert.ok(reservoir.usage <= Math.floor(2.5 * usage));

    // Rate 5 would be the lowest: accepted then evicted at once, so refused, with no events.
    const events = env.events.length;
    const rate5 = payFee(alice, [funds[2]!, 0], SUBSIDY, 5 * size);
    assert.throws(
      () => reservoir.accept(rate5, NOW),
      (e: unknown) => e instanceof PolicyError && e.code === 'mempool-full',
    );
    assert.equal(env.events.length, events);
    assert.ok(!reservoir.has(rate5.txid));
    assert.equal(reservoir.size, 2);

    // The minimum fee rate rose above what was evicted (5 + the relay rate 1).
    const min = reservoir.info(NOW).minFeeRate;
    assert.ok(Math.abs(min - 6) < 1e-9, `${min}`);
    assert.throws(
      () => reservoir.accept(payFee(alice, [funds[3]!, 0], SUBSIDY, Math.floor(5.5 * size)), NOW),
      (e: unknown) => e instanceof PolicyError && e.code === 'mempool-min-fee-not-met',
    );

    // A better payer gets in and the lowest (rate 10) leaves with reason 'size'.
    const rate30 = payFee(alice, [funds[4]!, 0], SUBSIDY, 30 * size);
    assert.equal(reservoir.accept(rate30, NOW).status, 'added');
    assert.ok(!reservoir.has(rate10.txid) && reservoir.has(rate20.txid) && reservoir.has(rate30.txid));
    assert.deepEqual(env.events.at(-1), { type: 'removed', txid: hex(rate10), reason: 'size' });

    // The minimum decays with time (half-life 12 h): two days later it is back to the relay rate.
    assert.equal(reservoir.info(NOW + 2 * 24 * 3600).minFeeRate, 1);
  });

  it('evicts a parent together with its descendants, and spares a parent whose child pays for it', () => {
    const probe = makeEnv();
    const r0 = probe.reservoir.accept(payFee(probe.alice, [probe.funds[0]!, 0], SUBSIDY, 1000), NOW);
    assert.ok(r0.status === 'added');
    const { usage, size } = r0.entry;
    const env = makeEnv({ maxBytes: Math.floor(3.5 * usage) });
    const { reservoir, alice, funds } = env;
    const parent = payFee(alice, [funds[0]!, 0], SUBSIDY, 2 * size);
    const child = payFee(alice, [parent, 0], SUBSIDY / 2 - size, 40 * size);
    const plain = payFee(alice, [funds[1]!, 0], SUBSIDY, 8 * size);
    reservoir.accept(parent, NOW);
    reservoir.accept(child, NOW);
    reservoir.accept(plain, NOW);
    // Parent alone pays 2/byte, but its package (2 + 40) / 2 = 21/byte beats plain's 8.
    const newcomer = payFee(alice, [funds[2]!, 0], SUBSIDY, 12 * size);
    reservoir.accept(newcomer, NOW);
    assert.ok(!reservoir.has(plain.txid));
    assert.ok(reservoir.has(parent.txid) && reservoir.has(child.txid) && reservoir.has(newcomer.txid));
  });
});

describe('expiry', () => {
  it('removes transactions older than expirySeconds with their descendants', () => {
    const env = makeEnv({ expirySeconds: 1000 });
    const { reservoir, alice, funds } = env;
    const old = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000);
    const youngChild = payFee(alice, [old, 0], SUBSIDY / 2 - 500, 1000);
    const young = payFee(alice, [funds[1]!, 0], SUBSIDY, 1000);
    reservoir.accept(old, NOW);
    reservoir.accept(youngChild, NOW + 500);
    reservoir.accept(young, NOW + 500);
    assert.equal(reservoir.expire(NOW + 1000), 0);
    assert.equal(reservoir.expire(NOW + 1001), 2);
    assert.ok(!reservoir.has(old.txid) && !reservoir.has(youngChild.txid) && reservoir.has(young.txid));
    const removed = env.events.filter((e) => e.type === 'removed');
    assert.deepEqual(
      removed.map((e) => [e.txid, e.reason]),
      [
        [hex(old), 'expiry'],
        [hex(youngChild), 'expiry'],
      ],
    );
    assert.equal(reservoir.bytes, young.raw.length);
  });
});
