/**
 * Reservoir (mempool) acceptance: 20,000 one-input two-output transfers spending confirmed outputs
 * of an in-memory ledger, submitted as raw bytes (decode, policy, contextual checks, signature,
 * indexing). Printed next to the bare single-core native signature verification rate measured in
 * the same run: acceptance should be dominated by it (ratio close to 1). Funding is built untimed.
 */
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Reservoir } from '../services/node/reservoir/reservoir.ts';
import { signatureHash } from '../shared/core/tx/ids.ts';
import type { DecodedTx, TransferTx, TxOutput } from '../shared/core/tx/types.ts';
import { loadVerifier } from '../shared/crypto/load.ts';
import { silentLogger } from '../shared/log.ts';
import { MemoryLedger, makeKey, out, signed, spend, type TestKey } from '../test/helpers/chain.ts';
import { chainOf } from '../test/helpers/reservoir.ts';
import { type BenchResult, median, runAsMain } from './result.ts';

const TXS = 20_000;
const FANOUTS = 4;
const PER_FANOUT = TXS / FANOUTS;
const KEYS = 200;
const ROUNDS = 3;

interface Setup {
  ledger: MemoryLedger;
  txs: DecodedTx[];
}

/** A ledger holding TXS confirmed outputs, and one signed transfer spending each. */
function setup(): Setup {
  const ledger = new MemoryLedger();
  const p = ledger.p;
  const funder = makeKey();
  const coinbases = ledger.mine(FANOUTS, funder.owner);
  ledger.mine(p.coinbaseMaturity, makeKey().owner);
  const keys: TestKey[] = Array.from({ length: KEYS }, () => makeKey());
  const fanouts: DecodedTx[] = [];
  for (let f = 0; f < FANOUTS; f++) {
    const each = Math.floor(p.initialSubsidy / PER_FANOUT);
    const outputs: TxOutput[] = [];
    for (let i = 0; i < PER_FANOUT; i++) {
      outputs.push(out(keys[(f * PER_FANOUT + i) % KEYS]!.owner, each));
    }
    fanouts.push(
      signed({ version: 1, kind: 'transfer', inputs: [spend(funder, coinbases[f]!.txid, 0)], outputs }),
    );
  }
  ledger.apply(ledger.nextBlock(fanouts, funder.owner));
  const txs: DecodedTx[] = [];
  for (let f = 0; f < FANOUTS; f++) {
    const amount = fanouts[f]!.tx.outputs[0]!.amount;
    for (let i = 0; i < PER_FANOUT; i++) {
      const key = keys[(f * PER_FANOUT + i) % KEYS]!;
      txs.push(
        signed({
          version: 1,
          kind: 'transfer',
          inputs: [spend(key, fanouts[f]!.txid, i)],
          outputs: [out(randomBytes(20), 200_000), out(key.owner, amount - 200_000 - 1000)],
        }),
      );
    }
  }
  return { ledger, txs };
}

function gcIfPossible(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose_gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

export async function benchReservoir(): Promise<BenchResult[]> {
  const { ledger, txs } = setup();
  const raws = txs.map((d) => d.raw);
  const { verifier } = loadVerifier('auto');
  const native = loadVerifier('native');
  const sigs = txs.map((d) => {
    const t = d.tx as TransferTx;
    return {
      sig: t.inputs[0]!.signature,
      msg: signatureHash(ledger.p.genesisHash, d, 0),
      pub: t.inputs[0]!.pubkey,
    };
  });
  const gc = gcIfPossible();
  const now = ledger.tip.time + 60;

  const acceptMs: number[] = [];
  const verifyMs: number[] = [];
  const selectMs: number[] = [];
  let heapPerTx = 0;
  let usagePerTx = 0;
  for (let round = 0; round < ROUNDS; round++) {
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const reservoir = new Reservoir({}, { chain: chainOf(ledger), verifier, logger: silentLogger() });
    let t0 = performance.now();
    for (const raw of raws) {
      reservoir.accept(raw, now);
    }
    acceptMs.push(performance.now() - t0);
    if (reservoir.size !== TXS) {
      throw new Error(`accepted ${reservoir.size} of ${TXS}`);
    }
    t0 = performance.now();
    const picked = reservoir.selectForBlock(ledger.p.maxBlockSize - 1000);
    selectMs.push(performance.now() - t0);
    if (picked.length === 0) {
      throw new Error('selected nothing');
    }
    gc?.();
    heapPerTx = (process.memoryUsage().heapUsed - heapBefore) / TXS;
    usagePerTx = reservoir.usage / TXS;

    t0 = performance.now();
    for (const s of sigs) {
      if (!native.verifier.verify(s.sig, s.msg, s.pub)) {
        throw new Error('bad signature');
      }
    }
    verifyMs.push(performance.now() - t0);
  }
  const acceptRate = TXS / (median(acceptMs) / 1000);
  const verifyRate = TXS / (median(verifyMs) / 1000);
  const size = raws[0]!.length;
  return [
    {
      name: 'reservoir/accept-20000',
      ops: acceptRate,
      unit: 'tx/s',
      note: `1-in 2-out transfers of ${size} bytes as raw bytes, ${verifier.name} verifier, median of ${ROUNDS}`,
    },
    {
      name: 'reservoir/native-verify',
      ops: verifyRate,
      unit: 'sig/s',
      note: 'the same 20,000 signatures, bare native verification, one core',
    },
    {
      name: 'reservoir/accept-vs-verify',
      ops: acceptRate / verifyRate,
      unit: 'x',
      note: 'acceptance rate / verification rate (1 = acceptance costs only its signature)',
    },
    {
      name: 'reservoir/select-block',
      ops: median(selectMs),
      unit: 'ms',
      note: 'selectForBlock(4 MB) over the 20,000-tx pool',
    },
    {
      name: 'reservoir/heap-per-tx',
      ops: heapPerTx,
      unit: 'bytes',
      note: `${gc === undefined ? 'without forced GC (rough); ' : ''}usage estimate ${Math.round(usagePerTx)} bytes/tx`,
    },
  ];
}

await runAsMain(import.meta.url, benchReservoir);
