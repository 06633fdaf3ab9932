/** Signs every input of a transaction (client side: wallets, templates in tests and benchmarks). */
import { encodeUnsignedTx } from '../core/tx/codec.ts';
import { signatureHashOfUnsigned } from '../core/tx/ids.ts';
import type { SpendingTx, TxInput } from '../core/tx/types.ts';
import { signCompact } from './keys.ts';

const EMPTY_SIG = new Uint8Array(64);

/** An input before signing: which output it spends and the key that owns it. */
export interface InputToSign {
  readonly prevTxid: Uint8Array;
  readonly vout: number;
  readonly pubkey: Uint8Array;
  readonly privateKey: Uint8Array;
}

/** A spending transaction whose inputs are still to be signed. */
export type UnsignedSpendingTx = SpendingTx extends infer T
  ? T extends SpendingTx
    ? Omit<T, 'inputs'> & { readonly inputs: readonly InputToSign[] }
    : never
  : never;

/** Returns `tx` with each input signed by its private key for the network of `genesisHash`. */
export function signTx(tx: UnsignedSpendingTx, genesisHash: Uint8Array): SpendingTx {
  const placeholder = tx.inputs.map(
    (i): TxInput => ({ prevTxid: i.prevTxid, vout: i.vout, pubkey: i.pubkey, signature: EMPTY_SIG }),
  );
  const unsigned = encodeUnsignedTx({ ...tx, inputs: placeholder } as SpendingTx);
  const inputs = tx.inputs.map(
    (i, n): TxInput => ({
      prevTxid: i.prevTxid,
      vout: i.vout,
      pubkey: i.pubkey,
      signature: signCompact(signatureHashOfUnsigned(genesisHash, unsigned, n), i.privateKey),
    }),
  );
  return { ...tx, inputs } as SpendingTx;
}
