/**
 * Issue 11 item 7: a reorg loses no valid transaction. A real chain on LMDB, a transaction with 500
 * outputs, 500 children spending them (mined, or waiting in the pool), then a heavier branch
 * without them: all 501 come back to the pool despite the 25-descendant limit. Chains deeper than
 * the ancestor limit are held aside and re-admitted as their ancestors confirm; whatever the new
 * chain makes invalid is dropped, descendants with it.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { IndexEntry } from '../../../services/node/chain/block-index.ts';
import { ChainState } from '../../../services/node/chain-state.ts';
import { solveTemplate } from '../../../services/node/mining/solve.ts';
import type { ReservoirOptions } from '../../../services/node/reservoir/options.ts';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { hashToHex } from '../../../shared/core/bytes.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import { silentLogger } from '../../../shared/log.ts';
import { makeKey, out, type TestKey } from '../../helpers/chain.ts';
import { blockOn, tempDir } from '../../helpers/node.ts';
import { transfer } from '../../helpers/reservoir.ts';

const p = LOCAL;
const FEE = 1000;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

let clock = p.genesisTime + 100;

async function open(reservoir: ReservoirOptions = {}): Promise<ChainState> {
  const dir = tempDir();
  const state = await ChainState.open(
    { dataDir: dir.path, params: p, verifyWorkers: 0, durable: false, reservoir },
    { logger: silentLogger(), clock: () => clock },
  );
  cleanups.push(async () => {
    await state.close();
    dir.remove();
  });
  return state;
}

/** Mines one block from the state's own template; returns its transactions (coinbase first). */
function mineTemplate(state: ChainState, miner: TestKey): readonly DecodedTx[] {
  clock += p.targetSpacing;
  const t = state.template({ payouts: [{ owner: miner.owner }] });
  const raw = solveTemplate(t);
  assert.ok(raw !== null);
  const r = state.chain.processBlock(raw);
  assert.equal(r.status, 'connected', r.error?.message);
  return t.txs;
}

function connect(state: ChainState, b: DecodedBlock): void {
  clock += p.targetSpacing;
  const r = state.chain.processBlock(b.raw);
  assert.equal(r.status, 'connected', r.error?.message);
}

/** Extends the tip with a block of `txs` (each paying FEE unless `fees` says otherwise). */
function extend(state: ChainState, miner: TestKey, txs: DecodedTx[], tag: string, fees = FEE * txs.length) {
  connect(state, blockOn(state.chain.tip, txs, miner.owner, fees, tag));
}

/** A branch of `n` blocks on `fork` (`txs` in its first block): heavier once n exceeds the reorg depth. */
function reorg(state: ChainState, miner: TestKey, fork: IndexEntry, n: number, txs: DecodedTx[] = []): void {
  const depth = state.chain.tip.height - fork.height;
  let parent = fork;
  let last: DecodedBlock | undefined;
  for (let i = 0; i < n; i++) {
    clock += p.targetSpacing;
    last = blockOn(parent, i === 0 ? txs : [], miner.owner, i === 0 ? FEE * txs.length : 0, `other-${i}`);
    const r = state.chain.processBlock(last.raw);
    assert.notEqual(r.status, 'invalid', r.error?.message);
    parent = state.chain.entry(last.hash)!;
  }
  assert.equal(hashToHex(state.chain.tip.hash), hashToHex(last!.hash), `the branch replaced ${depth} blocks`);
}

/** Twelve mined blocks: the first coinbases are mature. */
function fund(state: ChainState, miner: TestKey): DecodedTx[] {
  const cbs: DecodedTx[] = [];
  for (let i = 0; i < 12; i++) cbs.push(mineTemplate(state, miner)[0]!);
  return cbs;
}

/** A transaction splitting coinbase `cb` into `n` outputs to `to`, and one child spending each output. */
function fanOut(
  miner: TestKey,
  cb: DecodedTx,
  to: TestKey,
  n: number,
): { parent: DecodedTx; kids: DecodedTx[] } {
  const each = Math.floor((cb.tx.outputs[0]!.amount - FEE) / n);
  const outs = Array.from({ length: n }, () => out(to.owner, each));
  const parent = transfer(miner, [[cb, 0]], outs);
  const kids = outs.map((_, i) => transfer(to, [[parent, i]], [out(to.owner, each - FEE)]));
  return { parent, kids };
}

/** A chain of `n` transactions, each spending output 0 of the one before, the first spending `cb`. */
function chainOf(miner: TestKey, cb: DecodedTx, n: number): DecodedTx[] {
  const txs: DecodedTx[] = [];
  let prev = cb;
  let amount = cb.tx.outputs[0]!.amount;
  for (let i = 0; i < n; i++) {
    amount -= FEE;
    prev = transfer(miner, [[prev, 0]], [out(miner.owner, amount)]);
    txs.push(prev);
  }
  return txs;
}

function lost(state: ChainState, txs: readonly DecodedTx[]): number {
  return txs.filter((t) => !state.reservoir.has(t.txid)).length;
}

describe('reorg of a 500-child fan-out', () => {
  it('keeps all 501 transactions when 300 children were mined and 200 waited in the pool (depth 3)', async () => {
    const state = await open();
    const miner = makeKey();
    const cbs = fund(state, miner);
    const fork = state.chain.tip;
    const { parent, kids } = fanOut(miner, cbs[0]!, makeKey(), 500);
    extend(state, miner, [parent], 'a1');
    extend(state, miner, kids.slice(0, 300), 'a2');
    for (const k of kids.slice(300)) assert.equal(state.reservoir.accept(k.raw, clock).status, 'added');
    extend(state, miner, [], 'a3');
    assert.equal(state.reservoir.size, 200);

    reorg(state, miner, fork, 4);
    const all = [parent, ...kids];
    assert.equal(lost(state, all), 0, `${lost(state, all)} of 501 lost`);
    assert.equal(state.reservoir.size, 501);
    assert.equal(state.reservoir.get(parent.txid)!.descendantCount, 501);

    // Every one is valid on the new chain: the next template takes them all and connects.
    const mined = mineTemplate(state, miner);
    assert.equal(mined.length, 502);
    assert.equal(state.reservoir.size, 0);
  });

  it('keeps all 501 when parent and children were mined in one block (depth 2), then mines them', async () => {
    const state = await open();
    const miner = makeKey();
    const cbs = fund(state, miner);
    const fork = state.chain.tip;
    const { parent, kids } = fanOut(miner, cbs[0]!, makeKey(), 500);
    extend(state, miner, [parent, ...kids], 'a1');
    extend(state, miner, [], 'a2');

    reorg(state, miner, fork, 3);
    assert.equal(lost(state, [parent, ...kids]), 0);
    assert.equal(state.reservoir.heldCount, 0);
    assert.equal(mineTemplate(state, miner).length, 502);
    assert.equal(state.reservoir.size, 0);
  });

  it('drops the parent and all 500 children when the new branch double spends the parent', async () => {
    const state = await open();
    const miner = makeKey();
    const cbs = fund(state, miner);
    const fork = state.chain.tip;
    const { parent, kids } = fanOut(miner, cbs[0]!, makeKey(), 500);
    extend(state, miner, [parent], 'a1');
    extend(state, miner, kids.slice(0, 250), 'a2');
    for (const k of kids.slice(250)) state.reservoir.accept(k.raw, clock);

    const rival = transfer(
      miner,
      [[cbs[0]!, 0]],
      [out(makeKey().owner, cbs[0]!.tx.outputs[0]!.amount - FEE)],
    );
    reorg(state, miner, fork, 3, [rival]);
    assert.equal(lost(state, [parent, ...kids]), 501);
    assert.equal(state.reservoir.size, 0);
    assert.equal(state.reservoir.heldCount, 0);
  });
});

describe('reorg of a chain deeper than the ancestor limit', () => {
  it('holds the transactions beyond the limit aside and re-admits them as their ancestors confirm', async () => {
    const state = await open();
    const miner = makeKey();
    const cbs = fund(state, miner);
    const fork = state.chain.tip;
    const txs = chainOf(miner, cbs[0]!, 30);
    extend(state, miner, txs.slice(0, 10), 'a1');
    extend(state, miner, txs.slice(10, 20), 'a2');
    extend(state, miner, txs.slice(20), 'a3');
    const added: string[] = [];
    state.reservoir.on('tx:added', (e) => added.push(hashToHex(e.txid)));

    reorg(state, miner, fork, 4);
    const limit = state.reservoir.options.maxAncestors;
    assert.equal(lost(state, txs.slice(0, limit)), 0, 'the first 25 are in the pool');
    assert.equal(state.reservoir.heldCount, 30 - limit);
    for (const t of txs.slice(limit)) {
      assert.ok(!state.reservoir.has(t.txid) && state.reservoir.isHeld(t.txid));
    }
    assert.equal(state.reservoir.info().held, 30 - limit);

    // A block confirms the 25: the rest enter the pool (announced as added), then get mined too.
    added.length = 0;
    assert.equal(mineTemplate(state, miner).length, 1 + limit);
    assert.equal(state.reservoir.heldCount, 0);
    assert.equal(lost(state, txs.slice(limit)), 0);
    assert.deepEqual(
      added,
      txs.slice(limit).map((t) => hashToHex(t.txid)),
    );
    assert.equal(mineTemplate(state, miner).length, 1 + 30 - limit);
    assert.equal(state.reservoir.size, 0);
  });

  it('drops held transactions (with their descendants) once the chain double spends them', async () => {
    const state = await open();
    const miner = makeKey();
    const cbs = fund(state, miner);
    const fork = state.chain.tip;
    const txs = chainOf(miner, cbs[0]!, 30);
    extend(state, miner, txs.slice(0, 15), 'a1');
    extend(state, miner, txs.slice(15), 'a2');
    reorg(state, miner, fork, 3);
    assert.equal(state.reservoir.heldCount, 5);

    // A block confirms the first 25 and, instead of tx 26, a rival spend of tx 25's output.
    const t25 = txs[24]!;
    const rival = transfer(miner, [[t25, 0]], [out(makeKey().owner, t25.tx.outputs[0]!.amount - FEE)]);
    extend(state, miner, [...txs.slice(0, 25), rival], 'b1');
    assert.equal(state.reservoir.heldCount, 0);
    assert.equal(lost(state, txs.slice(25)), 5);
    assert.equal(state.reservoir.size, 0);
  });

  it('drops everything when the new branch double spends the first transaction', async () => {
    const state = await open();
    const miner = makeKey();
    const cbs = fund(state, miner);
    const fork = state.chain.tip;
    const txs = chainOf(miner, cbs[0]!, 30);
    extend(state, miner, txs.slice(0, 15), 'a1');
    extend(state, miner, txs.slice(15), 'a2');
    // Paid elsewhere: the same spend to the same owner would be tx 1 itself (signatures are deterministic).
    const rival = transfer(
      miner,
      [[cbs[0]!, 0]],
      [out(makeKey().owner, cbs[0]!.tx.outputs[0]!.amount - FEE)],
    );
    reorg(state, miner, fork, 3, [rival]);
    assert.equal(state.reservoir.size, 0);
    assert.equal(state.reservoir.heldCount, 0);
  });

  it('re-orders what successive disconnects held: a chain of 60 in two blocks comes back in three', async () => {
    const state = await open();
    const miner = makeKey();
    const cbs = fund(state, miner);
    const fork = state.chain.tip;
    const txs = chainOf(miner, cbs[0]!, 60);
    extend(state, miner, txs.slice(0, 30), 'a1');
    extend(state, miner, txs.slice(30), 'a2');
    const removed = new Map<string, string>();
    state.reservoir.on('tx:removed', (e, reason) => removed.set(hashToHex(e.txid), reason));

    // Disconnecting a2 holds 56..60 (after 31..55); disconnecting a1 then holds 26..55 before them.
    reorg(state, miner, fork, 3);
    assert.equal(state.reservoir.size, 25);
    assert.equal(state.reservoir.heldCount, 35);
    for (const t of txs.slice(30, 55)) assert.equal(removed.get(hashToHex(t.txid)), 'held');
    for (const n of [25, 25, 10]) {
      assert.equal(mineTemplate(state, miner).length, 1 + n);
    }
    assert.equal(state.reservoir.size + state.reservoir.heldCount, 0);
  });

  it('keeps the holding area bounded by count and by bytes: the deepest go first', async () => {
    for (const bound of [{ maxHeld: 3 }, { maxHeldBytes: 5000 }]) {
      const state = await open(bound);
      const miner = makeKey();
      const cbs = fund(state, miner);
      const fork = state.chain.tip;
      const txs = chainOf(miner, cbs[0]!, 30);
      extend(state, miner, txs.slice(0, 15), 'a1');
      extend(state, miner, txs.slice(15), 'a2');
      reorg(state, miner, fork, 3);
      const info = state.reservoir.info();
      const usage = state.reservoir.get(txs[0]!.txid)!.usage; // all 30 have the same shape
      const expected = 'maxHeld' in bound ? 3 : Math.floor(5000 / usage);
      assert.ok(expected >= 1 && expected < 5);
      assert.equal(info.held, expected, JSON.stringify(bound));
      assert.equal(info.heldUsage, expected * usage);
      // The shallowest were kept: they are the ones that can enter next.
      for (const t of txs.slice(25, 25 + expected)) assert.ok(state.reservoir.isHeld(t.txid));
      mineTemplate(state, miner);
      assert.equal(state.reservoir.size, expected);
      assert.equal(state.reservoir.heldCount, 0);
    }
  });
});

describe('a restart after the reorg', () => {
  it('keeps the 501 returned transactions through the cache file (no descendant limit on restore)', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const opts = { dataDir: dir.path, params: p, verifyWorkers: 0, durable: false };
    const deps = { logger: silentLogger(), clock: () => clock };
    const state = await ChainState.open(opts, deps);
    const miner = makeKey();
    const cbs = fund(state, miner);
    const fork = state.chain.tip;
    const { parent, kids } = fanOut(miner, cbs[0]!, makeKey(), 500);
    extend(state, miner, [parent, ...kids], 'a1');
    extend(state, miner, [], 'a2');
    reorg(state, miner, fork, 3);
    assert.equal(state.reservoir.size, 501);
    await state.close(); // saves the cache

    const again = await ChainState.open(opts, deps);
    cleanups.push(() => again.close());
    assert.equal(
      lost(again, [parent, ...kids]),
      0,
      `${lost(again, [parent, ...kids])} of 501 lost across the restart`,
    );
    assert.equal(mineTemplate(again, miner).length, 502);
  });
});
