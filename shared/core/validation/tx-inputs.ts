/**
 * Contextual transaction rules: inputs exist and are unspent, belong to the signer, are mature;
 * coins are not created; bitmarks and every kind of shares are conserved (a split turns one held
 * bitmark into its total of shares); asset and issue authority.
 */

import { ownerOf } from '../address.ts';
import { equalBytes, hashToHex, toHex } from '../bytes.ts';
import { ValidationError } from '../errors.ts';
import { MAX_SHARES, OWNER_SIZE } from '../limits.ts';
import { assetIdOf, bitmarkIdOf } from '../tx/ids.ts';
import type { DecodedTx, SpendingTx } from '../tx/types.ts';
import { ShareTally } from './share-tally.ts';
import type { AssetRecord, Coin, LedgerView } from './view.ts';

export interface InputRules {
  readonly coinbaseMaturity: number;
  readonly maxMoney: number;
}

export interface SpendResult {
  readonly fee: number;
  /** Coins consumed, in input order (the undo data of this tx). */
  readonly spent: readonly Coin[];
  /** Set for an asset registration. */
  readonly asset?: AssetRecord;
}

/**
 * Checks `d` (a non-coinbase tx that passed the stateless checks) against `view` as of a block at
 * `spendHeight`. Throws ValidationError with the rule's reject code.
 */
export function checkTxInputs(
  d: DecodedTx,
  view: LedgerView,
  spendHeight: number,
  rules: InputRules,
): SpendResult {
  const tx = d.tx;
  if (tx.kind === 'coinbase') {
    throw new ValidationError('bad-cb-multiple', 'a coinbase can only be the first tx of a block');
  }
  const spent: Coin[] = new Array(tx.inputs.length);
  let totalIn = 0;
  const inBitmarks = new Set<string>();
  const inShares = new ShareTally();
  for (let i = 0; i < tx.inputs.length; i++) {
    const input = tx.inputs[i]!;
    const coin = view.getCoin(input.prevTxid, input.vout);
    if (coin === undefined) {
      throw new ValidationError(
        'bad-txns-inputs-missingorspent',
        `input ${i} (${hashToHex(input.prevTxid)}:${input.vout}) is missing or spent`,
        0,
      );
    }
    if (!ownsCoin(d, i, input.pubkey, coin.owner)) {
      throw new ValidationError(
        'bad-txns-wrong-owner',
        `input ${i} public key does not own the output it spends`,
      );
    }
    if (coin.coinbase && spendHeight - coin.height < rules.coinbaseMaturity) {
      throw new ValidationError(
        'bad-txns-premature-spend-of-coinbase',
        `input ${i} spends a coinbase of height ${coin.height} at height ${spendHeight} (maturity ${rules.coinbaseMaturity})`,
        0,
      );
    }
    totalIn += coin.amount;
    if (totalIn > rules.maxMoney) {
      throw new ValidationError('bad-txns-inputvalues-outofrange', 'inputs total out of range');
    }
    if (coin.bitmark !== null) {
      inBitmarks.add(toHex(coin.bitmark));
    }
    if (coin.shares !== undefined && !inShares.add(coin.shares.id, coin.shares.quantity)) {
      throw new ValidationError(
        'bad-txns-share-inputs-outofrange',
        `inputs hold more than ${MAX_SHARES} shares of ${hashToHex(coin.shares.id)}`,
      );
    }
    spent[i] = coin;
  }
  if (tx.kind === 'split' && !inBitmarks.delete(toHex(tx.bitmarkId))) {
    throw new ValidationError(
      'bad-split-not-held',
      `no input holds bitmark ${hashToHex(tx.bitmarkId)}, which the split converts`,
    );
  }

  let totalOut = 0;
  const outShares = new ShareTally();
  for (const o of tx.outputs) {
    totalOut += o.amount;
    if (o.bitmark.type === 'shares' && !outShares.add(o.bitmark.id, o.bitmark.quantity)) {
      throw new ValidationError(
        'bad-txns-share-total-toolarge',
        `outputs hold more than ${MAX_SHARES} shares of ${hashToHex(o.bitmark.id)}`,
      );
    }
    if (o.bitmark.type === 'carry') {
      const id = toHex(o.bitmark.id);
      if (!inBitmarks.delete(id)) {
        throw new ValidationError(
          'bad-txns-bitmark-created',
          `output carries bitmark ${id} that no input holds`,
        );
      }
    }
  }
  if (inBitmarks.size > 0) {
    throw new ValidationError(
      'bad-txns-bitmark-destroyed',
      `bitmark ${[...inBitmarks][0]} is spent but not carried to an output`,
    );
  }
  checkSharesConserved(tx, inShares, outShares);
  if (totalIn < totalOut) {
    throw new ValidationError('bad-txns-in-belowout', `inputs ${totalIn} < outputs ${totalOut}`);
  }

  let asset: AssetRecord | undefined;
  if (tx.kind === 'asset') {
    const id = assetIdOf(tx.asset.fingerprint);
    if (view.getAsset(id) !== undefined) {
      throw new ValidationError(
        'bad-asset-duplicate-fingerprint',
        `asset ${hashToHex(id)} is already registered`,
      );
    }
    asset = {
      id,
      name: tx.asset.name,
      fingerprint: tx.asset.fingerprint,
      metadata: tx.asset.metadata,
      registrant: spent[0]!.owner,
      txid: d.txid,
      height: spendHeight,
    };
  } else if (tx.kind === 'issue') {
    const registered = view.getAsset(tx.assetId);
    if (registered === undefined) {
      throw new ValidationError(
        'bad-issue-unknown-asset',
        `asset ${hashToHex(tx.assetId)} is not registered`,
        0,
      );
    }
    if (!equalBytes(spent[0]!.owner, registered.registrant)) {
      throw new ValidationError(
        'bad-issue-not-registrant',
        `input 0 is not owned by the registrant of asset ${hashToHex(tx.assetId)}`,
      );
    }
  }
  return asset === undefined ? { fee: totalIn - totalOut, spent } : { fee: totalIn - totalOut, spent, asset };
}

/**
 * Each kind of shares leaves a transaction in exactly the quantity it entered (no minting, no
 * burning); a split adds its total of the bitmark it converts. Kinds are checked in order of first
 * appearance among the outputs, then among the inputs.
 */
function checkSharesConserved(tx: SpendingTx, inShares: ShareTally, outShares: ShareTally): void {
  if (inShares.size === 0 && outShares.size === 0) return;
  const available = (id: Uint8Array) =>
    inShares.get(id) + (tx.kind === 'split' && equalBytes(id, tx.bitmarkId) ? tx.total : 0);
  for (const { id, sum } of outShares.entries()) {
    const has = available(id);
    if (sum > has) {
      throw new ValidationError(
        'bad-txns-share-created',
        `outputs hold ${sum} shares of ${hashToHex(id)}, inputs ${has}`,
      );
    }
  }
  for (const { id } of inShares.entries()) {
    const has = available(id);
    const sum = outShares.get(id);
    if (sum < has) {
      throw new ValidationError(
        'bad-txns-share-destroyed',
        `inputs hold ${has} shares of ${hashToHex(id)}, outputs only ${sum}`,
      );
    }
  }
}

/** The coins a tx creates, with minted bitmark ids resolved. */
export function createdCoins(d: DecodedTx, height: number): Coin[] {
  const coinbase = d.tx.kind === 'coinbase';
  return d.tx.outputs.map((o, vout): Coin => {
    const b = o.bitmark;
    if (b.type === 'shares') {
      return {
        owner: o.owner,
        amount: o.amount,
        bitmark: null,
        shares: { id: b.id, quantity: b.quantity },
        height,
        coinbase,
      };
    }
    return {
      owner: o.owner,
      amount: o.amount,
      bitmark: b.type === 'carry' ? b.id : b.type === 'mint' ? bitmarkIdOf(d.txid, vout) : null,
      height,
      coinbase,
    };
  });
}

/** Whether input `i`'s key hashes to `owner` (the hash computed ahead when the block was prepared). */
function ownsCoin(d: DecodedTx, i: number, pubkey: Uint8Array, owner: Uint8Array): boolean {
  const known = d.inputOwners;
  if (known === undefined) return equalBytes(ownerOf(pubkey), owner);
  const at = i * OWNER_SIZE;
  if (owner.length !== OWNER_SIZE) return false;
  for (let k = 0; k < OWNER_SIZE; k++) if (known[at + k] !== owner[k]) return false;
  return true;
}
