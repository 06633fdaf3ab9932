/**
 * JSON-RPC against real cairnd processes: cookie auth, mining on local, a transaction sent to one
 * node reaching its peer's mempool, provenance of a bitmark, errors with Core's codes.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { encodeAddress } from '../../shared/core/address.ts';
import { hashFromHex, hashToHex, toHex } from '../../shared/core/bytes.ts';
import { LOCAL } from '../../shared/core/params/networks.ts';
import { assetIdOf, bitmarkIdOf } from '../../shared/core/tx/ids.ts';
import { MINT } from '../../shared/core/tx/types.ts';
import { makeKey, out, signed, spend } from '../helpers/chain.ts';
import { eventually, makeNode, type NodeProcess } from '../helpers/cluster.ts';
import { tempDir } from '../helpers/node.ts';
import { rpc } from '../helpers/rpc.ts';

const root = tempDir('cairn-it-rpc-');
const nodes: NodeProcess[] = [];
after(async () => {
  await Promise.all(nodes.map((n) => n.kill()));
  root.remove();
});

describe('cairnd JSON-RPC', { timeout: 120_000 }, () => {
  it('mines, relays a transaction to a peer, registers and issues, and answers provenance', async () => {
    const a = await makeNode({ name: 'a', root: root.path });
    await a.start();
    nodes.push(a);
    const b = await makeNode({
      name: 'b',
      root: root.path,
      connect: [{ address: a.address, key: a.key }],
    });
    await b.start();
    nodes.push(b);

    assert.equal((await rpc(a, 'getblockcount', [], '__cookie__:wrong')).status, 401);
    const alice = makeKey();
    const addr = encodeAddress(LOCAL.addressPrefix, alice.owner);
    const mined = (await rpc(a, 'generatetoaddress', [12, addr])).body!.result as string[];
    assert.equal(mined.length, 12);
    await eventually('b follows', async () => (await rpc(b, 'getblockcount')).body!.result === 12);

    // spend the first coinbase: register an asset, issue one bitmark (in one go through the pool)
    const first = (await rpc(a, 'getblock', [mined[0], 2])).body!.result as {
      tx: { txid: string; vout: { value: number }[] }[];
    };
    const cb = first.tx[0]!;
    const fingerprint = new TextEncoder().encode('sha256:rpc-test');
    const reg = signed({
      version: 1,
      kind: 'asset',
      asset: { name: 'RPC asset', fingerprint, metadata: new Uint8Array() },
      inputs: [spend(alice, hashFromHex(cb.txid)!, 0)],
      outputs: [out(alice.owner, cb.vout[0]!.value - 10_000)],
    });
    const sent = await rpc(a, 'sendrawtransaction', [toHex(reg.raw)]);
    assert.equal(sent.body!.result, hashToHex(reg.txid));
    await eventually('the tx reached b’s mempool', async () =>
      ((await rpc(b, 'getrawmempool')).body!.result as string[]).includes(hashToHex(reg.txid)),
    );
    const issue = signed({
      version: 1,
      kind: 'issue',
      assetId: assetIdOf(fingerprint),
      inputs: [spend(alice, reg.txid, 0)],
      outputs: [out(alice.owner, 0, MINT), out(alice.owner, cb.vout[0]!.value - 20_000)],
    });
    assert.equal(
      (await rpc(a, 'sendrawtransaction', [toHex(issue.raw)])).body!.result,
      hashToHex(issue.txid),
    );
    // a double spend paying less than the transactions it would replace is refused with -26
    const double = signed({
      version: 1,
      kind: 'transfer',
      inputs: [spend(alice, hashFromHex(cb.txid)!, 0)],
      outputs: [out(alice.owner, cb.vout[0]!.value - 5_000)],
    });
    const refused = await rpc(a, 'sendrawtransaction', [toHex(double.raw)]);
    assert.equal(refused.body!.error?.code, -26);
    await rpc(a, 'generatetoaddress', [1, addr]);
    const bm = bitmarkIdOf(issue.txid, 0);
    await eventually(
      'b has the bitmark',
      async () => (await rpc(b, 'getbitmark', [hashToHex(bm)])).body!.result !== undefined,
    );
    const prov = (await rpc(b, 'getprovenance', [hashToHex(bm)])).body!.result as {
      owner: string;
    }[];
    assert.deepEqual(
      prov.map((h) => h.owner),
      [addr],
    );
    const asset = (await rpc(b, 'getasset', [hashToHex(assetIdOf(fingerprint))])).body!.result as {
      name: string;
    };
    assert.equal(asset.name, 'RPC asset');
    const missing = await rpc(a, 'getblock', ['00'.repeat(32)]);
    assert.equal(missing.body!.error?.code, -5);
  });
});
