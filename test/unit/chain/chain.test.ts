/**
 * The chain manager on real LMDB: persistence, fork choice, reorgs of depth 1, 10 and 150 (state
 * compared by digest with a node that only ever saw the winning chain), invalid blocks inside a
 * branch, double spends, bitmark provenance across reorgs, orphans, headers first, reindex.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { IndexEntry } from '../../../services/node/chain/block-index.ts';
import type { Chain } from '../../../services/node/chain/chain.ts';
import { ChainDb } from '../../../services/node/db/chain-db.ts';
import { StorageError } from '../../../services/node/db/errors.ts';
import { u32be } from '../../../services/node/db/keys.ts';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { hashToHex, toHex } from '../../../shared/core/bytes.ts';
import { LOCAL, TEST } from '../../../shared/core/params/networks.ts';
import { toDecodedTx } from '../../../shared/core/tx/codec.ts';
import { assetIdOf, bitmarkIdOf } from '../../../shared/core/tx/ids.ts';
import { type DecodedTx, MINT } from '../../../shared/core/tx/types.ts';
import { makeKey, out, signed, spend, type TestKey } from '../../helpers/chain.ts';
import { blockOn, digestHex, type OpenChain, openChain, tempDir } from '../../helpers/node.ts';

const p = LOCAL;
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function fresh(): OpenChain & { path: string } {
  const dir = tempDir();
  const c = openChain(dir.path);
  cleanups.push(dir.remove);
  cleanups.push(() => c.close());
  return { ...c, path: dir.path };
}

function feed(chain: Chain, blocks: DecodedBlock[]): void {
  for (const b of blocks) {
    const r = chain.processBlock(b.raw);
    assert.ok(
      r.status === 'connected' || r.status === 'side',
      `block refused: ${r.status} ${r.error?.message ?? ''}`,
    );
  }
}

/**
 * Builds `n` blocks on `from`, each paying `miner` and spending the coinbase of the block 10
 * below it (maturity on local) to `payee`: every branch double-spends the other's inputs.
 */
function branch(
  from: IndexEntry,
  n: number,
  miner: TestKey,
  payee: TestKey,
  tag: string,
  history: DecodedBlock[],
): DecodedBlock[] {
  const out_: DecodedBlock[] = [];
  let parent = from;
  const byHeight = new Map<number, DecodedBlock>(history.map((b, i) => [i + 1, b]));
  for (let i = 0; i < n; i++) {
    const h = parent.height + 1;
    const matured = byHeight.get(h - p.coinbaseMaturity);
    const txs: DecodedTx[] = [];
    let fees = 0;
    if (matured !== undefined) {
      const cb = matured.txs[0]!;
      const amount = cb.tx.outputs[0]!.amount;
      txs.push(
        signed({
          version: 1,
          kind: 'transfer',
          inputs: [spend(miner, cb.txid, 0)],
          outputs: [out(payee.owner, amount - 1000)],
        }),
      );
      fees = 1000;
    }
    const b = blockOn(parent, txs, miner.owner, fees, `${tag}${i}`);
    out_.push(b);
    byHeight.set(h, b);
    // a detached entry is enough to build on: blockOn only reads hash, height and header
    parent = {
      hash: b.hash,
      key: '',
      header: b.header,
      height: h,
      work: 0n,
      status: 0,
      parent,
      sequence: 0,
      anchorTime: h <= 1 ? b.header.time : parent.anchorTime,
    };
  }
  return out_;
}

describe('chain with parallel signature verification', () => {
  it('a bad or high-S signature anywhere in a block is refused with its exact code', async () => {
    const { createBatchVerifier } = await import('../../../shared/crypto/batch.ts');
    const { loadVerifier } = await import('../../../shared/crypto/load.ts');
    const pool = createBatchVerifier(loadVerifier('native').verifier, { backend: 'native', workers: 1 });
    const dir = tempDir();
    const c = openChain(dir.path, p, {}, pool);
    try {
      const miner = makeKey();
      const prefix = branch(c.chain.tip, 12, miner, makeKey(), 'p', []);
      feed(c.chain, prefix);
      const payees = Array.from({ length: 80 }, () => makeKey());
      // 80 transfers from one coinbase split: enough signatures for the worker to take a share
      const cb = prefix[2]!.txs[0]!;
      const split = signed({
        version: 1,
        kind: 'transfer',
        inputs: [spend(miner, cb.txid, 0)],
        outputs: payees.map((k) => out(k.owner, 1_000_000)),
      });
      feed(c.chain, [blockOn(c.chain.tip, [split], miner.owner, 25 * p.coin - 80_000_000)]);
      const txs = payees.map((k, i) =>
        signed({
          version: 1,
          kind: 'transfer',
          inputs: [spend(k, split.txid, i)],
          outputs: [out(miner.owner, 999_000)],
        }),
      );
      const tamper = (i: number, f: (sig: Uint8Array) => void) => {
        const t = txs[i]!.tx as Extract<(typeof txs)[number]['tx'], { kind: 'transfer' }>;
        const sig = Uint8Array.from(t.inputs[0]!.signature);
        f(sig);
        const copy = [...txs];
        copy[i] = toDecodedTx({ ...t, inputs: [{ ...t.inputs[0]!, signature: sig }] });
        return copy;
      };
      const flipped = c.chain.processBlock(
        blockOn(
          c.chain.tip,
          tamper(70, (s) => {
            s[3]! ^= 1;
          }),
          miner.owner,
          80_000,
        ).raw,
      );
      assert.equal(flipped.error?.code, 'bad-txns-sig');
      const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
      const highS = c.chain.processBlock(
        blockOn(
          c.chain.tip,
          tamper(75, (s) => {
            const v = n - BigInt(`0x${toHex(s.subarray(32))}`);
            s.set(Buffer.from(v.toString(16).padStart(64, '0'), 'hex'), 32);
          }),
          miner.owner,
          80_000,
        ).raw,
      );
      assert.equal(highS.error?.code, 'bad-txns-sig-highs');
      const good = c.chain.processBlock(blockOn(c.chain.tip, txs, miner.owner, 80_000).raw);
      assert.equal(good.status, 'connected');
    } finally {
      c.close();
      await pool.close();
      dir.remove();
    }
  });
});

describe('chain on LMDB', () => {
  it('starts at genesis, connects blocks, and keeps them across a reopen', () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const miner = makeKey();
    let c = openChain(dir.path);
    assert.equal(c.chain.tipHeight(), 0);
    assert.equal(hashToHex(c.chain.tip.hash), hashToHex(p.genesisHash));
    const blocks = branch(c.chain.tip, 12, miner, makeKey(), 'a', []);
    feed(c.chain, blocks);
    const digest = digestHex(c.chain);
    assert.equal(c.chain.tipHeight(), 12);
    c.close();
    c = openChain(dir.path);
    cleanups.push(() => c.close());
    assert.equal(c.chain.tipHeight(), 12);
    assert.equal(digestHex(c.chain), digest);
    assert.equal(c.chain.ledger.getCoin(blocks[11]!.txs[0]!.txid, 0)?.amount, 25 * p.coin + 1000);
  });

  it('refuses a database of another network, or of a newer schema, with a message', () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    openChain(dir.path).close();
    assert.throws(
      () => ChainDb.open({ path: dir.path, params: TEST }),
      (e: unknown) =>
        e instanceof StorageError &&
        e.code === 'storage-wrong-network' &&
        /another data directory/.test(e.message),
    );
    const db = ChainDb.open({ path: dir.path, params: p });
    db.write(() => db.db('meta').putSync(Buffer.from('schema'), u32be(99)));
    db.close();
    assert.throws(
      () => ChainDb.open({ path: dir.path, params: p }),
      (e: unknown) =>
        e instanceof StorageError && e.code === 'storage-schema-newer' && /newer cairnd/.test(e.message),
    );
  });

  for (const depth of [1, 10, 150]) {
    it(`reorg of depth ${depth}: state equals a node that saw only the winning chain`, () => {
      const miner = makeKey();
      const a = fresh();
      const prefix = branch(a.chain.tip, 12, miner, makeKey(), 'p', []);
      feed(a.chain, prefix);
      const fork = a.chain.tip;
      const losing = branch(fork, depth, miner, makeKey(), 'A', prefix);
      const winning = branch(fork, depth + 1, miner, makeKey(), 'B', prefix);
      feed(a.chain, losing);
      assert.equal(hashToHex(a.chain.tip.hash), hashToHex(losing[depth - 1]!.hash));
      const reorgs: number[] = [];
      a.chain.on('reorg', (r) => reorgs.push(r.depth));
      const disconnected: string[] = [];
      a.chain.on('block:disconnected', (b) => disconnected.push(hashToHex(b.hash)));
      feed(a.chain, winning);
      assert.equal(hashToHex(a.chain.tip.hash), hashToHex(winning[depth]!.hash));
      assert.deepEqual(reorgs, [depth]);
      assert.deepEqual(disconnected, losing.map((b) => hashToHex(b.hash)).reverse());

      const b = fresh();
      feed(b.chain, [...prefix, ...winning]);
      assert.equal(digestHex(a.chain), digestHex(b.chain));
      // nothing of the losing branch is left in the indexes
      for (const blk of losing)
        for (const t of blk.txs) assert.equal(a.chain.ledger.txLocation(t.txid), undefined);
    });
  }

  it('an equal-work branch does not move the tip (first seen wins)', () => {
    const miner = makeKey();
    const a = fresh();
    const one = branch(a.chain.tip, 3, miner, makeKey(), 'x', []);
    const other = branch(a.chain.tip, 3, miner, makeKey(), 'y', []);
    feed(a.chain, one);
    const r = other.map((b) => a.chain.processBlock(b.raw).status);
    assert.deepEqual(r, ['side', 'side', 'side']);
    assert.equal(hashToHex(a.chain.tip.hash), hashToHex(one[2]!.hash));
  });

  it('an invalid block in the middle of a heavier branch: the node goes back to its chain and marks the rest invalid', () => {
    const miner = makeKey();
    const a = fresh();
    const prefix = branch(a.chain.tip, 12, miner, makeKey(), 'p', []);
    feed(a.chain, prefix);
    const fork = a.chain.tip;
    const ours = branch(fork, 3, miner, makeKey(), 'o', prefix);
    feed(a.chain, ours);
    const digest = digestHex(a.chain);
    // their branch: 5 blocks, the third pays itself too much (valid alone, invalid in context)
    const theirs: DecodedBlock[] = [];
    let parent = fork;
    for (let i = 0; i < 5; i++) {
      const b = blockOn(parent, [], miner.owner, i === 2 ? 1 : 0, `t${i}`);
      theirs.push(b);
      parent = {
        hash: b.hash,
        key: '',
        header: b.header,
        height: parent.height + 1,
        anchorTime: parent.anchorTime,
        work: 0n,
        status: 0,
        parent,
        sequence: 0,
      };
    }
    const results = theirs.map((b) => a.chain.processBlock(b.raw));
    // equal work: stored as a side branch; its fault only shows when connecting it
    assert.deepEqual(
      results.slice(0, 3).map((r) => r.status),
      ['side', 'side', 'side'],
    );
    // one more block makes it heavier: the switch fails at the bad block and goes back
    assert.equal(results[3]!.status, 'invalid');
    assert.equal(results[3]!.error?.code, 'bad-cb-amount');
    assert.equal(hashToHex(a.chain.tip.hash), hashToHex(ours[2]!.hash));
    assert.equal(digestHex(a.chain), digest);
    assert.equal(a.chain.entry(theirs[2]!.hash)?.status, 3, 'the bad block is marked invalid');
    assert.equal(a.chain.entry(theirs[3]!.hash)?.status, 3, 'and so is its descendant');
    assert.equal(a.chain.entry(theirs[1]!.hash)?.status, 2, 'its valid parent stays valid');
    // a child of an invalid block is refused outright, and not stored
    assert.equal(results[4]!.status, 'invalid');
    assert.equal(results[4]!.error?.code, 'bad-prevblk');
    assert.equal(a.chain.entry(theirs[4]!.hash), undefined);
    // the same invalid block sent again is answered from memory
    assert.equal(a.chain.processBlock(theirs[2]!.raw).error?.code, 'duplicate-invalid');
  });

  it('double spends: within one block, and of an output spent by an earlier block', () => {
    const miner = makeKey();
    const a = fresh();
    const prefix = branch(a.chain.tip, 12, miner, makeKey(), 'p', []);
    feed(a.chain, prefix);
    const cb = prefix[2]!.txs[0]!;
    const t1 = signed({
      version: 1,
      kind: 'transfer',
      inputs: [spend(miner, cb.txid, 0)],
      outputs: [out(makeKey().owner, 1)],
    });
    const t2 = signed({
      version: 1,
      kind: 'transfer',
      inputs: [spend(miner, cb.txid, 0)],
      outputs: [out(makeKey().owner, 2)],
    });
    const both = blockOn(a.chain.tip, [t1, t2], miner.owner);
    const r = a.chain.processBlock(both.raw);
    assert.equal(r.status, 'invalid');
    assert.equal(r.error?.code, 'bad-txns-inputs-missingorspent');
    const digest = digestHex(a.chain);
    assert.equal(a.chain.tipHeight(), 12);
    feed(a.chain, [blockOn(a.chain.tip, [t1], miner.owner, 25 * p.coin - 1)]);
    const again = a.chain.processBlock(blockOn(a.chain.tip, [t2], miner.owner, 0, 'z').raw);
    assert.equal(again.error?.code, 'bad-txns-inputs-missingorspent');
    assert.notEqual(digestHex(a.chain), digest);
    assert.equal(a.chain.tipHeight(), 13);
  });

  it('bitmark provenance follows transfers and is unwound by a reorg', () => {
    const [alice, bob, carol] = [makeKey(), makeKey(), makeKey()];
    const a = fresh();
    const prefix = branch(a.chain.tip, 12, alice, makeKey(), 'p', []);
    feed(a.chain, prefix);
    const fingerprint = new TextEncoder().encode('sha256:provenance-test');
    const fund = prefix[2]!.txs[0]!;
    const reg = signed({
      version: 1,
      kind: 'asset',
      asset: { name: 'Photo', fingerprint, metadata: new Uint8Array() },
      inputs: [spend(alice, fund.txid, 0)],
      outputs: [out(alice.owner, 24 * p.coin)],
    });
    const issue = signed({
      version: 1,
      kind: 'issue',
      assetId: assetIdOf(fingerprint),
      inputs: [spend(alice, reg.txid, 0)],
      outputs: [out(alice.owner, 0, MINT), out(alice.owner, 23 * p.coin)],
    });
    const id = bitmarkIdOf(issue.txid, 0);
    const toBob = signed({
      version: 1,
      kind: 'transfer',
      inputs: [spend(alice, issue.txid, 0), spend(alice, issue.txid, 1)],
      outputs: [out(bob.owner, 0, { type: 'carry', id }), out(alice.owner, 22 * p.coin)],
    });
    feed(a.chain, [blockOn(a.chain.tip, [reg, issue, toBob], alice.owner, 3 * p.coin)]);
    const fork = a.chain.tip;
    const toCarol = signed({
      version: 1,
      kind: 'transfer',
      inputs: [spend(bob, toBob.txid, 0)],
      outputs: [out(carol.owner, 0, { type: 'carry', id })],
    });
    feed(a.chain, [blockOn(fork, [toCarol], alice.owner)]);

    const owners = () => a.chain.ledger.provenance(id).map((h) => toHex(h.owner));
    assert.deepEqual(owners(), [alice.owner, bob.owner, carol.owner].map(toHex));
    assert.equal(toHex(a.chain.ledger.bitmark(id)!.txid), toHex(toCarol.txid));
    assert.equal(toHex(a.chain.ledger.bitmark(id)!.assetId), toHex(assetIdOf(fingerprint)));
    assert.equal(a.chain.ledger.addressUnspent(carol.owner).length, 1);

    // a heavier branch without the transfer to carol: provenance goes back to bob
    feed(a.chain, [blockOn(fork, [], alice.owner, 0, 'r1')]);
    const side = [...a.chain.entries()].find((e) => e.parent === fork && !a.chain.isActive(e))!;
    feed(a.chain, [blockOn(side, [], alice.owner, 0, 'r2')]);
    assert.equal(a.chain.tip.height, fork.height + 2);
    assert.deepEqual(owners(), [alice.owner, bob.owner].map(toHex));
    assert.equal(toHex(a.chain.ledger.bitmark(id)!.txid), toHex(toBob.txid));
    assert.equal(a.chain.ledger.addressUnspent(carol.owner).length, 0);
    assert.equal(toHex(a.chain.ledger.addressUnspent(bob.owner)[0]!.coin.bitmark!), toHex(id));
  });

  it('blocks in any order: orphans wait for their parents; headers first, bodies later', () => {
    const miner = makeKey();
    const src = fresh();
    const blocks = branch(src.chain.tip, 15, miner, makeKey(), 'o', []);
    const a = fresh();
    const reversed = [...blocks].reverse().map((b) => a.chain.processBlock(b.raw).status);
    assert.deepEqual(reversed.slice(0, 14), new Array(14).fill('orphan'));
    assert.equal(reversed[14], 'connected');
    assert.equal(a.chain.tipHeight(), 15);
    assert.equal(a.chain.orphanCount, 0);

    const h = fresh();
    for (const b of blocks) h.chain.processHeader(b.header);
    assert.equal(h.chain.tipHeight(), 0, 'headers alone do not move the tip');
    feed(h.chain, blocks);
    assert.equal(h.chain.tipHeight(), 15);
    assert.equal(digestHex(h.chain), digestHex(a.chain));
  });

  it('reindex rebuilds a byte-identical state from the stored blocks', () => {
    const [alice, bob] = [makeKey(), makeKey()];
    const a = fresh();
    const prefix = branch(a.chain.tip, 30, alice, bob, 'p', []);
    feed(a.chain, prefix);
    const losing = branch(a.chain.entryAt(25)!, 3, alice, bob, 'l', prefix.slice(0, 25));
    feed(a.chain, losing);
    const before = digestHex(a.chain);
    const tip = hashToHex(a.chain.tip.hash);
    a.chain.reindex();
    assert.equal(hashToHex(a.chain.tip.hash), tip);
    assert.equal(digestHex(a.chain), before);
  });
});
