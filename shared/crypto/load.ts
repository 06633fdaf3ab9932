/**
 * Picks the fastest secp256k1 backend that loads: native libsecp256k1 → WASM → pure JS.
 *
 * All backends are synchronous to load (the WASM one instantiates its module synchronously via the
 * package's CommonJS build), so `loadVerifier` is synchronous.
 */
import type { SignatureVerifier } from '../core/signature.ts';
import { createNativeVerifier } from './native.ts';
import { createNobleVerifier } from './noble.ts';
import { createWasmVerifier } from './wasm.ts';

export type VerifierBackend = 'native' | 'wasm' | 'noble';
export type VerifierPreference = VerifierBackend | 'auto';

/** A backend that was tried and failed to load, and why (the error message). */
export interface VerifierFallback {
  name: VerifierBackend;
  reason: string;
}

export interface LoadedVerifier {
  verifier: SignatureVerifier;
  /**
   * Backends tried before `verifier`, in order, that failed. Empty when the first choice loaded.
   * `fallbacks[0]?.name === 'native'` means native libsecp256k1 failed; log e.g.
   * `native secp256k1 failed to load: ${reason}, using ${verifier.name}`.
   */
  fallbacks: VerifierFallback[];
}

export type VerifierLoaders = Record<VerifierBackend, () => SignatureVerifier>;

/** The real factories, in preference order for 'auto'. */
export const DEFAULT_LOADERS: Readonly<VerifierLoaders> = Object.freeze({
  native: createNativeVerifier,
  wasm: createWasmVerifier,
  noble: createNobleVerifier,
});

const AUTO_ORDER: readonly VerifierBackend[] = ['native', 'wasm', 'noble'];

function reasonOf(err: unknown): string {
  if (err instanceof Error) {
    return err.message.split('\n')[0] || err.name;
  }
  return String(err);
}

/**
 * Loads a verifier. `prefer` = 'auto' (default) tries native, then wasm, then noble, and returns
 * the first that loads together with the reasons the earlier ones failed. A specific backend name
 * tries only that backend. Throws if nothing loads (the error lists every reason).
 *
 * `loaders` overrides individual factories (fault injection in tests; e.g. a native loader that
 * throws to exercise the fallback path).
 */
export function loadVerifier(
  prefer: VerifierPreference = 'auto',
  loaders: Partial<VerifierLoaders> = {},
): LoadedVerifier {
  const order = prefer === 'auto' ? AUTO_ORDER : [prefer];
  const fallbacks: VerifierFallback[] = [];
  for (const name of order) {
    const load = loaders[name] ?? DEFAULT_LOADERS[name];
    if (load === undefined) {
      throw new Error(`unknown secp256k1 backend: ${String(name)}`);
    }
    try {
      return { verifier: load(), fallbacks };
    } catch (err) {
      fallbacks.push({ name, reason: reasonOf(err) });
    }
  }
  const why = fallbacks.map((f) => `${f.name}: ${f.reason}`).join('; ');
  throw new Error(`no secp256k1 backend could be loaded (${why})`);
}
