/**
 * A verify worker's part of `BatchVerifier.prepareBlocks`: prepares its run of the blocks laid out
 * in the shared buffer and packs the results back to back in one transferable buffer.
 */
import type { NetworkParams } from '../core/params/types.ts';
import type { SignatureVerifier } from '../core/signature.ts';
import { prepareBlock } from '../core/validation/block-prepare.ts';
import type { PrepareReply, PrepareRequest } from './batch.ts';

export function prepareRun(
  m: PrepareRequest,
  params: NetworkParams | undefined,
  verifier: SignatureVerifier,
): PrepareReply {
  const { id, sab, offsets, from, to } = m.prepare;
  const packs: (Uint8Array | undefined)[] = [];
  let total = 0;
  for (let i = from; i < to; i++) {
    let pack: Uint8Array | undefined;
    if (params !== undefined) {
      try {
        pack = prepareBlock(
          new Uint8Array(sab, offsets[i]!, offsets[i + 1]! - offsets[i]!),
          params,
          verifier,
        );
      } catch {
        pack = undefined; // the connecting thread takes it the ordinary way, for its reject code
      }
    }
    packs.push(pack);
    total += pack?.length ?? 0;
  }
  const out = new Uint8Array(total);
  const lengths: number[] = [];
  let at = 0;
  for (const p of packs) {
    if (p === undefined) {
      lengths.push(-1);
      continue;
    }
    out.set(p, at);
    at += p.length;
    lengths.push(p.length);
  }
  return { prepared: { id, from, packs: out.buffer, lengths } };
}
