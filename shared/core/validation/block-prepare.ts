/**
 * Everything about a block that needs nothing but the block, done ahead on a verify worker while
 * another thread connects the blocks before it (sync's pipeline, issue 12): decoding, every
 * stateless rule with the signatures (checkBlock), and the hashes the connecting thread would
 * otherwise compute again: the txids and the owner hash of each input's key. The result is those
 * hashes in one buffer (tx/prepared.ts), from which block/codec.ts decodePreparedBlock decodes the
 * same bytes without hashing. Throws what decoding or checkBlock throws: the connecting thread then
 * takes the block the ordinary way, for its exact reject code.
 */
import { ownerOf } from '../address.ts';
import { decodeBlock } from '../block/codec.ts';
import { HASH_SIZE, OWNER_SIZE } from '../limits.ts';
import type { NetworkParams } from '../params/types.ts';
import type { SignatureVerifier } from '../signature.ts';
import { PreparedHashes } from '../tx/prepared.ts';
import { checkBlock } from './block-check.ts';

export function prepareBlock(raw: Uint8Array, p: NetworkParams, verifier: SignatureVerifier): Uint8Array {
  const block = decodeBlock(raw);
  checkBlock(block, p, verifier);
  const txs = block.txs;
  let inputs = 0;
  for (const d of txs) if (d.tx.kind !== 'coinbase') inputs += d.tx.inputs.length;
  const pack = new Uint8Array(PreparedHashes.size(txs.length, inputs));
  let o = txs.length * HASH_SIZE;
  for (let i = 0; i < txs.length; i++) {
    const d = txs[i]!;
    pack.set(d.txid, i * HASH_SIZE);
    if (d.tx.kind === 'coinbase') continue;
    for (const input of d.tx.inputs) {
      pack.set(ownerOf(input.pubkey), o);
      o += OWNER_SIZE;
    }
  }
  return pack;
}
