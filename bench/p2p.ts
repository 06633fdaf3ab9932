/**
 * P2P benchmarks with real cairnd processes over CURVE on loopback:
 * - sync: a fresh node syncing 2,000 blocks × 50 transfers (after 2,010 funding blocks) from one
 *   peer, tx/s, next to the same chain connected locally by ChainState in this run (target ≥ 0.7);
 * - propagation: a line of 5 nodes, a block pushed to one end, time until the far end has it
 *   (median over 20 blocks, per hop; target < 50 ms).
 */

import { createRequire } from 'node:module';
import { ChainState } from '../services/node/chain-state.ts';
import type { DecodedBlock } from '../shared/core/block/types.ts';
import { LOCAL } from '../shared/core/params/networks.ts';
import { encodeUnsignedTx, toDecodedTx } from '../shared/core/tx/codec.ts';
import { signatureHashOfUnsigned } from '../shared/core/tx/ids.ts';
import { type DecodedTx, NO_BITMARK, type TransferTx } from '../shared/core/tx/types.ts';
import { silentLogger } from '../shared/log.ts';
import {
  eventually,
  heightOf,
  makeNode,
  makeProbeIdentity,
  type NodeProcess,
  probe,
  pushAll,
} from '../test/helpers/cluster.ts';
import { tempDir } from '../test/helpers/node.ts';
import { type BenchKey, makeKeys, mineBlock, splitSubsidy, tipOf, transfer } from './fixtures.ts';
import { type BenchResult, median, runAsMain } from './result.ts';

const p = LOCAL;

/** A coin of the chain the bench can spend later (mempool acceptance): a transfer's change output. */
export interface Spendable {
  key: BenchKey;
  txid: Uint8Array;
  vout: number;
  amount: number;
}

const native = createRequire(import.meta.url)('secp256k1/bindings') as {
  ecdsaSign(msg: Uint8Array, key: Uint8Array): { signature: Uint8Array };
};

/** A transfer spending `coins` (all `key`'s) to two outputs, as fixtures' transfer() for one input. */
function transferOf(
  key: BenchKey,
  coins: readonly { txid: Uint8Array; vout: number; amount: number }[],
  to: Uint8Array,
  fee: number,
): DecodedTx {
  const amount = coins.reduce((a, c) => a + c.amount, 0);
  const unsignedTx: TransferTx = {
    version: 1,
    kind: 'transfer',
    inputs: coins.map((c) => ({
      prevTxid: c.txid,
      vout: c.vout,
      pubkey: key.pub,
      signature: new Uint8Array(64),
    })),
    outputs: [
      { owner: to, amount: Math.floor(amount / 3), bitmark: NO_BITMARK },
      { owner: key.owner, amount: amount - Math.floor(amount / 3) - fee, bitmark: NO_BITMARK },
    ],
  };
  const unsigned = encodeUnsignedTx(unsignedTx);
  const inputs = unsignedTx.inputs.map((input, i) => ({
    ...input,
    signature: native.ecdsaSign(signatureHashOfUnsigned(p.genesisHash, unsigned, i), key.priv).signature,
  }));
  return toDecodedTx({ ...unsignedTx, inputs });
}

/**
 * BLOCKS funding blocks whose coinbases pay TXS_PER_BLOCK keys, the coinbase maturity, then BLOCKS
 * blocks of TXS_PER_BLOCK transfers with two outputs each (a third to the next key, the rest back
 * as change less a fee of 1,000). Each spends one funding output; with `twoInputs`, every other
 * transfer of the second and later transfer blocks also spends its key's change from the block
 * before (so half have two inputs, as bench/vs-bcoin.ts's workload). `spendable`: the change
 * outputs left unspent, newest block first.
 */
export function buildChain(
  blocks: number,
  txsPerBlock: number,
  opts: { twoInputs?: boolean } = {},
): { raw: Uint8Array[]; txs: number; inputs: number; spendable: Spendable[] } {
  const keys = makeKeys(txsPerBlock);
  const owners = keys.map((k) => k.owner);
  const out: Uint8Array[] = [];
  let tip = tipOf({ hash: p.genesisHash, header: { time: p.genesisTime } } as unknown as DecodedBlock, 0);
  const funding: { txid: Uint8Array; amounts: number[] }[] = [];
  let txs = 0;
  let inputs = 0;
  for (let i = 0; i < blocks + p.coinbaseMaturity; i++) {
    const b = mineBlock(tip, splitSubsidy(tip.height + 1, i < blocks ? owners : [owners[0]!]), []);
    out.push(b.raw);
    txs++;
    if (i < blocks)
      funding.push({ txid: b.txs[0]!.txid, amounts: b.txs[0]!.tx.outputs.map((o) => o.amount) });
    tip = tipOf(b, tip.height + 1, tip);
  }
  // change outputs of each transfer block, undefined once spent
  const change: (Spendable | undefined)[][] = [];
  for (let i = 0; i < blocks; i++) {
    const f = funding[i]!;
    const list: DecodedTx[] = [];
    change.push([]);
    let fees = 0;
    for (let k = 0; k < txsPerBlock; k++) {
      const prev = change[i - 1]?.[k];
      const coins = [{ txid: f.txid, vout: k, amount: f.amounts[k]! }];
      if (opts.twoInputs === true && k % 2 === 1 && prev !== undefined) {
        coins.push(prev);
        change[i - 1]![k] = undefined;
      }
      // 1,000 unless the coins are too small for it (the subsidy halves every 150 blocks on local)
      const fee = Math.min(1000, Math.floor(coins.reduce((a, c) => a + c.amount, 0) / 4));
      const to = owners[(k + 1) % txsPerBlock]!;
      const t =
        coins.length === 1
          ? transfer(keys[k]!, f.txid, k, coins[0]!.amount, to, fee)
          : transferOf(keys[k]!, coins, to, fee);
      list.push(t);
      fees += fee;
      inputs += coins.length;
      change[i]!.push({ key: keys[k]!, txid: t.txid, vout: 1, amount: t.tx.outputs[1]!.amount });
    }
    const b = mineBlock(tip, splitSubsidy(tip.height + 1, [owners[0]!], fees), list);
    out.push(b.raw);
    txs += list.length + 1;
    tip = tipOf(b, tip.height + 1, tip);
  }
  const spendable = change.reverse().flatMap((c) => c.filter((s): s is Spendable => s !== undefined));
  return { raw: out, txs, inputs, spendable };
}

export async function benchP2P(blocks = 2000, txsPerBlock = 50): Promise<BenchResult[]> {
  const root = tempDir('cairn-bench-p2p-');
  const nodes: NodeProcess[] = [];
  try {
    const chain = buildChain(blocks, txsPerBlock);
    const height = chain.raw.length;

    // the source node's data: connected locally, timed (this is the local connect rate)
    const source = await makeNode({ name: 'source', root: root.path });
    const state = await ChainState.open({ dataDir: source.dir, params: p }, { logger: silentLogger() });
    const t0 = performance.now();
    for (const raw of chain.raw) state.chain.processBlock(raw);
    const localSeconds = (performance.now() - t0) / 1000;
    await state.close();
    const localRate = chain.txs / localSeconds;

    await source.start();
    nodes.push(source);
    const id = makeProbeIdentity(root.path);
    const fresh = await makeNode({
      name: 'fresh',
      root: root.path,
      connect: [{ address: source.address, key: source.key }],
    });
    const s0 = performance.now();
    await fresh.start();
    nodes.push(fresh);
    await eventually('fresh node synced', async () => (await heightOf(fresh, id)) === height, 600_000);
    const syncSeconds = (performance.now() - s0) / 1000;
    const syncRate = chain.txs / syncSeconds;
    await Promise.all(nodes.splice(0).map((n) => n.kill()));

    // propagation along a line of 5
    const line: NodeProcess[] = [];
    for (let i = 0; i < 5; i++) {
      const prev = line[i - 1];
      const n = await makeNode({
        name: `line${i}`,
        root: root.path,
        ...(prev ? { connect: [{ address: prev.address, key: prev.key }] } : {}),
      });
      await n.start();
      line.push(n);
      nodes.push(n);
    }
    // every node connected both ways with its neighbours (dial-back) before measuring
    await new Promise((r) => setTimeout(r, 3000));
    const far = line[4]!;
    const ledger = new (await import('../test/helpers/chain.ts')).MemoryLedger();
    const miner = (await import('../test/helpers/chain.ts')).makeKey();
    const head = await probe(line[0]!, id);
    const hops: number[] = [];
    for (let k = 0; k < 21; k++) {
      const b = ledger.nextBlock([], miner.owner);
      ledger.apply(b);
      const sent = Date.now();
      await pushAll(head, [b]);
      const h = ledger.height;
      const seen = await far.waitLog(new RegExp(`new tip at height ${h}$`), 30_000);
      if (k > 0) hops.push((Number(seen.time) - sent) / 4); // first block warms the connections
    }
    await head.close();
    return [
      {
        name: 'p2p/local-connect',
        ops: localRate,
        unit: 'tx/s',
        note: `${height} blocks (${chain.txs} txs) connected in-process, same run`,
      },
      {
        name: 'p2p/sync-one-peer',
        ops: syncRate,
        unit: 'tx/s',
        note: `fresh cairnd syncing the same chain from one peer over CURVE, ${syncSeconds.toFixed(1)} s incl. start-up`,
      },
      {
        name: 'p2p/sync-ratio',
        ops: syncRate / localRate,
        unit: 'x',
        note: 'sync ÷ local connect (target ≥ 0.7)',
      },
      {
        name: 'p2p/propagation-per-hop',
        ops: median(hops),
        unit: 'ms',
        note: `median over 20 blocks across a line of 5 nodes (target < 50 ms); max ${Math.max(...hops).toFixed(1)} ms`,
      },
    ];
  } finally {
    await Promise.all(nodes.map((n) => n.kill()));
    root.remove();
  }
}

await runAsMain(import.meta.url, () => benchP2P());
