/** Coin selection: what pays, what never pays (bitmarks, immature coinbases), change and dust. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FundsError } from '../../../services/cli/errors.ts';
import { type SelectRequest, selectCoins, type Utxo } from '../../../services/cli/wallet/coin-select.ts';

let seq = 0;
const coin = (amount: number, extra: Partial<Utxo> = {}): Utxo => ({
  txid: (seq++).toString(16).padStart(64, '0'),
  vout: 0,
  amount,
  address: 'lcairn1x',
  confirmations: 20,
  coinbase: false,
  ...extra,
});
/** 100 per input, 10 per output beyond the first, 10 more with change. */
const feeFor = (inputs: number, withChange: boolean) => 100 * inputs + (withChange ? 10 : 0);
const req = (target: number, candidates: Utxo[], more: Partial<SelectRequest> = {}): SelectRequest => ({
  target,
  candidates,
  feeFor,
  coinbaseMaturity: 10,
  dust: 50,
  ...more,
});

describe('coin selection', () => {
  it('takes the smallest single coin that covers amount, fee and change', () => {
    const coins = [coin(10_000), coin(2_000), coin(5_000)];
    const s = selectCoins(req(1_500, coins));
    assert.deepEqual(s.inputs, [coins[1]]);
    assert.equal(s.fee, 110);
    assert.equal(s.change, 2_000 - 1_500 - 110);
  });

  it('adds the largest coins first when no single coin is enough', () => {
    const coins = [coin(1_000), coin(3_000), coin(2_000), coin(500)];
    const s = selectCoins(req(4_500, coins));
    assert.deepEqual(
      s.inputs.map((u) => u.amount),
      [3_000, 2_000],
    );
    assert.equal(s.change, 5_000 - 4_500 - 210);
    const total = s.inputs.reduce((a, u) => a + u.amount, 0);
    assert.equal(total, 4_500 + s.fee + s.change, 'inputs = outputs + fee');
  });

  it('leaves change below dust to the fee instead of making an output', () => {
    const s = selectCoins(req(1_000, [coin(1_130)]));
    assert.equal(s.change, 0);
    assert.equal(s.fee, 130);
  });

  it('never spends bitmark or share outputs, unconfirmed or immature coinbase outputs to pay', () => {
    const coins = [
      coin(50_000, { bitmark: 'ab'.repeat(32) }),
      coin(60_000, { shares: { bitmark: 'ef'.repeat(32), quantity: 5 } }),
      coin(50_000, { coinbase: true, confirmations: 9 }),
      coin(50_000, { confirmations: 0 }),
      coin(3_000, { coinbase: true, confirmations: 10 }),
    ];
    const s = selectCoins(req(1_000, coins));
    assert.deepEqual(s.inputs, [coins[4]]);
    assert.throws(
      () => selectCoins(req(10_000, coins)),
      (e: unknown) =>
        e instanceof FundsError &&
        e.code === 'funds-insufficient' &&
        /spendable 3000/.test(e.message) &&
        /50000 more in coinbase outputs not yet mature/.test(e.message),
    );
  });

  it('puts required inputs first (a bitmark being moved, the registrant coin) and adds fee coins after', () => {
    const bitmark = coin(0, { bitmark: 'cd'.repeat(32) });
    const pay = [coin(700), coin(90)];
    const s = selectCoins(req(0, pay, { required: [bitmark] }));
    assert.equal(s.inputs[0], bitmark);
    assert.deepEqual(s.inputs.slice(1), [pay[0]]);
    assert.equal(s.change, 700 - 210);
    const enough = coin(5_000);
    const alone = selectCoins(req(0, [coin(100)], { required: [enough] }));
    assert.deepEqual(alone.inputs, [enough], 'a required coin that pays for itself needs no other');
  });

  it('refuses when nothing suffices, with the spendable total', () => {
    assert.throws(() => selectCoins(req(10_000, [coin(1_000), coin(2_000)])), /spendable 3000/);
    assert.throws(() => selectCoins(req(1, [])), FundsError);
  });
});
