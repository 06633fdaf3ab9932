/**
 * The operator and external-miner RPCs against real cairnd processes: addnode / disconnectnode,
 * setban / listbanned / clearbanned (a banned key is refused and dropped), getblocktemplate +
 * submitblock (an outside miner's block becomes the tip and reaches the peer), getzmqnotifications.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { generateRpcAuth } from '../../services/node/rpc/auth.ts';
import { encodeAddress } from '../../shared/core/address.ts';
import { encodeBlock } from '../../shared/core/block/codec.ts';
import { decodeHeader } from '../../shared/core/block/header.ts';
import { hexToBytes, toHex } from '../../shared/core/bytes.ts';
import { LOCAL } from '../../shared/core/params/networks.ts';
import { decodeTx } from '../../shared/core/tx/codec.ts';
import { makeKey, mineHeader } from '../helpers/chain.ts';
import { eventually, makeNode, type NodeProcess } from '../helpers/cluster.ts';
import { tempDir } from '../helpers/node.ts';
import { rpc, rpcResult } from '../helpers/rpc.ts';

const root = tempDir('cairn-it-rpc-op-');
const nodes: NodeProcess[] = [];
after(async () => {
  await Promise.all(nodes.map((n) => n.kill()));
  root.remove();
});

interface Peer {
  key: string;
}

async function started(name: string): Promise<NodeProcess> {
  const n = await makeNode({ name, root: root.path });
  await n.start();
  nodes.push(n);
  return n;
}

describe('cairnd operator RPCs', { timeout: 120_000 }, () => {
  it('adds, disconnects, bans and unbans a peer by key', async () => {
    const [a, b] = await Promise.all([started('a'), started('b')]);
    const peersOfA = async () => (await rpcResult<Peer[]>(a, 'getpeerinfo')).map((p) => p.key);
    assert.deepEqual(await peersOfA(), []);

    // bad node strings are refused naming the parameter, nothing is added
    const noKey = await rpc(a, 'addnode', [b.address, 'add']);
    assert.equal(noKey.body?.error?.code, -8);
    assert.match(noKey.body!.error!.message, /^node: /);
    assert.equal((await rpc(a, 'addnode', [`${b.key}@0.0.0.0:1`, 'add'])).body?.error?.code, -8);
    assert.equal((await rpc(a, 'addnode', [`${b.key}@${b.address}`, 'sometimes'])).body?.error?.code, -8);

    assert.equal(await rpcResult(a, 'addnode', [`${b.key}@tcp://${b.address}`, 'add']), null);
    await eventually('a dials b', async () => (await peersOfA()).includes(b.key));

    // a static peer comes back after a disconnect; the call itself drops it
    assert.equal(await rpcResult(a, 'disconnectnode', [b.key]), null);
    assert.equal((await rpc(a, 'disconnectnode', ['no-such-peer'])).body?.error?.code, -29);

    assert.equal(await rpcResult(a, 'setban', [b.key, 'add', 3600]), null);
    assert.equal((await rpc(a, 'setban', [b.key, 'add'])).body?.error?.code, -23);
    const banned = await rpcResult<{ address: string; ban_reason: string; time_remaining: number }[]>(
      a,
      'listbanned',
    );
    assert.equal(banned.length, 1);
    assert.equal(banned[0]!.address, b.key);
    assert.ok(banned[0]!.time_remaining > 3500 && banned[0]!.time_remaining <= 3600);
    await eventually('the banned peer is dropped', async () => !(await peersOfA()).includes(b.key));

    // b cannot talk to a while banned: its mined blocks do not reach a through b's own dialling
    await rpcResult(b, 'addnode', [`${a.key}@${a.address}`, 'onetry']);
    await rpcResult(b, 'generatetoaddress', [2, encodeAddress(LOCAL.addressPrefix, makeKey().owner)]);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await rpcResult(a, 'getblockcount'), 0, 'a took blocks from a banned peer');

    assert.equal(await rpcResult(a, 'clearbanned'), null);
    assert.deepEqual(await rpcResult(a, 'listbanned'), []);
    assert.equal((await rpc(a, 'setban', [b.key, 'remove'])).body?.error?.code, -30);
    await eventually(
      'after the ban, a syncs from b again',
      async () => (await rpcResult(a, 'getblockcount')) === 2,
    );

    assert.equal(await rpcResult(a, 'addnode', [b.key, 'remove']), null);
    assert.equal((await rpc(a, 'addnode', [b.key, 'remove'])).body?.error?.code, -24);
  });

  it('takes a block built from getblocktemplate by an outside miner through submitblock', async () => {
    const [a, b] = await Promise.all([started('miner-a'), started('miner-b')]);
    await rpcResult(b, 'addnode', [`${a.key}@${a.address}`, 'add']);
    const payout = encodeAddress(LOCAL.addressPrefix, makeKey().owner);

    const missing = await rpc(a, 'getblocktemplate', [{}]);
    assert.equal(missing.body?.error?.code, -8);
    assert.match(missing.body!.error!.message, /template_request\.payout/);
    assert.equal((await rpc(a, 'getblocktemplate', [{ payout: 'not-an-address' }])).body?.error?.code, -5);

    const t = await rpcResult<{
      height: number;
      header: string;
      coinbasetxn: { data: string };
      transactions: { data: string }[];
      coinbasevalue: number;
      curtime: number;
      mintime: number;
    }>(a, 'getblocktemplate', [{ payout, coinbasedata: toHex(new TextEncoder().encode('outside miner')) }]);
    assert.equal(t.height, 1);
    // after genesis alone, the earliest time is genesis + 1 (median time past + 1), not "now"
    assert.equal(t.mintime, LOCAL.genesisTime + 1);
    assert.ok(t.curtime >= t.mintime);
    assert.ok(t.coinbasevalue > 0);
    const header = mineHeader(decodeHeader(hexToBytes(t.header)));
    const txs = [t.coinbasetxn, ...t.transactions].map((x) => decodeTx(hexToBytes(x.data)));
    const block = toHex(encodeBlock(header, txs));

    assert.equal(await rpcResult(a, 'submitblock', [block]), null);
    assert.equal(await rpcResult(a, 'getblockcount'), 1);
    assert.equal(await rpcResult(a, 'submitblock', [block]), 'duplicate');
    assert.equal((await rpc(a, 'submitblock', ['00ff'])).body?.error?.code, -22);
    // the same template with an unsolved nonce is refused with the consensus reject code
    const unsolved = toHex(encodeBlock({ ...header, nonce: header.nonce + 1n }, txs));
    const verdict = await rpcResult<string | null>(a, 'submitblock', [unsolved]);
    assert.ok(typeof verdict === 'string' && verdict !== 'duplicate', `unsolved block answered ${verdict}`);
    await eventually(
      'the submitted block reaches the peer',
      async () => (await rpcResult(b, 'getblockcount')) === 1,
    );
    const info = await rpcResult<{ address: string; balance: number }>(a, 'getaddressinfo', [payout]);
    assert.equal(info.balance, t.coinbasevalue);
  });

  it('lets an rpc.auth user in with its password, and nobody with a wrong one', async () => {
    const { entry, password } = generateRpcAuth('alice');
    const n = await makeNode({ name: 'auth', root: root.path, rpcAuth: [entry] });
    await n.start();
    nodes.push(n);
    assert.equal((await rpc(n, 'getblockcount', [], `alice:${password}`)).body?.result, 0);
    assert.equal((await rpc(n, 'getblockcount', [], 'alice:wrong')).status, 401);
    assert.equal((await rpc(n, 'getblockcount', [], `bob:${password}`)).status, 401);
    // the cookie still works beside the users
    assert.equal((await rpc(n, 'getblockcount')).body?.result, 0);
  });

  it('lists the feed notifications', async () => {
    const a = nodes[0]!;
    const n = await rpcResult<{ type: string; address: string; hwm: number }[]>(a, 'getzmqnotifications');
    assert.deepEqual(n.map((x) => x.type).sort(), [
      'pubhashblock',
      'pubhashtx',
      'pubrawblock',
      'pubrawtx',
      'pubsequence',
    ]);
    for (const x of n) assert.equal(x.address, `tcp://127.0.0.1:${a.feedPort}`);
  });
});
