/**
 * SignatureVerifier backed by libsecp256k1 through the `secp256k1` package's native N-API binding.
 *
 * We load `secp256k1/bindings` (the native part only), never the package root: its `index.js`
 * silently falls back to pure-JS elliptic when the addon fails to load, which would hide the
 * failure and give a ~50x slower node. Here a failed load throws, and `loadVerifier` records why.
 */
import { createRequire } from 'node:module';
import type * as Secp256k1 from 'secp256k1';
import type { SignatureVerifier } from '../core/signature.ts';
import { guardedVerifier } from './guarded.ts';

type NativeSecp256k1 = Pick<typeof Secp256k1, 'ecdsaVerify'>;

/**
 * Loads the native binding (throws if the addon is missing, built for another ABI, or fails to
 * initialise) and returns a verifier over it.
 *
 * Semantics (identical across backends): true iff sig is 64 bytes with s in [1, n/2] (checked here
 * with the core's `isLowS`), msg32 is 32 bytes, pubkey33 is 33 bytes with prefix 02/03 (checked
 * here), and libsecp256k1 accepts: it rejects r or s ≥ n and an x not on the curve at parse time
 * (the binding throws; we return false), r = 0 / s = 0 and a wrong signature at verify time.
 */
export function createNativeVerifier(): SignatureVerifier {
  const require = createRequire(import.meta.url);
  const secp = require('secp256k1/bindings') as NativeSecp256k1;
  if (typeof secp?.ecdsaVerify !== 'function') {
    throw new Error('secp256k1/bindings loaded but has no ecdsaVerify');
  }
  const ecdsaVerify = secp.ecdsaVerify;
  // The arguments are copied into one ArrayBuffer of our own (a 129-byte copy): the binding asks
  // for each array's memory, and a small array that V8 keeps in its heap (a signature hash from
  // core/hash.ts) must then be moved out to a new malloc'd store, which costs more than the copy.
  // guardedVerifier checks the three lengths first, so each copy fills its slot exactly and no
  // byte of an earlier call is left in it.
  const scratch = new ArrayBuffer(64 + 32 + 33);
  const s = new Uint8Array(scratch, 0, 64);
  const m = new Uint8Array(scratch, 64, 32);
  const p = new Uint8Array(scratch, 96, 33);
  return guardedVerifier('native', (sig, msg, pub) => {
    s.set(sig);
    m.set(msg);
    p.set(pub);
    return ecdsaVerify(s, m, p);
  });
}
