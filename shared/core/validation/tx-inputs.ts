/**
 * Contextual transaction rules: inputs exist and are unspent, belong to the signer, are mature;
 * coins are not created; bitmarks are conserved; asset and issue authority.
 */

import { ownerOf } from '../address.ts';
import { equalBytes, hashToHex, toHex } from '../bytes.ts';
import { ValidationError } from '../errors.ts';
import { assetIdOf, bitmarkIdOf } from '../tx/ids.ts';
import type { DecodedTx } from '../tx/types.ts';
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
    if (!equalBytes(ownerOf(input.pubkey), coin.owner)) {
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
    spent[i] = coin;
  }

  let totalOut = 0;
  for (const o of tx.outputs) {
    totalOut += o.amount;
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

/** The coins a tx creates, with minted bitmark ids resolved. */
export function createdCoins(d: DecodedTx, height: number): Coin[] {
  const coinbase = d.tx.kind === 'coinbase';
  return d.tx.outputs.map((o, vout) => ({
    owner: o.owner,
    amount: o.amount,
    bitmark:
      o.bitmark.type === 'carry'
        ? o.bitmark.id
        : o.bitmark.type === 'mint'
          ? bitmarkIdOf(d.txid, vout)
          : null,
    height,
    coinbase,
  }));
}
