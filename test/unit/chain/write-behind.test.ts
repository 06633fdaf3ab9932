/**
 * ChainDb's write-behind (services/node/db/write-behind.ts): writes are seen at once by readers,
 * reach LMDB when lmdb-js's write thread commits them, in order, and leave nothing behind in
 * memory; a nested write that throws is undone; ranges merge pending writes over stored ones.
 * Compared, where it matters, with the same operations in direct mode (write-behind off).
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, describe, it } from 'node:test';
import { ChainDb } from '../../../services/node/db/chain-db.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { tempDir } from '../../helpers/node.ts';

const dirs: { remove: () => void }[] = [];
after(() => {
  for (const d of dirs) d.remove();
});

function open(writeBehind = true): ChainDb {
  const d = tempDir();
  dirs.push(d);
  return ChainDb.open({ path: d.path, params: LOCAL, writeBehind });
}

const k = (s: string) => Buffer.from(s);
const keysOf = (it: Iterable<{ key: Buffer; value: Buffer }>) =>
  [...it].map((e) => `${e.key.toString()}=${e.value.toString()}`);

describe('write-behind', () => {
  it('shows a write at once, commits it on the write thread, then holds nothing in memory', async () => {
    const db = open();
    const t = db.db('txindex');
    db.write(() => t.putSync(k('a'), k('1')));
    assert.equal(t.get(k('a'))?.toString(), '1', 'read before the commit');
    assert.ok(db.pendingBytes > 0);
    await db.settled();
    assert.equal(t.overlay.size, 0, 'the overlay is empty once committed');
    assert.equal(db.pendingBytes, 0);
    assert.equal(t.lmdb.get(k('a'))?.toString(), '1', 'LMDB itself has it');
    db.write(() => t.removeSync(k('a')));
    assert.equal(t.get(k('a')), undefined, 'a pending remove hides the stored value');
    assert.equal(t.lmdb.get(k('a'))?.toString(), '1');
    await db.settled();
    assert.equal(t.lmdb.get(k('a')), undefined);
    await db.close();
  });

  it('commits outer writes in the order they were made, the last write of a key winning', async () => {
    const db = open();
    const t = db.db('utxo');
    for (let i = 0; i < 50; i++) db.write(() => t.putSync(k('x'), k(String(i))));
    db.write(() => {
      t.putSync(k('y'), k('first'));
      t.removeSync(k('y'));
      t.putSync(k('y'), k('last'));
    });
    await db.settled();
    assert.equal(t.lmdb.get(k('x'))?.toString(), '49');
    assert.equal(t.lmdb.get(k('y'))?.toString(), 'last');
    await db.close();
  });

  it('undoes a nested write that throws, and only it', async () => {
    for (const writeBehind of [true, false]) {
      const db = open(writeBehind);
      const t = db.db('assets');
      db.write(() => t.putSync(k('keep'), k('0')));
      db.write(() => {
        t.putSync(k('outer'), k('1'));
        assert.throws(() =>
          db.write(() => {
            t.putSync(k('inner'), k('2'));
            t.putSync(k('keep'), k('changed'));
            t.removeSync(k('outer'));
            throw new RangeError('no');
          }),
        );
        assert.equal(t.get(k('inner')), undefined, `${writeBehind}: inner write undone`);
        assert.equal(t.get(k('keep'))?.toString(), '0', `${writeBehind}: overwrite undone`);
        assert.equal(t.get(k('outer'))?.toString(), '1', `${writeBehind}: remove undone`);
      });
      await db.settled();
      await db.close();
    }
  });

  it('merges pending writes into ranges, forward and reverse, with limits, as LMDB alone would', async () => {
    const stored = ['b', 'd', 'f', 'h'];
    const results: string[][][] = [];
    for (const writeBehind of [true, false]) {
      const db = open(writeBehind);
      const t = db.db('addrtx');
      db.write(() => {
        for (const s of stored) t.putSync(k(s), k(s));
      });
      await db.settled();
      // pending: a new key, an overwrite, a remove
      db.write(() => {
        t.putSync(k('c'), k('c'));
        t.putSync(k('f'), k('F'));
        t.removeSync(k('d'));
      });
      results.push([
        keysOf(t.getRange({})),
        keysOf(t.getRange({ start: k('c'), end: k('h') })),
        keysOf(t.getRange({ limit: 2 })),
        keysOf(t.getRange({ reverse: true })),
        keysOf(t.getRange({ start: k('g'), end: k('b'), reverse: true })),
        keysOf(t.getRange({ reverse: true, limit: 3 })),
      ]);
      await db.settled();
      await db.close();
    }
    assert.deepEqual(results[0]![0], ['b=b', 'c=c', 'f=F', 'h=h']);
    assert.deepEqual(results[0]![4], ['f=F', 'c=c']);
    assert.deepEqual(results[0], results[1], 'write-behind ranges equal direct ones');
  });

  it('orders a clear with the writes around it', async () => {
    const db = open();
    const t = db.db('bitmarks');
    db.write(() => {
      t.putSync(k('old1'), k('1'));
      t.putSync(k('old2'), k('2'));
    });
    await db.settled();
    db.write(() => {
      t.putSync(k('gone'), k('x'));
      t.clearSync();
      t.putSync(k('new'), k('n'));
    });
    assert.deepEqual(keysOf(t.getRange({})), ['new=n'], 'before the commit, the stored keys are hidden');
    assert.equal(t.get(k('old1')), undefined);
    await db.settled();
    assert.deepEqual(keysOf(t.getRange({})), ['new=n']);
    assert.deepEqual(keysOf(t.lmdb.getRange({}) as Iterable<{ key: Buffer; value: Buffer }>), ['new=n']);
    await db.close();
  });

  it('is durable once close() resolves: a reopen sees every write', async () => {
    const d = tempDir();
    dirs.push(d);
    const db = ChainDb.open({ path: d.path, params: LOCAL });
    const t = db.db('chain');
    for (let i = 0; i < 200; i++) db.write(() => t.putSync(Buffer.from([0, 0, i >> 8, i & 255]), k(`h${i}`)));
    await db.close();
    const again = ChainDb.open({ path: d.path, params: LOCAL });
    assert.equal([...again.db('chain').getRange({})].length, 200);
    await again.close();
  });
});
