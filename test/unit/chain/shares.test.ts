/**
 * Shares in the chain state on real LMDB: share coins survive storage and undo data, the share
 * indexes (kind, balances, holders, moves) follow splits, grants and swaps, reorgs unwind them
 * (compared by digest with a node that only saw the winning chain), reindex rebuilds them, and a
 * schema 1 database opens as schema 2.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { afterEach, describe, it } from 'node:test';
import type { IndexEntry } from '../../../services/node/chain/block-index.ts';
import type { Chain } from '../../../services/node/chain/chain.ts';
import { ChainDb, SCHEMA_VERSION } from '../../../services/node/db/chain-db.ts';
import { u32be } from '../../../services/node/db/keys.ts';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { toHex } from '../../../shared/core/bytes.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { assetIdOf, bitmarkIdOf } from '../../../shared/core/tx/ids.ts';
import { type DecodedTx, MINT, type OutputBitmark } from '../../../shared/core/tx/types.ts';
import { makeKey, out, signed, spend } from '../../helpers/chain.ts';
import { blockOn, digestHex, openChain, tempDir } from '../../helpers/node.ts';

const p = LOCAL;
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function fresh() {
  const dir = tempDir();
  const c = openChain(dir.path);
  cleanups.push(dir.remove);
  cleanups.push(() => c.close());
  return { ...c, path: dir.path, dir };
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

const shares = (id: Uint8Array, quantity: number): OutputBitmark => ({ type: 'shares', id, quantity });
const [alice, bob, carol] = [makeKey(), makeKey(), makeKey()];

/** The story: 12 blocks for alice; A: register, issue, split X into 1000, grant 100 + 10 coins to bob; B: bob buys 200 for 5 coins; C: bob grants carol 50. */
function story(chain: Chain) {
  const prefix: DecodedBlock[] = [];
  for (let i = 0; i < 12; i++) {
    const b = blockOn(chain.tip, [], alice.owner, 0, `p${i}`);
    feed(chain, [b]);
    prefix.push(b);
  }
  const fund = prefix[0]!.txs[0]!;
  const fingerprint = new TextEncoder().encode('sha256:share-chain-test');
  const reg = signed({
    version: 1,
    kind: 'asset',
    asset: { name: 'Shared', fingerprint, metadata: new Uint8Array() },
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
  const x = bitmarkIdOf(issue.txid, 0);
  const split = signed({
    version: 1,
    kind: 'split',
    bitmarkId: x,
    total: 1000,
    inputs: [spend(alice, issue.txid, 0)],
    outputs: [out(alice.owner, 0, shares(x, 1000))],
  });
  const grant = signed({
    version: 1,
    kind: 'transfer',
    inputs: [spend(alice, split.txid, 0), spend(alice, issue.txid, 1)],
    outputs: [
      out(bob.owner, 0, shares(x, 100)),
      out(alice.owner, 0, shares(x, 900)),
      out(bob.owner, 10 * p.coin),
      out(alice.owner, 12 * p.coin),
    ],
  });
  const A = blockOn(chain.tip, [reg, issue, split, grant], alice.owner, 3 * p.coin, 'A');
  feed(chain, [A]);
  const swap = signed({
    version: 1,
    kind: 'transfer',
    inputs: [spend(alice, grant.txid, 1), spend(bob, grant.txid, 2)],
    outputs: [
      out(bob.owner, 0, shares(x, 200)),
      out(alice.owner, 0, shares(x, 700)),
      out(alice.owner, 5 * p.coin),
      out(bob.owner, 5 * p.coin - 1000),
    ],
  });
  const B = blockOn(chain.tip, [swap], alice.owner, 1000, 'B');
  feed(chain, [B]);
  const toCarol = signed({
    version: 1,
    kind: 'transfer',
    inputs: [spend(bob, swap.txid, 0)],
    outputs: [out(carol.owner, 0, shares(x, 50)), out(bob.owner, 0, shares(x, 150))],
  });
  const C = blockOn(chain.tip, [toCarol], alice.owner, 0, 'C');
  feed(chain, [C]);
  return { prefix, A, B, C, x, split, grant, swap, toCarol, assetId: assetIdOf(fingerprint) };
}

function balancesOf(chain: Chain, owner: Uint8Array): string[] {
  return chain.ledger.shares.balances(owner).map((b) => `${toHex(b.id)}:${b.quantity}`);
}

function sideOf(chain: Chain, parent: IndexEntry): IndexEntry {
  return [...chain.entries()].find((e) => e.parent === parent && !chain.isActive(e))!;
}

describe('shares in the chain state', () => {
  it('split, grant, swap and a grant to a third: kind, balances, holders, moves, coins', () => {
    const a = fresh();
    const s = story(a.chain);
    const l = a.chain.ledger;
    const x = toHex(s.x);
    assert.deepEqual(balancesOf(a.chain, alice.owner), [`${x}:700`]);
    assert.deepEqual(balancesOf(a.chain, bob.owner), [`${x}:250`]);
    assert.deepEqual(balancesOf(a.chain, carol.owner), [`${x}:50`]);
    const holders = l.shares.holders(s.x, { limit: 10 });
    assert.equal(
      holders.reduce((t, h) => t + h.quantity, 0),
      1000,
    );
    assert.deepEqual(
      holders.map((h) => toHex(h.owner)),
      [alice, bob, carol].map((k) => toHex(k.owner)).sort(),
    );
    // paging: after the first holder, the other two
    assert.equal(l.shares.holders(s.x, { limit: 10, after: holders[0]!.owner }).length, 2);

    const kind = l.shares.kind(s.x)!;
    assert.equal(kind.total, 1000);
    assert.equal(toHex(kind.owner), toHex(alice.owner));
    assert.equal(toHex(kind.assetId), toHex(s.assetId));
    assert.equal(toHex(kind.txid), toHex(s.split.txid));

    const moves = l.shares.history(s.x);
    assert.deepEqual(
      moves.map((m) => toHex(m.txid)),
      [s.split, s.grant, s.swap, s.toCarol].map((d: DecodedTx) => toHex(d.txid)),
    );
    assert.deepEqual(moves[0]!.from, [], 'the split gives from no one: the shares come from the bitmark');
    assert.deepEqual(
      moves[2]!.from.map((f) => [toHex(f.owner), f.quantity]),
      [[toHex(alice.owner), 900]],
    );
    assert.deepEqual(
      moves[2]!.to.map((t) => [t.vout, toHex(t.owner), t.quantity]),
      [
        [0, toHex(bob.owner), 200],
        [1, toHex(alice.owner), 700],
      ],
    );
    // the bitmark's own provenance ends at its last holder before the split
    assert.equal(l.provenance(s.x).length, 1);
    // share coins come back from LMDB with their shares
    const coin = l.getCoin(s.toCarol.txid, 0)!;
    assert.deepEqual([toHex(coin.shares!.id), coin.shares!.quantity], [x, 50]);
    assert.equal(l.addressUnspent(carol.owner)[0]!.coin.shares!.quantity, 50);
  });

  it('a reorg unwinds the grant to carol, and a deeper one the split itself; state equals a node that saw only the winner', () => {
    const a = fresh();
    const s = story(a.chain);
    const afterB = a.chain.entryAt(s.prefix.length + 2)!;
    // heavier branch from B without the transfer to carol
    feed(a.chain, [blockOn(afterB, [], alice.owner, 0, 'r1')]);
    feed(a.chain, [blockOn(sideOf(a.chain, afterB), [], alice.owner, 0, 'r2')]);
    const x = toHex(s.x);
    assert.deepEqual(balancesOf(a.chain, bob.owner), [`${x}:300`]);
    assert.deepEqual(balancesOf(a.chain, carol.owner), []);
    assert.equal(a.chain.ledger.shares.history(s.x).length, 3);

    const b = fresh();
    feed(b.chain, [...s.prefix, s.A, s.B]);
    feed(b.chain, [blockOn(b.chain.tip, [], alice.owner, 0, 'r1')]);
    feed(b.chain, [blockOn(b.chain.tip, [], alice.owner, 0, 'r2')]);
    assert.equal(digestHex(a.chain), digestHex(b.chain));

    // deeper: a branch from before A (no split at all) wins
    const beforeA = a.chain.entryAt(s.prefix.length)!;
    let parent = beforeA;
    for (let i = 0; i < 5; i++) {
      feed(a.chain, [blockOn(parent, [], alice.owner, 0, `d${i}`)]);
      parent = i === 0 ? sideOf(a.chain, beforeA) : [...a.chain.entries()].find((e) => e.parent === parent)!;
    }
    assert.equal(a.chain.tip.height, beforeA.height + 5);
    assert.equal(a.chain.ledger.shares.kind(s.x), undefined);
    assert.deepEqual(a.chain.ledger.shares.holders(s.x, { limit: 10 }), []);
    assert.deepEqual(a.chain.ledger.shares.history(s.x), []);
    for (const k of [alice, bob, carol]) assert.deepEqual(balancesOf(a.chain, k.owner), []);
  });

  it('reindex rebuilds the share indexes byte for byte', () => {
    const a = fresh();
    story(a.chain);
    const before = digestHex(a.chain);
    a.chain.reindex();
    assert.equal(digestHex(a.chain), before);
    assert.equal(balancesOf(a.chain, carol.owner).length, 1);
  });

  it(`a schema 1 database opens and is stamped ${SCHEMA_VERSION} (it cannot hold shares)`, () => {
    const a = fresh();
    a.close();
    const db = ChainDb.open({ path: a.path, params: p });
    db.write(() => db.db('meta').putSync(Buffer.from('schema'), u32be(1)));
    db.close();
    const again = ChainDb.open({ path: a.path, params: p });
    assert.equal(again.db('meta').get(Buffer.from('schema'))!.readUInt32BE(0), SCHEMA_VERSION);
    again.close();
  });
});
