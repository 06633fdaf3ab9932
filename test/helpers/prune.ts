/** Test helpers for pruning: a chain of blocks with coins, an asset and a bitmark moving, and ledger digests. */
import { createHash } from 'node:crypto';
import type { IndexEntry } from '../../services/node/chain/block-index.ts';
import type { Chain } from '../../services/node/chain/chain.ts';
import { type ChainDb, INDEX_DBS } from '../../services/node/db/chain-db.ts';
import { u32be } from '../../services/node/db/keys.ts';
import type { DecodedBlock } from '../../shared/core/block/types.ts';
import { toHex } from '../../shared/core/bytes.ts';
import { LOCAL } from '../../shared/core/params/networks.ts';
import { assetIdOf, bitmarkIdOf } from '../../shared/core/tx/ids.ts';
import { type DecodedTx, MINT } from '../../shared/core/tx/types.ts';
import { makeKey, out, signed, spend, type TestKey } from './chain.ts';
import { blockOn } from './node.ts';

/** An entry detached from any index: enough for blockOn to build on. */
function detached(b: DecodedBlock, parent: IndexEntry): IndexEntry {
  const h = parent.height + 1;
  return {
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

/** `n` blocks on `from` paying `miner`, each tagged (sibling branches differ). */
export function emptyBranch(from: IndexEntry, n: number, miner: TestKey, tag: string): DecodedBlock[] {
  const out_: DecodedBlock[] = [];
  let parent = from;
  for (let i = 0; i < n; i++) {
    const b = blockOn(parent, [], miner.owner, 0, `${tag}${i}`);
    out_.push(b);
    parent = detached(b, parent);
  }
  return out_;
}

/**
 * A ledger history of `n` blocks (n ≥ 16) from genesis: coinbases spent to a payee, an asset
 * registered, a bitmark issued and moved twice, so every index has entries in the early blocks.
 */
export function ledgerHistory(
  genesis: IndexEntry,
  n: number,
): {
  blocks: DecodedBlock[];
  bitmarkId: Uint8Array;
  assetId: Uint8Array;
  keys: TestKey[];
  txids: Uint8Array[];
} {
  const p = LOCAL;
  const [miner, alice, bob] = [makeKey(), makeKey(), makeKey()];
  const prefix = emptyBranch(genesis, p.coinbaseMaturity + 2, miner, 'h');
  let parent = prefix.reduce<IndexEntry>((e, b) => detached(b, e), genesis);
  const fund = prefix[0]!.txs[0]!;
  const amount = fund.tx.outputs[0]!.amount;
  const pay = signed({
    version: 1,
    kind: 'transfer',
    inputs: [spend(miner, fund.txid, 0)],
    outputs: [out(alice.owner, amount - 1000)],
  });
  const fingerprint = new TextEncoder().encode('sha256:prune-test');
  const assetId = assetIdOf(fingerprint);
  const reg = signed({
    version: 1,
    kind: 'asset',
    asset: { name: 'Pruned photo', fingerprint, metadata: new Uint8Array() },
    inputs: [spend(alice, pay.txid, 0)],
    outputs: [out(alice.owner, amount - 2000)],
  });
  const issue = signed({
    version: 1,
    kind: 'issue',
    assetId,
    inputs: [spend(alice, reg.txid, 0)],
    outputs: [out(alice.owner, 0, MINT), out(alice.owner, amount - 3000)],
  });
  const bitmarkId = bitmarkIdOf(issue.txid, 0);
  const toBob = signed({
    version: 1,
    kind: 'transfer',
    inputs: [spend(alice, issue.txid, 0), spend(alice, issue.txid, 1)],
    outputs: [out(bob.owner, 0, { type: 'carry', id: bitmarkId }), out(alice.owner, amount - 4000)],
  });
  const withTxs: DecodedTx[][] = [[pay, reg], [issue], [toBob]];
  const blocks = [...prefix];
  for (const txs of withTxs) {
    const b = blockOn(parent, txs, miner.owner, 1000 * txs.length);
    blocks.push(b);
    parent = detached(b, parent);
  }
  const back = signed({
    version: 1,
    kind: 'transfer',
    inputs: [spend(bob, toBob.txid, 0)],
    outputs: [out(alice.owner, 0, { type: 'carry', id: bitmarkId })],
  });
  const b = blockOn(parent, [back], miner.owner);
  blocks.push(b);
  parent = detached(b, parent);
  blocks.push(...emptyBranch(parent, Math.max(0, n - blocks.length), miner, 't'));
  return {
    blocks,
    bitmarkId,
    assetId,
    keys: [miner, alice, bob],
    txids: [pay, reg, issue, toBob, back].map((t) => t.txid),
  };
}

/**
 * SHA-256 over the ledger databases a pruned node keeps whole (every derived one but `undo`, whose
 * old records pruning deletes), as LedgerStore.digest does over all of them.
 */
export function keptLedgerDigest(db: ChainDb): string {
  const h = createHash('sha256');
  for (const name of INDEX_DBS) {
    if (name === 'undo') continue;
    h.update(name);
    for (const { key, value } of db.db(name).getRange({}))
      h.update(u32be(key.length)).update(key).update(u32be(value.length)).update(value);
  }
  return toHex(h.digest());
}

/** What the ledger answers about the history's keys, bitmark, asset and transactions. */
export function ledgerAnswers(chain: Chain, h: ReturnType<typeof ledgerHistory>): unknown {
  const l = chain.ledger;
  return {
    balances: h.keys.map((k) =>
      l
        .addressUnspent(k.owner)
        .reduce((s, c) => s + c.coin.amount, 0)
        .toString(),
    ),
    history: h.keys.map((k) => l.addressHistory(k.owner).length),
    asset: l.getAsset(h.assetId)?.name,
    bitmark: toHex(l.bitmark(h.bitmarkId)!.txid),
    provenance: l.provenance(h.bitmarkId).map((x) => toHex(x.owner)),
    txs: h.txids.map((t) => l.txLocation(t)?.height),
  };
}
