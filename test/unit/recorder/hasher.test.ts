/**
 * The hasher's worker threads: solutions that really meet the target, job switches within one
 * check interval (counted in hashes, not wall time), disjoint nonce ranges, the duty-cycle cap,
 * pause after a block and resume, idle without a job.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { MAX_WORKERS, nonceRange } from '../../../services/recorder/hash-state.ts';
import { type Found, Hasher, type HasherOptions } from '../../../services/recorder/hasher.ts';
import { NONCE_OFFSET } from '../../../shared/core/block/types.ts';
import { sha256d } from '../../../shared/core/hash.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { decodeCompact, hashMeetsTarget } from '../../../shared/core/pow/compact.ts';
import { silentLogger } from '../../../shared/log.ts';
import { sleep, until } from '../zmq/helpers.ts';

const running: Hasher<string>[] = [];
after(async () => {
  for (const h of running) await h.stop();
});

async function hasher(opts: HasherOptions): Promise<Hasher<string>> {
  const h = new Hasher<string>(opts, { logger: silentLogger() });
  running.push(h);
  await h.start();
  return h;
}

const header = () => new Uint8Array(randomBytes(88));
const IMPOSSIBLE = 1n; // a hash ≤ 1: never in practice

function hashWithNonce(h: Uint8Array, nonce: bigint): Uint8Array {
  const b = Buffer.from(h);
  b.writeBigUInt64LE(nonce, NONCE_OFFSET);
  return sha256d(b);
}

describe('nonce ranges', () => {
  it('are disjoint and contiguous: worker index in the top byte by default', () => {
    let prevLast = -1n;
    for (let w = 0; w < MAX_WORKERS; w++) {
      const r = nonceRange(w);
      assert.equal(r.first, prevLast + 1n);
      assert.equal(r.last - r.first, (1n << 56n) - 1n);
      assert.equal(Number(r.first >> 56n), w);
      assert.equal(BigInt(r.hiStart) << 32n, r.first);
      assert.equal(BigInt(r.hiEnd) << 32n, r.last + 1n);
      prevLast = r.last;
    }
    assert.equal(prevLast, (1n << 64n) - 1n);
  });

  it('small ranges (tests) stay within one 32-bit window and do not overlap', () => {
    for (const bits of [1, 8, 12, 31, 32, 40]) {
      let prevLast = -1n;
      for (let w = 0; w < 8; w++) {
        const r = nonceRange(w, bits);
        assert.equal(r.first, prevLast + 1n);
        const size = BigInt(r.hiEnd - r.hiStart) * BigInt(r.loEnd - r.loStart);
        assert.equal(size, 1n << BigInt(bits));
        prevLast = r.last;
      }
    }
    assert.throws(() => nonceRange(256), /does not fit/);
    assert.throws(() => nonceRange(0, 57), /1..56/);
  });
});

for (const engine of ['midstate', 'crypto'] as const)
  describe(`Hasher (${engine} engine)`, () => {
    it('finds a nonce for the local target (0x207fffff) at once, and it meets the target', async () => {
      const h = await hasher({ workers: 2, engine });
      const target = decodeCompact(LOCAL.powLimitBits).target;
      assert.equal(LOCAL.powLimitBits, 0x207fffff);
      const found: Found<string>[] = [];
      h.on('found', (f) => found.push(f));
      const hd = header();
      const gen = h.setJob({ header: hd, target, shareTarget: target, tag: 'local' });
      await until(() => found.length > 0, 5_000, 'a solution');
      const f = found[0]!;
      assert.equal(f.generation, gen);
      assert.equal(f.job.tag, 'local');
      assert.equal(f.block, true);
      const hash = hashWithNonce(hd, f.nonce);
      assert.deepEqual([...hash], [...f.hash]);
      assert.ok(hashMeetsTarget(hash, target));
      assert.equal(Number(f.nonce >> 56n), f.worker, 'the worker index is the nonce top byte');
      await h.stop();
    });

    it('every worker takes a new job within one check interval (counted in hashes)', async () => {
      const check = 1024;
      const h = await hasher({ workers: 2, checkInterval: check, engine });
      let gen = h.setJob({ header: header(), target: IMPOSSIBLE, shareTarget: IMPOSSIBLE, tag: 'a' });
      await until(() => h.switched(gen) && h.stats().hashes.every((n) => n > 4 * check), 5_000, 'hashing');
      for (let round = 0; round < 20; round++) {
        gen = h.setJob({ header: header(), target: IMPOSSIBLE, shareTarget: IMPOSSIBLE, tag: `j${round}` });
        const before = h.stats().hashes; // published counts, read after the post
        await until(() => h.switched(gen), 5_000, `generation ${gen}`);
        assert.deepEqual(h.stats().generations, [gen, gen]);
        for (let w = 0; w < 2; w++) {
          const lag = h.switchedAt(w) - before[w]!;
          assert.ok(lag <= check, `worker ${w} hashed ${lag} more of the old job (limit ${check})`);
        }
        await until(() => h.stats().hashes.every((n, w) => n > h.switchedAt(w)), 5_000, 'hashing again');
      }
      await h.stop();
    });

    it('each worker hashes exactly its own range, then reports it exhausted', async () => {
      const bits = 12;
      const h = await hasher({ workers: 2, nonceBits: bits, maxSharesPerSecond: 1_000, engine });
      const exhausted: number[] = [];
      const found: Found<string>[] = [];
      h.on('exhausted', (e) => exhausted.push(e.worker));
      h.on('found', (f) => found.push(f));
      const hd = header();
      // every hash is a share (so nonces show up), none a block
      h.setJob({ header: hd, target: IMPOSSIBLE, shareTarget: (1n << 256n) - 1n, tag: 'r' });
      await until(() => exhausted.length === 2, 10_000, 'both ranges exhausted');
      assert.deepEqual([...exhausted].sort(), [0, 1]);
      for (let w = 0; w < 2; w++) assert.equal(h.stats().hashes[w]! - h.switchedAt(w), 2 ** bits);
      assert.ok(found.length > 0);
      for (const f of found) {
        const r = nonceRange(f.worker, bits);
        assert.ok(
          f.nonce >= r.first && f.nonce <= r.last,
          `nonce ${f.nonce} outside worker ${f.worker}'s range`,
        );
        assert.deepEqual([...hashWithNonce(hd, f.nonce)], [...f.hash]);
      }
      const nonces = new Set(found.map((f) => f.nonce));
      assert.equal(nonces.size, found.length, 'no nonce hashed twice');
      const total = h.stats().total;
      await sleep(100);
      assert.equal(h.stats().total, total, 'idle after exhaustion');
      await h.stop();
    });

    it('the CPU cap lowers the hash count relative to an uncapped worker in the same run', async () => {
      const full = await hasher({ workers: 1, engine });
      const capped = await hasher({ workers: 1, cpuPercent: 20, engine });
      full.setJob({ header: header(), target: IMPOSSIBLE, shareTarget: IMPOSSIBLE, tag: 'full' });
      capped.setJob({ header: header(), target: IMPOSSIBLE, shareTarget: IMPOSSIBLE, tag: 'capped' });
      await sleep(300);
      const a0 = full.stats().total;
      const b0 = capped.stats().total;
      await sleep(1_500);
      const a = full.stats().total - a0;
      const b = capped.stats().total - b0;
      assert.ok(b > 0, 'the capped worker still hashes');
      assert.ok(b / a < 0.5, `capped/uncapped = ${(b / a).toFixed(2)}, expected about 0.2`);
      await full.stop();
      await capped.stop();
    });

    it('pauses a job after a block, resumes it on request, idles without a job', async () => {
      const h = await hasher({ workers: 2, engine });
      const found: Found<string>[] = [];
      h.on('found', (f) => found.push(f));
      const target = 1n << 244n; // a block every ~4096 hashes
      const gen = h.setJob({ header: header(), target, shareTarget: target, tag: 'p' });
      await until(() => found.length >= 1, 10_000, 'a block');
      await sleep(50);
      const paused = h.stats().total;
      const blocks = found.length;
      await sleep(100);
      assert.equal(h.stats().total, paused, 'no hashing while the block is being submitted');
      h.resume(gen);
      await until(() => found.length > blocks, 10_000, 'another block after resume');
      const nonces = new Set(found.map((f) => f.nonce));
      assert.equal(nonces.size, found.length, 'resume continues, it does not restart the range');
      h.clearJob();
      await sleep(50);
      const idle = h.stats().total;
      await sleep(100);
      assert.equal(h.stats().total, idle, 'idle without a job');
      await h.stop();
    });
  });
