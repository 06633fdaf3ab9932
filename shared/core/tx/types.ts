/** The five kinds of transaction on the Cairn ledger (docs/protocol.md §Transactions). */

export const TX_VERSION = 1;

export const TxKind = { coinbase: 0, transfer: 1, asset: 2, issue: 3, split: 4 } as const;
export type TxKindName = keyof typeof TxKind;

/**
 * An output may carry no bitmark, carry an existing one, (in an issue only) mint a new one, or hold
 * a quantity of the shares of a split bitmark (its id names the share kind). One of these per output.
 */
export type OutputBitmark =
  | { readonly type: 'none' }
  | { readonly type: 'carry'; readonly id: Uint8Array }
  | { readonly type: 'mint' }
  | { readonly type: 'shares'; readonly id: Uint8Array; readonly quantity: number };

export const NO_BITMARK: OutputBitmark = Object.freeze({ type: 'none' });
export const MINT: OutputBitmark = Object.freeze({ type: 'mint' });

export interface TxOutput {
  /** hash160 of the owner's compressed public key. */
  readonly owner: Uint8Array;
  /** Coins in base units. */
  readonly amount: number;
  readonly bitmark: OutputBitmark;
}

export interface TxInput {
  readonly prevTxid: Uint8Array;
  readonly vout: number;
  /** Compressed public key of the spent output's owner. */
  readonly pubkey: Uint8Array;
  /** 64-byte compact low-S ECDSA signature of the tx's signature hash for this input. */
  readonly signature: Uint8Array;
}

export interface AssetDefinition {
  /** UTF-8, 1..64 bytes, no control characters. */
  readonly name: string;
  /** What identifies the asset (e.g. a file's hash); asset id = SHA-256d(fingerprint). */
  readonly fingerprint: Uint8Array;
  readonly metadata: Uint8Array;
}

export interface CoinbaseTx {
  readonly version: number;
  readonly kind: 'coinbase';
  readonly height: number;
  /** Free bytes for miners (≤ 64), e.g. a recorder tag. */
  readonly data: Uint8Array;
  readonly outputs: readonly TxOutput[];
}

/** What every transaction that spends outputs has. */
interface SpendingTxBase {
  readonly version: number;
  readonly inputs: readonly TxInput[];
  readonly outputs: readonly TxOutput[];
}

export interface TransferTx extends SpendingTxBase {
  readonly kind: 'transfer';
}

export interface AssetTx extends SpendingTxBase {
  readonly kind: 'asset';
  readonly asset: AssetDefinition;
}

export interface IssueTx extends SpendingTxBase {
  readonly kind: 'issue';
  readonly assetId: Uint8Array;
}

/**
 * Converts the bitmark `bitmarkId` (held by one of the inputs) into `total` shares, once and for
 * ever: its share outputs must add up to `total`, and the bitmark itself leaves the ledger.
 */
export interface SplitTx extends SpendingTxBase {
  readonly kind: 'split';
  readonly bitmarkId: Uint8Array;
  readonly total: number;
}

export type Transaction = CoinbaseTx | TransferTx | AssetTx | IssueTx | SplitTx;
export type SpendingTx = TransferTx | AssetTx | IssueTx | SplitTx;

/**
 * A transaction together with facts computed once from its bytes: the encoding, the id and where
 * the signatures start (the signed part is the prefix before them). Validation works on these so
 * nothing is re-encoded or re-hashed.
 */
export interface DecodedTx {
  readonly tx: Transaction;
  readonly raw: Uint8Array;
  readonly txid: Uint8Array;
  /** Length of the prefix of `raw` that signatures commit to. */
  readonly unsignedLength: number;
  /**
   * The owner hash (hash160) of each input's key, 20 bytes each in input order, when they were
   * computed ahead (a verify worker prepared the block: validation/block-prepare.ts); without
   * them validation hashes the keys itself.
   */
  readonly inputOwners?: Uint8Array;
}
