/**
 * Block archive test helpers: a chain of blocks with transfers (from the coinbase maturity on,
 * each block spends an old coinbase into `outputs` outputs), and a data directory holding it.
 */
import { ChainState } from '../../services/node/chain-state.ts';
import type { DecodedBlock } from '../../shared/core/block/types.ts';
import { LOCAL } from '../../shared/core/params/networks.ts';
import { decodeTx } from '../../shared/core/tx/codec.ts';
import type { DecodedTx } from '../../shared/core/tx/types.ts';
import { silentLogger } from '../../shared/log.ts';
import { MemoryLedger, makeKey, out, signed, spend } from './chain.ts';

export interface TestChain {
  readonly blocks: DecodedBlock[];
  readonly txs: number;
}

/**
 * `n` blocks; `badAt` (a height) gets a transfer whose signature does not verify (bad-txns-sig):
 * the blocks after it are built on it anyway.
 */
export function makeChain(n: number, opts: { outputs?: number; badAt?: number } = {}): TestChain {
  const miner = makeKey();
  const ledger = new MemoryLedger();
  const outputs = opts.outputs ?? 4;
  let txs = 0;
  for (let h = 1; h <= n; h++) {
    const list: DecodedTx[] = [];
    let fees = 0;
    if (h > LOCAL.coinbaseMaturity) {
      const cb = ledger.blocks[h - LOCAL.coinbaseMaturity]!.txs[0]!;
      const amount = cb.tx.outputs[0]!.amount;
      let tx = signed({
        version: 1,
        kind: 'transfer',
        inputs: [spend(miner, cb.txid, 0)],
        outputs: Array.from({ length: outputs }, (_, k) =>
          out(makeKey().owner, Math.floor(amount / outputs) - (k === 0 ? 1000 : 0)),
        ),
      });
      if (h === opts.badAt) {
        const raw = new Uint8Array(tx.raw);
        raw[raw.length - 5]! ^= 0x01; // inside the signature
        tx = decodeTx(raw);
      }
      list.push(tx);
      fees = amount - tx.tx.outputs.reduce((s, o) => s + o.amount, 0);
    }
    const b = ledger.nextBlock(list, miner.owner, fees);
    ledger.apply(b); // contextual rules only: a bad signature passes here
    txs += b.txs.length;
  }
  return { blocks: ledger.blocks.slice(1), txs };
}

/** Connects `blocks` into a fresh database under `dataDir` (a source node's data directory). */
export async function writeChain(dataDir: string, blocks: readonly DecodedBlock[]): Promise<void> {
  const state = await ChainState.open(
    { dataDir, params: LOCAL, verifyWorkers: 0 },
    { logger: silentLogger() },
  );
  try {
    for (const b of blocks) {
      const r = state.chain.processBlock(b.raw);
      if (r.status !== 'connected') throw new Error(`block not connected: ${r.status} ${r.error?.message}`);
    }
  } finally {
    await state.close();
  }
}
