/** JSON views of blocks and transactions for humans and RPC (hashes in display order). */
import { encodeAddress } from '../../shared/core/address.ts';
import type { DecodedBlock } from '../../shared/core/block/types.ts';
import { hashToHex, toHex } from '../../shared/core/bytes.ts';
import type { NetworkParams } from '../../shared/core/params/types.ts';
import { bitmarkIdOf } from '../../shared/core/tx/ids.ts';
import type { DecodedTx, TxOutput } from '../../shared/core/tx/types.ts';

export function outputJson(
  o: TxOutput,
  p: NetworkParams,
  txid: Uint8Array,
  vout: number,
): Record<string, unknown> {
  const bitmark =
    o.bitmark.type === 'carry'
      ? hashToHex(o.bitmark.id)
      : o.bitmark.type === 'mint'
        ? hashToHex(bitmarkIdOf(txid, vout))
        : undefined;
  return {
    n: vout,
    address: encodeAddress(p.addressPrefix, o.owner),
    value: o.amount,
    ...(bitmark === undefined ? {} : { bitmark, minted: o.bitmark.type === 'mint' }),
  };
}

export function txJson(d: DecodedTx, p: NetworkParams): Record<string, unknown> {
  const tx = d.tx;
  const base = { txid: hashToHex(d.txid), kind: tx.kind, version: tx.version, size: d.raw.length };
  const vout = tx.outputs.map((o, i) => outputJson(o, p, d.txid, i));
  switch (tx.kind) {
    case 'coinbase':
      return { ...base, height: tx.height, data: toHex(tx.data), vout };
    default: {
      const vin = tx.inputs.map((i) => ({
        txid: hashToHex(i.prevTxid),
        vout: i.vout,
        pubkey: toHex(i.pubkey),
        signature: toHex(i.signature),
      }));
      const extra =
        tx.kind === 'asset'
          ? {
              asset: {
                name: tx.asset.name,
                fingerprint: toHex(tx.asset.fingerprint),
                metadata: toHex(tx.asset.metadata),
              },
            }
          : tx.kind === 'issue'
            ? { assetId: hashToHex(tx.assetId) }
            : {};
      return { ...base, ...extra, vin, vout };
    }
  }
}

export function blockJson(
  b: DecodedBlock,
  height: number | undefined,
  p: NetworkParams,
): Record<string, unknown> {
  return {
    hash: hashToHex(b.hash),
    ...(height === undefined ? {} : { height }),
    version: b.header.version,
    previousblockhash: hashToHex(b.header.prevHash),
    merkleroot: hashToHex(b.header.merkleRoot),
    time: b.header.time,
    bits: b.header.bits.toString(16).padStart(8, '0'),
    nonce: b.header.nonce.toString(),
    size: b.raw.length,
    nTx: b.txs.length,
    tx: b.txs.map((t) => txJson(t, p)),
  };
}
