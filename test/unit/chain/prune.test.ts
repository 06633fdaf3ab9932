/**
 * Pruning on real LMDB: a pruned chain keeps the ledger of an unpruned one (digest and answers),
 * follows a reorg within its kept blocks, refuses a deeper one with reorg-too-deep and goes on with
 * its chain (also after a restart), prunes in the background under its target, refuses reindex,
 * and survives a kill -9 in the middle of pruning with a consistent store.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { afterEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { exportRange } from '../../../services/node/archive/export.ts';
import type { Chain, RefusedReorg } from '../../../services/node/chain/chain.ts';
import { ChainError } from '../../../services/node/chain/errors.ts';
import { PruneError } from '../../../services/node/chain/prune-errors.ts';
import { readPruneHeight } from '../../../services/node/chain/prune-state.ts';
import { isPruned, Pruner } from '../../../services/node/chain/pruner.ts';
import { ChainHealth } from '../../../services/node/health/chain-health.ts';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { hashToHex } from '../../../shared/core/bytes.ts';
import { silentLogger } from '../../../shared/log.ts';
import { makeKey } from '../../helpers/chain.ts';
import { type OpenChain, openChain, tempDir } from '../../helpers/node.ts';
import { emptyBranch, keptLedgerDigest, ledgerAnswers, ledgerHistory } from '../../helpers/prune.ts';

const CRASHER = fileURLToPath(new URL('../../fixtures/prune-crasher.ts', import.meta.url));

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function fresh(path = tempDir().path): OpenChain & { path: string } {
  const c = openChain(path);
  cleanups.push(() => c.close());
  return { ...c, path };
}

function feed(chain: Chain, blocks: DecodedBlock[]): void {
  for (const b of blocks) {
    const r = chain.processBlock(b.raw);
    assert.ok(
      r.status === 'connected' || r.status === 'side',
      `block refused: ${r.status} ${r.error?.message}`,
    );
  }
}

function pruner(c: OpenChain, keepBlocks: number, targetBytes = 0): Pruner {
  return new Pruner(
    { targetBytes, keepBlocks, batchBlocks: 7 },
    { chain: c.chain, db: c.db, logger: silentLogger() },
  );
}

describe('pruning', () => {
  it('keeps the ledger of an unpruned node and follows a reorg within the kept blocks', () => {
    const a = fresh();
    const b = fresh();
    const h = ledgerHistory(a.chain.tip, 60);
    feed(a.chain, h.blocks);
    feed(b.chain, h.blocks);
    const p = pruner(a, 10);
    while (p.step() > 0);
    assert.equal(a.chain.pruneHeight, 50, 'pruned up to the tip less the 10 kept blocks');
    assert.equal(readPruneHeight(a.db), 50);
    for (let height = 1; height <= 60; height++) {
      const e = a.chain.entryAt(height)!;
      assert.equal(isPruned(a.chain, e), height <= 50, `height ${height}`);
      assert.equal(a.db.db('undo').doesExist(Buffer.from(e.hash)), height > 50);
    }
    assert.ok(a.chain.getRawBlock(a.chain.entryAt(0)!.hash), 'genesis is kept');
    assert.ok(b.chain.getRawBlock(b.chain.entryAt(1)!.hash), 'the unpruned node keeps its blocks');
    assert.equal(keptLedgerDigest(a.db), keptLedgerDigest(b.db));
    assert.deepEqual(ledgerAnswers(a.chain, h), ledgerAnswers(b.chain, h));
    assert.deepEqual(a.chain.checkInvariants(true), []);

    // a reorg of depth 6 (within the 10 kept): both nodes follow it and still agree
    const miner = makeKey();
    const fork = a.chain.entryAt(54)!;
    const winning = emptyBranch(fork, 8, miner, 'w');
    const reorgs: number[] = [];
    a.chain.on('reorg', (r) => reorgs.push(r.depth));
    feed(a.chain, winning);
    feed(b.chain, winning);
    assert.deepEqual(reorgs, [6]);
    assert.equal(hashToHex(a.chain.tip.hash), hashToHex(winning[7]!.hash));
    assert.equal(keptLedgerDigest(a.db), keptLedgerDigest(b.db));
    assert.deepEqual(ledgerAnswers(a.chain, h), ledgerAnswers(b.chain, h));
    assert.deepEqual(a.chain.checkInvariants(true), []);
  });

  it('refuses a reorg deeper than its kept blocks with reorg-too-deep and goes on with its chain', () => {
    const a = fresh();
    const miner = makeKey();
    const blocks = emptyBranch(a.chain.tip, 30, miner, 'a');
    feed(a.chain, blocks);
    const p = pruner(a, 5);
    while (p.step() > 0);
    assert.equal(a.chain.pruneHeight, 25);
    const refused: RefusedReorg[] = [];
    a.chain.on('reorg:refused', (r) => refused.push(r));
    // a heavier branch forking at 20, below the prune height: its blocks 21–25 cannot be undone
    const rival = makeKey();
    const other = emptyBranch(a.chain.entryAt(20)!, 12, rival, 'x');
    const statuses = other.map((b) => a.chain.processBlock(b.raw));
    assert.equal(a.chain.tipHeight(), 30, 'the tip stays');
    assert.equal(hashToHex(a.chain.tip.hash), hashToHex(blocks[29]!.hash));
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.error.code, 'reorg-too-deep');
    assert.equal(refused[0]!.fork.height, 20);
    assert.match(refused[0]!.error.message, /below the prune height 25/);
    assert.equal(a.chain.refusedReorg?.depth, 10);
    // blocks of the refused branch that come later are refused too, blaming no peer
    const last = statuses[statuses.length - 1]!;
    assert.equal(last.status, 'invalid');
    assert.ok(
      last.error instanceof ChainError && last.error.code === 'reorg-too-deep' && last.error.dos === 0,
    );
    const longer = emptyBranch(a.chain.entryAt(20)!, 12, rival, 'x');
    // the block that made the branch heavier is refused with the reason too
    assert.equal(statuses[10]!.error?.code, 'reorg-too-deep');
    const r = a.chain.processBlock(longer[11]!.raw);
    assert.equal(r.error?.code, 'reorg-too-deep');
    assert.throws(
      () => a.chain.processHeader(longer[10]!.header),
      (e: unknown) => e instanceof ChainError && e.code === 'reorg-too-deep' && e.dos === 0,
    );
    // and it goes on following its own chain
    feed(a.chain, emptyBranch(a.chain.tip, 3, miner, 'n'));
    assert.equal(a.chain.tipHeight(), 33);
    assert.deepEqual(a.chain.checkInvariants(true), []);

    // after a restart the heavier branch is refused again, not followed
    a.close();
    cleanups.pop();
    const again = fresh(a.path);
    assert.equal(again.chain.tipHeight(), 33);
    assert.equal(again.chain.pruneHeight, 25);
    assert.equal(again.chain.refusedReorg, undefined, 'the other branch has less work than 33 blocks');
  });

  it('refuses a too-deep branch from its headers alone, says so in warnings, and scores no peer', () => {
    const a = fresh();
    feed(a.chain, emptyBranch(a.chain.tip, 30, makeKey(), 'a'));
    const p = pruner(a, 5);
    while (p.step() > 0);
    const health = new ChainHealth(
      { stallSeconds: 60 },
      { chain: a.chain, logger: silentLogger(), storageFailure: () => undefined, peers: () => 1 },
    );
    assert.deepEqual(health.warnings(), []);
    const other = emptyBranch(a.chain.entryAt(10)!, 26, makeKey(), 'x');
    const { entries, error } = a.chain.processHeaders(other.slice(0, 25).map((b) => b.header));
    assert.equal(entries.length, 25);
    assert.equal(error, undefined);
    assert.equal(a.chain.refusedReorg?.fork.height, 10);
    assert.equal(a.chain.refusedReorg?.error.code, 'reorg-too-deep');
    assert.equal(a.chain.bestHeader(), a.chain.tip, 'sync does not chase the refused branch');
    assert.deepEqual(a.chain.missingBlocks(a.chain.bestHeader(), 100), []);
    const w = health.warnings();
    assert.equal(w.length, 1);
    assert.match(
      w[0]!,
      /^reorg refused: reorg-too-deep: a chain with more work forks at height 10, below the prune height 25/,
    );
    // a header the peer sends next on that branch: refused, dos 0
    const r = a.chain.processHeaders([other[25]!.header]);
    assert.ok(r.error instanceof ChainError && r.error.code === 'reorg-too-deep' && r.error.dos === 0);
    assert.equal(a.chain.tipHeight(), 30);
  });

  it('prunes in the background after each new tip, down to its target', async () => {
    const a = fresh();
    const miner = makeKey();
    feed(a.chain, emptyBranch(a.chain.tip, 40, miner, 'a'));
    const perBlock = (a.chain.getRawBlock(a.chain.tip.hash)!.length + 20) * 1;
    const p = pruner(a, 8, 0);
    const before = p.storedBytes();
    assert.ok(before > 40 * perBlock * 0.5, `stored ${before} bytes`);
    p.start();
    cleanups.push(() => p.stop());
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(a.chain.pruneHeight, 32, 'everything but the 8 kept blocks, in several steps');
    assert.ok(p.storedBytes() < before);
    feed(a.chain, emptyBranch(a.chain.tip, 3, miner, 'b'));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(a.chain.pruneHeight, 35, 'new tips prune more');
    // a target above what is stored prunes nothing
    const b = fresh();
    feed(b.chain, emptyBranch(b.chain.tip, 40, miner, 'c'));
    const q = pruner(b, 8, 1e9);
    assert.equal(q.step(), 0);
    assert.equal(b.chain.pruneHeight, 0);
  });

  it('pruneTo prunes up to a height, clamped to the kept blocks; reindex of a pruned store is refused', () => {
    const a = fresh();
    feed(a.chain, emptyBranch(a.chain.tip, 30, makeKey(), 'a'));
    const p = pruner(a, 10, 1e12);
    assert.equal(p.pruneTo(12), 12);
    assert.equal(p.pruneTo(29), 20);
    assert.throws(
      () => p.pruneTo(31),
      (e: unknown) => e instanceof PruneError && e.code === 'prune-height',
    );
    // export-blocks: a range holding a pruned block is refused, one above the prune height is not
    assert.throws(
      () => exportRange(a.chain, 'f.cba', 5, 25),
      /block pruned: this node pruned the blocks up to height 20/,
    );
    assert.throws(() => exportRange(a.chain, 'f.cba', 20, 20), /export from --from 21/);
    assert.deepEqual(exportRange(a.chain, 'f.cba', 21, 30), { from: 21, to: 30 });
    assert.deepEqual(exportRange(a.chain, 'f.cba', 0, 0), { from: 0, to: 0 }, 'genesis is kept');
    assert.throws(
      () => a.chain.reindex(),
      (e: unknown) => e instanceof PruneError && e.code === 'reindex-pruned' && /resync/.test(e.message),
    );
  });

  it('a kill -9 in the middle of pruning leaves a consistent store at its recorded prune height', async () => {
    for (let round = 0; round < 3; round++) {
      const dir = tempDir();
      cleanups.push(dir.remove);
      const child = spawn(process.execPath, ['--import', 'tsx', CRASHER, dir.path], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      // killed a little after pruning started (a different moment each round)
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          if (d.toString().includes('pruning')) setTimeout(() => child.kill('SIGKILL'), 5 + round * 15);
        });
        child.on('exit', (_code, signal) =>
          signal === 'SIGKILL'
            ? resolve()
            : reject(new Error(`crasher ended without being killed (${signal})`)),
        );
      });
      const c = fresh(dir.path);
      const ph = readPruneHeight(c.db);
      assert.equal(c.chain.pruneHeight, ph);
      assert.ok(c.chain.tipHeight() >= 300, `tip ${c.chain.tipHeight()}`);
      for (let h = 1; h <= c.chain.tipHeight(); h++) {
        const key = Buffer.from(c.chain.entryAt(h)!.hash);
        const kept = h > ph;
        assert.equal(c.db.db('blocks').doesExist(key), kept, `block at ${h}, prune height ${ph}`);
        assert.equal(c.db.db('undo').doesExist(key), kept, `undo at ${h}, prune height ${ph}`);
      }
      assert.deepEqual(c.chain.checkInvariants(true), []);
      // pruning resumes where it stopped
      const p = pruner(c, 10);
      while (p.step() > 0);
      assert.equal(c.chain.pruneHeight, c.chain.tipHeight() - 10);
    }
  });
});
