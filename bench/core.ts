/**
 * Consensus-core throughput: tx decode + stateless check, header PoW check, and full stateless
 * validation of a block of 2,000 one-input two-output transfers next to verifying its 2,000
 * signatures alone, measured in the same run (target: block validation within 1.3× of that).
 */
import { randomBytes } from 'node:crypto';
import { ownerOf } from '../shared/core/address.ts';
import { decodeBlock, encodeBlock } from '../shared/core/block/codec.ts';
import { decodeHeader } from '../shared/core/block/header.ts';
import { merkleRoot } from '../shared/core/block/merkle.ts';
import { BLOCK_VERSION, HEADER_SIZE } from '../shared/core/block/types.ts';
import { sha256d } from '../shared/core/hash.ts';
import { LOCAL } from '../shared/core/params/networks.ts';
import { hashMeetsTargetBytes, targetFromBits, targetToLeBytes } from '../shared/core/pow/compact.ts';
import { checkTransaction, checkTxStructure } from '../shared/core/tx/check.ts';
import { decodeTx, toDecodedTx } from '../shared/core/tx/codec.ts';
import { signatureHash } from '../shared/core/tx/ids.ts';
import { type DecodedTx, NO_BITMARK, type TransferTx } from '../shared/core/tx/types.ts';
import { checkBlock } from '../shared/core/validation/block-check.ts';
import { requiredBits } from '../shared/core/validation/header-context.ts';
import { generatePrivateKey, publicKeyOf } from '../shared/crypto/keys.ts';
import { loadVerifier } from '../shared/crypto/load.ts';
import { signTx } from '../shared/crypto/sign-tx.ts';
import { type BenchResult, median, rate, runAsMain } from './result.ts';

const p = LOCAL;

/** `n` signed one-input two-output transfers, each by its own key. */
export function makeTransfers(n: number): DecodedTx[] {
  const txs: DecodedTx[] = [];
  for (let i = 0; i < n; i++) {
    const priv = generatePrivateKey();
    const pubkey = publicKeyOf(priv);
    const tx = signTx(
      {
        version: 1,
        kind: 'transfer',
        inputs: [{ prevTxid: randomBytes(32), vout: i % 3, pubkey, privateKey: priv }],
        outputs: [
          { owner: randomBytes(20), amount: 1_000_000 + i, bitmark: NO_BITMARK },
          { owner: ownerOf(pubkey), amount: 2_000_000_000 - i, bitmark: NO_BITMARK },
        ],
      },
      p.genesisHash,
    );
    txs.push(toDecodedTx(tx));
  }
  return txs;
}

export function makeBlock(txs: DecodedTx[]): Uint8Array {
  const cb = toDecodedTx({
    version: 1,
    kind: 'coinbase',
    height: 1,
    data: new Uint8Array(),
    outputs: [{ owner: new Uint8Array(20), amount: p.initialSubsidy, bitmark: NO_BITMARK }],
  });
  const all = [cb, ...txs];
  const header = {
    version: BLOCK_VERSION,
    prevHash: decodeBlock(p.genesisBlock).hash,
    merkleRoot: merkleRoot(all.map((t) => t.txid)),
    time: p.genesisTime + p.targetSpacing,
    bits: requiredBits({ height: 0, time: p.genesisTime, anchorTime: p.genesisTime }, p),
    nonce: 0n,
  };
  const le = targetToLeBytes(targetFromBits(header.bits, p.powLimit)!);
  for (let n = 0n; ; n++) {
    const raw = encodeBlock({ ...header, nonce: n }, all);
    if (hashMeetsTargetBytes(sha256d(raw.subarray(0, HEADER_SIZE)), le)) {
      return raw;
    }
  }
}

export async function benchCore(): Promise<BenchResult[]> {
  const { verifier } = loadVerifier('auto');
  const results: BenchResult[] = [];
  const txs = makeTransfers(2000);
  const raws = txs.map((t) => t.raw);

  let i = 0;
  const decodeRate = rate(() => {
    const d = decodeTx(raws[i++ % raws.length]!);
    checkTxStructure(d, p);
  });
  results.push({
    name: 'tx/decode+structure',
    ops: decodeRate.perSecond,
    unit: 'tx/s',
    note: 'decode, txid, stateless rules without signature',
  });
  const fullRate = rate(() => {
    const d = decodeTx(raws[i++ % raws.length]!);
    checkTransaction(d, p, verifier);
  });
  results.push({
    name: 'tx/decode+stateless-check',
    ops: fullRate.perSecond,
    unit: 'tx/s',
    note: `with signature (${verifier.name})`,
  });

  const block = makeBlock(txs);
  const header = block.subarray(0, HEADER_SIZE);
  const targetLe = targetToLeBytes(p.powLimit);
  const powRate = rate(() => {
    for (let k = 0; k < 1000; k++) {
      const h = decodeHeader(header);
      const t = targetFromBits(h.bits, p.powLimit);
      if (t === null || !hashMeetsTargetBytes(sha256d(header), targetLe)) {
        throw new Error('bad pow');
      }
    }
  });
  results.push({ name: 'header/decode+pow-check', ops: powRate.perSecond * 1000, unit: 'headers/s' });

  // Block of 2,000 transfers: full stateless validation vs the bare signature verifications.
  const sigs = txs.map((d) => {
    const t = d.tx as TransferTx;
    return { sig: t.inputs[0]!.signature, msg: signatureHash(p.genesisHash, d, 0), pub: t.inputs[0]!.pubkey };
  });
  const verifyOnly: number[] = [];
  const validate: number[] = [];
  for (let round = 0; round < 7; round++) {
    let t0 = performance.now();
    for (const s of sigs) {
      if (!verifier.verify(s.sig, s.msg, s.pub)) {
        throw new Error('bad sig');
      }
    }
    verifyOnly.push(performance.now() - t0);
    t0 = performance.now();
    checkBlock(decodeBlock(block), p, verifier);
    validate.push(performance.now() - t0);
  }
  const vMs = median(verifyOnly);
  const bMs = median(validate);
  results.push({
    name: 'block2000/verify-sigs-only',
    ops: 2000 / (vMs / 1000),
    unit: 'sig/s',
    note: `${vMs.toFixed(1)} ms per block (median of 7)`,
  });
  results.push({
    name: 'block2000/stateless-validation',
    ops: 2001 / (bMs / 1000),
    unit: 'tx/s',
    note: `${bMs.toFixed(1)} ms per block of ${(block.length / 1e6).toFixed(2)} MB: decode + every stateless rule`,
  });
  results.push({
    name: 'block2000/ratio',
    ops: bMs / vMs,
    unit: 'x',
    note: 'validation time / signature time (target <= 1.3)',
  });
  return results;
}

await runAsMain(import.meta.url, benchCore);
