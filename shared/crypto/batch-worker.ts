/**
 * Worker thread of the batch verifier (batch.ts): verifies its share of a shared buffer of
 * signatures, or prepares the blocks of a batch it claims (prepare-run.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { NetworkParams } from '../core/params/types.ts';
import { ITEM_SIZE, sharedLayout, type VerifyShare, type WorkerFault } from './batch.ts';
import { loadVerifier, type VerifierBackend } from './load.ts';
import type { PrepareRequest } from './prepare-jobs.ts';
import { prepareClaimed } from './prepare-run.ts';
import { serveRing } from './verify-ring.ts';

const init = workerData as {
  backend: VerifierBackend;
  params?: NetworkParams;
  ring?: SharedArrayBuffer;
  fault?: WorkerFault;
};
const { verifier } = loadVerifier(init.backend);
// the mempool's small batches come through a persistent shared ring instead of messages
if (init.ring !== undefined) serveRing(init.ring, (sig, msg, pub) => verifier.verify(sig, msg, pub));

parentPort?.on('message', (m: VerifyShare | PrepareRequest) => {
  if (init.fault === ('prepare' in m ? 'exit-on-prepare' : 'exit-on-share')) process.exit(0);
  if ('prepare' in m) {
    prepareClaimed(m, init.params, verifier, (reply, transfer) => parentPort?.postMessage(reply, transfer));
    return;
  }
  const { control, data, results } = sharedLayout(m.sab, m.total);
  for (let i = m.from; i < m.to; i++) {
    const o = i * ITEM_SIZE;
    const ok = verifier.verify(
      data.subarray(o, o + 64),
      data.subarray(o + 64, o + 96),
      data.subarray(o + 96, o + 129),
    );
    results[i] = ok ? 1 : 0;
  }
  Atomics.add(control, 0, 1);
  Atomics.notify(control, 0);
});
