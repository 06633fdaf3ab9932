/** Acceptance: valid transfers, unconfirmed chains, and each rejection (policy and consensus). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PolicyCode, PolicyError } from '../../../services/node/reservoir/errors.ts';
import { DecodeError, ValidationError } from '../../../shared/core/errors.ts';
import { toDecodedTx } from '../../../shared/core/tx/codec.ts';
import type { DecodedTx, TransferTx } from '../../../shared/core/tx/types.ts';
import { coinbase, makeKey, out } from '../../helpers/chain.ts';
import { hex, makeEnv, mine, NOW, payFee, SUBSIDY, transfer } from '../../helpers/reservoir.ts';

function rejectsPolicy(code: PolicyCode, fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PolicyError, `expected PolicyError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

function rejectsConsensus(code: string, fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ValidationError, `expected ValidationError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

describe('reservoir acceptance', () => {
  it('accepts a valid transfer from raw bytes and indexes it', () => {
    const env = makeEnv();
    const { reservoir, alice, bob, funds } = env;
    const d = transfer(
      alice,
      [[funds[0]!, 0]],
      [out(bob.owner, 1000), out(alice.owner, SUBSIDY - 1000 - 500)],
    );
    const r = reservoir.accept(d.raw, NOW);
    assert.equal(r.status, 'added');
    assert.ok(r.status === 'added');
    assert.equal(r.entry.fee, 500);
    assert.equal(r.entry.size, d.raw.length);
    assert.equal(r.entry.feeRate, 500 / d.raw.length);
    assert.equal(r.entry.time, NOW);
    assert.equal(r.entry.height, env.ledger.height);
    assert.ok(reservoir.has(d.txid));
    assert.equal(reservoir.get(d.txid)?.fee, 500);
    assert.equal(reservoir.size, 1);
    assert.equal(reservoir.bytes, d.raw.length);
    assert.equal(reservoir.spenderOf(funds[0]!.txid, 0)?.fee, 500);
    assert.equal(reservoir.spenderOf(funds[1]!.txid, 0), undefined);
    const info = reservoir.info(NOW);
    assert.equal(info.count, 1);
    assert.equal(info.bytes, d.raw.length);
    assert.ok(info.usage > d.raw.length);
    assert.equal(info.minFeeRate, 1);
    assert.deepEqual(env.events, [{ type: 'added', txid: hex(d) }]);
    // The pool view shows the new outputs and hides the spent one.
    const view = reservoir.view();
    assert.equal(view.getCoin(d.txid, 0)?.amount, 1000);
    assert.equal(view.getCoin(funds[0]!.txid, 0), undefined);
    assert.equal(view.getCoin(funds[1]!.txid, 0)?.amount, SUBSIDY);
  });

  it('accepts a decoded transaction, including one that is a view into a larger buffer', () => {
    const { reservoir, alice, funds } = makeEnv();
    const d = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000);
    const big = new Uint8Array(d.raw.length + 10);
    big.set(d.raw, 5);
    const r = reservoir.accept(big.subarray(5, 5 + d.raw.length), NOW);
    assert.ok(r.status === 'added');
    assert.equal(r.entry.tx.raw.buffer.byteLength, d.raw.length, 'the pool keeps its own copy');
    const d2 = payFee(alice, [funds[1]!, 0], SUBSIDY, 1000);
    assert.equal(reservoir.accept(d2, NOW).status, 'added');
    // A Buffer from Node's shared pool (Buffer#slice would not copy).
    const d3 = payFee(alice, [funds[2]!, 0], SUBSIDY, 1000);
    const pooled = Buffer.from(d3.raw);
    assert.ok(pooled.buffer.byteLength > pooled.length);
    const r3 = reservoir.accept(pooled, NOW);
    assert.ok(r3.status === 'added');
    assert.equal(r3.entry.tx.raw.buffer.byteLength, d3.raw.length);
    assert.notEqual(r3.entry.tx.raw.buffer, pooled.buffer);
  });

  it('lets a DecodeError through for bytes that are not a transaction', () => {
    const { reservoir } = makeEnv();
    assert.throws(() => reservoir.accept(Uint8Array.of(1, 9, 9), NOW), DecodeError);
  });

  it('refuses a loose coinbase', () => {
    const { reservoir, alice } = makeEnv();
    rejectsPolicy('coinbase', () => reservoir.accept(coinbase(99, [out(alice.owner, 1)]), NOW));
  });

  it('refuses a transaction already in the pool', () => {
    const { reservoir, alice, funds } = makeEnv();
    const d = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000);
    reservoir.accept(d, NOW);
    rejectsPolicy('txn-already-in-mempool', () => reservoir.accept(d.raw, NOW));
    assert.equal(reservoir.size, 1);
  });

  it('refuses a confirmed transaction (an output of it is in the chain)', () => {
    const env = makeEnv();
    const d = payFee(env.alice, [env.funds[0]!, 0], SUBSIDY, 1000);
    mine(env, [d]);
    rejectsPolicy('txn-already-known', () => env.reservoir.accept(d, NOW));
  });

  it('refuses a transaction over the policy size', () => {
    const { reservoir, alice, funds } = makeEnv({ maxTxSize: 200 });
    const small = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000);
    assert.ok(small.raw.length <= 200, `${small.raw.length}`);
    reservoir.accept(small, NOW);
    const big = payFee(alice, [funds[1]!, 0], SUBSIDY, 1000, alice, 4);
    assert.ok(big.raw.length > 200);
    rejectsPolicy('tx-size', () => reservoir.accept(big, NOW));
  });

  it('refuses a fee below the minimum relay fee rate, and accepts exactly the minimum', () => {
    const { reservoir, alice, funds } = makeEnv({ minRelayFeeRate: 2 });
    const probe = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000);
    const size = probe.raw.length;
    const low = payFee(alice, [funds[0]!, 0], SUBSIDY, 2 * size - 1);
    assert.equal(low.raw.length, size);
    rejectsPolicy('min-relay-fee-not-met', () => reservoir.accept(low, NOW));
    const zero = payFee(alice, [funds[0]!, 0], SUBSIDY, 0);
    rejectsPolicy('min-relay-fee-not-met', () => reservoir.accept(zero, NOW));
    const exact = payFee(alice, [funds[0]!, 0], SUBSIDY, 2 * size);
    assert.equal(reservoir.accept(exact, NOW).status, 'added');
  });

  it('rethrows consensus violations as the core ValidationError', () => {
    const { reservoir, alice, bob, funds } = makeEnv();
    // Outputs worth more than the input.
    rejectsConsensus('bad-txns-in-belowout', () =>
      reservoir.accept(transfer(alice, [[funds[0]!, 0]], [out(bob.owner, SUBSIDY + 1)]), NOW),
    );
    // Signed by a key that does not own the output.
    rejectsConsensus('bad-txns-wrong-owner', () =>
      reservoir.accept(transfer(bob, [[funds[0]!, 0]], [out(bob.owner, 1000)]), NOW),
    );
    // A signature that does not verify (one output changed after signing).
    const good = transfer(alice, [[funds[0]!, 0]], [out(bob.owner, 1000)]);
    const t = good.tx as TransferTx;
    const forged: DecodedTx = toDecodedTx({ ...t, outputs: [out(bob.owner, 2000)] });
    rejectsConsensus('bad-txns-sig', () => reservoir.accept(forged, NOW));
    // Spending an immature coinbase (bob's coinbases are the last 10 blocks).
    const young = makeEnv();
    const tip = young.ledger.blocks[young.ledger.height]!.txs[0]!;
    rejectsConsensus('bad-txns-premature-spend-of-coinbase', () =>
      young.reservoir.accept(payFee(young.bob, [tip, 0], SUBSIDY, 1000), NOW),
    );
    assert.equal(reservoir.size, 0);
  });

  it('accepts unconfirmed chains and keeps ancestor and descendant totals', () => {
    const { reservoir, alice, bob, funds } = makeEnv();
    const a = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000, bob);
    const b = payFee(bob, [a, 0], SUBSIDY / 2 - 500, 2000, bob);
    const c = payFee(bob, [b, 1], (SUBSIDY / 2 - 500 - 2000) / 2, 3000, alice);
    for (const d of [a, b, c]) {
      assert.equal(reservoir.accept(d, NOW).status, 'added');
    }
    const ea = reservoir.get(a.txid)!;
    const eb = reservoir.get(b.txid)!;
    const ec = reservoir.get(c.txid)!;
    assert.equal(ec.ancestorCount, 3);
    assert.equal(ec.ancestorFee, 6000);
    assert.equal(ec.ancestorSize, a.raw.length + b.raw.length + c.raw.length);
    assert.equal(ea.descendantCount, 3);
    assert.equal(ea.descendantFee, 6000);
    assert.equal(eb.descendantCount, 2);
    assert.ok(ec.parents.has(eb) && eb.children.has(ec) && eb.parents.has(ea));
  });

  it('limits unconfirmed ancestors', () => {
    const { reservoir, alice, funds } = makeEnv({ maxAncestors: 3 });
    let prev = funds[0]!;
    let amount = SUBSIDY;
    const chain: DecodedTx[] = [];
    for (let i = 0; i < 4; i++) {
      const d = payFee(alice, [prev, 0], amount, 1000);
      chain.push(d);
      amount = Math.ceil((amount - 1000) / 2);
      prev = d;
    }
    for (const d of chain.slice(0, 3)) {
      reservoir.accept(d, NOW);
    }
    rejectsPolicy('too-long-mempool-chain', () => reservoir.accept(chain[3]!, NOW));
    assert.equal(reservoir.size, 3);
  });

  it('limits the descendants of a pool transaction', () => {
    const { reservoir, alice, funds } = makeEnv({ maxDescendants: 3 });
    const parent = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000, alice, 4);
    reservoir.accept(parent, NOW);
    const part = (SUBSIDY - 1000) / 4;
    reservoir.accept(payFee(alice, [parent, 0], part, 1000), NOW);
    reservoir.accept(payFee(alice, [parent, 1], part, 1000), NOW);
    rejectsPolicy('too-long-mempool-chain', () =>
      reservoir.accept(payFee(alice, [parent, 2], part, 1000), NOW),
    );
    assert.equal(reservoir.get(parent.txid)?.descendantCount, 3);
  });

  it('refuses a double spend of a pool transaction that does not pay more', () => {
    const { reservoir, alice, bob, funds } = makeEnv();
    reservoir.accept(payFee(alice, [funds[0]!, 0], SUBSIDY, 1000), NOW);
    rejectsPolicy('insufficient-fee', () =>
      reservoir.accept(payFee(alice, [funds[0]!, 0], SUBSIDY, 1000, bob), NOW),
    );
    const strict = makeEnv({ replaceByFee: false });
    strict.reservoir.accept(payFee(strict.alice, [strict.funds[0]!, 0], SUBSIDY, 1000), NOW);
    rejectsPolicy('txn-mempool-conflict', () =>
      strict.reservoir.accept(payFee(strict.alice, [strict.funds[0]!, 0], SUBSIDY, 90_000, strict.bob), NOW),
    );
    assert.equal(strict.reservoir.size, 1);
  });

  it('gives each key its own outputs (sanity of the helpers)', () => {
    const k = makeKey();
    const { reservoir, alice, funds } = makeEnv();
    const d = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000, k);
    reservoir.accept(d, NOW);
    rejectsConsensus('bad-txns-wrong-owner', () =>
      reservoir.accept(payFee(alice, [d, 0], SUBSIDY / 2, 1000), NOW),
    );
  });
});
