/**
 * The versioned handshake. The client's hello carries a proof that it holds the secret of the
 * CURVE key it claims (zeromq.js cannot show us the key the transport authenticated), bound to
 * both keys, its clock and a nonce, so it cannot be replayed to another node or later.
 */
import { randomBytes } from 'node:crypto';
import { equalBytes } from '../../../shared/core/bytes.ts';
import { Writer } from '../../../shared/core/encoding/writer.ts';
import type { NetworkParams } from '../../../shared/core/params/types.ts';
import { z85Decode } from '../../../shared/identity/z85.ts';
import type { CurveKeys } from '../../../shared/zmq/curve.ts';
import { keyProof, verifyKeyProof } from '../../../shared/zmq/curve.ts';
import { PeerError } from './errors.ts';
import { type Hello, MIN_P2P_VERSION, P2P_VERSION } from './messages.ts';

/** How far a peer's clock may be from ours before its hello is refused. */
export const MAX_CLOCK_SKEW = 10 * 60;

export function helloContext(
  clientKey: Uint8Array,
  serverKey: Uint8Array,
  time: number,
  nonce: Uint8Array,
): Uint8Array {
  return new Writer(128)
    .bytes(new TextEncoder().encode('cairn-hello-v1'))
    .bytes(clientKey)
    .bytes(serverKey)
    .u64(time)
    .bytes(nonce)
    .finish();
}

export interface ChainSummary {
  readonly tipHash: Uint8Array;
  readonly height: number;
  readonly work: bigint;
  /** > 0 on a pruned node: its blocks up to this height have no data (the hello says so). */
  readonly pruneHeight?: number;
}

export function makeHello(
  p: NetworkParams,
  me: CurveKeys,
  summary: ChainSummary,
  listen: readonly string[],
  userAgent: string,
  now: number,
  serverKeyZ85?: string,
): Hello {
  const nodeKey = z85Decode(me.publicKey);
  const nonce = new Uint8Array(randomBytes(8));
  const proof =
    serverKeyZ85 === undefined
      ? new Uint8Array(32)
      : keyProof(me.secretKey, serverKeyZ85, helloContext(nodeKey, z85Decode(serverKeyZ85), now, nonce));
  return {
    version: P2P_VERSION,
    genesis: p.genesisHash,
    nodeKey,
    listen,
    tipHash: summary.tipHash,
    height: summary.height,
    work: summary.work,
    userAgent,
    time: now,
    nonce,
    proof,
    ...(summary.pruneHeight ? { pruneHeight: summary.pruneHeight } : {}),
  };
}

/** Checks a client's hello against our network, version, clock and its key proof. Throws PeerError. */
export function checkClientHello(
  h: Hello,
  p: NetworkParams,
  me: CurveKeys,
  clientKeyZ85: string,
  now: number,
  seenNonces: Set<string>,
): void {
  checkCompatible(h, p);
  if (Math.abs(h.time - now) > MAX_CLOCK_SKEW) {
    throw new PeerError(
      'clock-skew',
      `peer clock is ${h.time - now}s off ours (limit ${MAX_CLOCK_SKEW}s): fix its time`,
    );
  }
  const nonceKey = Buffer.from(h.nonce).toString('hex') + clientKeyZ85;
  if (seenNonces.has(nonceKey)) throw new PeerError('bad-proof', 'hello replayed');
  const ok = verifyKeyProof(
    me.secretKey,
    clientKeyZ85,
    helloContext(h.nodeKey, z85Decode(me.publicKey), h.time, h.nonce),
    h.proof,
  );
  if (!ok) throw new PeerError('bad-proof', 'the hello does not prove the key it claims');
  seenNonces.add(nonceKey);
  if (seenNonces.size > 10_000) seenNonces.delete(seenNonces.values().next().value!);
}

/** Same network and a protocol version both sides speak. */
export function checkCompatible(h: Hello, p: NetworkParams): void {
  if (!equalBytes(h.genesis, p.genesisHash)) {
    throw new PeerError('wrong-network', `peer is on another network (genesis differs from ${p.name}'s)`);
  }
  if (h.version < MIN_P2P_VERSION) {
    throw new PeerError(
      'incompatible-version',
      `peer speaks protocol ${h.version}, this node needs ≥ ${MIN_P2P_VERSION}`,
    );
  }
}
