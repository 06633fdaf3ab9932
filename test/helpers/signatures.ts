/** Valid signature checks for verifier tests: `n` random messages signed by one new key. */
import { randomBytes } from 'node:crypto';
import type { SigCheck } from '../../shared/crypto/batch.ts';
import { generatePrivateKey, publicKeyOf, signCompact } from '../../shared/crypto/keys.ts';

export function validChecks(n: number): SigCheck[] {
  const priv = generatePrivateKey();
  const pub = publicKeyOf(priv);
  return Array.from({ length: n }, () => {
    const msg = new Uint8Array(randomBytes(32));
    return { sig: signCompact(msg, priv), msg, pub };
  });
}
