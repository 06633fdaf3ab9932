/** Every RPC method of cairnd, registered in one registry (one module per namespace). */
import { MethodRegistry } from '../method.ts';
import type { NodeApi } from './api.ts';
import { blockchainMethods } from './blockchain.ts';
import { controlMethods } from './control.ts';
import { ledgerMethods } from './ledger.ts';
import { mempoolMethods } from './mempool.ts';
import { miningMethods } from './mining.ts';
import { networkMethods } from './network.ts';
import { shareMethods } from './shares.ts';
import { zmqMethods } from './zmq.ts';

export function nodeRegistry(api: NodeApi): MethodRegistry {
  const r = new MethodRegistry();
  r.add(
    ...blockchainMethods(api),
    ...mempoolMethods(api),
    ...networkMethods(api),
    ...miningMethods(api),
    ...ledgerMethods(api),
    ...shareMethods(api),
    ...zmqMethods(api),
  );
  r.add(...controlMethods(api, r));
  return r;
}
