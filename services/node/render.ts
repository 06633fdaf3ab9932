/**
 * JSON views of blocks and transactions for humans and RPC. Every id (block hash, txid, asset id,
 * bitmark id) is in display order (hashToHex: the stored little-endian bytes reversed, as Bitcoin
 * Core prints them), so an id printed anywhere is accepted everywhere else.
 */
import { encodeAddress } from '../../shared/core/address.ts';
import type { DecodedBlock } from '../../shared/core/block/types.ts';
import { hashToHex, toHex } from '../../shared/core/bytes.ts';
import type { NetworkParams } from '../../shared/core/params/types.ts';
import { assetIdOf, bitmarkIdOf } from '../../shared/core/tx/ids.ts';
import type { DecodedTx, TxOutput } from '../../shared/core/tx/types.ts';

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** C0 controls other than tab, LF and CR; DEL and the C1 controls. */
function hasControl(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

/** `b` as text when it is valid UTF-8 without control characters (tab and newlines allowed), else null. */
export function textOf(b: Uint8Array): string | null {
  let t: string;
  try {
    t = UTF8.decode(b);
  } catch {
    return null;
  }
  return hasControl(t) ? null : t;
}

/**
 * An asset's fingerprint and metadata as JSON: `fingerprint` and `metadata` as text where the
 * bytes are UTF-8 text (null where they are binary), `fingerprint_hex` and `metadata_hex` always.
 */
export function assetBytesJson(fingerprint: Uint8Array, metadata: Uint8Array): Record<string, string | null> {
  return {
    fingerprint: textOf(fingerprint),
    fingerprint_hex: toHex(fingerprint),
    metadata: textOf(metadata),
    metadata_hex: toHex(metadata),
  };
}

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
    ...(o.bitmark.type === 'shares'
      ? { shares: { bitmark: hashToHex(o.bitmark.id), quantity: o.bitmark.quantity } }
      : {}),
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
              // the id the asset is registered under (a tagged hash of its fingerprint)
              assetId: hashToHex(assetIdOf(tx.asset.fingerprint)),
              asset: {
                name: tx.asset.name,
                ...assetBytesJson(tx.asset.fingerprint, tx.asset.metadata),
              },
            }
          : tx.kind === 'issue'
            ? { assetId: hashToHex(tx.assetId) }
            : tx.kind === 'split'
              ? { split: { bitmark: hashToHex(tx.bitmarkId), total: tx.total } }
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
