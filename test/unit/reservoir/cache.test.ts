/** The reservoir cache file: round trip, every kind of damage (skipped, never thrown), stale entries. */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type CacheLoadResult,
  encodeReservoirCache,
  loadReservoirCache,
  saveReservoirCache,
} from '../../../services/node/reservoir/cache.ts';
import { CacheError, type CacheErrorReason } from '../../../services/node/reservoir/errors.ts';
import { Reservoir } from '../../../services/node/reservoir/reservoir.ts';
import { LOCAL, TEST } from '../../../shared/core/params/networks.ts';
import { silentLogger } from '../../../shared/log.ts';
import {
  chainOf,
  type Env,
  hex,
  makeEnv,
  mine,
  NOW,
  payFee,
  SUBSIDY,
  verifier,
} from '../../helpers/reservoir.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-reservoir-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const logger = silentLogger();

/** A fresh, empty reservoir over the same ledger. */
function freshOver(env: Env): Reservoir {
  return new Reservoir({}, { chain: chainOf(env.ledger), verifier, logger });
}

/** A pool with a parent, its child and an unrelated tx, saved to `name`. */
async function savedPool(name: string): Promise<{ env: Env; path: string; file: Buffer }> {
  const env = makeEnv();
  const { reservoir, alice, funds } = env;
  const parent = payFee(alice, [funds[0]!, 0], SUBSIDY, 1000);
  const child = payFee(alice, [parent, 0], SUBSIDY / 2 - 500, 9000);
  const other = payFee(alice, [funds[1]!, 0], SUBSIDY, 2000);
  reservoir.accept(parent, NOW);
  reservoir.accept(child, NOW + 1);
  reservoir.accept(other, NOW + 2);
  const path = join(dir, name);
  const written = await saveReservoirCache(path, reservoir);
  assert.equal(written.count, 3);
  const file = await readFile(path);
  assert.equal(written.bytes, file.length);
  return { env, path, file };
}

function assertSkipped(r: CacheLoadResult, reason: CacheErrorReason): void {
  assert.equal(r.status, 'skipped');
  assert.ok(r.status === 'skipped');
  assert.ok(r.error instanceof CacheError);
  assert.equal(r.error.reason, reason, r.error.message);
}

describe('reservoir cache', () => {
  it('round-trips the pool, parents before children, keeping entry times', async () => {
    const { env, path } = await savedPool('round.dat');
    const fresh = freshOver(env);
    const r = await loadReservoirCache(path, fresh, { now: NOW + 100, logger });
    assert.deepEqual(r, { status: 'loaded', entries: 3, accepted: 3, rejected: 0, expired: 0 });
    const want = [...env.reservoir.entries()].map((e) => [hex(e), e.time, e.fee]).sort();
    assert.deepEqual([...fresh.entries()].map((e) => [hex(e), e.time, e.fee]).sort(), want);
    assert.equal(fresh.orphanCount, 0);
    // The write was atomic: no temporary file left behind.
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.includes('round')),
      ['round.dat'],
    );
  });

  it('saves over an existing file', async () => {
    const { env, path } = await savedPool('over.dat');
    env.reservoir.expire(NOW + 10 * 365 * 86400);
    await saveReservoirCache(path, env.reservoir);
    const r = await loadReservoirCache(path, freshOver(env), { now: NOW, logger });
    assert.deepEqual(r, { status: 'loaded', entries: 0, accepted: 0, rejected: 0, expired: 0 });
  });

  it('reports a missing file as missing', async () => {
    const env = makeEnv();
    assert.deepEqual(await loadReservoirCache(join(dir, 'nope.dat'), env.reservoir, { now: NOW, logger }), {
      status: 'missing',
    });
  });

  it('skips a truncated file', async () => {
    const { env, path, file } = await savedPool('trunc.dat');
    await writeFile(path, file.subarray(0, file.length - 40));
    assertSkipped(await loadReservoirCache(path, freshOver(env), { now: NOW, logger }), 'bad-checksum');
    await writeFile(path, file.subarray(0, 20));
    assertSkipped(await loadReservoirCache(path, freshOver(env), { now: NOW, logger }), 'truncated');
  });

  it('skips a file with a flipped byte (checksum)', async () => {
    const { env, path, file } = await savedPool('flip.dat');
    const bad = Buffer.from(file);
    bad[100]! ^= 0x01;
    await writeFile(path, bad);
    const fresh = freshOver(env);
    assertSkipped(await loadReservoirCache(path, fresh, { now: NOW, logger }), 'bad-checksum');
    assert.equal(fresh.size, 0);
  });

  it('skips a file of another network', async () => {
    const { env, path } = await savedPool('net.dat');
    const records = [...env.reservoir.entries()].map((e) => ({ raw: e.tx.raw, time: e.time }));
    await writeFile(path, encodeReservoirCache(records, TEST.genesisHash));
    assertSkipped(await loadReservoirCache(path, freshOver(env), { now: NOW, logger }), 'wrong-network');
  });

  it('skips a file of another version', async () => {
    const { env, path } = await savedPool('version.dat');
    const records = [...env.reservoir.entries()].map((e) => ({ raw: e.tx.raw, time: e.time }));
    await writeFile(path, encodeReservoirCache(records, LOCAL.genesisHash, 2));
    assertSkipped(await loadReservoirCache(path, freshOver(env), { now: NOW, logger }), 'bad-version');
  });

  it('skips garbage, an empty file, a bad entry and an unreadable path', async () => {
    const env = makeEnv();
    const path = join(dir, 'garbage.dat');
    await writeFile(path, Buffer.alloc(5000, 0x5a));
    assertSkipped(await loadReservoirCache(path, env.reservoir, { now: NOW, logger }), 'bad-magic');
    await writeFile(path, Buffer.alloc(0));
    assertSkipped(await loadReservoirCache(path, env.reservoir, { now: NOW, logger }), 'truncated');
    // Checksum fine, but an entry is not a transaction.
    await writeFile(
      path,
      encodeReservoirCache([{ raw: Uint8Array.of(9, 9, 9, 9, 9), time: NOW }], LOCAL.genesisHash),
    );
    assertSkipped(await loadReservoirCache(path, env.reservoir, { now: NOW, logger }), 'bad-entry');
    // An entry length running past the end (checksum recomputed over the lie).
    const lying = encodeReservoirCache([{ raw: Uint8Array.of(1, 1, 0, 0), time: NOW }], LOCAL.genesisHash);
    lying.writeUInt32LE(1_000, 44);
    const { createHash } = await import('node:crypto');
    createHash('sha256')
      .update(lying.subarray(0, lying.length - 32))
      .digest()
      .copy(lying, lying.length - 32);
    await writeFile(path, lying);
    assertSkipped(await loadReservoirCache(path, env.reservoir, { now: NOW, logger }), 'bad-entry');
    assertSkipped(await loadReservoirCache(dir, env.reservoir, { now: NOW, logger }), 'io');
    assert.equal(env.reservoir.size, 0);
  });

  it('loads a cache minus the transactions that became invalid, and skips expired ones', async () => {
    const { env, path } = await savedPool('stale.dat');
    const { alice, bob, funds } = env;
    // A block spends the parent's input elsewhere: parent and child are now invalid.
    mine(env, [payFee(alice, [funds[0]!, 0], SUBSIDY, 100, bob)]);
    const fresh = freshOver(env);
    const r = await loadReservoirCache(path, fresh, { now: NOW + 100, logger });
    assert.deepEqual(r, { status: 'loaded', entries: 3, accepted: 1, rejected: 2, expired: 0 });
    assert.equal(fresh.size, 1);
    assert.equal(fresh.orphanCount, 0, 'what re-validation leaves waiting is not kept');
    // Two weeks and more later, everything has expired.
    const later = freshOver(env);
    const r2 = await loadReservoirCache(path, later, { now: NOW + 15 * 86400, logger });
    assert.deepEqual(r2, { status: 'loaded', entries: 3, accepted: 0, rejected: 0, expired: 3 });
  });
});
