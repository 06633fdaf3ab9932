/**
 * Peers' transactions against a real cairnd with a verify worker: a `txs` push is verified in one
 * batch on the worker (getmempoolinfo's verifybatches / verifybatchedtxs), then accepted in order
 * with the same answers and scores as before: valid ones accepted, a double spend refused without
 * a score, a bad signature refused and its sender banned (dos 100); a single `tx` push is checked
 * on the main thread (a batch that small costs more to hand over).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { hashToHex } from '../../shared/core/bytes.ts';
import { toDecodedTx } from '../../shared/core/tx/codec.ts';
import type { TransferTx } from '../../shared/core/tx/types.ts';
import { out } from '../helpers/chain.ts';
import { makeNode, makeProbeIdentity, type NodeProcess, probe } from '../helpers/cluster.ts';
import { fundKey } from '../helpers/funded.ts';
import { tempDir } from '../helpers/node.ts';
import { rpcResult } from '../helpers/rpc.ts';

const root = tempDir('cairn-it-p2p-tx-batches-');
const nodes: NodeProcess[] = [];
after(async () => {
  await Promise.all(nodes.map((n) => n.kill()));
  root.remove();
});

interface PoolInfo {
  size: number;
  verifybatches: number;
  verifybatchedtxs: number;
  verifyinlinetxs: number;
}

describe("cairnd takes peers' transactions in batches on its verify worker", { timeout: 120_000 }, () => {
  it('a txs push: one batch, answers in order, the bad signature banned, the double spend not scored', async () => {
    const a = await makeNode({ name: 'a', root: root.path, verifyWorkers: 1 });
    await a.start();
    nodes.push(a);
    const { key: alice, coins, pay } = await fundKey(a, 6);
    const valid = coins.slice(0, 4).map((c) => pay(c, 1000));
    // the same coin as valid[0], the same fee: refused (not a replacement), no one's fault
    const double = pay(coins[0]!, 1000 + 1);
    // an output changed after signing: the signature does not verify
    const good = pay(coins[4]!, 1000);
    const bad = toDecodedTx({ ...(good.tx as TransferTx), outputs: [out(alice.owner, 5)] });

    const before = await rpcResult<PoolInfo>(a, 'getmempoolinfo');
    assert.equal(before.verifybatches, 0);
    const sender = makeProbeIdentity(root.path, 'sender');
    const p = await probe(a, sender);
    const statuses = await p.pushTxs([...valid, double, bad].map((d) => d.raw));
    await p.close();
    assert.deepEqual(statuses, ['accepted', 'accepted', 'accepted', 'accepted', 'rejected', 'rejected']);
    const info = await rpcResult<PoolInfo>(a, 'getmempoolinfo');
    assert.equal(info.size, 4);
    assert.equal(info.verifybatches, 1, 'the six in one batch on the worker');
    assert.equal(info.verifybatchedtxs, 6);
    const pool = await rpcResult<string[]>(a, 'getrawmempool');
    for (const d of valid) assert.ok(pool.includes(hashToHex(d.txid)));

    // scored once, for the bad signature only: banned (dos 100)
    await a.waitLog(/banned peer/, 10_000);
    const scored = a.logs.filter((l) => /misbehaved/.test(l.msg));
    assert.equal(scored.length, 1, scored.map((l) => l.msg).join('\n'));
    assert.match(scored[0]!.msg, /sent invalid tx: bad-txns-sig: input 0 signature does not verify/);
    await assert.rejects(
      () => probe(a, sender),
      (e: Error & { code?: string }) => e.code === 'banned',
    );

    // another peer's single tx push: one signature, nothing at the worker: checked on the main thread
    const other = await probe(a, makeProbeIdentity(root.path, 'other'));
    assert.equal(await other.pushTx(pay(coins[5]!, 1000).raw), 'accepted');
    assert.equal(await other.pushTx(valid[1]!.raw), 'duplicate');
    await other.close();
    const last = await rpcResult<PoolInfo>(a, 'getmempoolinfo');
    assert.equal(last.size, 5);
    assert.equal(last.verifybatches, 1);
    assert.equal(last.verifyinlinetxs, 2);
  });
});
