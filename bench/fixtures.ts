/**
 * Benchmark fixtures: many keys, fast signing with native libsecp256k1 (setup only: the node
 * never signs), and funding blocks whose coinbases pay many outputs.
 */
import { createRequire } from 'node:module';
import { ownerOf } from '../shared/core/address.ts';
import { decodeBlock, encodeBlock } from '../shared/core/block/codec.ts';
import { encodeHeader } from '../shared/core/block/header.ts';
import { merkleRoot } from '../shared/core/block/merkle.ts';
import { BLOCK_VERSION, type DecodedBlock, NONCE_OFFSET } from '../shared/core/block/types.ts';
import { sha256d } from '../shared/core/hash.ts';
import { blockSubsidy, LOCAL } from '../shared/core/params/networks.ts';
import { hashMeetsTargetBytes, targetFromBits, targetToLeBytes } from '../shared/core/pow/compact.ts';
import { encodeUnsignedTx, toDecodedTx } from '../shared/core/tx/codec.ts';
import { signatureHashOfUnsigned } from '../shared/core/tx/ids.ts';
import { type DecodedTx, NO_BITMARK, type TransferTx, type TxOutput } from '../shared/core/tx/types.ts';
import { requiredBits } from '../shared/core/validation/header-context.ts';
import { generatePrivateKey } from '../shared/crypto/keys.ts';

const native = createRequire(import.meta.url)('secp256k1/bindings') as {
  ecdsaSign(msg: Uint8Array, key: Uint8Array): { signature: Uint8Array };
  publicKeyCreate(key: Uint8Array, compressed: boolean): Uint8Array;
};

export interface BenchKey {
  priv: Uint8Array;
  pub: Uint8Array;
  owner: Uint8Array;
}

export function makeKeys(n: number): BenchKey[] {
  return Array.from({ length: n }, () => {
    const priv = generatePrivateKey();
    const pub = native.publicKeyCreate(priv, true);
    return { priv, pub, owner: ownerOf(pub) };
  });
}

const p = LOCAL;

/** A one-input two-output transfer, signed with native libsecp256k1 (low-S, RFC 6979). */
export function transfer(
  key: BenchKey,
  prevTxid: Uint8Array,
  vout: number,
  amount: number,
  to: Uint8Array,
  fee: number,
): DecodedTx {
  const outputs: TxOutput[] = [
    { owner: to, amount: Math.floor(amount / 3), bitmark: NO_BITMARK },
    { owner: key.owner, amount: amount - Math.floor(amount / 3) - fee, bitmark: NO_BITMARK },
  ];
  const unsignedTx: TransferTx = {
    version: 1,
    kind: 'transfer',
    inputs: [{ prevTxid, vout, pubkey: key.pub, signature: new Uint8Array(64) }],
    outputs,
  };
  const sighash = signatureHashOfUnsigned(p.genesisHash, encodeUnsignedTx(unsignedTx), 0);
  const signature = native.ecdsaSign(sighash, key.priv).signature;
  return toDecodedTx({ ...unsignedTx, inputs: [{ ...unsignedTx.inputs[0]!, signature }] });
}

/** Mines a block on `parent` (instant on local) with `txs` after a coinbase paying `outputs`. */
export function mineBlock(
  parent: { hash: Uint8Array; height: number; time: number; anchorTime: number },
  coinbaseOutputs: TxOutput[],
  txs: DecodedTx[],
): DecodedBlock {
  const h = parent.height + 1;
  const cb = toDecodedTx({
    version: 1,
    kind: 'coinbase',
    height: h,
    data: new Uint8Array(),
    outputs: coinbaseOutputs,
  });
  const all = [cb, ...txs];
  const header = {
    version: BLOCK_VERSION,
    prevHash: parent.hash,
    merkleRoot: merkleRoot(all.map((t) => t.txid)),
    time: parent.time + p.targetSpacing,
    bits: requiredBits(parent, p),
    nonce: 0n,
  };
  const le = targetToLeBytes(targetFromBits(header.bits, p.powLimit)!);
  const buf = encodeHeader(header);
  const view = new DataView(buf.buffer, buf.byteOffset);
  let n = 0;
  for (; ; n++) {
    view.setUint32(NONCE_OFFSET, n, true);
    if (hashMeetsTargetBytes(sha256d(buf), le)) break;
  }
  return decodeBlock(encodeBlock({ ...header, nonce: BigInt(n) }, all));
}

/** Coinbase outputs splitting the subsidy at `height` over `owners`. */
export function splitSubsidy(height: number, owners: Uint8Array[], fees = 0): TxOutput[] {
  const total = blockSubsidy(height, p) + fees;
  const each = Math.floor(total / owners.length);
  return owners.map((owner) => ({ owner, amount: each, bitmark: NO_BITMARK }));
}

/** A block as the parent of the next: block 1 (or genesis) anchors the difficulty, later blocks inherit it. */
export const tipOf = (b: DecodedBlock, height: number, parent?: { anchorTime: number }) => ({
  hash: b.hash,
  height,
  time: b.header.time,
  anchorTime: height <= 1 || parent === undefined ? b.header.time : parent.anchorTime,
});
