/**
 * Pruning with real cairnd processes (issue 15): a node with storage.prune_mb prunes its old blocks
 * (pruneblockchain), says so in its hello and getblockchaininfo, answers "pruned data" for them, keeps
 * the same UTXO set as a full node, and a fresh node syncing from it and a full node completes; one
 * syncing from it alone gets every header and waits for the blocks, neither side crashing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { IndexEntry } from '../../services/node/chain/block-index.ts';
import { decodeBlock } from '../../shared/core/block/codec.ts';
import { hashToHex } from '../../shared/core/bytes.ts';
import { LOCAL } from '../../shared/core/params/networks.ts';
import {
  eventually,
  heightOf,
  makeNode,
  makeProbeIdentity,
  type NodeProcess,
  probe,
  pushAll,
} from '../helpers/cluster.ts';
import { tempDir } from '../helpers/node.ts';
import { ledgerHistory } from '../helpers/prune.ts';
import { rpc, rpcResult } from '../helpers/rpc.ts';

const root = tempDir('cairn-prune-');
const nodes: NodeProcess[] = [];
after(async () => {
  await Promise.all(nodes.map((n) => n.kill()));
  root.remove();
});

const HEIGHT = 330;
const MAIN = fileURLToPath(new URL('../../services/node/main.ts', import.meta.url));

function genesisEntry(): IndexEntry {
  const g = decodeBlock(LOCAL.genesisBlock);
  return {
    hash: g.hash,
    key: '',
    header: g.header,
    height: 0,
    work: 0n,
    status: 0,
    parent: null,
    sequence: 0,
    anchorTime: g.header.time,
  };
}

describe('a pruned cairnd', { timeout: 300_000 }, () => {
  it('prunes, says so, keeps the ledger, and serves syncing peers what it has', async () => {
    const history = ledgerHistory(genesisEntry(), HEIGHT);
    const a = await makeNode({ name: 'pruned', root: root.path, extra: '[storage]\nprune_mb = 1600' });
    const b = await makeNode({ name: 'full', root: root.path });
    nodes.push(a, b); // before starting: after() stops whichever started if one fails
    await Promise.all([a.start(), b.start()]);
    const id = makeProbeIdentity(root.path);
    for (const n of [a, b]) {
      const p = await probe(n, id);
      await pushAll(p, history.blocks);
      await p.close();
    }
    for (const n of [a, b])
      await eventually(`${n.name} at ${HEIGHT}`, async () => (await heightOf(n, id)) === HEIGHT);

    // prune_mb = 1600 is far above these blocks: pruneblockchain prunes now, all but the last 288
    assert.equal(await rpcResult(a, 'pruneblockchain', [HEIGHT]), HEIGHT - 288);
    const info = await rpcResult<Record<string, unknown>>(a, 'getblockchaininfo');
    assert.equal(info.pruned, true);
    assert.equal(info.pruneheight, HEIGHT - 288 + 1);
    assert.equal(info.automatic_pruning, true);
    assert.equal(info.prune_target_size, 1_600_000_000);
    assert.equal((await rpcResult<Record<string, unknown>>(b, 'getblockchaininfo')).pruned, false);
    const metrics = await (await fetch(`http://127.0.0.1:${a.metricsPort}/metrics`)).text();
    assert.match(metrics, new RegExp(`^cairn_prune_height ${HEIGHT - 288}$`, 'm'));
    const notPruned = await rpc(b, 'pruneblockchain', [10]);
    assert.match(notPruned.body?.error?.message ?? '', /not in prune mode/);

    const old = hashToHex(history.blocks[9]!.hash);
    const r = await rpc(a, 'getblock', [old]);
    assert.equal(r.body?.error?.code, -1);
    assert.equal(r.body?.error?.message, 'Block not available (pruned data)');
    assert.equal((await rpcResult<{ height: number }>(b, 'getblock', [old])).height, 10);
    assert.equal(
      (await rpcResult<{ height: number }>(a, 'getblockheader', [old])).height,
      10,
      'headers stay',
    );
    const tx = await rpc(a, 'getrawtransaction', [hashToHex(history.txids[0]!), true]);
    assert.match(tx.body?.error?.message ?? '', /pruned data/);
    const rest = await fetch(`http://127.0.0.1:${a.rpcPort}/rest/block/${old}`);
    assert.equal(rest.status, 404);
    assert.match(await rest.text(), /pruned data/);
    const prevouts = await fetch(
      `http://127.0.0.1:${a.rpcPort}/rest/tx/${hashToHex(history.txids[0]!)}/prevouts`,
    );
    assert.equal(prevouts.status, 404);
    assert.match(await prevouts.text(), /Transaction data not available \(pruned data\)/);
    // the ledger: the same UTXO set as the full node
    const utxo = async (n: NodeProcess) =>
      (await rpcResult<{ hash_serialized: string }>(n, 'gettxoutsetinfo')).hash_serialized;
    assert.equal(await utxo(a), await utxo(b));

    // the hello says it is pruned, and how far
    const pa = await probe(a, id);
    assert.equal(pa.remote?.pruneHeight, HEIGHT - 288);
    await pa.close();
    const pb = await probe(b, id);
    assert.equal(pb.remote?.pruneHeight, undefined);
    await pb.close();

    // a node syncing from the pruned node alone (the only node it can learn of: nothing else is
    // connected to it yet) gets every header and the blocks the pruned node kept, and waits for
    // the ones it lacks: it asks the pruned node only for blocks above its prune height
    const d = await makeNode({
      name: 'alone',
      root: root.path,
      connect: [{ address: a.address, key: a.key }],
    });
    await d.start();
    nodes.push(d);
    await eventually(
      'alone has every header',
      async () => (await rpcResult<{ headers: number }>(d, 'getblockchaininfo')).headers === HEIGHT,
    );
    const top = hashToHex(history.blocks[HEIGHT - 1]!.hash);
    await eventually('alone holds the blocks the pruned node kept', async () => {
      const r = await rpc(d, 'getblock', [top, 0]);
      return typeof r.body?.result === 'string';
    });
    const dInfo = await rpcResult<{ blocks: number }>(d, 'getblockchaininfo');
    assert.equal(dInfo.blocks, 0, 'the pruned peer has not got block 1');

    // a fresh node syncing from the pruned node and the full node completes
    const c = await makeNode({
      name: 'fresh',
      root: root.path,
      connect: [
        { address: a.address, key: a.key },
        { address: b.address, key: b.key },
      ],
    });
    await c.start();
    nodes.push(c);
    await eventually(`fresh at ${HEIGHT}`, async () => (await heightOf(c, id)) === HEIGHT, 120_000);
    assert.equal(await utxo(c), await utxo(b));
    // nobody crashed, and the pruned node never logged an error
    for (const n of [a, b, c, d]) assert.equal(n.exitCode, null, `${n.name} exited`);
    assert.deepEqual(
      a.logs.filter((l) => l.level >= 50).map((l) => l.msg),
      [],
    );
  });

  it('reindex, dump-block and export-blocks on the pruned data directory refuse and say what to do', async () => {
    const a = nodes[0]!;
    await a.stop();
    const run = (args: string[]) => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args, '--config', a.configPath], {
        encoding: 'utf8',
      });
      return { status: r.status, text: r.stdout + r.stderr };
    };
    const reindex = run(['reindex']);
    assert.equal(reindex.status, 64, reindex.text);
    assert.match(
      reindex.text,
      /were pruned, so the ledger cannot be rebuilt from them: move the data directory away and resync/,
    );
    const dump = run(['dump-block', '10']);
    assert.equal(dump.status, 64, dump.text);
    assert.match(dump.text, /block pruned: the data of the block at height 10 was deleted by pruning/);
    const exp = run(['export-blocks', join(root.path, 'x.cba')]);
    assert.equal(exp.status, 64, exp.text);
    assert.match(
      exp.text,
      /block pruned: this node pruned the blocks up to height 42.*export from --from 43/,
    );
    const ok = run(['dump-block', String(HEIGHT)]);
    assert.equal(ok.status, 0, ok.text);
  });
});
