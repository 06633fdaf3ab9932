/**
 * Single-core signature verification throughput of each secp256k1 backend.
 * Run directly (`tsx bench/verify.ts`) to print a table.
 */
import { randomBytes } from 'node:crypto';
import type { SignatureVerifier } from '../shared/core/signature.ts';
import { generatePrivateKey, publicKeyOf, signCompact } from '../shared/crypto/keys.ts';
import { DEFAULT_LOADERS, type VerifierBackend } from '../shared/crypto/load.ts';
import { type BenchResult, runAsMain } from './result.ts';

const SIGNATURES = 2_000;
const MIN_MS = 1_000;
const WARMUP = 200;
const BATCH = 100;

interface Case {
  sig: Uint8Array;
  msg: Uint8Array;
  pub: Uint8Array;
}

/** SIGNATURES valid (sig, msg, pub) triples, each from its own fresh key. */
function makeCases(): Case[] {
  return Array.from({ length: SIGNATURES }, () => {
    const priv = generatePrivateKey();
    const msg = new Uint8Array(randomBytes(32));
    return { sig: signCompact(msg, priv), msg, pub: publicKeyOf(priv) };
  });
}

/** Verifies round-robin over `cases` for at least MIN_MS; returns verifies/s and the count. */
function measure(verifier: SignatureVerifier, cases: Case[]): { ops: number; count: number; ms: number } {
  for (let i = 0; i < WARMUP; i++) {
    const c = cases[i % cases.length]!;
    if (!verifier.verify(c.sig, c.msg, c.pub)) {
      throw new Error(`${verifier.name} rejected a valid signature`);
    }
  }
  let count = 0;
  let idx = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < BATCH; i++) {
      const c = cases[idx]!;
      if (!verifier.verify(c.sig, c.msg, c.pub)) {
        throw new Error(`${verifier.name} rejected a valid signature`);
      }
      idx = idx + 1 === cases.length ? 0 : idx + 1;
    }
    count += BATCH;
    elapsed = performance.now() - start;
  } while (elapsed < MIN_MS);
  return { ops: (count * 1000) / elapsed, count, ms: elapsed };
}

/** Verifies/s of each backend on one core, over ~2,000 pre-generated valid signatures. */
export async function benchVerify(): Promise<BenchResult[]> {
  const cases = makeCases();
  const results: BenchResult[] = [];
  for (const name of Object.keys(DEFAULT_LOADERS) as VerifierBackend[]) {
    let verifier: SignatureVerifier;
    try {
      verifier = DEFAULT_LOADERS[name]();
    } catch (err) {
      const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
      results.push({ name: `verify/${name}`, ops: 0, unit: 'verifies/s', note: `unavailable: ${reason}` });
      continue;
    }
    const { ops, count, ms } = measure(verifier, cases);
    results.push({
      name: `verify/${name}`,
      ops: Math.round(ops),
      unit: 'verifies/s',
      note: `${count} verifies in ${(ms / 1000).toFixed(2)} s, ${cases.length} distinct keys and sigs`,
    });
    await new Promise((r) => setImmediate(r)); // let the event loop breathe between backends
  }
  return results;
}

await runAsMain(import.meta.url, benchVerify);
