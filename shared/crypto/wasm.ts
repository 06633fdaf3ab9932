/**
 * SignatureVerifier backed by `tiny-secp256k1` (libsecp256k1 compiled to WebAssembly).
 *
 * The package's ESM entry instantiates its WASM module at import time, so a static import would make
 * a WASM failure an unrecoverable module-load error. We load its CommonJS build through
 * `createRequire` instead: it instantiates synchronously (WebAssembly.Module/Instance), so the factory
 * stays synchronous and a failure is an ordinary exception the loader can record.
 */
import { createRequire } from 'node:module';
import type * as TinySecp256k1 from 'tiny-secp256k1';
import type { SignatureVerifier } from '../core/signature.ts';
import { guardedVerifier } from './guarded.ts';

type Tiny = Pick<typeof TinySecp256k1, 'verify'>;

/**
 * Loads and instantiates the WASM module (throws if it can't) and returns a verifier over it.
 *
 * Semantics (identical across backends): true iff sig is 64 bytes with s in [1, n/2] (checked here
 * with the core's `isLowS`), msg32 is 32 bytes, pubkey33 is 33 bytes with prefix 02/03 (checked
 * here), and the ECDSA check passes. tiny-secp256k1 throws a TypeError for r or s ≥ n and for a key
 * not on the curve; we return false. r = 0 is rejected by the WASM verify itself.
 */
export function createWasmVerifier(): SignatureVerifier {
  const require = createRequire(import.meta.url);
  const tiny = require('tiny-secp256k1') as Tiny;
  if (typeof tiny?.verify !== 'function') {
    throw new Error('tiny-secp256k1 loaded but has no verify');
  }
  const tinyVerify = tiny.verify;
  // strict = true: reject high-S inside the WASM too (already excluded by the guard).
  return guardedVerifier('wasm', (sig, msg, pub) => tinyVerify(msg, pub, sig, true));
}
