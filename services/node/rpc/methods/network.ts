/** Peer and network RPCs. */
import { hashToHex } from '../../../../shared/core/bytes.ts';
import { VERSION } from '../../../../shared/version.ts';
import { P2P_VERSION } from '../../p2p/messages.ts';
import { USER_AGENT } from '../../user-agent.ts';
import type { MethodDef } from '../method.ts';
import type { NodeApi } from './api.ts';

export function networkMethods(api: NodeApi): MethodDef[] {
  return [
    {
      name: 'getpeerinfo',
      help: 'The connected outbound peers: key, address, their tip, latency.',
      params: [],
      run: () =>
        api.p2p.peers().map((p, id) => ({
          id,
          key: p.key,
          addr: p.address,
          inbound: false,
          version: p.remote?.version,
          subver: p.remote?.userAgent,
          synced_headers: p.remote?.height,
          bestblock: p.remote ? hashToHex(p.remote.tipHash) : undefined,
          pingtime: p.latencyMs / 1000,
        })),
    },
    {
      name: 'getnetworkinfo',
      help: 'Version, protocol version and connection counts.',
      params: [],
      run: () => ({
        version: VERSION,
        subversion: USER_AGENT,
        protocolversion: P2P_VERSION,
        connections: api.p2p.peers().length + api.p2p.inboundCount(),
        connections_in: api.p2p.inboundCount(),
        connections_out: api.p2p.peers().length,
        networkactive: true,
      }),
    },
    {
      name: 'getconnectioncount',
      help: 'Number of peer connections (inbound + outbound).',
      params: [],
      run: () => api.p2p.peers().length + api.p2p.inboundCount(),
    },
  ];
}
