/**
 * The verify ring (shared/crypto/verify-ring.ts): small batches handed to a verify worker through
 * persistent shared memory, answered per item as the inline verifier answers, in any number and
 * size (wrapping the ring and its counters), with the postMessage path taking what does not fit
 * and the inline verifier taking over from a worker that does not answer.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createBatchVerifier, type SigCheck } from '../../../shared/crypto/batch.ts';
import { loadVerifier } from '../../../shared/crypto/load.ts';
import { RingSender, ringBuffer, serveRing } from '../../../shared/crypto/verify-ring.ts';
import { startWorker } from '../../../shared/worker.ts';
import { validChecks } from '../../helpers/signatures.ts';

const { verifier } = loadVerifier('auto');

const valid = validChecks;

/** Every third item's message zeroed: it no longer verifies. */
function someBad(items: readonly SigCheck[], offset: number): SigCheck[] {
  return items.map((x, i) => ((i + offset) % 3 === 0 ? { ...x, msg: new Uint8Array(32) } : x));
}
const expectedOf = (items: readonly SigCheck[]) =>
  Uint8Array.from(items, (x) => (verifier.verify(x.sig, x.msg, x.pub) ? 1 : 0));

const inlineEach = (items: readonly SigCheck[]) => expectedOf(items);
const verify = (s: Uint8Array, m: Uint8Array, p: Uint8Array) => verifier.verify(s, m, p);

describe('verify ring', () => {
  const items = valid(64);

  it("a worker's ring answers many small concurrent batches per item; what does not fit is posted", async () => {
    // 8 slots: 20 batches of 3 in flight at once cannot all fit, so some take postMessage
    const pool = createBatchVerifier(verifier, { backend: 'native', workers: 1, ringItems: 8 });
    after(() => pool.close());
    const batches = Array.from({ length: 20 }, (_, b) => someBad(items.slice(b, b + 3), b));
    const got = await Promise.all(batches.map((b) => pool.verifyEachAsync(b)));
    assert.deepEqual(got, batches.map(expectedOf));
    const first = pool.handOvers();
    assert.ok(first.ring >= 2, `ring ${first.ring}`);
    assert.ok(first.posted >= 1, `posted ${first.posted}`);
    assert.equal(first.ring + first.posted, 20);
    // one after the other, the ring wraps many times and takes every batch
    for (let b = 0; b < 40; b++) {
      const batch = someBad(items.slice(b % 50, (b % 50) + 5), b);
      assert.deepEqual(await pool.verifyEachAsync(batch), expectedOf(batch), `batch ${b}`);
    }
    assert.equal(pool.handOvers().ring, first.ring + 40);
    // larger than the ring: posted
    const big = someBad(items.slice(0, 9), 1);
    assert.deepEqual(await pool.verifyEachAsync(big), expectedOf(big));
    assert.equal(pool.handOvers().posted, first.posted + 1);
  });

  it('splits a larger batch across the rings of two workers, in order', async () => {
    const pool = createBatchVerifier(verifier, { backend: 'native', workers: 2 });
    after(() => pool.close());
    const batch = someBad(items, 2);
    assert.deepEqual(await pool.verifyEachAsync(batch), expectedOf(batch));
    const small = someBad(items.slice(0, 4), 0);
    assert.deepEqual(await pool.verifyEachAsync(small), expectedOf(small));
    assert.deepEqual(pool.handOvers(), { ring: 3, posted: 0, shared: 0 }, 'two halves and one small batch');
  });

  it('a pool without rings posts every batch, with the same answers', async () => {
    const pool = createBatchVerifier(verifier, { backend: 'native', workers: 1, ringItems: 0 });
    after(() => pool.close());
    const batch = someBad(items.slice(0, 7), 0);
    assert.deepEqual(await pool.verifyEachAsync(batch), expectedOf(batch));
    assert.deepEqual(pool.handOvers(), { ring: 0, posted: 1, shared: 1 });
  });

  it('wakes the worker only when it is parked: batches sent while it verifies are taken without a wake', async () => {
    const capacity = 4096;
    const sab = ringBuffer(capacity);
    // POSTED, DONE, PARKED
    const control = new Int32Array(sab, 0, 3);
    const worker = startWorker('ring-server', new URL('../../helpers/ring-server.ts', import.meta.url).href, {
      workerData: { ring: sab },
    });
    after(() => worker.terminate());
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const ring = new RingSender(sab, { timeoutMs: 30_000, onTimeout: () => {}, inline: inlineEach });
    // a long batch (thousands of checks: a few hundred ms) wakes the parked worker
    const long = Array.from({ length: capacity - 64 }, (_, i) => items[i % items.length]!);
    const longAnswer = ring.send(long);
    assert.equal(ring.wakes, 1);
    // once it is verifying, three small batches join the ring behind it with no wake-up
    while (Atomics.load(control, 2) === 1) await new Promise((r) => setTimeout(r, 1));
    const small = [0, 1, 2].map((b) => someBad(items.slice(b * 5, b * 5 + 5), b));
    const smallAnswers = small.map((b) => ring.send(b));
    assert.equal(Atomics.load(control, 1), 0, 'the worker was still on the long batch');
    assert.equal(ring.wakes, 1, 'no wake-up while the worker runs');
    assert.equal(ring.jobs, 4);
    assert.deepEqual(await longAnswer, expectedOf(long));
    assert.deepEqual(await Promise.all(smallAnswers), small.map(expectedOf));
    // parked again: the next batch wakes it
    await new Promise((r) => setTimeout(r, 20));
    const last = someBad(items.slice(20, 23), 0);
    assert.deepEqual(await ring.send(last), expectedOf(last));
    assert.equal(ring.wakes, 2);
  });

  it('counters wrap past 2^31 without losing or mixing answers', async () => {
    const sab = ringBuffer(4);
    const control = new Int32Array(sab, 0, 2);
    control[0] = 0x7fff_fffe;
    control[1] = 0x7fff_fffe;
    // served on this thread (both sides wait asynchronously)
    serveRing(sab, verify);
    const ring = new RingSender(sab, { timeoutMs: 30_000, onTimeout: () => {}, inline: inlineEach });
    assert.equal(ring.capacity, 4);
    for (let b = 0; b < 12; b++) {
      const batch = someBad(items.slice(b, b + 1 + (b % 4)), b);
      assert.deepEqual(await ring.send(batch), expectedOf(batch), `batch ${b}`);
    }
    assert.ok(control[0]! < 0, 'the counter wrapped');
    assert.equal(control[0], control[1]);
    assert.equal(ring.send(items.slice(0, 5)), undefined, 'more than the ring holds');
  });

  it('a worker that does not answer: its jobs are verified inline, then the ring takes no more', async () => {
    const sab = ringBuffer(16); // nobody serves it: a hung worker
    let timedOut = 0;
    const ring = new RingSender(sab, {
      timeoutMs: 50,
      onTimeout: () => timedOut++,
      inline: inlineEach,
    });
    const a = someBad(items.slice(0, 3), 0);
    const b = someBad(items.slice(3, 8), 1);
    // Atomics.waitAsync does not keep the process alive (a pool refs its workers meanwhile)
    const keep = setInterval(() => {}, 1000);
    const answers = await Promise.all([ring.send(a), ring.send(b)]);
    clearInterval(keep);
    assert.deepEqual(answers, [expectedOf(a), expectedOf(b)]);
    assert.equal(timedOut, 1);
    assert.equal(ring.send(a), undefined);
  });
});
