/**
 * ChainDb.releaseWriteMemory: LMDB keeps the pages of its largest write transaction on a free
 * list until the environment closes (issue 12: 50 MB after a 4× sync). Reopening gives them back,
 * keeps every byte, and leaves the Tables the stores hold working.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ChainDb } from '../../../services/node/db/chain-db.ts';
import { loadNativeMemory } from '../../../services/node/memory/native.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { tempDir } from '../../helpers/node.ts';

const anonBytes = (): number =>
  Number(/RssAnon:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
const MB = 1024 * 1024;

describe('ChainDb.releaseWriteMemory', () => {
  it('gives back the pages of a large write transaction, and every byte reads back', () => {
    const native = loadNativeMemory();
    assert.ok(typeof native !== 'string', `the addon must be built for this test (npm run build): ${native}`);
    const dir = tempDir('cairn-db-reopen-');
    const db = ChainDb.open({ path: dir.path, params: LOCAL, durable: false });
    try {
      const utxo = db.db('utxo'); // held across the reopen, as the stores hold theirs
      const keys = Array.from({ length: 40_000 }, () => randomBytes(32));
      const value = Buffer.alloc(200, 7);
      // one transaction writes the whole table: every page of it is dirty at once
      db.write(() => {
        for (const k of keys) utxo.putSync(k, value);
      });
      const digest = (): string => {
        const h = createHash('sha256');
        for (const { key, value: v } of utxo.getRange({})) h.update(key).update(v);
        return h.digest('hex');
      };
      const before = digest();
      native.trimHeap();
      const kept = anonBytes();
      assert.equal(db.releaseWriteMemory(), true);
      native.trimHeap();
      const freed = kept - anonBytes();
      // every page of the new table was dirty in that one transaction: ~10 MB; the test's other
      // allocations move by a few MB at most
      const st = utxo.getStats() as {
        pageSize: number;
        treeBranchPageCount: number;
        treeLeafPageCount: number;
      };
      const tableBytes = (st.treeBranchPageCount + st.treeLeafPageCount) * st.pageSize;
      assert.ok(tableBytes > 8 * MB, `the table has ${(tableBytes / MB).toFixed(1)} MB of pages`);
      assert.ok(
        freed > tableBytes / 2,
        `reopening freed ${(freed / MB).toFixed(1)} MB of a ${(tableBytes / MB).toFixed(1)} MB table`,
      );
      assert.equal(db.reopens, 1);
      assert.equal(digest(), before, 'the same data through the same Table');
      db.write(() => utxo.putSync(Buffer.from('after'), Buffer.from([1])));
      assert.deepEqual([...utxo.get(Buffer.from('after'))!], [1]);
    } finally {
      db.close();
    }
    const again = ChainDb.open({ path: dir.path, params: LOCAL });
    try {
      assert.deepEqual(
        [...again.db('utxo').get(Buffer.from('after'))!],
        [1],
        'a write after the reopen is on disk',
      );
    } finally {
      again.close();
      dir.remove();
    }
  });

  it('does not run inside a write or once closed', () => {
    const dir = tempDir('cairn-db-reopen-');
    const db = ChainDb.open({ path: dir.path, params: LOCAL });
    const meta = db.db('meta');
    db.write(() => {
      meta.putSync(Buffer.from('k'), Buffer.from([1]));
      assert.equal(db.releaseWriteMemory(), false, 'inside a write transaction');
      meta.putSync(Buffer.from('k2'), Buffer.from([2]));
    });
    assert.deepEqual([...meta.get(Buffer.from('k'))!, ...meta.get(Buffer.from('k2'))!], [1, 2]);
    assert.equal(db.reopens, 0);
    db.close();
    assert.equal(db.releaseWriteMemory(), false, 'closed');
    dir.remove();
  });
});
