/**
 * A verify worker's part of `BatchVerifier.prepareBlocks` (prepare-jobs.ts): claims the job's
 * blocks one at a time until none is left, answering each as it is done.
 */
import type { NetworkParams } from '../core/params/types.ts';
import type { SignatureVerifier } from '../core/signature.ts';
import { prepareBlock } from '../core/validation/block-prepare.ts';
import type { PrepareReply, PrepareRequest } from './prepare-jobs.ts';

export function prepareClaimed(
  m: PrepareRequest,
  params: NetworkParams | undefined,
  verifier: SignatureVerifier,
  answer: (reply: PrepareReply, transfer: ArrayBuffer[]) => void,
): void {
  const { id, sab, offsets, claim } = m.prepare;
  const claims = new Int32Array(claim);
  const count = offsets.length - 1;
  for (;;) {
    const index = Atomics.add(claims, 0, 1);
    if (index >= count) return;
    let pack: Uint8Array | null = null;
    if (params !== undefined) {
      try {
        const raw = new Uint8Array(sab, offsets[index]!, offsets[index + 1]! - offsets[index]!);
        pack = prepareBlock(raw, params, verifier);
      } catch {
        pack = null; // the connecting thread takes it the ordinary way, for its reject code
      }
    }
    answer({ prepared: { id, index, pack } }, pack === null ? [] : [pack.buffer as ArrayBuffer]);
  }
}
