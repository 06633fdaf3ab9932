/**
 * Serves other nodes' requests on the peer listener. Every request maps to a defined answer:
 * `ok` with a payload, or `error` with a code; misbehaviour adds to the sender's score (a ban at
 * 100), and a banned or unknown session gets nothing but an error. Never throws to the server.
 */
import { decodeBlock } from '../../../shared/core/block/codec.ts';
import { encodeHeader } from '../../../shared/core/block/header.ts';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { hashToHex } from '../../../shared/core/bytes.ts';
import { CairnError, DecodeError, ValidationError } from '../../../shared/core/errors.ts';
import { decodeTx } from '../../../shared/core/tx/codec.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import { z85Decode, z85Encode } from '../../../shared/identity/z85.ts';
import type { Logger } from '../../../shared/log.ts';
import { TokenBucket } from '../../../shared/token-bucket.ts';
import type { CurveKeys } from '../../../shared/zmq/curve.ts';
import type { Chain } from '../chain/chain.ts';
import { PolicyError } from '../reservoir/errors.ts';
import type { Reservoir } from '../reservoir/reservoir.ts';
import type { TxSubmitter } from '../reservoir/submitter.ts';
import { AskedTxs } from './asked-txs.ts';
import {
  type CompactReply,
  decodeBlockTxns,
  decodeCompactBlock,
  encodeCompactReply,
} from './compact-block.ts';
import { PeerError, type WireErrorCode } from './errors.ts';
import { checkClientHello, makeHello } from './hello.ts';
import {
  type Command,
  decodeGetBlocks,
  decodeGetHeaders,
  decodeHello,
  decodeInv,
  decodePing,
  decodeTxs,
  encodeBlocks,
  encodeHeaders,
  encodeHello,
  encodePeers,
  encodePing,
  encodePushReply,
  encodeTxsReply,
  encodeWant,
  type Hello,
  isCommand,
  LIMITS,
  P2P_VERSION,
  type PushStatus,
} from './messages.ts';
import { PartialBlock } from './partial-block.ts';
import type { PeerBook } from './peer-book.ts';

export interface InboundSession {
  readonly key: string;
  readonly hello: Hello;
  readonly bucket: TokenBucket;
  /** Seconds since the epoch: the last request (lastrecv), the session's first hello (conntime). */
  lastSeen: number;
  readonly since: number;
  /** Frame bytes received and sent on this session (getpeerinfo's bytesrecv / bytessent). */
  bytesRecv: number;
  bytesSent: number;
  /** The same by command (getpeerinfo's bytesrecv_per_msg / bytessent_per_msg, as Core's). */
  readonly bytesRecvPerMsg: Record<string, number>;
  readonly bytesSentPerMsg: Record<string, number>;
}

export interface HandlerOptions {
  readonly listen: readonly string[];
  readonly userAgent: string;
  readonly banSeconds: number;
  readonly maxMessageBytes: number;
  readonly maxInbound: number;
  /** Requests per second per peer, and burst. */
  readonly rate: number;
  readonly burst: number;
  /** The protocol version our hello states (1: we take no compact blocks; default P2P_VERSION). */
  readonly protocolVersion?: number;
}

/** Compact blocks waiting for the transactions we asked their sender for (all peers together). */
const MAX_PARTIAL_BLOCKS = 16;

/** What compact block relay saved us, since start (logged; the figures of docs/operations.md). */
export interface CompactCounters {
  received: number;
  /** Rebuilt without asking for anything. */
  complete: number;
  /** Transactions found in our mempool / asked of the sender. */
  txsFromMempool: number;
  txsRequested: number;
  /** The compact form did not rebuild (collision, merkle root): the full block was asked for. */
  fellBack: number;
}

export interface HandlerModules {
  readonly chain: Chain;
  readonly reservoir: Reservoir;
  /** A pushed transaction enters the pool through it: off this thread's signature checks. */
  readonly submitter: TxSubmitter;
  readonly book: PeerBook;
  readonly identity: CurveKeys;
  readonly logger: Logger;
  readonly clock: () => number;
  /** A peer completed the handshake (the P2P service may dial back to its listen address). */
  onHello(key: string, hello: Hello): void;
  /** A peer showed it has these blocks/txs (never announce them back to it). */
  onKnown(key: string, hashes: readonly Uint8Array[]): void;
  /** A peer announced a block we lack: sync should look at that peer. */
  onNewBlockFrom(key: string, hash: Uint8Array): void;
  /** A peer was banned. */
  onBan(key: string, reason: string): void;
}

export type Frames = Buffer[];

const ok = (payload: Uint8Array): Frames => [
  Buffer.from('ok'),
  Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
];
const err = (code: WireErrorCode, message: string): Frames => [
  Buffer.from('error'),
  Buffer.from(code),
  Buffer.from(message.slice(0, 200)),
];

/** Offence weights: 100 = ban at once. */
export const OFFENCE = {
  malformed: 20,
  badFrames: 20,
  unknownCommand: 10,
  /** Refused, not scored: an honest peer syncing fast may touch the limit. */
  rateLimited: 0,
} as const;

export class PeerRequestHandler {
  readonly #sessions = new Map<string, InboundSession>();
  readonly #nonces = new Set<string>();
  readonly #o: HandlerOptions;
  readonly #m: HandlerModules;
  readonly #log: Logger;
  /** `<peer key> <block hash>` → the partial block and the indexes asked for, oldest first. */
  readonly #askedTxs = new AskedTxs();
  readonly #partials = new Map<string, { block: PartialBlock; asked: number[] }>();
  readonly compact: CompactCounters = {
    received: 0,
    complete: 0,
    txsFromMempool: 0,
    txsRequested: 0,
    fellBack: 0,
  };

  constructor(opts: HandlerOptions, modules: HandlerModules) {
    this.#o = opts;
    this.#m = modules;
    this.#log = modules.logger;
  }

  get sessions(): ReadonlyMap<string, InboundSession> {
    return this.#sessions;
  }

  /** Forgets every session of `key` (a ban): its next request must say hello again, and is refused. */
  forget(key: string): void {
    for (const [id, s] of this.#sessions) if (s.key === key) this.#sessions.delete(id);
  }

  /** Forgets sessions idle for longer than `seconds` (their REQ socket is gone or stalled). */
  expireSessions(seconds: number): void {
    const limit = this.#m.clock() - seconds;
    for (const [id, s] of this.#sessions) if (s.lastSeen < limit) this.#sessions.delete(id);
  }

  async handle(routingId: Buffer, frames: Frames): Promise<Frames> {
    const id = routingId.toString('hex');
    let reply: Frames;
    try {
      reply = await this.#dispatch(id, frames);
    } catch (e) {
      if (e instanceof PeerError) reply = err(e.code, e.message);
      else {
        this.#log.error({ err: e }, 'peer request handler failed');
        reply = err('internal', 'internal error');
      }
    }
    // counted after the dispatch: a hello's bytes go to the session it created
    const s = this.#sessions.get(id);
    if (s !== undefined) {
      let recv = 0;
      let sent = 0;
      for (const f of frames) recv += f.length;
      for (const f of reply) sent += f.length;
      s.bytesRecv += recv;
      s.bytesSent += sent;
      // only known commands get a key: a peer must not grow the record with names of its choosing
      const command = frames[0]?.toString('latin1') ?? '';
      if (isCommand(command)) {
        s.bytesRecvPerMsg[command] = (s.bytesRecvPerMsg[command] ?? 0) + recv;
        s.bytesSentPerMsg[command] = (s.bytesSentPerMsg[command] ?? 0) + sent;
      }
    }
    return reply;
  }

  async #dispatch(id: string, frames: Frames): Promise<Frames> {
    const session = this.#sessions.get(id);
    const now = this.#m.clock();
    if (frames.length !== 2) {
      this.#offend(session, OFFENCE.badFrames, `sent ${frames.length} frames`);
      return err('bad-frames', 'a request is exactly two frames: command and payload');
    }
    const command = frames[0]!.toString('latin1');
    const payload = frames[1]!;
    if (!isCommand(command)) {
      this.#offend(
        session,
        OFFENCE.unknownCommand,
        `unknown command ${JSON.stringify(command.slice(0, 20))}`,
      );
      return err('unknown-command', `unknown command`);
    }
    if (command === 'hello') return this.#hello(id, payload, now);
    if (session === undefined) return err('handshake-required', 'send hello first');
    if (this.#m.book.isBanned(session.key, now)) {
      this.#sessions.delete(id);
      return err('banned', 'banned');
    }
    session.lastSeen = now;
    // a batch of transactions costs by its size (~1 token per 10 kB), like that many requests
    const cost = command === 'txs' ? 1 + Math.floor(payload.length / 10_000) : 1;
    if (!session.bucket.take(cost, Date.now())) {
      this.#offend(session, OFFENCE.rateLimited, 'over its request rate');
      return err('rate-limited', `more than ${this.#o.rate} requests/s`);
    }
    try {
      // awaited here: a transaction push answers once the pool took or refused it
      return await this.#serve(command, payload, session, now);
    } catch (e) {
      if (e instanceof DecodeError) {
        this.#offend(session, OFFENCE.malformed, `malformed ${command}: ${e.message}`);
        return err('malformed', e.message);
      }
      throw e;
    }
  }

  #hello(id: string, payload: Buffer, now: number): Frames {
    let h: Hello;
    try {
      h = decodeHello(payload);
    } catch (e) {
      if (e instanceof DecodeError) return err('malformed', e.message);
      throw e;
    }
    const key = z85Encode(h.nodeKey);
    if (this.#m.book.isBanned(key, now)) return err('banned', 'banned');
    const known = [...this.#sessions.values()].some((x) => x.key === key);
    if (!this.#sessions.has(id) && !known && this.#sessions.size >= this.#o.maxInbound) {
      return err('too-many-peers', 'no room for more inbound peers');
    }
    try {
      checkClientHello(h, this.#m.chain.params, this.#m.identity, key, now, this.#nonces);
    } catch (e) {
      if (e instanceof PeerError) {
        this.#log.info({ peer: key, code: e.code }, `refused peer ${key}: ${e.message}`);
        // no score: a bad proof is exactly what fails to show the sender owns the claimed key
        // (scoring it would let anyone get any node banned by sending hellos in its name)
      }
      throw e;
    }
    const old = this.#sessions.get(id);
    const fresh = old === undefined;
    // one session per key: a reconnected peer's old connection is forgotten
    for (const [other, x] of this.#sessions) if (x.key === key && other !== id) this.#sessions.delete(other);
    this.#sessions.set(id, {
      key,
      hello: h,
      bucket: new TokenBucket(this.#o.rate, this.#o.burst, Date.now()),
      lastSeen: now,
      since: old?.key === key ? old.since : now,
      bytesRecv: old?.key === key ? old.bytesRecv : 0,
      bytesSent: old?.key === key ? old.bytesSent : 0,
      bytesRecvPerMsg: old?.key === key ? old.bytesRecvPerMsg : {},
      bytesSentPerMsg: old?.key === key ? old.bytesSentPerMsg : {},
    });
    this.#m.book.add(key, h.listen, 'inbound', now);
    if (fresh)
      this.#log.info(
        { peer: key, height: h.height, agent: h.userAgent },
        `inbound peer ${key.slice(0, 8)}… at height ${h.height}`,
      );
    this.#m.onHello(key, h);
    this.#m.onKnown(key, [h.tipHash]);
    const c = this.#m.chain;
    const reply = makeHello(
      c.params,
      this.#m.identity,
      { tipHash: c.tip.hash, height: c.tipHeight(), work: c.tip.work, pruneHeight: c.pruneHeight },
      this.#o.listen,
      this.#o.userAgent,
      now,
    );
    return ok(encodeHello({ ...reply, version: this.#o.protocolVersion ?? P2P_VERSION }));
  }

  #serve(
    command: Exclude<Command, 'hello'>,
    payload: Buffer,
    s: InboundSession,
    now: number,
  ): Frames | Promise<Frames> {
    const c = this.#m.chain;
    switch (command) {
      case 'getheaders': {
        const m = decodeGetHeaders(payload);
        const stop = m.stop.every((b) => b === 0) ? undefined : m.stop;
        return ok(encodeHeaders(c.headersAfter(m.locator, LIMITS.headers, stop).map(encodeHeader)));
      }
      case 'getblocks': {
        const out: Uint8Array[] = [];
        let bytes = 64;
        for (const h of decodeGetBlocks(payload)) {
          const raw = c.getRawBlock(h);
          if (raw === undefined) continue;
          if (bytes + raw.length + 8 > this.#o.maxMessageBytes) break;
          bytes += raw.length + 8;
          out.push(raw);
        }
        return ok(encodeBlocks(out));
      }
      case 'inv': {
        const inv = decodeInv(payload);
        this.#m.onKnown(s.key, [...inv.blocks, ...inv.txs]);
        const wantBlocks: number[] = [];
        inv.blocks.forEach((h, i) => {
          const e = c.entry(h);
          if (e === undefined || e.status === 0) {
            wantBlocks.push(i);
            this.#m.onNewBlockFrom(s.key, h);
          }
        });
        const wantTxs: number[] = [];
        const nowMs = Date.now();
        inv.txs.forEach((t, i) => {
          if (this.#m.reservoir.has(t) || c.ledger.txLocation(t) !== undefined) return;
          // asked of another peer a moment ago: its push is on the way (each peer that announced a
          // new tx at about the same time used to push it to us, so a node got it several times)
          if (this.#askedTxs.claim(t, nowMs)) wantTxs.push(i);
        });
        return ok(encodeWant(wantBlocks, wantTxs));
      }
      case 'block':
        return ok(encodePushReply(this.#pushBlock(payload, s, now)));
      case 'tx':
        return this.#acceptTx(decodeTx(payload), s).then((status) => ok(encodePushReply(status)));
      case 'txs': {
        const txs = decodeTxs(payload); // all decoded before any is taken: a bad one is malformed
        // submitted together: one batch on the verify workers, accepted in this order
        return Promise.all(txs.map((d) => this.#acceptTx(d, s))).then((all) => ok(encodeTxsReply(all)));
      }
      case 'cmpctblock':
        return ok(encodeCompactReply(this.#pushCompact(payload, s, now)));
      case 'blocktxn':
        return ok(encodeCompactReply(this.#pushBlockTxns(payload, s, now)));
      case 'getpeers':
        return ok(
          encodePeers(
            this.#m.book
              .verifiedPeers(now, LIMITS.peers)
              .filter((r) => r.key !== s.key)
              .map((r) => ({ key: z85Decode(r.key), addresses: r.addresses })),
          ),
        );
      case 'ping': {
        const m = decodePing(payload);
        return ok(encodePing(m.nonce, c.tipHeight()));
      }
    }
  }

  #pushBlock(payload: Buffer, s: InboundSession, now: number): PushStatus {
    const block = decodeBlock(payload); // DecodeError → malformed (scored by the caller)
    this.#m.onKnown(s.key, [block.hash]);
    return this.#acceptBlock(block, s, now);
  }

  /**
   * A compact block: rebuilt from our mempool when it can be, else we say which transactions we
   * lack (kept until the sender's `blocktxn`) or that we want the whole block.
   */
  #pushCompact(payload: Buffer, s: InboundSession, now: number): CompactReply {
    const block = new PartialBlock(decodeCompactBlock(payload)); // DecodeError → malformed
    this.compact.received++;
    this.#m.onKnown(s.key, [block.hash, ...block.compact.prefilled.map((p) => p.tx.txid)]);
    const have = this.#m.chain.entry(block.hash);
    if (have !== undefined && have.status !== 0) return { status: 'duplicate' };
    if (block.collided) return this.#fallBack(block, s, 'short-id-collision');
    block.fillFrom(this.#mempoolTxs());
    this.compact.txsFromMempool += block.fromMempool;
    const missing = block.missing();
    if (missing.length === 0) {
      this.compact.complete++;
      return this.#finish(block, s, now);
    }
    const id = `${s.key} ${hashToHex(block.hash)}`;
    this.#partials.delete(id);
    this.#partials.set(id, { block, asked: missing });
    if (this.#partials.size > MAX_PARTIAL_BLOCKS) this.#partials.delete(this.#partials.keys().next().value!);
    this.compact.txsRequested += missing.length;
    return { status: 'want-txs', indexes: missing };
  }

  /** The transactions we asked for: the block is complete (or, if we forgot it, we want it whole). */
  #pushBlockTxns(payload: Buffer, s: InboundSession, now: number): CompactReply {
    const m = decodeBlockTxns(payload);
    this.#m.onKnown(
      s.key,
      m.txs.map((t) => t.txid),
    );
    const id = `${s.key} ${hashToHex(m.hash)}`;
    const pending = this.#partials.get(id);
    if (pending === undefined) return { status: 'want-block' };
    this.#partials.delete(id);
    pending.block.fillMissing(pending.asked, m.txs); // a wrong count: DecodeError → malformed
    return this.#finish(pending.block, s, now);
  }

  #finish(partial: PartialBlock, s: InboundSession, now: number): CompactReply {
    const block = partial.build();
    if (typeof block === 'string') return this.#fallBack(partial, s, block);
    return { status: this.#acceptBlock(block, s, now) };
  }

  /** Not the sender's fault (short ids collide by chance): no score, just the whole block please. */
  #fallBack(partial: PartialBlock, s: InboundSession, why: string): CompactReply {
    this.compact.fellBack++;
    this.#log.info(
      { peer: s.key, block: hashToHex(partial.hash), why },
      `compact block ${hashToHex(partial.hash).slice(0, 16)}… did not rebuild (${why}): asking for the full block`,
    );
    return { status: 'want-block' };
  }

  *#mempoolTxs() {
    for (const e of this.#m.reservoir.entries()) yield e.tx;
  }

  /** A decoded block from a peer, whole or rebuilt: processed; an invalid one scores its sender. */
  #acceptBlock(block: DecodedBlock, s: InboundSession, now: number): PushStatus {
    const r = this.#m.chain.processBlock(block, now);
    if (r.status === 'invalid') {
      const e = r.error;
      const dos =
        e instanceof ValidationError || (e instanceof CairnError && 'dos' in e)
          ? Number((e as { dos?: number }).dos ?? 0)
          : 0;
      if (dos > 0) this.#offend(s, dos, `sent invalid block ${hashToHex(block.hash)}: ${e?.message}`);
      return 'rejected';
    }
    if (r.status === 'orphan') {
      // its parent is missing: sync (with this peer once dialed back) fetches the headers
      this.#m.onNewBlockFrom(s.key, block.hash);
      return 'orphan';
    }
    return r.status === 'duplicate' ? 'duplicate' : 'accepted';
  }

  /**
   * A peer's transaction, through the submitter: its signatures checked on the verify workers with
   * those of other submissions of the moment, then every pool check here, in the order they came.
   */
  async #acceptTx(d: DecodedTx, s: InboundSession): Promise<PushStatus> {
    this.#m.onKnown(s.key, [d.txid]);
    try {
      const r = await this.#m.submitter.submit(d);
      return r.status === 'orphan' ? 'orphan' : 'accepted';
    } catch (e) {
      if (e instanceof PolicyError) return e.code === 'txn-already-in-mempool' ? 'duplicate' : 'rejected';
      if (e instanceof ValidationError) {
        if (e.dos > 0) this.#offend(s, e.dos, `sent invalid tx: ${e.message}`);
        return 'rejected';
      }
      throw e;
    }
  }

  #offend(s: InboundSession | undefined, points: number, reason: string): void {
    if (s === undefined) return;
    const now = this.#m.clock();
    this.#log.warn({ peer: s.key, points, reason }, `peer ${s.key.slice(0, 8)}… misbehaved: ${reason}`);
    if (this.#m.book.misbehaved(s.key, points, reason, now, this.#o.banSeconds)) {
      this.#log.warn(
        { peer: s.key, seconds: this.#o.banSeconds },
        `banned peer ${s.key.slice(0, 8)}… for ${this.#o.banSeconds}s: ${reason}`,
      );
      for (const [id, x] of this.#sessions) if (x.key === s.key) this.#sessions.delete(id);
      this.#m.onBan(s.key, reason);
    }
  }
}
