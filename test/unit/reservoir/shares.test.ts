/**
 * Shares in the reservoir: a split and its grants and swaps wait on unconfirmed parents, two swaps
 * of the same shares conflict, a share-burning tx is refused with its consensus code, and a
 * disconnected split comes back with its children relinked.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PolicyError } from '../../../services/node/reservoir/errors.ts';
import { ValidationError } from '../../../shared/core/errors.ts';
import { assetIdOf, bitmarkIdOf } from '../../../shared/core/tx/ids.ts';
import { type DecodedTx, MINT, type OutputBitmark } from '../../../shared/core/tx/types.ts';
import { makeKey, out, signed, spend } from '../../helpers/chain.ts';
import { COIN, disconnect, type Env, hex, makeEnv, mine, NOW, SUBSIDY } from '../../helpers/reservoir.ts';

const shares = (id: Uint8Array, quantity: number): OutputBitmark => ({ type: 'shares', id, quantity });

/** alice registers, issues, splits into 1000 and grants bob 100 shares plus 10 coins: all unconfirmed. */
function setUp(env: Env) {
  const { alice, bob, funds } = env;
  const fingerprint = new TextEncoder().encode('pool-shares');
  const reg = signed({
    version: 1,
    kind: 'asset',
    asset: { name: 'pool', fingerprint, metadata: new Uint8Array() },
    inputs: [spend(alice, funds[0]!.txid, 0)],
    outputs: [out(alice.owner, SUBSIDY - 1000)],
  });
  const issue = signed({
    version: 1,
    kind: 'issue',
    assetId: assetIdOf(fingerprint),
    inputs: [spend(alice, reg.txid, 0)],
    outputs: [out(alice.owner, 0, MINT), out(alice.owner, SUBSIDY - 2000)],
  });
  const x = bitmarkIdOf(issue.txid, 0);
  const split = signed({
    version: 1,
    kind: 'split',
    bitmarkId: x,
    total: 1000,
    inputs: [spend(alice, issue.txid, 0), spend(alice, issue.txid, 1)],
    outputs: [out(alice.owner, 0, shares(x, 1000)), out(alice.owner, SUBSIDY - 3000)],
  });
  const grant = signed({
    version: 1,
    kind: 'transfer',
    inputs: [spend(alice, split.txid, 0), spend(alice, split.txid, 1)],
    outputs: [
      out(bob.owner, 0, shares(x, 100)),
      out(alice.owner, 0, shares(x, 900)),
      out(bob.owner, 10 * COIN),
      out(alice.owner, SUBSIDY - 4000 - 10 * COIN),
    ],
  });
  for (const d of [reg, issue, split, grant]) env.reservoir.accept(d, NOW);
  return { x, reg, issue, split, grant };
}

/** alice's 900 shares: 200 to `buyer` for 5 coins from bob's 10 (fee `fee`). */
function swap(env: Env, grant: DecodedTx, x: Uint8Array, fee: number): DecodedTx {
  const { alice, bob } = env;
  return signed({
    version: 1,
    kind: 'transfer',
    inputs: [spend(alice, grant.txid, 1), spend(bob, grant.txid, 2)],
    outputs: [
      out(bob.owner, 0, shares(x, 200)),
      out(alice.owner, 0, shares(x, 700)),
      out(alice.owner, 5 * COIN),
      out(bob.owner, 5 * COIN - fee),
    ],
  });
}

describe('shares in the reservoir', () => {
  it('accepts a split and swaps on unconfirmed parents, and orders them for a block', () => {
    const env = makeEnv();
    const s = setUp(env);
    const sw = swap(env, s.grant, s.x, 1000);
    env.reservoir.accept(sw, NOW);
    assert.deepEqual(
      env.reservoir.selectForBlock(1_000_000).map(hex),
      [s.reg, s.issue, s.split, s.grant, sw].map(hex),
    );
    // a block of all of them is valid
    mine(env, env.reservoir.selectForBlock(1_000_000));
    assert.equal(env.reservoir.size, 0);
  });

  it('two swaps of the same shares conflict: the second needs a higher fee to replace the first', () => {
    const env = makeEnv();
    const s = setUp(env);
    env.reservoir.accept(swap(env, s.grant, s.x, 10_000), NOW);
    assert.throws(
      () => env.reservoir.accept(swap(env, s.grant, s.x, 1000), NOW),
      (e: unknown) => e instanceof PolicyError && e.code === 'insufficient-fee',
    );
  });

  it('refuses a share-burning or share-minting tx with its consensus code', () => {
    const env = makeEnv();
    const s = setUp(env);
    const burn = signed({
      version: 1,
      kind: 'transfer',
      inputs: [spend(env.bob, s.grant.txid, 0), spend(env.bob, s.grant.txid, 2)],
      outputs: [out(env.bob.owner, 0, shares(s.x, 99)), out(env.bob.owner, 10 * COIN - 1000)],
    });
    assert.throws(
      () => env.reservoir.accept(burn, NOW),
      (e: unknown) => e instanceof ValidationError && e.code === 'bad-txns-share-destroyed',
    );
    const mint = signed({
      version: 1,
      kind: 'transfer',
      inputs: [spend(env.bob, s.grant.txid, 0), spend(env.bob, s.grant.txid, 2)],
      outputs: [out(makeKey().owner, 0, shares(s.x, 101)), out(env.bob.owner, 10 * COIN - 1000)],
    });
    assert.throws(
      () => env.reservoir.accept(mint, NOW),
      (e: unknown) => e instanceof ValidationError && e.code === 'bad-txns-share-created',
    );
  });

  it('a disconnected block returns its split; the pool grant is linked to it again', () => {
    const env = makeEnv();
    const s = setUp(env);
    mine(env, [s.reg, s.issue, s.split]);
    assert.equal(env.reservoir.get(s.grant.txid)!.parents.size, 0);
    disconnect(env);
    const grant = env.reservoir.get(s.grant.txid)!;
    assert.ok(grant.parents.has(env.reservoir.get(s.split.txid)!));
    assert.deepEqual(
      env.reservoir.selectForBlock(1_000_000).map(hex),
      [s.reg, s.issue, s.split, s.grant].map(hex),
    );
  });
});
