/**
 * What shares cost a node: blocks of two-owner share swaps (a share input and a coin input, four
 * outputs) against blocks of two-owner coin transfers of the same shape, connected by the chain
 * manager on real LMDB (validation, signatures on this thread, storage, indexes), alternating so
 * both see the same machine load. The figure to watch is the ratio (target: close to 1).
 * Usage: npm run bench -- shares, or npx tsx bench/shares.ts [txs per block = 200] [blocks per kind = 15]
 */
import { LOCAL } from '../shared/core/params/networks.ts';
import { assetIdOf, bitmarkIdOf } from '../shared/core/tx/ids.ts';
import { type DecodedTx, MINT, type OutputBitmark, type TxOutput } from '../shared/core/tx/types.ts';
import { makeKey, out, signed, spend } from '../test/helpers/chain.ts';
import { blockOn, openChain, tempDir } from '../test/helpers/node.ts';
import { type BenchResult, runAsMain } from './result.ts';

const p = LOCAL;

export async function benchShares(perBlock: number, blocksPerKind: number): Promise<BenchResult[]> {
  const dir = tempDir('cairn-bench-shares-');
  const c = openChain(dir.path);
  try {
    const [alice, bob] = [makeKey(), makeKey()];
    const mine = (txs: DecodedTx[], fees = 0) => {
      const b = blockOn(c.chain.tip, txs, alice.owner, fees);
      const started = performance.now();
      const r = c.chain.processBlock(b.raw);
      const ms = performance.now() - started;
      if (r.status !== 'connected') throw new Error(`bench block refused: ${r.error?.message}`);
      return { cb: b.txs[0]!, ms };
    };
    const cbs: DecodedTx[] = [];
    for (let i = 0; i < 12; i++) cbs.push(mine([]).cb);

    // one bitmark split into shares, and coins for both owners: an output per future input
    const n = perBlock * blocksPerKind;
    const fp = new TextEncoder().encode('bench-shares');
    const reg = signed({
      version: 1,
      kind: 'asset',
      asset: { name: 'bench', fingerprint: fp, metadata: new Uint8Array() },
      inputs: [spend(alice, cbs[0]!.txid, 0)],
      outputs: [out(alice.owner, 25 * p.coin)],
    });
    const issue = signed({
      version: 1,
      kind: 'issue',
      assetId: assetIdOf(fp),
      inputs: [spend(alice, reg.txid, 0)],
      outputs: [out(alice.owner, 0, MINT), out(alice.owner, 25 * p.coin)],
    });
    const x = bitmarkIdOf(issue.txid, 0);
    const shares = (q: number): OutputBitmark => ({ type: 'shares', id: x, quantity: q });
    const split = signed({
      version: 1,
      kind: 'split',
      bitmarkId: x,
      total: 1000 * n,
      inputs: [spend(alice, issue.txid, 0)],
      outputs: Array.from({ length: n }, () => out(alice.owner, 0, shares(1000))),
    });
    const each = Math.floor((20 * p.coin) / (2 * n));
    const fan = (owner: Uint8Array, cb: DecodedTx, count: number): DecodedTx =>
      signed({
        version: 1,
        kind: 'transfer',
        inputs: [spend(alice, cb.txid, 0)],
        outputs: Array.from({ length: count }, (): TxOutput => out(owner, each)),
      });
    const aliceCoins = fan(alice.owner, cbs[1]!, n);
    const toBob = fan(bob.owner, cbs[2]!, 2 * n);
    mine([reg, issue, split, aliceCoins, toBob], 25 * p.coin - n * each + (25 * p.coin - 2 * n * each));

    const swap = (k: number): DecodedTx =>
      signed({
        version: 1,
        kind: 'transfer',
        inputs: [spend(alice, split.txid, k), spend(bob, toBob.txid, k)],
        outputs: [
          out(bob.owner, 0, shares(100)),
          out(alice.owner, 0, shares(900)),
          out(alice.owner, each - 2000),
          out(bob.owner, 1000),
        ],
      });
    const plain = (k: number): DecodedTx =>
      signed({
        version: 1,
        kind: 'transfer',
        inputs: [spend(alice, aliceCoins.txid, k), spend(bob, toBob.txid, n + k)],
        outputs: [
          out(bob.owner, 1000),
          out(alice.owner, 1000),
          out(alice.owner, each - 2000),
          out(bob.owner, each - 1000),
        ],
      });
    let swapMs = 0;
    let plainMs = 0;
    const ratios: number[] = [];
    for (let b = 0; b < blocksPerKind; b++) {
      const range = Array.from({ length: perBlock }, (_, i) => b * perBlock + i);
      const s = range.map(swap);
      const t = range.map(plain);
      // alternate which kind goes first; each pair gives one ratio (the machine is shared: the median is the figure)
      let sm: number;
      let tm: number;
      if (b % 2 === 0) {
        sm = mine(s, perBlock * 1000).ms;
        tm = mine(t, perBlock * 1000).ms;
      } else {
        tm = mine(t, perBlock * 1000).ms;
        sm = mine(s, perBlock * 1000).ms;
      }
      swapMs += sm;
      plainMs += tm;
      ratios.push(tm / sm);
    }
    ratios.sort((a, b) => a - b);
    const median = ratios[Math.floor(ratios.length / 2)]!;
    const txs = perBlock * blocksPerKind;
    const what = `${blocksPerKind} blocks of ${perBlock} txs each, 2 inputs, 4 outputs, signatures on one thread`;
    return [
      { name: 'shares/connect-swaps', ops: txs / (swapMs / 1000), unit: 'tx/s', note: what },
      {
        name: 'shares/connect-transfers',
        ops: txs / (plainMs / 1000),
        unit: 'tx/s',
        note: `${what}, coins only`,
      },
      {
        name: 'shares/swap-vs-transfer',
        ops: median,
        unit: 'x',
        note: `swap rate ÷ transfer rate, median of ${ratios.length} pairs of blocks (range ${ratios[0]!.toFixed(2)}-${ratios.at(-1)!.toFixed(2)}); 1 = shares cost nothing extra`,
      },
    ];
  } finally {
    c.close();
    dir.remove();
  }
}

await runAsMain(import.meta.url, () =>
  benchShares(Number(process.argv[2] ?? 200), Number(process.argv[3] ?? 15)),
);
