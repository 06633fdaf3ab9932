/**
 * One outbound connection: our pipelined client (several requests in flight,
 * shared/zmq/pipeline-client.ts) to a peer's listener, with the handshake done, the
 * peer's last known tip, what it is known to have, latency and stall count. Every call returns
 * the decoded answer or throws PeerError (an `error` reply) / TransportError (timeout, closed).
 */
import { randomBytes } from 'node:crypto';
import type { NetworkParams } from '../../../shared/core/params/types.ts';
import { z85Encode } from '../../../shared/identity/z85.ts';
import type { Logger } from '../../../shared/log.ts';
import type { CurveKeys } from '../../../shared/zmq/curve.ts';
import { TransportError } from '../../../shared/zmq/errors.ts';
import { PipelineClient } from '../../../shared/zmq/pipeline-client.ts';
import {
  type BlockTxns,
  type CompactBlock,
  type CompactReply,
  decodeCompactReply,
  encodeBlockTxns,
  encodeCompactBlock,
} from './compact-block.ts';
import { PeerError, type WireErrorCode } from './errors.ts';
import { type ChainSummary, checkCompatible, makeHello } from './hello.ts';
import { KnownInventory } from './known-inventory.ts';
import {
  type Command,
  decodeBlocks,
  decodeHeaders,
  decodeHello,
  decodePeers,
  decodePing,
  decodePushReply,
  decodeTxsReply,
  decodeWant,
  encodeGetBlocks,
  encodeGetHeaders,
  encodeHello,
  encodeInv,
  encodePing,
  encodeTxs,
  type Hello,
  type Inventory,
  P2P_VERSION,
  type PeerAddress,
  type PushStatus,
} from './messages.ts';

export interface OutboundOptions {
  readonly address: string;
  readonly key: string;
  readonly identity: CurveKeys;
  readonly params: NetworkParams;
  readonly listen: readonly string[];
  readonly userAgent: string;
  readonly timeoutMs: number;
  readonly maxMessageBytes: number;
  /** The protocol version our hello states (1: we take no compact blocks; default P2P_VERSION). */
  readonly protocolVersion?: number;
}

export class OutboundPeer {
  readonly key: string;
  readonly address: string;
  readonly known = new KnownInventory();
  remote: Hello | undefined;
  latencyMs = 0;
  stalls = 0;
  /** When the last stall was counted (performance.now()). */
  #lastStallAt = Number.NEGATIVE_INFINITY;
  /** When the first handshake succeeded (seconds since the epoch), and the peer's height then. */
  connectedAt: number | undefined;
  startingHeight: number | undefined;
  /** Frame bytes (command and payload) sent and received, and when last (seconds; 0 = never). */
  bytesSent = 0;
  bytesRecv = 0;
  /** The same by command (getpeerinfo's bytessent_per_msg / bytesrecv_per_msg, as Core's). */
  readonly bytesSentPerMsg: Record<string, number> = {};
  readonly bytesRecvPerMsg: Record<string, number> = {};
  lastSend = 0;
  lastRecv = 0;
  #client: PipelineClient;
  /** A handshake being redone (every request in flight may hear `handshake-required` at once). */
  #rehello: Promise<Hello> | undefined;
  readonly #o: OutboundOptions;
  readonly #summary: () => ChainSummary;
  readonly #clock: () => number;

  constructor(
    opts: OutboundOptions,
    modules: { logger: Logger; summary: () => ChainSummary; clock: () => number },
  ) {
    this.#o = opts;
    this.key = opts.key;
    this.address = opts.address;
    this.#summary = modules.summary;
    this.#clock = modules.clock;
    // several requests in flight (a block is not held up by the round trips of tx relays before it)
    this.#client = new PipelineClient(
      {
        endpoint: `tcp://${opts.address}`,
        keys: opts.identity,
        serverKey: opts.key,
        maxMessageSize: opts.maxMessageBytes,
      },
      { logger: modules.logger },
    );
  }

  /** Sends our hello; checks the peer is on our network and speaks our protocol. */
  async handshake(): Promise<Hello> {
    const h = {
      ...makeHello(
        this.#o.params,
        this.#o.identity,
        this.#summary(),
        this.#o.listen,
        this.#o.userAgent,
        this.#clock(),
        this.key,
      ),
      version: this.#o.protocolVersion ?? P2P_VERSION,
    };
    const reply = decodeHello(await this.#raw('hello', encodeHello(h)));
    checkCompatible(reply, this.#o.params);
    if (z85Encode(reply.nodeKey) !== this.key)
      throw new PeerError('bad-proof', 'the peer answered with another node key');
    this.remote = reply;
    if (this.connectedAt === undefined) {
      this.connectedAt = this.#clock();
      this.startingHeight = reply.height;
    }
    this.known.add(reply.tipHash);
    return reply;
  }

  /**
   * One unanswered request more, counted once per request timeout: the requests in flight
   * together (the pipeline keeps several) time out together, and a peer silent for one timeout
   * is one stall, not one per request (three drop it).
   */
  #stalled(): void {
    const now = performance.now();
    if (now - this.#lastStallAt < this.#o.timeoutMs) return;
    this.#lastStallAt = now;
    this.stalls++;
  }

  async #raw(command: Command, payload: Uint8Array, urgent = false): Promise<Buffer> {
    const t0 = performance.now();
    const size = command.length + payload.byteLength;
    this.bytesSent += size;
    this.bytesSentPerMsg[command] = (this.bytesSentPerMsg[command] ?? 0) + size;
    this.lastSend = this.#clock();
    let frames: Buffer[];
    try {
      frames = await this.#client.request(
        [Buffer.from(command), Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)],
        { timeoutMs: this.#o.timeoutMs, urgent },
      );
    } catch (e) {
      // our own queue being full says we are busy, not that the peer is silent: dropping a
      // healthy peer for it (relay bursts under load) left nodes without peers to sync from
      if (!(e instanceof TransportError && e.code === 'transport-busy')) this.#stalled();
      else {
        // refused before it was queued: never sent
        this.bytesSent -= size;
        this.bytesSentPerMsg[command]! -= size;
      }
      throw e;
    }
    let recv = 0;
    for (const f of frames) recv += f.length;
    this.bytesRecv += recv;
    this.bytesRecvPerMsg[command] = (this.bytesRecvPerMsg[command] ?? 0) + recv;
    this.lastRecv = this.#clock();
    this.stalls = 0;
    this.#lastStallAt = Number.NEGATIVE_INFINITY;
    this.latencyMs =
      this.latencyMs === 0 ? performance.now() - t0 : this.latencyMs * 0.8 + (performance.now() - t0) * 0.2;
    const status = frames[0]?.toString();
    if (status === 'ok' && frames.length === 2) return frames[1]!;
    if (status === 'error' && frames.length >= 2) {
      throw new PeerError(frames[1]!.toString() as WireErrorCode, frames[2]?.toString() ?? '');
    }
    throw new PeerError('bad-frames', 'malformed reply');
  }

  /** A request; after the peer restarted (it forgot our session) the handshake is redone once. */
  async #call(command: Command, payload: Uint8Array, urgent = false): Promise<Buffer> {
    try {
      return await this.#raw(command, payload, urgent);
    } catch (e) {
      if (e instanceof PeerError && e.code === 'handshake-required') {
        this.#rehello ??= this.handshake().finally(() => {
          this.#rehello = undefined;
        });
        await this.#rehello;
        return this.#raw(command, payload, urgent);
      }
      throw e;
    }
  }

  async getHeaders(locator: readonly Uint8Array[]): Promise<Uint8Array[]> {
    return decodeHeaders(
      await this.#call('getheaders', encodeGetHeaders({ locator, stop: new Uint8Array(32) })),
    );
  }

  async getBlocks(hashes: readonly Uint8Array[]): Promise<Uint8Array[]> {
    return decodeBlocks(await this.#call('getblocks', encodeGetBlocks(hashes)));
  }

  /** Announces inventory; returns the indexes the peer wants. */
  async announce(inv: Inventory): Promise<{ blocks: number[]; txs: number[] }> {
    for (const h of [...inv.blocks, ...inv.txs]) this.known.add(h);
    return decodeWant(await this.#call('inv', encodeInv(inv)));
  }

  async pushBlock(raw: Uint8Array): Promise<PushStatus> {
    // ahead of queued tx relays: a new block is what the peer needs first (the network simulation
    // saw blocks wait behind transaction pushes and be dropped by the full queue)
    return decodePushReply(await this.#call('block', raw, true));
  }

  /** A new block as header + short ids (peers of COMPACT_BLOCKS_VERSION); ahead of tx relays. */
  async pushCompact(c: CompactBlock): Promise<CompactReply> {
    return decodeCompactReply(await this.#call('cmpctblock', encodeCompactBlock(c), true));
  }

  /** The transactions the peer asked for to finish a compact block. */
  async pushBlockTxns(m: BlockTxns): Promise<CompactReply> {
    return decodeCompactReply(await this.#call('blocktxn', encodeBlockTxns(m), true));
  }

  async pushTx(raw: Uint8Array): Promise<PushStatus> {
    return decodePushReply(await this.#call('tx', raw));
  }

  /** Several transactions in one request (peers of COMPACT_BLOCKS_VERSION); a status for each. */
  async pushTxs(raws: readonly Uint8Array[]): Promise<PushStatus[]> {
    const statuses = decodeTxsReply(await this.#call('txs', encodeTxs(raws)));
    if (statuses.length !== raws.length)
      throw new PeerError('bad-frames', `${statuses.length} statuses for ${raws.length} transactions`);
    return statuses;
  }

  async getPeers(): Promise<PeerAddress[]> {
    return decodePeers(await this.#call('getpeers', new Uint8Array()));
  }

  async ping(): Promise<number> {
    const nonce = new Uint8Array(randomBytes(8));
    const r = decodePing(await this.#call('ping', encodePing(nonce, this.#summary().height)));
    if (this.remote !== undefined && r.height > this.remote.height)
      this.remote = { ...this.remote, height: r.height };
    return r.height;
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}
