/**
 * Chain-state throughput on LMDB with durable commits: connecting 200 blocks of 1,000 one-input
 * two-output transfers (decode, every stateless rule with signatures, contextual rules, one
 * fsync'd write transaction per block), next to the single-core signature-verify rate measured in
 * the same run (target: connect ≥ 50% of it). Also RSS with 200,000 UTXOs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ChainState } from '../services/node/chain-state.ts';
import type { DecodedBlock } from '../shared/core/block/types.ts';
import { LOCAL } from '../shared/core/params/networks.ts';
import { signatureHash } from '../shared/core/tx/ids.ts';
import type { DecodedTx, TransferTx } from '../shared/core/tx/types.ts';
import { loadVerifier } from '../shared/crypto/load.ts';
import { silentLogger } from '../shared/log.ts';
import { makeKeys, mineBlock, splitSubsidy, tipOf, transfer } from './fixtures.ts';
import { type BenchResult, runAsMain } from './result.ts';

const p = LOCAL;

/** A full GC before reading RSS, so the figure is live memory rather than garbage not yet collected. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

export async function benchChain(blocks = 200, txsPerBlock = 1000, workers?: number): Promise<BenchResult[]> {
  const { verifier } = loadVerifier('auto');
  collectGarbage();
  const rssBefore = process.memoryUsage().rss;
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-'));
  // the node's own composition: storage, chain (with its verifier threads), reservoir
  const state = await ChainState.open(
    { dataDir: dir, params: p, ...(workers === undefined ? {} : { verifyWorkers: workers }) },
    { logger: silentLogger() },
  );
  const chain = state.chain;
  try {
    // setup (untimed): `blocks` funding blocks whose coinbases pay txsPerBlock outputs each;
    // only their coinbase txid and amounts are kept, so RSS below is the node's, not the fixtures'
    const keys = makeKeys(txsPerBlock);
    const owners = keys.map((k) => k.owner);
    const funding: { txid: Uint8Array; amounts: number[] }[] = [];
    let tip = tipOf(chain.getBlock(chain.tip.hash)!, 0);
    for (let i = 0; i < blocks + p.coinbaseMaturity; i++) {
      const b = mineBlock(
        tip,
        i < blocks ? splitSubsidy(tip.height + 1, owners) : splitSubsidy(tip.height + 1, [owners[0]!]),
        [],
      );
      chain.processBlock(b.raw);
      const cb = b.txs[0]!;
      if (i < blocks) funding.push({ txid: cb.txid, amounts: cb.tx.outputs.map((o) => o.amount) });
      tip = tipOf(b, tip.height + 1, tip);
    }
    collectGarbage();
    const mem = process.memoryUsage();
    const rssWithUtxos = mem.rss;
    const utxos = blocks * txsPerBlock;

    const measured: DecodedBlock[] = [];
    for (let i = 0; i < blocks; i++) {
      const f = funding[i]!;
      const txs: DecodedTx[] = [];
      for (let k = 0; k < txsPerBlock; k++) {
        txs.push(transfer(keys[k]!, f.txid, k, f.amounts[k]!, owners[(k + 1) % owners.length]!, 1000));
      }
      const b = mineBlock(tip, splitSubsidy(tip.height + 1, [owners[0]!], 1000 * txsPerBlock), txs);
      measured.push(b);
      tip = tipOf(b, tip.height + 1, tip);
    }

    // single-core verify rate, same run, same kind of signatures
    const sample = measured[0]!.txs.slice(1).map((d) => {
      const t = d.tx as TransferTx;
      return {
        sig: t.inputs[0]!.signature,
        msg: signatureHash(p.genesisHash, d, 0),
        pub: t.inputs[0]!.pubkey,
      };
    });
    let verified = 0;
    const v0 = performance.now();
    while (performance.now() - v0 < 1000)
      for (const s of sample) if (verifier.verify(s.sig, s.msg, s.pub)) verified++;
    const verifyRate = verified / ((performance.now() - v0) / 1000);

    const t0 = performance.now();
    for (const b of measured) {
      const r = chain.processBlock(b.raw);
      if (r.status !== 'connected') throw new Error(`bench block refused: ${r.status} ${r.error?.message}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const txRate = (blocks * txsPerBlock) / seconds;
    return [
      {
        name: 'chain/verify-rate',
        ops: verifyRate,
        unit: 'sig/s',
        note: `${verifier.name}, one core, same run`,
      },
      {
        name: 'chain/connect',
        ops: txRate,
        unit: 'tx/s',
        note: `${blocks} blocks × ${txsPerBlock} transfers, durable commits, ${((seconds * 1000) / blocks).toFixed(1)} ms/block, signatures on ${workers === 0 ? 'the main thread only' : 'the main thread + verifier thread(s)'}`,
      },
      {
        name: 'chain/connect-ratio',
        ops: txRate / verifyRate,
        unit: 'x',
        note: 'connect tx/s ÷ verify sig/s (target ≥ 0.5)',
      },
      {
        name: 'chain/rss-200k-utxos',
        ops: rssWithUtxos / 1e6,
        unit: 'MB',
        note: `RSS with ${utxos.toLocaleString('en-US')} UTXOs in LMDB (${(rssBefore / 1e6).toFixed(0)} MB before opening the node: runtime, tsx, fixtures); JS heap ${(mem.heapUsed / 1e6).toFixed(0)} MB`,
      },
    ];
  } finally {
    await state.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `--workers N`: verifier threads besides the main one (0 = main thread only; default: cores − 1). */
function workersArg(): number | undefined {
  const i = process.argv.indexOf('--workers');
  return i === -1 ? undefined : Number(process.argv[i + 1]);
}

await runAsMain(import.meta.url, async () => {
  const workers = workersArg();
  const tag = workers === 0 ? 'chain/1-thread/' : 'chain/all-cores/';
  return (await benchChain(200, 1000, workers)).map((r) => ({ ...r, name: r.name.replace('chain/', tag) }));
});
