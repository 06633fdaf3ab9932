/** Block selection: ancestor fee rate order (child pays for parent), parents first, size bound, ties. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareBytes } from '../../../shared/core/bytes.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import { hex, makeEnv, NOW, payFee, SUBSIDY } from '../../helpers/reservoir.ts';

function indexOf(list: DecodedTx[], d: DecodedTx): number {
  return list.findIndex((x) => hex(x) === hex(d));
}

describe('selectForBlock', () => {
  it('orders by fee rate when there are no packages', () => {
    const { reservoir, alice, funds } = makeEnv();
    const low = payFee(alice, [funds[0]!, 0], SUBSIDY, 300);
    const mid = payFee(alice, [funds[1]!, 0], SUBSIDY, 1000);
    const high = payFee(alice, [funds[2]!, 0], SUBSIDY, 5000);
    for (const d of [low, mid, high]) reservoir.accept(d, NOW);
    assert.deepEqual(reservoir.selectForBlock(1_000_000).map(hex), [high, mid, low].map(hex));
  });

  it('lets a high-fee child lift its low-fee parent above a mid-fee transaction (CPFP)', () => {
    const { reservoir, alice, funds } = makeEnv();
    const parent = payFee(alice, [funds[0]!, 0], SUBSIDY, 300);
    const mid = payFee(alice, [funds[1]!, 0], SUBSIDY, 1000);
    reservoir.accept(parent, NOW);
    reservoir.accept(mid, NOW);
    assert.deepEqual(reservoir.selectForBlock(1_000_000).map(hex), [mid, parent].map(hex));
    const child = payFee(alice, [parent, 0], SUBSIDY / 2 - 150, 20_000);
    reservoir.accept(child, NOW);
    const order = reservoir.selectForBlock(1_000_000);
    assert.deepEqual(order.map(hex), [parent, child, mid].map(hex));
    assert.equal(reservoir.get(child.txid)?.ancestorFee, 20_300);
  });

  it('puts every parent before its children and stays within maxBytes', () => {
    const { reservoir, alice, funds } = makeEnv();
    const all: DecodedTx[] = [];
    // Three trees of depth 3 with fees that invert the natural order.
    for (let t = 0; t < 3; t++) {
      const root = payFee(alice, [funds[t]!, 0], SUBSIDY, 200 + t);
      const half = (SUBSIDY - 200 - t) / 2;
      const kid0 = payFee(alice, [root, 0], Math.ceil(half), 9000 - t * 1000);
      const kid1 = payFee(alice, [root, 1], Math.floor(half), 400);
      const grand = payFee(alice, [kid1, 0], Math.ceil((Math.floor(half) - 400) / 2), 30_000);
      all.push(root, kid0, kid1, grand);
    }
    for (const d of all) reservoir.accept(d, NOW);
    const order = reservoir.selectForBlock(1_000_000);
    assert.equal(order.length, all.length);
    for (const d of order) {
      const e = reservoir.get(d.txid)!;
      for (const p of e.parents) {
        assert.ok(indexOf(order, p.tx) < indexOf(order, d), 'parent before child');
      }
    }
    const limit = 5 * all[0]!.raw.length;
    const part = reservoir.selectForBlock(limit);
    const total = part.reduce((n, d) => n + d.raw.length, 0);
    assert.ok(total <= limit && part.length >= 4, `${total} <= ${limit}, ${part.length} txs`);
    for (const d of part) {
      for (const p of reservoir.get(d.txid)!.parents) {
        assert.ok(indexOf(part, p.tx) >= 0 && indexOf(part, p.tx) < indexOf(part, d));
      }
    }
  });

  it('skips a package that does not fit and takes smaller ones after it', () => {
    const { reservoir, alice, funds } = makeEnv();
    const big = payFee(alice, [funds[0]!, 0], SUBSIDY, 90_000, alice, 20);
    const small = payFee(alice, [funds[1]!, 0], SUBSIDY, 300);
    reservoir.accept(big, NOW);
    reservoir.accept(small, NOW);
    assert.deepEqual(reservoir.selectForBlock(big.raw.length - 1).map(hex), [hex(small)]);
    assert.deepEqual(reservoir.selectForBlock(0), []);
  });

  it('breaks fee-rate ties by txid', () => {
    const { reservoir, alice, bob, funds } = makeEnv();
    const a = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000, bob);
    const b = payFee(alice, [funds[1]!, 0], SUBSIDY, 1000, bob);
    assert.equal(a.raw.length, b.raw.length);
    reservoir.accept(a, NOW);
    reservoir.accept(b, NOW);
    const expected = [a, b].sort((x, y) => compareBytes(x.txid, y.txid)).map(hex);
    assert.deepEqual(reservoir.selectForBlock(1_000_000).map(hex), expected);
  });
});
