/** Identifiers derived from transactions: signature hashes, asset ids, bitmark ids. */
import { TAG_ASSET, TAG_BITMARK, TAG_SIGHASH } from '../hash.ts';
import type { DecodedTx } from './types.ts';

/**
 * Message signed by input `index`: tagged hash of the network's genesis hash (so a signature is
 * valid on one network only), the input index, and the tx's unsigned encoding.
 */
export function signatureHash(genesisHash: Uint8Array, d: DecodedTx, index: number): Uint8Array {
  return signatureHashOfUnsigned(genesisHash, d.raw.subarray(0, d.unsignedLength), index);
}

/** Same as signatureHash, for a tx not yet signed (wallets): `unsigned` is encodeUnsignedTx(tx). */
export function signatureHashOfUnsigned(
  genesisHash: Uint8Array,
  unsigned: Uint8Array,
  index: number,
): Uint8Array {
  return TAG_SIGHASH.digest(genesisHash, u32le(index), unsigned);
}

/** An asset is named by its fingerprint (tagged hash): registering the same fingerprint twice is impossible. */
export function assetIdOf(fingerprint: Uint8Array): Uint8Array {
  return TAG_ASSET.digest(fingerprint);
}

/** A minted bitmark's id: tagged hash of the issuing tx id and the output index. */
export function bitmarkIdOf(issueTxid: Uint8Array, vout: number): Uint8Array {
  return TAG_BITMARK.digest(issueTxid, u32le(vout));
}

/** `v` as 4 bytes, little-endian; written byte by byte, since a DataView over a small array's `.buffer` makes V8 move it out of its heap. */
function u32le(v: number): Uint8Array {
  return new Uint8Array([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]);
}
