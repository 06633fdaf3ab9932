/** Asset registrations and issues in the pool: fingerprint conflicts, issues waiting on pool registrations. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PolicyError } from '../../../services/node/reservoir/errors.ts';
import { ValidationError } from '../../../shared/core/errors.ts';
import { assetIdOf } from '../../../shared/core/tx/ids.ts';
import { type DecodedTx, MINT } from '../../../shared/core/tx/types.ts';
import { out, signed, spend, type TestKey } from '../../helpers/chain.ts';
import { disconnect, hex, makeEnv, mine, NOW, type Prev, SUBSIDY } from '../../helpers/reservoir.ts';

const enc = new TextEncoder();

function register(
  key: TestKey,
  prev: Prev,
  amount: number,
  fee: number,
  fingerprint: string,
  name = 'art',
): DecodedTx {
  return signed({
    version: 1,
    kind: 'asset',
    asset: { name, fingerprint: enc.encode(fingerprint), metadata: enc.encode('{}') },
    inputs: [spend(key, prev[0].txid, prev[1])],
    outputs: [out(key.owner, amount - fee)],
  });
}

function issue(
  key: TestKey,
  prev: Prev,
  amount: number,
  fee: number,
  fingerprint: string,
  count = 2,
): DecodedTx {
  const outputs = [out(key.owner, amount - fee)];
  for (let i = 0; i < count; i++) outputs.push(out(key.owner, 0, MINT));
  return signed({
    version: 1,
    kind: 'issue',
    assetId: assetIdOf(enc.encode(fingerprint)),
    inputs: [spend(key, prev[0].txid, prev[1])],
    outputs,
  });
}

function policy(code: string) {
  return (e: unknown) => e instanceof PolicyError && e.code === code;
}

describe('assets in the reservoir', () => {
  it('treats a second registration of a pool fingerprint as a conflict (replace-by-fee rules apply)', () => {
    const env = makeEnv();
    const { reservoir, alice, bob, funds } = env;
    const reg = register(alice, [funds[0]!, 0], SUBSIDY, 1000, 'fp-1');
    const iss = issue(alice, [funds[1]!, 0], SUBSIDY, 1000, 'fp-1');
    reservoir.accept(reg, NOW);
    reservoir.accept(iss, NOW);
    const same = register(alice, [funds[2]!, 0], SUBSIDY, 1000, 'fp-1', 'copy');
    assert.throws(() => reservoir.accept(same, NOW), policy('insufficient-fee'));

    const strict = makeEnv({ replaceByFee: false });
    strict.reservoir.accept(register(strict.alice, [strict.funds[0]!, 0], SUBSIDY, 1000, 'fp-1'), NOW);
    assert.throws(
      () =>
        strict.reservoir.accept(register(strict.alice, [strict.funds[1]!, 0], SUBSIDY, 90_000, 'fp-1'), NOW),
      policy('txn-mempool-conflict'),
    );

    // Paying enough replaces the registration, and the issue that depended on it goes too.
    const better = register(
      bob,
      [env.ledger.blocks[env.ledger.height - 9]!.txs[0]!, 0],
      SUBSIDY,
      20_000,
      'fp-1',
    );
    const res = reservoir.accept(better, NOW);
    assert.ok(res.status === 'added');
    assert.deepEqual(res.replaced.map(hex).sort(), [hex(reg), hex(iss)].sort());
    assert.equal(reservoir.view().getAsset(assetIdOf(enc.encode('fp-1')))?.txid, better.txid);
  });

  it('accepts an issue of an asset registered only in the pool and orders the registration first', () => {
    const env = makeEnv();
    const { reservoir, alice, funds } = env;
    assert.throws(
      () => reservoir.accept(issue(alice, [funds[1]!, 0], SUBSIDY, 1000, 'fp-2'), NOW),
      (e: unknown) => e instanceof ValidationError && e.code === 'bad-issue-unknown-asset',
    );
    const reg = register(alice, [funds[0]!, 0], SUBSIDY, 300, 'fp-2');
    const iss = issue(alice, [funds[1]!, 0], SUBSIDY, 50_000, 'fp-2');
    reservoir.accept(reg, NOW);
    const view = reservoir.view();
    assert.equal(view.getAsset(assetIdOf(enc.encode('fp-2')))?.txid, reg.txid);
    assert.equal(reservoir.accept(iss, NOW).status, 'added');
    const e = reservoir.get(iss.txid)!;
    assert.ok(e.parents.has(reservoir.get(reg.txid)!));
    assert.equal(e.ancestorCount, 2);
    // The registration comes first although the issue alone pays far more.
    const order = reservoir.selectForBlock(1_000_000);
    assert.deepEqual(order.map(hex), [hex(reg), hex(iss)]);
    // And that order makes a valid block.
    mine(env, order);
    assert.equal(reservoir.size, 0);
    assert.ok(env.ledger.getAsset(assetIdOf(enc.encode('fp-2'))));
  });

  it('removes a pool registration (and its issues) when a block registers the same fingerprint', () => {
    const env = makeEnv();
    const { reservoir, alice, funds } = env;
    const reg = register(alice, [funds[0]!, 0], SUBSIDY, 1000, 'fp-3');
    const iss = issue(alice, [funds[1]!, 0], SUBSIDY, 1000, 'fp-3');
    reservoir.accept(reg, NOW);
    reservoir.accept(iss, NOW);
    mine(env, [register(alice, [funds[2]!, 0], SUBSIDY, 10, 'fp-3', 'rival')]);
    assert.equal(reservoir.size, 0);
    assert.deepEqual(
      env.events.filter((x) => x.type === 'removed').map((x) => x.reason),
      ['conflict', 'conflict'],
    );
  });

  it('re-links a pool issue to its registration when the block that confirmed it is disconnected', () => {
    const env = makeEnv();
    const { reservoir, alice, funds } = env;
    const reg = register(alice, [funds[0]!, 0], SUBSIDY, 1000, 'fp-4');
    mine(env, [reg]);
    const iss = issue(alice, [funds[1]!, 0], SUBSIDY, 1000, 'fp-4');
    reservoir.accept(iss, NOW);
    assert.equal(reservoir.get(iss.txid)!.parents.size, 0);
    disconnect(env);
    const e = reservoir.get(iss.txid)!;
    assert.ok(e.parents.has(reservoir.get(reg.txid)!));
    assert.deepEqual(reservoir.selectForBlock(1_000_000).map(hex), [hex(reg), hex(iss)]);
  });
});
