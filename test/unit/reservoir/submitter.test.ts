/**
 * TxSubmitter: concurrent submissions verified in one batch on a real verify worker, then accepted
 * one by one in the order they came, with the same results and errors as Reservoir.accept.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { PolicyError } from '../../../services/node/reservoir/errors.ts';
import type { AcceptResult } from '../../../services/node/reservoir/reservoir.ts';
import { TxSubmitter } from '../../../services/node/reservoir/submitter.ts';
import { ValidationError } from '../../../shared/core/errors.ts';
import { toDecodedTx } from '../../../shared/core/tx/codec.ts';
import type { DecodedTx, TransferTx } from '../../../shared/core/tx/types.ts';
import { createBatchVerifier } from '../../../shared/crypto/batch.ts';
import type { VerifierBackend } from '../../../shared/crypto/load.ts';
import { out } from '../../helpers/chain.ts';
import { type Env, makeEnv, NOW, payFee, SUBSIDY, transfer, verifier } from '../../helpers/reservoir.ts';

const workers = createBatchVerifier(verifier, { backend: verifier.name as VerifierBackend, workers: 1 });
after(() => workers.close());

/** inlineMax 0: every batch to the worker, however small (the default keeps small ones here). */
const submitterOf = (env: Env, inlineMax = 0) =>
  new TxSubmitter(env.reservoir, workers, env.ledger.p.genesisHash, () => NOW, { inlineMax });

/** The same transaction with an output changed after signing: its signature no longer verifies. */
function forge(d: DecodedTx, amount: number): DecodedTx {
  const t = d.tx as TransferTx;
  return toDecodedTx({ ...t, outputs: [out(t.outputs[0]!.owner, amount), ...t.outputs.slice(1)] });
}

function codeOf(r: PromiseSettledResult<AcceptResult>): string {
  if (r.status === 'fulfilled') return r.value.status;
  const e = r.reason as unknown;
  if (e instanceof PolicyError || e instanceof ValidationError) return e.code;
  throw e;
}

describe('TxSubmitter', () => {
  it('verifies concurrent submissions in one batch on the workers and accepts them all', async () => {
    const env = makeEnv();
    const s = submitterOf(env);
    const txs = env.funds.slice(0, 10).map((f) => payFee(env.alice, [f, 0], SUBSIDY, 1000));
    const results = await Promise.all(txs.map((d) => s.submit(d)));
    assert.deepEqual(
      results.map((r) => r.status),
      txs.map(() => 'added'),
    );
    assert.equal(env.reservoir.size, 10);
    assert.equal(s.batches, 1, 'one batch for the ten');
    assert.equal(s.batchedTxs, 10);
    // in the order they were submitted
    assert.deepEqual(
      [...env.reservoir.entries()].map((e) => e.txid),
      txs.map((d) => d.txid),
    );
  });

  it('of concurrent submissions spending the same coin, accepts exactly one: the first', async () => {
    const env = makeEnv();
    const s = submitterOf(env);
    const first = payFee(env.alice, [env.funds[0]!, 0], SUBSIDY, 1000);
    const second = payFee(env.alice, [env.funds[0]!, 0], SUBSIDY, 1000, env.bob);
    const third = payFee(env.alice, [env.funds[0]!, 0], SUBSIDY, 1001);
    const settled = await Promise.allSettled([first, second, third].map((d) => s.submit(d)));
    assert.deepEqual(settled.map(codeOf), ['added', 'insufficient-fee', 'insufficient-fee']);
    assert.equal(env.reservoir.size, 1);
    assert.ok(env.reservoir.has(first.txid));
    assert.equal(s.batches, 1);
  });

  it('a bad signature refuses its own transaction only, with the code of the inline check', async () => {
    const env = makeEnv();
    const s = submitterOf(env);
    const txs = env.funds.slice(0, 6).map((f) => payFee(env.alice, [f, 0], SUBSIDY, 1000));
    const bad = forge(txs[3]!, 1);
    txs[3] = bad;
    const settled = await Promise.allSettled(txs.map((d) => s.submit(d)));
    assert.deepEqual(settled.map(codeOf), ['added', 'added', 'added', 'bad-txns-sig', 'added', 'added']);
    assert.equal(env.reservoir.size, 5);
    assert.ok(!env.reservoir.has(bad.txid));
    assert.equal(s.batches, 1);
  });

  it('keeps the order of submission: a child submitted with its parent enters after it', async () => {
    const env = makeEnv();
    const s = submitterOf(env);
    const parent = payFee(env.alice, [env.funds[0]!, 0], SUBSIDY, 1000, env.bob);
    const child = transfer(env.bob, [[parent, 0]], [out(env.alice.owner, SUBSIDY / 2 - 2000)]);
    const [p, c] = await Promise.all([s.submit(parent), s.submit(child)]);
    assert.equal(p.status, 'added');
    assert.equal(c.status, 'added');
    assert.ok(c.status === 'added' && c.entry.ancestorCount === 2);
  });

  it('submissions in later turns form later batches, entering after the earlier ones', async () => {
    const env = makeEnv();
    const s = submitterOf(env);
    const a = payFee(env.alice, [env.funds[0]!, 0], SUBSIDY, 1000);
    const b = payFee(env.alice, [env.funds[1]!, 0], SUBSIDY, 1000);
    const pa = s.submit(a);
    await new Promise((r) => setImmediate(r));
    const pb = s.submit(b);
    await Promise.all([pa, pb]);
    assert.equal(s.batches, 2);
    assert.deepEqual(
      [...env.reservoir.entries()].map((e) => e.txid),
      [a.txid, b.txid],
    );
  });

  it('a small batch with nothing at the workers is accepted here, with the same answers', async () => {
    const env = makeEnv();
    const s = submitterOf(env, 4);
    const good = payFee(env.alice, [env.funds[0]!, 0], SUBSIDY, 1000);
    const bad = forge(payFee(env.alice, [env.funds[1]!, 0], SUBSIDY, 1000), 1);
    const settled = await Promise.allSettled([good, bad].map((d) => s.submit(d)));
    assert.deepEqual(settled.map(codeOf), ['added', 'bad-txns-sig']);
    assert.equal(s.batches, 0, 'nothing went to the worker');
    assert.equal(s.inlineTxs, 2);
    // five signatures: over the limit, to the worker
    const five = env.funds.slice(2, 7).map((f) => payFee(env.alice, [f, 0], SUBSIDY, 1000));
    await Promise.all(five.map((d) => s.submit(d)));
    assert.equal(s.batches, 1);
    assert.equal(s.batchedTxs, 5);
  });

  it('a small batch behind one at the workers waits for it: a child enters after its parent', async () => {
    const env = makeEnv();
    // batches of at most six: the parents go to the worker, the child after them is a batch of one
    const s = new TxSubmitter(env.reservoir, workers, env.ledger.p.genesisHash, () => NOW, {
      inlineMax: 4,
      maxBatch: 6,
    });
    const parents = env.funds.slice(0, 6).map((f) => payFee(env.alice, [f, 0], SUBSIDY, 1000, env.bob));
    const child = transfer(env.bob, [[parents[5]!, 0]], [out(env.alice.owner, SUBSIDY / 2 - 2000)]);
    const pending = parents.map((d) => s.submit(d));
    const c = await s.submit(child); // the same turn: one dispatch, two batches
    await Promise.all(pending);
    assert.equal(c.status, 'added', 'not taken before its parent (that would be an orphan)');
    assert.ok(c.status === 'added' && c.entry.ancestorCount === 2);
    assert.equal(s.batches, 2);
    assert.equal(s.inlineTxs, 0);
  });

  it('without verify workers, accepts at once on the calling thread with the same answers', async () => {
    const env = makeEnv();
    const s = new TxSubmitter(env.reservoir, undefined, env.ledger.p.genesisHash, () => NOW);
    const good = payFee(env.alice, [env.funds[0]!, 0], SUBSIDY, 1000);
    const bad = forge(payFee(env.alice, [env.funds[1]!, 0], SUBSIDY, 1000), 1);
    assert.equal((await s.submit(good)).status, 'added');
    await assert.rejects(
      s.submit(bad),
      (e: unknown) => e instanceof ValidationError && e.code === 'bad-txns-sig',
    );
    assert.equal(s.batches, 0);
  });
});
