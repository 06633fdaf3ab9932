/**
 * Concurrent sendrawtransaction against a real cairnd with a verify worker (the submissions'
 * signatures are verified in batches there): every valid one accepted, of two spending the same
 * coin exactly one, a bad signature refused alone with Core's -26 and its reject code.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { hashToHex, toHex } from '../../shared/core/bytes.ts';
import { toDecodedTx } from '../../shared/core/tx/codec.ts';
import type { TransferTx } from '../../shared/core/tx/types.ts';
import { out } from '../helpers/chain.ts';
import { makeNode, type NodeProcess } from '../helpers/cluster.ts';
import { fundKey } from '../helpers/funded.ts';
import { tempDir } from '../helpers/node.ts';
import { type RpcReply, rpc, rpcResult } from '../helpers/rpc.ts';

const root = tempDir('cairn-it-rpc-mempool-');
const nodes: NodeProcess[] = [];
after(async () => {
  await Promise.all(nodes.map((n) => n.kill()));
  root.remove();
});

describe('cairnd sendrawtransaction, concurrent, with a verify worker', { timeout: 120_000 }, () => {
  it('accepts each valid one, one of a double spend, and refuses a bad signature alone', async () => {
    const a = await makeNode({ name: 'a', root: root.path, verifyWorkers: 1 });
    await a.start();
    nodes.push(a);
    const { key: alice, coins, pay } = await fundKey(a, 8);
    const valid = coins.slice(0, 6).map((c) => pay(c, 1000));
    const double = [pay(coins[6]!, 1000), pay(coins[6]!, 1000 + 1)];
    // an output changed after signing: the signature does not verify
    const good = pay(coins[7]!, 1000);
    const bad = toDecodedTx({ ...(good.tx as TransferTx), outputs: [out(alice.owner, 5)] });

    const all = [...valid, ...double, bad];
    const replies: RpcReply[] = await Promise.all(
      all.map((d) => rpc(a, 'sendrawtransaction', [toHex(d.raw)])),
    );
    const errorOf = (r: RpcReply) => r.body?.error ?? undefined;

    replies.slice(0, 6).forEach((r, i) => {
      assert.equal(errorOf(r), undefined, `valid #${i}: ${errorOf(r)?.message}`);
      assert.equal(r.body!.result, hashToHex(valid[i]!.txid));
    });
    const doubleReplies = replies.slice(6, 8);
    assert.equal(
      doubleReplies.filter((r) => errorOf(r) === undefined).length,
      1,
      'exactly one of a double spend',
    );
    const refused = doubleReplies.find((r) => errorOf(r) !== undefined)!;
    assert.equal(errorOf(refused)!.code, -26);
    const badReply = replies[8]!;
    assert.equal(errorOf(badReply)?.code, -26);
    assert.match(errorOf(badReply)!.message, /input 0 signature does not verify/);
    assert.equal((badReply.body!.error as { data?: { code?: string } }).data?.code, 'bad-txns-sig');

    const pool = await rpcResult<string[]>(a, 'getrawmempool');
    assert.equal(pool.length, 7);
    for (const d of valid) assert.ok(pool.includes(hashToHex(d.txid)));
    assert.ok(!pool.includes(hashToHex(bad.txid)));
  });
});
