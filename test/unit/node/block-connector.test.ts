/**
 * BlockConnector (issue 12): sync's received batches are connected in arrival order once their
 * signatures are checked, the ready ones grouped into one storage commit within the limits; a
 * storage failure rejects everything queued. Real chain on LMDB.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import type { BlockResult } from '../../../services/node/chain/chain.ts';
import { StorageError } from '../../../services/node/db/errors.ts';
import { BlockConnector, type BlockConnectorOptions } from '../../../services/node/p2p/block-connector.ts';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { createBatchVerifier } from '../../../shared/crypto/batch.ts';
import { buildSpendingChain, MemoryLedger, makeKey } from '../../helpers/chain.ts';
import { openChain, tempDir, verifier } from '../../helpers/node.ts';

const dir = tempDir('cairn-connector-');
after(() => dir.remove());

const ledger = new MemoryLedger();
ledger.mine(40, makeKey().owner);
const blocks = ledger.blocks.slice(1); // heights 1..40

let n = 0;
const fresh = () => openChain(`${dir.path}/c${n++}`);
const turns = async (k = 5) => {
  for (let i = 0; i < k; i++) await new Promise((r) => setImmediate(r));
};
/** The chain's commits, counted where they happen: outer write transactions. */
function countCommits(c: ReturnType<typeof fresh>): () => number {
  let depth = 0;
  let commits = 0;
  const write = c.db.write.bind(c.db);
  c.db.write = ((fn: () => unknown, writing?: number) => {
    depth++;
    try {
      return write(fn, writing);
    } finally {
      if (--depth === 0) commits++;
    }
  }) as typeof c.db.write;
  return () => commits;
}

/** A check that ends when the test says so. */
function manualCheck(): { checked: Promise<void>; release: () => void } {
  let release!: () => void;
  const checked = new Promise<void>((r) => {
    release = r;
  });
  return { checked, release };
}

/**
 * Two 16-block batches, one of them (`late`) checked only when the test says so: nothing connects
 * before, then all 32 go in ONE commit, in arrival order.
 */
async function twoBatchesInOneCommit(late: 'head' | 'behind', nothingBefore: string): Promise<void> {
  const c = fresh();
  const commits = countCommits(c);
  const connector = new BlockConnector({}, { chain: c.chain });
  const { checked, release } = manualCheck();
  const results: BlockResult[] = [];
  const first = connector.add(blocks.slice(0, 16), late === 'head' ? checked : undefined, (r) =>
    results.push(r),
  );
  const second = connector.add(blocks.slice(16, 32), late === 'behind' ? checked : undefined, (r) =>
    results.push(r),
  );
  await turns();
  assert.equal(c.chain.tipHeight(), 0, nothingBefore);
  assert.equal(connector.queuedBlocks, 32);
  const before = commits();
  release();
  await Promise.all([first, second]);
  assert.equal(c.chain.tipHeight(), 32);
  assert.equal(commits() - before, 1, 'the 32 blocks went in one commit');
  assert.deepEqual(connector.counters, { commits: 1, blocks: 32, helped: 0 });
  assert.deepEqual(
    results.map((r) => r.status),
    Array(32).fill('connected'),
  );
  assert.deepEqual(
    results.map((r) => Buffer.from(r.hash).toString('hex')),
    blocks.slice(0, 32).map((b) => Buffer.from(b.hash).toString('hex')),
  );
  assert.equal(connector.queuedBlocks, 0);
  assert.equal(connector.queuedBytes, 0);
  c.close();
}

it('waits for the head batch to be checked, then connects the ready batches in ONE commit, in order', () =>
  // the second batch is ready at once but waits behind the first: order is arrival order
  twoBatchesInOneCommit('head', 'nothing connects before the head batch is checked'));

it('while a batch behind is still being checked, a ready batch waits for it and they go in ONE commit', () =>
  twoBatchesInOneCommit('behind', 'the ready batch waits: the one behind it would fill the group'));

/**
 * `ready` blocks ready at once, and a batch behind them whose check never ends: the tip once
 * `settle` (given the first batch's promise and the tip) is done.
 */
async function tipWithCheckBehind(
  opts: BlockConnectorOptions,
  ready: number,
  settle: (head: Promise<void>, tip: () => number) => Promise<unknown>,
): Promise<number> {
  const c = fresh();
  const connector = new BlockConnector(opts, { chain: c.chain });
  try {
    const head = connector.add(blocks.slice(0, ready), undefined, () => undefined);
    void connector.add(blocks.slice(ready, ready + 8), new Promise<void>(() => undefined), () => undefined);
    await settle(head, () => c.chain.tipHeight());
    return c.chain.tipHeight();
  } finally {
    connector.stop();
    c.close();
  }
}

it('does not wait when the ready blocks fill a group, or longer than maxHoldMs, or at all with maxHoldMs 0', {
  timeout: 20_000,
}, async () => {
  assert.equal(
    await tipWithCheckBehind({ maxBlocks: 8 }, 8, () => turns()),
    8,
    'eight blocks fill a group of eight',
  );
  const afterHold = await tipWithCheckBehind({ maxHoldMs: 50 }, 4, async (head, tip) => {
    await turns();
    assert.equal(tip(), 0, 'held while the batch behind is checked');
    await head;
  });
  assert.equal(afterHold, 4, 'connected alone once maxHoldMs ran out');
  assert.equal(await tipWithCheckBehind({ maxHoldMs: 0 }, 4, () => turns()), 4, 'maxHoldMs 0: at once');
});

it('keeps each commit within maxBlocks and maxBytes (a block larger than maxBytes goes alone)', async () => {
  const byCount = fresh();
  const c1 = new BlockConnector({ maxBlocks: 5 }, { chain: byCount.chain });
  await c1.add(blocks.slice(0, 12), undefined, () => undefined);
  assert.deepEqual(c1.counters, { commits: 3, blocks: 12, helped: 0 }, '5 + 5 + 2');
  assert.equal(byCount.chain.tipHeight(), 12);
  byCount.close();

  const bySize = fresh();
  const size = (b: DecodedBlock) => b.raw.length;
  const two = size(blocks[0]!) + size(blocks[1]!);
  const c2 = new BlockConnector({ maxBytes: two }, { chain: bySize.chain });
  await c2.add(blocks.slice(0, 10), undefined, () => undefined);
  assert.deepEqual(c2.counters, { commits: 5, blocks: 10, helped: 0 });
  const c3 = new BlockConnector({ maxBytes: 1 }, { chain: bySize.chain });
  await c3.add(blocks.slice(10, 13), undefined, () => undefined);
  assert.deepEqual(c3.counters, { commits: 3, blocks: 3, helped: 0 }, 'each block alone, none refused');
  assert.equal(bySize.chain.tipHeight(), 13);
  bySize.close();
});

it('a batch whose check failed is still connected (processBlock verifies it itself)', async () => {
  const c = fresh();
  const connector = new BlockConnector({}, { chain: c.chain });
  const failedCheck = Promise.reject(new Error('worker died'));
  await connector.add(blocks.slice(0, 4), failedCheck, () => undefined);
  assert.equal(c.chain.tipHeight(), 4);
  c.close();
});

it('room() holds downloads back until the queue drains below the limit', async () => {
  const c = fresh();
  const connector = new BlockConnector({}, { chain: c.chain });
  const { checked, release } = manualCheck();
  const done = connector.add(blocks.slice(0, 8), checked, () => undefined);
  let roomy = false;
  const room = connector.room(8, Number.POSITIVE_INFINITY).then(() => {
    roomy = true;
  });
  await turns();
  assert.equal(roomy, false, '8 blocks wait: no room below 8');
  release();
  await done;
  await room;
  assert.equal(roomy, true);
  c.close();
});

it('a storage failure rejects every queued batch with the StorageError, and frees waiters', async () => {
  const c = fresh();
  const connector = new BlockConnector({ maxHoldMs: 0 }, { chain: c.chain });
  const utxo = c.db.db('utxo');
  utxo.putSync = (() => {
    throw new Error('EIO: i/o error, write (Input/output error)');
  }) as typeof utxo.putSync;
  const { checked, release } = manualCheck();
  const first = connector.add(blocks.slice(0, 4), undefined, () => undefined);
  const second = connector.add(blocks.slice(4, 8), checked, () => undefined);
  const room = connector.room(1, Number.POSITIVE_INFINITY);
  // both outcomes watched from now: the second rejects with the first, before its check is done
  const outcomes = [assert.rejects(first, StorageError), assert.rejects(second, StorageError)];
  await outcomes[0];
  release();
  await outcomes[1];
  await room;
  assert.equal(connector.queuedBlocks, 0);
  assert.ok(c.db.failed instanceof StorageError);
  c.close();
});

it('while the head batch is being prepared, this thread prepares its unclaimed blocks instead of waiting', async () => {
  const pool = createBatchVerifier(verifier, { backend: 'native', workers: 1, params: LOCAL });
  const chain = buildSpendingChain(40);
  const c = openChain(`${dir.path}/c${n++}`, LOCAL, {}, pool);
  try {
    const raws = chain.map((b) => b.raw);
    // the worker is busy with another batch first, so the connector finds the head not ready
    const busy = c.chain.prepare([...raws, ...raws, ...raws]);
    const connector = new BlockConnector({}, { chain: c.chain });
    const statuses: string[] = [];
    await connector.add(raws, c.chain.prepare(raws), (r) => statuses.push(r.status));
    await busy;
    assert.ok(connector.counters.helped > 0, `helped ${connector.counters.helped}`);
    assert.deepEqual(statuses, new Array(40).fill('connected'));
    assert.equal(c.chain.tipHeight(), 40);
    assert.equal(c.chain.preparedBlocks, 40, 'every block connected as prepared, by a worker or here');
  } finally {
    c.close();
    await pool.close();
  }
});

it('stop() connects nothing more: queued batches are dropped, later ones not taken, waiters released', async () => {
  const c = fresh();
  const connector = new BlockConnector({ maxBlocks: 8 }, { chain: c.chain });
  const { checked, release } = manualCheck();
  const first = connector.add(blocks.slice(0, 8), undefined, () => undefined);
  const second = connector.add(blocks.slice(8, 24), checked, () => undefined);
  const room = connector.room(1, 1);
  await first;
  assert.equal(c.chain.tipHeight(), 8, 'the first group is in');
  connector.stop();
  release();
  await Promise.all([second, room]);
  await turns();
  assert.equal(c.chain.tipHeight(), 8, 'the queued batch was dropped, not connected');
  assert.equal(connector.queuedBlocks, 0);
  await connector.add(blocks.slice(8, 16), undefined, () => undefined);
  await turns();
  assert.equal(c.chain.tipHeight(), 8, 'a batch added after stop() is not taken');
  assert.deepEqual(c.chain.checkInvariants(true), []);
});
