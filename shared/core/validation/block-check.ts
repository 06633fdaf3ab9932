/** Stateless block rules: size, proof of work, coinbase placement, merkle root, every tx. */
import { Buffer } from 'node:buffer';
import { merkleRoot } from '../block/merkle.ts';
import { BLOCK_VERSION, type BlockHeader, type DecodedBlock } from '../block/types.ts';
import { bytesKey, hashToHex } from '../bytes.ts';
import { ValidationError } from '../errors.ts';
import type { NetworkParams } from '../params/types.ts';
import { hashMeetsTarget, targetFromBits } from '../pow/compact.ts';
import type { SignatureVerifier } from '../signature.ts';
import { checkTxSignatures, checkTxStructure } from '../tx/check.ts';

/** The header alone: version, a valid target no easier than the network's limit, and PoW meeting it. */
export function checkHeader(header: BlockHeader, hash: Uint8Array, p: NetworkParams): void {
  if (header.version !== BLOCK_VERSION) {
    throw new ValidationError('bad-version', `block version ${header.version}`);
  }
  const target = targetFromBits(header.bits, p.powLimit);
  if (target === null) {
    throw new ValidationError('bad-diffbits', `bits 0x${header.bits.toString(16)} is not a valid target`);
  }
  if (!hashMeetsTarget(hash, target)) {
    throw new ValidationError('high-hash', 'proof of work does not meet the target');
  }
}

export interface BlockCheckOptions {
  /** Skip signatures when they were verified already (e.g. in parallel by workers). */
  readonly skipSignatures?: boolean;
}

/** Every rule that needs nothing but the block: header, structure and each transaction (with signatures). */
export function checkBlock(
  block: DecodedBlock,
  p: NetworkParams,
  verifier: SignatureVerifier,
  opts: BlockCheckOptions = {},
): void {
  checkHeader(block.header, block.hash, p);
  if (block.raw.length > p.maxBlockSize) {
    throw new ValidationError('bad-blk-length', `${block.raw.length} bytes > ${p.maxBlockSize}`);
  }
  const txs = block.txs;
  if (txs.length === 0) {
    throw new ValidationError('bad-blk-length', 'block has no transactions');
  }
  if (txs[0]!.tx.kind !== 'coinbase') {
    throw new ValidationError('bad-cb-missing', 'first tx is not a coinbase');
  }

  const ids = new Array<Uint8Array>(txs.length);
  const seen = new Set<string>();
  for (let i = 0; i < txs.length; i++) {
    const d = txs[i]!;
    if (i > 0 && d.tx.kind === 'coinbase') {
      throw new ValidationError('bad-cb-multiple', `tx ${i} is a second coinbase`);
    }
    const key = bytesKey(d.txid);
    if (seen.has(key)) {
      throw new ValidationError('bad-txns-duplicate', `tx ${hashToHex(d.txid)} appears twice`);
    }
    seen.add(key);
    ids[i] = d.txid;
  }
  const root = merkleRoot(ids);
  if (!Buffer.from(root).equals(block.header.merkleRoot)) {
    throw new ValidationError('bad-txnmrklroot', 'merkle root does not match the transactions');
  }
  for (const d of txs) {
    checkTxStructure(d, p);
    if (opts.skipSignatures !== true) {
      checkTxSignatures(d, p.genesisHash, verifier);
    }
  }
}
