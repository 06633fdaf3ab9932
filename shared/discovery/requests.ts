/**
 * Building signed discovery requests (the node's client and tests): a registration or leave whose
 * proof shows the sender holds the secret of the key it names (messages.ts, "Binding").
 */
import { randomBytes } from 'node:crypto';
import { z85Decode } from '../identity/z85.ts';
import { type CurveKeys, keyProof } from '../zmq/curve.ts';
import {
  encodeQuery,
  leaveSigned,
  NONCE_BYTES,
  proofContext,
  registerSigned,
  withProof,
} from './messages.ts';

export interface RegisterFields {
  readonly genesis: Uint8Array;
  readonly addresses: readonly string[];
  readonly height: number;
  /** Seconds since the epoch. */
  readonly time: number;
}

/**
 * A registration of `identity`'s public key, proved with its secret for the service whose public
 * key is `serviceKey`. `claimKey` names another key (tests of impersonation: the proof is still
 * made with `identity`'s secret, so the service must refuse it).
 */
export function makeRegister(
  identity: CurveKeys,
  serviceKey: string,
  f: RegisterFields,
  claimKey: string = identity.publicKey,
): Uint8Array {
  const signed = registerSigned({
    nodeKey: z85Decode(claimKey),
    genesis: f.genesis,
    addresses: f.addresses,
    height: f.height,
    time: f.time,
    nonce: new Uint8Array(randomBytes(NONCE_BYTES)),
  });
  const proof = keyProof(
    identity.secretKey,
    serviceKey,
    proofContext('register', z85Decode(serviceKey), signed),
  );
  return withProof(signed, proof);
}

/** A signed request to remove `identity`'s entry. */
export function makeLeave(
  identity: CurveKeys,
  serviceKey: string,
  genesis: Uint8Array,
  time: number,
): Uint8Array {
  const signed = leaveSigned({
    nodeKey: z85Decode(identity.publicKey),
    genesis,
    time,
    nonce: new Uint8Array(randomBytes(NONCE_BYTES)),
  });
  const proof = keyProof(
    identity.secretKey,
    serviceKey,
    proofContext('leave', z85Decode(serviceKey), signed),
  );
  return withProof(signed, proof);
}

export { encodeQuery };
