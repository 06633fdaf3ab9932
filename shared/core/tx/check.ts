/**
 * Stateless transaction rules: everything that can be checked from the transaction alone
 * (docs/protocol.md §Consensus rules). Signatures are included: inputs carry their public keys, so
 * verification needs no chain state and can run before (or beside) contextual checks.
 */

import { hashToHex, toHex } from '../bytes.ts';
import { ValidationError } from '../errors.ts';
import {
  MAX_ASSET_FINGERPRINT,
  MAX_ASSET_METADATA,
  MAX_ASSET_NAME,
  MAX_COINBASE_DATA,
  MAX_SHARES,
  MAX_TX_SIZE,
} from '../limits.ts';
import { outpointKey } from '../outpoint.ts';
import { isCompressedPubkeyShape, isLowS, type SignatureVerifier } from '../signature.ts';
import { isValidShareQuantity, ShareTally } from '../validation/share-tally.ts';
import { signatureHash } from './ids.ts';
import { type DecodedTx, type Transaction, TX_VERSION, type TxOutput } from './types.ts';

export interface TxCheckParams {
  readonly maxMoney: number;
  readonly genesisHash: Uint8Array;
}

const utf8 = new TextEncoder();

/**
 * Code points an asset name may not contain anywhere: C0 and C1 controls and DEL, and the
 * invisible format characters that let two names look alike (zero-width, bidi controls, BOM).
 * Listed explicitly, not by Unicode category, so the rule never changes with a Unicode version.
 */
function isForbiddenInName(c: number): boolean {
  return (
    c < 0x20 ||
    (c >= 0x7f && c <= 0x9f) ||
    (c >= 0x200b && c <= 0x200f) ||
    (c >= 0x2028 && c <= 0x202e) ||
    (c >= 0x2060 && c <= 0x206f) ||
    c === 0xfeff
  );
}

/** Code points a name may not begin or end with: the Unicode white space characters. */
function isSpace(c: number): boolean {
  return (
    c === 0x20 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** The asset-name rule of docs/protocol.md, code point by code point. */
export function isValidAssetName(name: string): boolean {
  const bytes = utf8.encode(name).length;
  if (bytes === 0 || bytes > MAX_ASSET_NAME) return false;
  const points = Array.from(name, (ch) => ch.codePointAt(0)!);
  if (points.some(isForbiddenInName)) return false;
  return !isSpace(points[0]!) && !isSpace(points[points.length - 1]!);
}

/** Structure rules only (no signatures). Returns the total of the outputs. */
export function checkTxStructure(d: DecodedTx, p: TxCheckParams): number {
  const tx = d.tx;
  if (tx.version !== TX_VERSION) {
    throw new ValidationError('bad-txns-version', `version ${tx.version} is not ${TX_VERSION}`);
  }
  if (d.raw.length > MAX_TX_SIZE) {
    throw new ValidationError('bad-txns-oversize', `${d.raw.length} bytes`);
  }
  const { total, shares } = checkOutputs(tx, p.maxMoney);
  if (tx.kind === 'coinbase') {
    if (tx.data.length > MAX_COINBASE_DATA) {
      throw new ValidationError('bad-cb-length', `coinbase data > ${MAX_COINBASE_DATA} bytes`);
    }
    return total;
  }

  if (tx.inputs.length === 0) {
    throw new ValidationError('bad-txns-vin-empty', 'a spending transaction needs inputs');
  }
  for (let n = 0; n < tx.inputs.length; n++) {
    if (!isCompressedPubkeyShape(tx.inputs[n]!.pubkey)) {
      throw new ValidationError('bad-txns-pubkey', `input ${n} has no compressed public key`);
    }
  }
  if (tx.inputs.length > 1) {
    const seen = new Set<string>();
    for (const i of tx.inputs) {
      const key = outpointKey(i.prevTxid, i.vout);
      if (seen.has(key)) {
        throw new ValidationError(
          'bad-txns-inputs-duplicate',
          `input ${hashToHex(i.prevTxid)}:${i.vout} spent twice`,
        );
      }
      seen.add(key);
    }
  }

  switch (tx.kind) {
    case 'transfer':
      if (tx.outputs.length === 0) {
        throw new ValidationError('bad-txns-vout-empty', 'a transfer needs outputs');
      }
      break;
    case 'asset': {
      const { name, fingerprint, metadata } = tx.asset;
      if (!isValidAssetName(name)) {
        throw new ValidationError(
          'bad-asset-name',
          'asset name must be 1-64 bytes of printable UTF-8 without surrounding spaces',
        );
      }
      if (fingerprint.length === 0 || fingerprint.length > MAX_ASSET_FINGERPRINT) {
        throw new ValidationError(
          'bad-asset-fingerprint',
          `asset fingerprint must be 1-${MAX_ASSET_FINGERPRINT} bytes`,
        );
      }
      if (metadata.length > MAX_ASSET_METADATA) {
        throw new ValidationError('bad-asset-metadata', `asset metadata > ${MAX_ASSET_METADATA} bytes`);
      }
      break;
    }
    case 'issue':
      if (!tx.outputs.some((o) => o.bitmark.type === 'mint')) {
        throw new ValidationError('bad-issue-empty', 'an issue mints no bitmark');
      }
      break;
    case 'split':
      checkSplit(tx.bitmarkId, tx.total, tx.outputs, shares);
      break;
  }
  return total;
}

/** A split names its total, does not carry the bitmark it splits, and creates exactly `total` shares of it. */
function checkSplit(
  bitmarkId: Uint8Array,
  total: number,
  outputs: readonly TxOutput[],
  shares: ShareTally | undefined,
): void {
  if (!isValidShareQuantity(total)) {
    throw new ValidationError('bad-split-total', `split total ${total} is not in 1..${MAX_SHARES}`);
  }
  const id = toHex(bitmarkId);
  if (outputs.some((o) => o.bitmark.type === 'carry' && toHex(o.bitmark.id) === id)) {
    throw new ValidationError(
      'bad-split-carry',
      `a split of bitmark ${hashToHex(bitmarkId)} also carries it`,
    );
  }
  const made = shares?.get(bitmarkId) ?? 0;
  if (made !== total) {
    throw new ValidationError(
      'bad-split-unbalanced',
      `split outputs hold ${made} shares of ${hashToHex(bitmarkId)}, the total is ${total}`,
    );
  }
}

/** What the outputs add up to: coins, and shares per kind (undefined when no output holds shares). */
interface OutputTotals {
  readonly total: number;
  readonly shares: ShareTally | undefined;
}

function checkOutputs(tx: Transaction, maxMoney: number): OutputTotals {
  let total = 0;
  let carried: Set<string> | undefined;
  let shares: ShareTally | undefined;
  for (let n = 0; n < tx.outputs.length; n++) {
    const o = tx.outputs[n]!;
    if (o.amount > maxMoney) {
      throw new ValidationError('bad-txns-vout-toolarge', `output ${n} amount ${o.amount} > ${maxMoney}`);
    }
    total += o.amount;
    if (total > maxMoney) {
      throw new ValidationError('bad-txns-txouttotal-toolarge', `outputs total > ${maxMoney}`);
    }
    if (o.bitmark.type === 'shares') {
      shares = checkOutputShares(tx, o.bitmark.id, o.bitmark.quantity, n, shares ?? new ShareTally());
    } else if (o.bitmark.type !== 'none') {
      carried = checkOutputBitmark(tx, o, n, carried ?? new Set());
    }
  }
  if (tx.kind === 'coinbase' && tx.outputs.length === 0) {
    throw new ValidationError('bad-cb-vout-empty', 'coinbase has no output');
  }
  return { total, shares };
}

function checkOutputShares(
  tx: Transaction,
  id: Uint8Array,
  quantity: number,
  n: number,
  shares: ShareTally,
): ShareTally {
  if (tx.kind === 'coinbase')
    throw new ValidationError('bad-cb-bitmark', `coinbase output ${n} holds shares`);
  if (!isValidShareQuantity(quantity)) {
    throw new ValidationError(
      'bad-txns-share-quantity',
      `output ${n} holds ${quantity} shares, not 1..${MAX_SHARES}`,
    );
  }
  if (!shares.add(id, quantity)) {
    throw new ValidationError(
      'bad-txns-share-total-toolarge',
      `outputs hold more than ${MAX_SHARES} shares of ${hashToHex(id)}`,
    );
  }
  return shares;
}

function checkOutputBitmark(tx: Transaction, o: TxOutput, n: number, carried: Set<string>): Set<string> {
  if (tx.kind === 'coinbase')
    throw new ValidationError('bad-cb-bitmark', `coinbase output ${n} carries or mints a bitmark`);
  if (o.bitmark.type === 'mint' && tx.kind !== 'issue') {
    throw new ValidationError('bad-txns-mint-outside-issue', `output ${n} mints a bitmark outside an issue`);
  }
  if (o.bitmark.type === 'carry') {
    const id = toHex(o.bitmark.id);
    if (carried.has(id)) {
      throw new ValidationError(
        'bad-txns-bitmark-duplicate',
        `bitmark ${hashToHex(o.bitmark.id)} in two outputs`,
      );
    }
    carried.add(id);
  }
  return carried;
}

/** Every input's signature, low-S, against the signature hash for that input. */
export function checkTxSignatures(d: DecodedTx, genesisHash: Uint8Array, verifier: SignatureVerifier): void {
  const tx = d.tx;
  if (tx.kind === 'coinbase') {
    return;
  }
  for (let i = 0; i < tx.inputs.length; i++) {
    const input = tx.inputs[i]!;
    if (!isLowS(input.signature)) {
      throw new ValidationError('bad-txns-sig-highs', `input ${i} signature is not low-S`);
    }
    if (!verifier.verify(input.signature, signatureHash(genesisHash, d, i), input.pubkey)) {
      throw new ValidationError('bad-txns-sig', `input ${i} signature does not verify`);
    }
  }
}

/** All stateless rules: structure, then signatures. Returns the coin total of the outputs. */
export function checkTransaction(d: DecodedTx, p: TxCheckParams, verifier: SignatureVerifier): number {
  const total = checkTxStructure(d, p);
  checkTxSignatures(d, p.genesisHash, verifier);
  return total;
}

/** One signature to verify, with where it came from (for the error when it fails). */
export interface SignatureCheck {
  readonly sig: Uint8Array;
  readonly msg: Uint8Array;
  readonly pub: Uint8Array;
  readonly tx: DecodedTx;
  readonly input: number;
}

/** Every signature of `txs`, with its signature hash: for batch (parallel) verification. */
export function collectSignatureChecks(txs: readonly DecodedTx[], genesisHash: Uint8Array): SignatureCheck[] {
  const out: SignatureCheck[] = [];
  for (const d of txs) {
    if (d.tx.kind === 'coinbase') continue;
    for (let i = 0; i < d.tx.inputs.length; i++) {
      const input = d.tx.inputs[i]!;
      out.push({
        sig: input.signature,
        msg: signatureHash(genesisHash, d, i),
        pub: input.pubkey,
        tx: d,
        input: i,
      });
    }
  }
  return out;
}
