/**
 * Finds a nonce for a template on the calling thread: for `local` (near-trivial difficulty) and
 * tests; real mining is the recorder's job.
 */
import { encodeBlock } from '../../../shared/core/block/codec.ts';
import { encodeHeader } from '../../../shared/core/block/header.ts';
import { NONCE_OFFSET } from '../../../shared/core/block/types.ts';
import { sha256d } from '../../../shared/core/hash.ts';
import { hashMeetsTargetBytes, targetToLeBytes } from '../../../shared/core/pow/compact.ts';
import type { BlockTemplate } from './template.ts';

/** The template as a block with a nonce meeting its target, or null after `maxTries` nonces. */
export function solveTemplate(t: BlockTemplate, maxTries = 2 ** 32): Uint8Array | null {
  const header = encodeHeader(t.header);
  const view = new DataView(header.buffer, header.byteOffset);
  const target = targetToLeBytes(t.target);
  for (let n = 0; n < maxTries; n++) {
    view.setUint32(NONCE_OFFSET, n >>> 0, true);
    view.setUint32(NONCE_OFFSET + 4, Math.floor(n / 2 ** 32), true);
    if (hashMeetsTargetBytes(sha256d(header), target))
      return encodeBlock({ ...t.header, nonce: BigInt(n) }, t.txs);
  }
  return null;
}
