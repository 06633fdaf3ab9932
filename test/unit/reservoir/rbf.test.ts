/** Replace-by-fee: a success, and each rule that can refuse a replacement. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PolicyCode, PolicyError } from '../../../services/node/reservoir/errors.ts';
import { out } from '../../helpers/chain.ts';
import { hex, makeEnv, NOW, payFee, SUBSIDY, transfer } from '../../helpers/reservoir.ts';

function rejectsPolicy(code: PolicyCode, fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PolicyError, `expected PolicyError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

describe('replace-by-fee', () => {
  it('replaces a conflict and its descendants when it pays more, reporting them as replaced', () => {
    const env = makeEnv();
    const { reservoir, alice, bob, funds } = env;
    const a = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000);
    const child = payFee(alice, [a, 0], SUBSIDY / 2 - 500, 1000);
    reservoir.accept(a, NOW);
    reservoir.accept(child, NOW);
    const r = payFee(alice, [funds[0]!, 0], SUBSIDY, 5000, bob);
    const res = reservoir.accept(r, NOW + 1);
    assert.ok(res.status === 'added');
    assert.deepEqual(res.replaced.map(hex).sort(), [hex(a), hex(child)].sort());
    assert.ok(!reservoir.has(a.txid) && !reservoir.has(child.txid) && reservoir.has(r.txid));
    assert.equal(reservoir.size, 1);
    assert.equal(reservoir.spenderOf(funds[0]!.txid, 0)?.fee, 5000);
    assert.equal(reservoir.bytes, r.raw.length);
    const removed = env.events.filter((e) => e.type === 'removed');
    assert.deepEqual(
      removed.map((e) => e.reason),
      ['replaced', 'replaced'],
    );
    assert.deepEqual(env.events.at(-1), { type: 'added', txid: hex(r) });
  });

  it('replaces a transaction that conflicts on several inputs with several pool transactions', () => {
    const { reservoir, alice, funds } = makeEnv();
    const a = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000);
    const b = payFee(alice, [funds[1]!, 0], SUBSIDY, 1000);
    reservoir.accept(a, NOW);
    reservoir.accept(b, NOW);
    const r = transfer(
      alice,
      [
        [funds[0]!, 0],
        [funds[1]!, 0],
      ],
      [out(alice.owner, 2 * SUBSIDY - 10_000)],
    );
    const res = reservoir.accept(r, NOW);
    assert.ok(res.status === 'added');
    assert.equal(res.replaced.length, 2);
    assert.equal(reservoir.size, 1);
  });

  it('refuses a replacement whose fee rate is not above a direct conflict', () => {
    const { reservoir, alice, bob, funds } = makeEnv();
    const a = payFee(alice, [funds[0]!, 0], SUBSIDY, 4000);
    reservoir.accept(a, NOW);
    // More absolute fee but 2 extra outputs: lower rate.
    const r = payFee(alice, [funds[0]!, 0], SUBSIDY, 4100, bob, 4);
    assert.ok(4100 / r.raw.length < 4000 / a.raw.length);
    rejectsPolicy('insufficient-fee', () => reservoir.accept(r, NOW));
    assert.ok(reservoir.has(a.txid));
  });

  it('refuses a replacement that pays less than everything it would evict', () => {
    const { reservoir, alice, bob, funds } = makeEnv();
    const a = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000);
    const rich = payFee(alice, [a, 0], SUBSIDY / 2 - 500, 50_000);
    reservoir.accept(a, NOW);
    reservoir.accept(rich, NOW);
    // Twice a's fee rate, but 2,000 < 1,000 + 50,000.
    rejectsPolicy('insufficient-fee', () =>
      reservoir.accept(payFee(alice, [funds[0]!, 0], SUBSIDY, 2000, bob), NOW),
    );
    assert.equal(reservoir.size, 2);
  });

  it('refuses a replacement whose extra fee does not pay for its own relay', () => {
    const { reservoir, alice, bob, funds } = makeEnv();
    const a = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000);
    reservoir.accept(a, NOW);
    const r = payFee(alice, [funds[0]!, 0], SUBSIDY, 1001, bob);
    assert.equal(r.raw.length, a.raw.length);
    rejectsPolicy('insufficient-fee', () => reservoir.accept(r, NOW));
    // Exactly size × minRelayFeeRate more is enough.
    const ok = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000 + r.raw.length, bob);
    assert.equal(reservoir.accept(ok, NOW).status, 'added');
  });

  it('refuses a replacement that would evict too many transactions', () => {
    const { reservoir, alice, bob, funds } = makeEnv({ maxReplacements: 1 });
    const a = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000);
    reservoir.accept(a, NOW);
    reservoir.accept(payFee(alice, [a, 0], SUBSIDY / 2 - 500, 1000), NOW);
    rejectsPolicy('too-many-replacements', () =>
      reservoir.accept(payFee(alice, [funds[0]!, 0], SUBSIDY, 90_000, bob), NOW),
    );
    assert.equal(reservoir.size, 2);
  });

  it('refuses a replacement that spends an output of a transaction it would evict', () => {
    const { reservoir, alice, funds } = makeEnv();
    const a = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000);
    reservoir.accept(a, NOW);
    const r = transfer(
      alice,
      [
        [funds[0]!, 0],
        [a, 1],
      ],
      [out(alice.owner, SUBSIDY)],
    );
    rejectsPolicy('bad-txns-spends-conflicting-tx', () => reservoir.accept(r, NOW));
    assert.ok(reservoir.has(a.txid));
  });
});
