/**
 * Compact block relay between real cairnd processes (issue 16): a new block goes to a peer of
 * protocol 2 as `cmpctblock` and is rebuilt from its mempool, the receiver asks for exactly the
 * transactions it lacks, and a peer that states protocol 1 (`peering.compact_blocks = false`, as a
 * node from before compact blocks) still gets the whole block. What went over the wire is read
 * from getpeerinfo's bytesrecv_per_msg on the receivers.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { compactBlock } from '../../services/node/p2p/compact-block.ts';
import { hashToHex } from '../../shared/core/bytes.ts';
import type { DecodedTx } from '../../shared/core/tx/types.ts';
import { MemoryLedger, makeKey, out } from '../helpers/chain.ts';
import {
  eventually,
  makeNode,
  makeProbeIdentity,
  type NodeProcess,
  probe,
  pushAll,
} from '../helpers/cluster.ts';
import { tempDir } from '../helpers/node.ts';
import { transfer } from '../helpers/reservoir.ts';
import { rpcResult } from '../helpers/rpc.ts';

const root = tempDir('cairn-compact-');
const nodes: NodeProcess[] = [];
after(async () => {
  await Promise.all(nodes.map((n) => n.kill()));
  root.remove();
});

interface PeerInfo {
  key: string;
  inbound: boolean;
  version: number;
  bytesrecv_per_msg: Record<string, number>;
}

async function inboundFrom(n: NodeProcess, key: string): Promise<PeerInfo | undefined> {
  const peers = await rpcResult<PeerInfo[]>(n, 'getpeerinfo');
  return peers.find((p) => p.inbound && p.key === key);
}

async function mempool(n: NodeProcess): Promise<string[]> {
  return rpcResult<string[]>(n, 'getrawmempool');
}

describe('compact block relay between cairnd processes', { timeout: 240_000 }, () => {
  it('compact to a new peer (only missing txs fetched), whole to an old-style one', async () => {
    const b = await makeNode({ name: 'b', root: root.path });
    const c = await makeNode({
      name: 'c',
      root: root.path,
      extra: 'compact_blocks = false' /* the config's last table is [peering] */,
    });
    nodes.push(b, c); // before starting: after() stops whichever started if one fails
    await Promise.all([b.start(), c.start()]);
    const a = await makeNode({
      name: 'a',
      root: root.path,
      connect: [
        { address: b.address, key: b.key },
        { address: c.address, key: c.key },
      ],
    });
    await a.start();
    nodes.push(a);

    // coins the test can spend: 20 blocks of ours (10 to mature)
    const owner = makeKey();
    const ledger = new MemoryLedger();
    const coinbases = ledger.mine(20, owner.owner);
    const id = makeProbeIdentity(root.path);
    const pa = await probe(a, id);
    await pushAll(pa, ledger.blocks.slice(1));
    for (const n of [a, b, c])
      await eventually(
        `${n.name} at height 20`,
        async () => (await rpcResult<number>(n, 'getblockcount')) === 20,
      );
    const spend = (i: number): DecodedTx =>
      transfer(owner, [[coinbases[i]!, 0]], [out(owner.owner, coinbases[i]!.tx.outputs[0]!.amount - 10_000)]);

    // five transactions reach every mempool through a's relay; a sixth is known to nobody
    const relayed = [0, 1, 2, 3, 4].map(spend);
    for (const t of relayed) assert.equal(await pa.pushTx(t.raw), 'accepted');
    for (const n of [b, c])
      await eventually(`${n.name} has the 5 transactions`, async () => (await mempool(n)).length === 5);
    const beforeB = (await inboundFrom(b, a.key))!.bytesrecv_per_msg;
    const beforeC = (await inboundFrom(c, a.key))!.bytesrecv_per_msg;
    const unseen = spend(5);
    const block21 = ledger.nextBlock([...relayed, unseen], owner.owner, 6 * 10_000);
    ledger.apply(block21);
    assert.equal(await pa.pushBlock(block21.raw), 'accepted');
    await pa.close();
    for (const n of [b, c])
      await eventually(
        `${n.name} on block 21`,
        async () => (await rpcResult<string>(n, 'getbestblockhash')) === hashToHex(block21.hash),
      );

    const atB = (await inboundFrom(b, a.key))!;
    const atC = (await inboundFrom(c, a.key))!;
    assert.equal(atB.version, 2);
    assert.ok((atB.bytesrecv_per_msg.cmpctblock ?? 0) > 0, 'b got a compact block from a');
    assert.equal(atB.bytesrecv_per_msg.block, undefined, 'and no whole block');
    // a knew b had the five (it relayed them), not the sixth: that one came prefilled, nothing asked
    assert.equal(atB.bytesrecv_per_msg.blocktxn, undefined);
    assert.ok((atC.bytesrecv_per_msg.block ?? 0) > 0, 'c (protocol 1) got the whole block');
    assert.equal(atC.bytesrecv_per_msg.cmpctblock, undefined);
    // block 21 alone: its compact form against the whole block
    const compactBytes = atB.bytesrecv_per_msg.cmpctblock! - (beforeB.cmpctblock ?? 0);
    const wholeBytes = atC.bytesrecv_per_msg.block! - (beforeC.block ?? 0);
    assert.ok(compactBytes > 0 && wholeBytes > 0);
    assert.ok(
      compactBytes < wholeBytes - 5 * 100,
      `compact ${compactBytes} B vs whole ${wholeBytes} B: the five relayed transactions went as short ids`,
    );
    // transactions went to b batched (txs, protocol 2) and to c one by one (tx)
    assert.ok((atB.bytesrecv_per_msg.txs ?? 0) > 0 && atB.bytesrecv_per_msg.tx === undefined);
    assert.ok((atC.bytesrecv_per_msg.tx ?? 0) > 0 && atC.bytesrecv_per_msg.txs === undefined);

    // b fetches exactly what its mempool lacks: a sender that takes every tx as known (no
    // prefilling) gets asked for the two b has never seen, and nothing else
    const inPool = [6, 7].map(spend);
    const missing = [8, 9].map(spend);
    const pb = await probe(b, makeProbeIdentity(root.path, 'probe-b'));
    for (const t of inPool) assert.equal(await pb.pushTx(t.raw), 'accepted');
    const block22 = ledger.nextBlock(
      [inPool[0]!, missing[0]!, inPool[1]!, missing[1]!],
      owner.owner,
      4 * 10_000,
    );
    const first = await pb.pushCompact(compactBlock(block22, 42n, () => true));
    assert.deepEqual(first, { status: 'want-txs', indexes: [2, 4] }, 'block indexes of the two unseen');
    const done = await pb.pushBlockTxns({ hash: block22.hash, txs: missing });
    assert.deepEqual(done, { status: 'accepted' });
    await pb.close();
    assert.equal(await rpcResult<string>(b, 'getbestblockhash'), hashToHex(block22.hash));
    assert.deepEqual(await mempool(b), [], 'the block took its transactions out of the mempool');
  });
});
