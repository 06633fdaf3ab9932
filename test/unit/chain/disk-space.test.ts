/**
 * The free-space reserve (storage.min_free_mb): the database refuses to open while less is free,
 * and a write that would start with less free stops the database (StorageError
 * 'storage-disk-full', the node then stops with exit 3) before LMDB meets ENOSPC — lmdb-js can abort
 * the process on a failed page write. The database reopens at its last committed block.
 * The filling part needs root to mount a tmpfs; skipped with the reason otherwise.
 */
import assert from 'node:assert/strict';
import { statfsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Chain } from '../../../services/node/chain/chain.ts';
import { ChainDb } from '../../../services/node/db/chain-db.ts';
import { DiskSpaceGuard } from '../../../services/node/db/disk-space.ts';
import { StorageError } from '../../../services/node/db/errors.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { silentLogger } from '../../../shared/log.ts';
import { MemoryLedger, makeKey } from '../../helpers/chain.ts';
import { openChain, tempDir, verifier } from '../../helpers/node.ts';
import { mountTmpfs, unmount, whyNoTmpfs } from '../../helpers/tmpfs.ts';

const free = (path: string) => {
  const s = statfsSync(path);
  return Number(s.bavail) * Number(s.bsize);
};

describe('free-space reserve', () => {
  it('the automatic reserve is 50 MB, or 5% of a smaller file system', { skip: whyNoTmpfs() }, () => {
    const dir = tempDir();
    mountTmpfs(dir.path, '8m');
    try {
      assert.equal(new DiskSpaceGuard(dir.path, 'auto').minFreeBytes, Math.floor(8 * 1024 * 1024 * 0.05));
    } finally {
      unmount(dir.path);
      dir.remove();
    }
    const big = tempDir();
    try {
      const s = statfsSync(big.path);
      const size = Number(s.blocks) * Number(s.bsize);
      assert.equal(
        new DiskSpaceGuard(big.path, 'auto').minFreeBytes,
        Math.min(50_000_000, Math.floor(size * 0.05)),
      );
    } finally {
      big.remove();
    }
  });

  it('refuses to open with less free than the reserve, saying how to fix it', () => {
    const dir = tempDir();
    try {
      assert.throws(
        () => ChainDb.open({ path: dir.path, params: LOCAL, minFreeBytes: free(dir.path) + 1e12 }),
        (e: unknown) =>
          e instanceof StorageError &&
          e.code === 'storage-disk-full' &&
          /disk space is too low: .* MB free under .*storage\.min_free_mb/.test(e.message) &&
          /free some space, then restart/.test(e.message),
      );
    } finally {
      dir.remove();
    }
  });

  it('stops writing before the disk is full and reopens at the last committed block', {
    skip: whyNoTmpfs(),
  }, () => {
    const dir = tempDir();
    mountTmpfs(dir.path, '4m');
    try {
      const miner = makeKey();
      const ledger = new MemoryLedger();
      // the reserve leaves ~600 KB to the database: some hundreds of blocks
      const db = ChainDb.open({ path: dir.path, params: LOCAL, minFreeBytes: free(dir.path) - 600_000 });
      let failures = 0;
      db.onFailure = () => failures++;
      const chain = new Chain({}, { params: LOCAL, db, verifier, logger: silentLogger() });
      let error: unknown;
      for (let i = 0; i < 5000 && error === undefined; i++) {
        const b = ledger.nextBlock([], miner.owner);
        try {
          assert.equal(chain.processBlock(b).status, 'connected');
          ledger.apply(b);
        } catch (e) {
          error = e;
        }
      }
      assert.ok(error instanceof StorageError, `a StorageError, got ${String(error)}`);
      assert.equal(error.code, 'storage-disk-full');
      assert.equal(failures, 1, 'the node is told once');
      assert.ok(free(dir.path) > 0, 'the disk was never full');
      assert.throws(() => db.write(() => undefined), StorageError, 'every later write is refused');
      const height = chain.tipHeight();
      assert.ok(height > 10);
      assert.deepEqual(chain.checkInvariants(true), []);
      db.close();
      const again = openChain(dir.path);
      try {
        // the block whose connect was refused may have been stored before: then the reopened
        // chain connects it (no reserve here); either way the state is that of a block boundary
        const reopened = again.chain.tipHeight();
        assert.ok(
          reopened === height || reopened === height + 1,
          `reopened at ${reopened}, stopped at ${height}`,
        );
        assert.deepEqual(again.chain.checkInvariants(true), []);
      } finally {
        again.close();
      }
    } finally {
      unmount(dir.path);
      dir.remove();
    }
  });
});
