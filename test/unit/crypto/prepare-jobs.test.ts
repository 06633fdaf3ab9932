/**
 * PrepareJobs, the calling thread's side of prepareBlocks: a job whose workers never answer settles
 * at its deadline with the unanswered blocks unprepared (they are then taken the ordinary way), and
 * the calling thread can claim and prepare any block no one has taken.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { toHex } from '../../../shared/core/bytes.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { prepareBlock } from '../../../shared/core/validation/block-prepare.ts';
import { loadVerifier } from '../../../shared/crypto/load.ts';
import { PrepareJobs } from '../../../shared/crypto/prepare-jobs.ts';
import { buildSpendingChain } from '../../helpers/chain.ts';

const { verifier } = loadVerifier('auto');
const raws = buildSpendingChain(16).map((b) => b.raw);
const inline = (raw: Uint8Array) => prepareBlock(raw, LOCAL, verifier);

it('a job nobody answers settles at its deadline, what was not prepared left undefined', async () => {
  const jobs = new PrepareJobs(inline);
  const { done } = jobs.start(raws, 50); // no worker was given the request
  // the deadline's timer does not hold the process open (the pool refs its workers instead)
  const keepAlive = setInterval(() => undefined, 1_000);
  assert.equal(jobs.help(), true);
  assert.equal(jobs.help(), true);
  const packs = await done;
  clearInterval(keepAlive);
  assert.equal(packs.length, raws.length);
  assert.equal(toHex(packs[0]!), toHex(inline(raws[0]!)), 'claimed here first');
  assert.equal(toHex(packs[1]!), toHex(inline(raws[1]!)));
  assert.ok(
    packs.slice(2).every((p) => p === undefined),
    'the rest timed out unprepared',
  );
  assert.equal(jobs.unclaimed, false, 'a settled job is gone');
  assert.equal(jobs.help(), false);
});

it('the calling thread alone finishes a job; late or unknown answers change nothing', async () => {
  const jobs = new PrepareJobs(inline);
  const { request, done } = jobs.start(raws.slice(0, 4), 60_000);
  assert.equal(jobs.unclaimed, true);
  while (jobs.help());
  const packs = await done;
  assert.ok(packs.every((p) => p !== undefined));
  jobs.answer({ prepared: { id: request.prepare.id, index: 0, pack: null } }); // after it settled
  jobs.answer({ prepared: { id: 999, index: 0, pack: null } });
  assert.equal(toHex(packs[0]!), toHex(inline(raws[0]!)));
  // a worker's failure answer (null) leaves that block for the ordinary path
  const second = jobs.start(raws.slice(0, 2), 60_000);
  jobs.answer({ prepared: { id: second.request.prepare.id, index: 0, pack: null } });
  jobs.answer({ prepared: { id: second.request.prepare.id, index: 1, pack: inline(raws[1]!) } });
  const got = await second.done;
  assert.equal(got[0], undefined);
  assert.equal(toHex(got[1]!), toHex(inline(raws[1]!)));
});

it('a job answered in full gives its buffer to the next job; a failed one does not', async () => {
  const jobs = new PrepareJobs(inline);
  const first = jobs.start(raws.slice(0, 8), 60_000);
  const bytes = first.request.prepare.sab.byteLength;
  while (jobs.help());
  await first.done;
  assert.equal(jobs.spareBytes, bytes, 'kept for the next job');
  // a smaller batch fits in it: the same shared memory, so workers hold no new buffer alive
  const second = jobs.start(raws.slice(0, 4), 60_000);
  assert.equal(second.request.prepare.sab, first.request.prepare.sab);
  assert.equal(jobs.spareBytes, 0);
  // left behind by its workers: one of them may still read it, so it is not used again
  jobs.failAll();
  await second.done;
  assert.equal(jobs.spareBytes, 0);
  const third = jobs.start(raws.slice(0, 4), 60_000);
  assert.notEqual(third.request.prepare.sab, first.request.prepare.sab);
  while (jobs.help());
  const packs = await third.done;
  for (let i = 0; i < 4; i++) assert.equal(toHex(packs[i]!), toHex(inline(raws[i]!)));
  const big = jobs.start(raws, 60_000);
  assert.ok(big.request.prepare.sab.byteLength >= raws.reduce((n, r) => n + r.length, 0));
  jobs.failAll();
  await big.done;
});
