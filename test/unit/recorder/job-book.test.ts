import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JobBook } from '../../../services/recorder/job-book.ts';
import type { Job } from '../../../shared/proof/messages.ts';

const job = (jobId: bigint, expires: number, clean = false): Job => ({
  jobId,
  height: 1,
  header: new Uint8Array(88),
  target: 1n,
  shareTarget: 1n,
  expires,
  clean,
});

describe('JobBook', () => {
  it('new, repeat, expired on arrival', () => {
    const b = new JobBook();
    assert.equal(b.add(job(1n, 100), 50, 1), 'new');
    assert.equal(b.add(job(1n, 100), 60, 2), 'repeat');
    assert.equal(b.current(60)?.receivedAt, 1, 'a repeat does not refresh the job');
    assert.equal(b.add(job(2n, 49), 50, 3), 'expired');
    assert.equal(b.size, 1);
  });

  it('expiry by our clock: valid up to and including `expires`', () => {
    const b = new JobBook();
    b.add(job(1n, 100), 50, 1);
    assert.ok(b.valid(1n, 100));
    assert.equal(b.valid(1n, 101), undefined);
    assert.equal(b.current(101), undefined);
  });

  it('a clean job voids the older ones; the newest is current; killed jobs are gone', () => {
    const b = new JobBook();
    b.add(job(1n, 100), 0, 1);
    b.add(job(2n, 100), 0, 2);
    assert.equal(b.current(0)?.job.jobId, 2n);
    assert.ok(b.valid(1n, 0));
    b.add(job(3n, 100, true), 0, 3);
    assert.equal(b.valid(1n, 0), undefined);
    assert.equal(b.valid(2n, 0), undefined);
    b.kill(3n);
    assert.equal(b.current(0), undefined);
  });

  it('keeps at most `max` jobs, dropping the oldest', () => {
    const b = new JobBook(3);
    for (let i = 1n; i <= 5n; i++) b.add(job(i, 100), 0, Number(i));
    assert.equal(b.size, 3);
    assert.equal(b.valid(2n, 0), undefined);
    assert.ok(b.valid(3n, 0));
    assert.equal(b.current(0)?.job.jobId, 5n);
  });
});
