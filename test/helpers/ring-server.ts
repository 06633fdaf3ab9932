/** A worker thread that serves one verify ring (test/unit/crypto/verify-ring.test.ts), as batch-worker.ts does. */
import { parentPort, workerData } from 'node:worker_threads';
import { loadVerifier } from '../../shared/crypto/load.ts';
import { serveRing } from '../../shared/crypto/verify-ring.ts';

const { verifier } = loadVerifier('auto');
serveRing(workerData.ring as SharedArrayBuffer, (sig, msg, pub) => verifier.verify(sig, msg, pub));
// the port keeps the worker's event loop alive while it is parked in Atomics.waitAsync
parentPort?.on('message', () => {});
parentPort?.postMessage('serving');
