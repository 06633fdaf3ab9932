/** Peer and network RPCs. */
import { hashToHex } from '../../../../shared/core/bytes.ts';
import { isZ85Key } from '../../../../shared/identity/z85.ts';
import { VERSION } from '../../../../shared/version.ts';
import { P2P_VERSION } from '../../p2p/messages.ts';
import { isDialable } from '../../p2p/peer-book.ts';
import { USER_AGENT } from '../../user-agent.ts';
import { type MethodDef, RPC, RpcError } from '../method.ts';
import type { NodeApi } from './api.ts';

export function networkMethods(api: NodeApi): MethodDef[] {
  // getpeerinfo ids: stable for as long as a connection (an outbound peer, an inbound session) lives
  const ids = new WeakMap<object, number>();
  let nextId = 0;
  const idOf = (o: object): number => {
    let id = ids.get(o);
    if (id === undefined) {
      id = nextId++;
      ids.set(o, id);
    }
    return id;
  };
  return [
    {
      name: 'getpeerinfo',
      help: 'The connected peers, outbound and inbound: Core fields where Cairn has the data (id, addr, inbound, conntime, lastsend, lastrecv, bytessent, bytesrecv, pingtime, synced_headers, synced_blocks, startingheight, version, subver) and key (the peer key).',
      params: [],
      run: () => {
        const tip = api.state.chain.tipHeight();
        const out: Record<string, unknown>[] = [];
        for (const p of api.p2p.peers()) {
          const height = p.remote?.height ?? -1;
          out.push({
            id: idOf(p),
            addr: p.address,
            inbound: false,
            conntime: p.connectedAt ?? 0,
            lastsend: p.lastSend,
            lastrecv: p.lastRecv,
            bytessent: p.bytesSent,
            bytesrecv: p.bytesRecv,
            bytessent_per_msg: { ...p.bytesSentPerMsg },
            bytesrecv_per_msg: { ...p.bytesRecvPerMsg },
            // smoothed round trip of every request (Cairn pings only every 30 s)
            ...(p.latencyMs > 0 ? { pingtime: p.latencyMs / 1000 } : {}),
            synced_headers: height,
            synced_blocks: height < 0 ? -1 : Math.min(height, tip),
            startingheight: p.startingHeight ?? -1,
            version: p.remote?.version,
            subver: p.remote?.userAgent,
            key: p.key,
            bestblock: p.remote ? hashToHex(p.remote.tipHash) : undefined,
          });
        }
        for (const s of api.p2p.inboundSessions()) {
          out.push({
            id: idOf(s),
            // the first address it listens on, from its hello: ZeroMQ does not tell the remote address
            addr: s.hello.listen[0] ?? '',
            inbound: true,
            conntime: s.since,
            lastsend: s.lastSeen,
            lastrecv: s.lastSeen,
            bytessent: s.bytesSent,
            bytesrecv: s.bytesRecv,
            bytessent_per_msg: { ...s.bytesSentPerMsg },
            bytesrecv_per_msg: { ...s.bytesRecvPerMsg },
            // not pinged (pings go outbound), and its tip is known only from its hello
            synced_headers: -1,
            synced_blocks: -1,
            startingheight: s.hello.height,
            version: s.hello.version,
            subver: s.hello.userAgent,
            key: s.key,
          });
        }
        return out.sort((a, b) => (a.id as number) - (b.id as number));
      },
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
      name: 'addnode',
      help: 'Adds (add), forgets (remove) or dials once (onetry) a peer given as KEY@host:port (KEY: its Z85 peer key).',
      params: [
        { name: 'node', type: 'string', maxLength: 400 },
        { name: 'command', type: 'string' },
      ],
      run: ({ node, command }) => {
        if (command !== 'add' && command !== 'remove' && command !== 'onetry')
          throw new RpcError(RPC.INVALID_PARAMETER, 'command: expected add, remove or onetry');
        const { key, address } = peerArg(node as string, command !== 'remove');
        if (!api.p2p.addNode(key, address, command) && command === 'remove')
          throw new RpcError(RPC.CLIENT_NODE_NOT_ADDED, 'Node has not been added.');
        return null;
      },
    },
    {
      name: 'disconnectnode',
      help: 'Drops the outbound connection to a peer, given by its Z85 key or its address (host:port).',
      params: [{ name: 'node', type: 'string', maxLength: 400 }],
      run: async ({ node }) => {
        const peer = api.p2p.peers().find((p) => p.key === node || p.address === node);
        if (peer === undefined || !(await api.p2p.disconnectPeer(peer.key)))
          throw new RpcError(RPC.CLIENT_NODE_NOT_CONNECTED, 'Node not found in connected nodes');
        return null;
      },
    },
    {
      name: 'setban',
      help: 'Bans (add) or unbans (remove) a peer by its Z85 key for BANTIME seconds (default: the configured ban time), or until BANTIME when ABSOLUTE.',
      params: [
        { name: 'key', type: 'string', maxLength: 40 },
        { name: 'command', type: 'string' },
        { name: 'bantime', type: 'integer', optional: true, min: 0 },
        { name: 'absolute', type: 'boolean', optional: true },
      ],
      run: ({ key, command, bantime, absolute }) => {
        if (!isZ85Key(key as string))
          throw new RpcError(RPC.INVALID_PARAMETER, 'key: expected a 40-character Z85 peer key');
        const now = api.clock();
        if (command === 'remove') {
          if (!api.p2p.book.isBanned(key as string, now))
            throw new RpcError(
              RPC.CLIENT_INVALID_IP_OR_SUBNET,
              'Error: Unban failed. Requested peer was not banned.',
            );
          api.p2p.setBan(key as string, 0, '');
          return null;
        }
        if (command !== 'add') throw new RpcError(RPC.INVALID_PARAMETER, 'command: expected add or remove');
        if (api.p2p.book.isBanned(key as string, now))
          throw new RpcError(RPC.CLIENT_NODE_ALREADY_ADDED, 'Error: Peer key is already banned');
        const t = (bantime as number | undefined) || api.banSeconds;
        const until = absolute === true ? t : now + t;
        if (until <= now) throw new RpcError(RPC.INVALID_PARAMETER, 'bantime: the ban would already be over');
        api.p2p.setBan(key as string, until, 'manually added');
        return null;
      },
    },
    {
      name: 'listbanned',
      help: 'Peers banned now: key, since/until (seconds since the epoch), reason.',
      params: [],
      run: () =>
        api.p2p.book.banned(api.clock()).map((r) => ({
          address: r.key,
          banned_until: r.bannedUntil,

          time_remaining: r.bannedUntil - api.clock(),
          ban_reason: r.banReason ?? '',
        })),
    },
    {
      name: 'clearbanned',
      help: 'Lifts every ban.',
      params: [],
      run: () => {
        for (const r of api.p2p.book.banned(api.clock())) api.p2p.setBan(r.key, 0, '');
        return null;
      },
    },
    {
      name: 'getconnectioncount',
      help: 'Number of peer connections (inbound + outbound).',
      params: [],
      run: () => api.p2p.peers().length + api.p2p.inboundCount(),
    },
  ];
}

/** `KEY@host:port` (the key is what CURVE authenticates; the address alone names nobody). */
function peerArg(v: string, needAddress: boolean): { key: string; address: string } {
  // a Z85 key may itself contain '@': the key is the first 40 characters
  const key = v.slice(0, 40);
  const address = v[40] === '@' ? v.slice(41).replace(/^tcp:\/\//, '') : '';
  if (v.length > 40 && v[40] !== '@')
    throw new RpcError(RPC.INVALID_PARAMETER, 'node: expected KEY@host:port with a 40-character Z85 key');
  if (!isZ85Key(key))
    throw new RpcError(RPC.INVALID_PARAMETER, 'node: expected KEY@host:port with a 40-character Z85 key');
  if (needAddress && !isDialable(address))
    throw new RpcError(RPC.INVALID_PARAMETER, 'node: expected KEY@host:port with a dialable host:port');
  return { key, address };
}
