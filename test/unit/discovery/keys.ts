/** CURVE key pairs for discovery unit tests (no files). */
import { randomBytes } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { z85Encode } from '../../../shared/identity/z85.ts';
import type { CurveKeys } from '../../../shared/zmq/curve.ts';

export function curveKeys(): CurveKeys {
  const secret = new Uint8Array(randomBytes(32));
  return { secretKey: z85Encode(secret), publicKey: z85Encode(x25519.getPublicKey(secret)) };
}
