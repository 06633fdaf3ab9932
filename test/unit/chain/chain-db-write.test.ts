/**
 * ChainDb.write's nesting: a nested write runs inside the outer transaction (no LMDB child
 * transaction), so one that throws must abort the whole outer transaction even when its caller
 * catches the error and goes on; otherwise its half-done writes would be committed.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { it } from 'node:test';
import { ChainError } from '../../../services/node/chain/errors.ts';
import { ChainDb } from '../../../services/node/db/chain-db.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { tempDir } from '../../helpers/node.ts';

const key = (s: string) => Buffer.from(s);

it('nested writes commit with the outer one; a failed one aborts it, caught or not', () => {
  const dir = tempDir('cairn-db-write-');
  const db = ChainDb.open({ path: dir.path, params: LOCAL });
  try {
    const meta = db.db('meta');
    db.write(() => {
      meta.putSync(key('a'), Buffer.from([1]));
      db.write(() => meta.putSync(key('b'), Buffer.from([2])));
    });
    assert.deepEqual([...meta.get(key('a'))!, ...meta.get(key('b'))!], [1, 2], 'both committed');

    const failure = new ChainError('bad-prevblk', 'injected');
    assert.throws(
      () =>
        db.write(() => {
          meta.putSync(key('c'), Buffer.from([3]));
          try {
            db.write(() => {
              meta.putSync(key('d'), Buffer.from([4])); // half done when it throws
              throw failure;
            });
          } catch {
            // the caller goes on as if nothing happened
          }
          meta.putSync(key('e'), Buffer.from([5]));
        }),
      (e: unknown) => e === failure,
    );
    for (const k of ['c', 'd', 'e']) assert.equal(meta.get(key(k)), undefined, `${k} not committed`);

    // the next transaction is not affected by the aborted one
    db.write(() => meta.putSync(key('f'), Buffer.from([6])));
    assert.deepEqual([...meta.get(key('f'))!], [6]);
  } finally {
    db.close();
    dir.remove();
  }
});
