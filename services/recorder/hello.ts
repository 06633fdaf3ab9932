/**
 * The recorder's hello to a node: network (genesis), protocol version, its CURVE key, payout
 * owner, clock and a fresh nonce, with a key proof bound to both keys (shared/zmq/curve.ts
 * keyProof over shared/proof/messages.ts helloProofContext), so the node knows which recorder
 * key sent it: zeromq.js cannot show the node the key CURVE authenticated.
 */
import { randomBytes } from 'node:crypto';
import type { NetworkParams } from '../../shared/core/params/types.ts';
import { z85Decode } from '../../shared/identity/z85.ts';
import { helloProofContext, PROOF_VERSION, type RecorderHello } from '../../shared/proof/messages.ts';
import { type CurveKeys, keyProof } from '../../shared/zmq/curve.ts';

export function makeRecorderHello(
  params: NetworkParams,
  me: CurveKeys,
  nodeKeyZ85: string,
  payout: Uint8Array,
  userAgent: string,
  now: number,
): RecorderHello {
  const unsigned = {
    recorderKey: z85Decode(me.publicKey),
    payout,
    time: now,
    nonce: new Uint8Array(randomBytes(8)),
  };
  const proof = keyProof(me.secretKey, nodeKeyZ85, helloProofContext(unsigned, z85Decode(nodeKeyZ85)));
  return { ...unsigned, version: PROOF_VERSION, genesis: params.genesisHash, userAgent, proof };
}
