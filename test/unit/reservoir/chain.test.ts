/** Following the chain: connected blocks confirm and conflict, disconnected blocks come back. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReservoirEntry } from '../../../services/node/reservoir/reservoir.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import { disconnect, hex, makeEnv, mine, NOW, payFee, SUBSIDY, undoTip } from '../../helpers/reservoir.ts';

describe('blockConnected', () => {
  it('removes confirmed transactions and keeps their children with updated totals', () => {
    const env = makeEnv();
    const { reservoir, alice, funds } = env;
    const parent = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000);
    const child = payFee(alice, [parent, 0], SUBSIDY / 2 - 500, 2000);
    reservoir.accept(parent, NOW);
    reservoir.accept(child, NOW);
    let seen: { txs: readonly DecodedTx[]; confirmed: readonly ReservoirEntry[]; size: number } | undefined;
    reservoir.on('block:connected', (txs, confirmed) => {
      seen = { txs, confirmed, size: reservoir.size };
    });
    const block = mine(env, [parent]);
    assert.ok(!reservoir.has(parent.txid));
    const c = reservoir.get(child.txid)!;
    assert.equal(c.ancestorCount, 1);
    assert.equal(c.ancestorFee, 2000);
    assert.equal(c.parents.size, 0);
    assert.deepEqual(env.events.at(-1), { type: 'removed', txid: hex(parent), reason: 'block' });
    assert.ok(seen !== undefined);
    assert.equal(seen.txs, block.txs);
    assert.deepEqual(seen.confirmed.map(hex), [hex(parent)]);
    assert.equal(seen.size, 1, 're-emitted after the pool processed the block');
    // The child can be mined next.
    assert.deepEqual(reservoir.selectForBlock(1_000_000).map(hex), [hex(child)]);
  });

  it('removes pool transactions that double spend the block, with their descendants', () => {
    const env = makeEnv();
    const { reservoir, alice, bob, funds } = env;
    const a = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000);
    const aChild = payFee(alice, [a, 0], SUBSIDY / 2 - 500, 1000);
    const other = payFee(alice, [funds[1]!, 0], SUBSIDY, 1000);
    for (const d of [a, aChild, other]) reservoir.accept(d, NOW);
    const rival = payFee(alice, [funds[0]!, 0], SUBSIDY, 100, bob);
    mine(env, [rival]);
    assert.deepEqual(
      env.events.filter((e) => e.type === 'removed').map((e) => [e.txid, e.reason]),
      [
        [hex(a), 'conflict'],
        [hex(aChild), 'conflict'],
      ],
    );
    assert.equal(reservoir.size, 1);
    assert.ok(reservoir.has(other.txid));
    assert.equal(reservoir.spenderOf(funds[0]!.txid, 0), undefined);
  });

  it('accepts orphans whose parent the block confirmed and drops orphans it double spent', () => {
    const env = makeEnv();
    const { reservoir, alice, bob, funds } = env;
    const parent = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000, bob);
    const orphan = payFee(bob, [parent, 0], SUBSIDY / 2 - 500, 1000);
    const parent2 = payFee(alice, [funds[1]!, 0], SUBSIDY, 1000, bob);
    const orphan2 = payFee(bob, [parent2, 0], SUBSIDY / 2 - 500, 1000);
    reservoir.accept(orphan, NOW);
    reservoir.accept(orphan2, NOW);
    assert.equal(reservoir.orphanCount, 2);
    // The block confirms parent, and spends parent2's output (orphan2's input) elsewhere.
    const thief = payFee(bob, [parent2, 0], SUBSIDY / 2 - 500, 5000, alice);
    mine(env, [parent, parent2, thief]);
    assert.ok(reservoir.has(orphan.txid));
    assert.ok(!reservoir.hasOrphan(orphan2.txid) && !reservoir.has(orphan2.txid));
    assert.equal(reservoir.orphanCount, 0);
    assert.deepEqual(env.events.at(-1), { type: 'added', txid: hex(orphan) });
  });
});

describe('blockDisconnected', () => {
  it('returns the block transactions to the pool and re-links pool children', () => {
    const env = makeEnv();
    const { reservoir, alice, funds } = env;
    const t1 = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000);
    const t2 = payFee(alice, [funds[1]!, 0], SUBSIDY, 2000);
    reservoir.accept(t1, NOW);
    reservoir.accept(t2, NOW);
    const block = mine(env, [t1, t2]);
    assert.equal(reservoir.size, 0);
    // After the block, a child of the now confirmed t1.
    const child = payFee(alice, [t1, 0], SUBSIDY / 2 - 500, 5000);
    reservoir.accept(child, NOW + 10);
    const before = env.events.length;
    let restoredSeen: string[] = [];
    reservoir.on('block:disconnected', (txs, restored) => {
      assert.equal(txs, block.txs);
      restoredSeen = restored.map(hex);
    });

    disconnect(env, NOW + 20);

    assert.equal(reservoir.size, 3);
    assert.deepEqual(restoredSeen, [hex(t1), hex(t2)]);
    const e1 = reservoir.get(t1.txid)!;
    const ec = reservoir.get(child.txid)!;
    assert.equal(e1.time, NOW + 20);
    assert.equal(ec.time, NOW + 10, 'a re-checked entry keeps its time');
    assert.equal(ec.ancestorCount, 2);
    assert.ok(ec.parents.has(e1));
    assert.equal(e1.descendantFee, 6000);
    // Only the restored transactions are announced; the child never left as far as listeners know.
    assert.deepEqual(env.events.slice(before), [
      { type: 'added', txid: hex(t1) },
      { type: 'added', txid: hex(t2) },
    ]);
    assert.deepEqual(reservoir.selectForBlock(1_000_000).map(hex), [hex(t1), hex(child), hex(t2)]);
    // The same block can be connected again and empties the pool of its transactions.
    env.ledger.apply(block);
    reservoir.blockConnected(block.txs);
    assert.deepEqual([...reservoir.entries()].map(hex), [hex(child)]);
  });

  it('removes pool spends of a coinbase that the disconnect made immature (reason reorg)', () => {
    const env = makeEnv();
    const { reservoir, ledger, bob } = env;
    const maturity = ledger.p.coinbaseMaturity;
    // The coinbase of height tip + 1 - maturity is just mature now and immature after a disconnect.
    const cb = ledger.blocks[ledger.height + 1 - maturity]!.txs[0]!;
    const spend = payFee(bob, [cb, 0], SUBSIDY, 1000);
    const spendChild = payFee(bob, [spend, 0], SUBSIDY / 2 - 500, 1000);
    reservoir.accept(spend, NOW);
    reservoir.accept(spendChild, NOW);
    mine(env, []);
    disconnect(env);
    assert.equal(reservoir.size, 2, 'still mature: the tip is back where it was when they entered');
    assert.ok(reservoir.has(spend.txid) && reservoir.has(spendChild.txid));
    // Now one block below the height it was accepted at.
    const b = undoTip(env);
    reservoir.blockDisconnected(b.txs, NOW);
    assert.equal(reservoir.size, 0);
    assert.deepEqual(
      env.events.filter((e) => e.type === 'removed').map((e) => [e.txid, e.reason]),
      [
        [hex(spend), 'reorg'],
        [hex(spendChild), 'reorg'],
      ],
    );
  });

  it('requires the chain view to have moved to the parent: called too early, nothing comes back', () => {
    const env = makeEnv();
    const t1 = payFee(env.alice, [env.funds[0]!, 0], SUBSIDY, 1000);
    const block = mine(env, [t1]);
    // Wrong order: the reservoir is told before storage undid the block.
    env.reservoir.blockDisconnected(block.txs, NOW);
    assert.equal(env.reservoir.size, 0);
    // Right order.
    undoTip(env);
    env.reservoir.blockDisconnected(block.txs, NOW);
    assert.ok(env.reservoir.has(t1.txid));
  });
});
