import { Buffer } from 'node:buffer';

/** Key of an outpoint (txid, vout) in maps and sets: the 32 txid bytes as latin1, then the index. */
export function outpointKey(txid: Uint8Array, vout: number): string {
  return `${Buffer.from(txid.buffer, txid.byteOffset, 32).toString('latin1')}${vout}`;
}
