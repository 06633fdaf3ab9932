/**
 * The discovery protocol (docs/protocol.md §13): what nodes and `cairn-discovery` say to each other.
 *
 * Requests go from a REQ socket to the service's ROUTER, one frame each; every reply is one frame.
 * Both start with a protocol version byte and a kind byte:
 *
 *   register  nodeKey 32 · genesis 32 · addresses (varint count, each varint-length UTF-8) ·
 *             height varint · time u64 · nonce 16 · proof 32
 *   query     genesis 32 · max varint
 *   leave     nodeKey 32 · genesis 32 · time u64 · nonce 16 · proof 32
 *   stats     (nothing)
 *
 * Binding. zeromq.js cannot read the CURVE key libzmq authenticated for a message (the ZAP
 * User-Id), so a registration carries a key-possession proof instead (shared/zmq/curve.ts):
 * `proof = keyProof(nodeSecret, serviceKey, context)` with `context = tag · serviceKey · every
 * byte of the request before the proof`. Only the holder of nodeKey's secret can make it, it binds
 * every field (addresses, height, time, nonce) and the service it was made for, and a service
 * refuses a time more than 10 minutes off its clock and a (key, nonce) seen before. Nodes connect
 * to the service with their peer identity, so the key they prove is also the key the CURVE
 * handshake authenticated and the key peers will see when they dial the registered addresses.
 *
 * Events on the service's PUB socket: frames `event · payload`, event `join` or `leave`, payload
 * version · nodeKey 32 · addresses · height varint (a leave has no addresses, height 0).
 */
import { Reader } from '../core/encoding/reader.ts';
import { Writer } from '../core/encoding/writer.ts';
import { DecodeError } from '../core/errors.ts';
import { HASH_SIZE } from '../core/limits.ts';

export const DISCOVERY_VERSION = 1;
export const KEY_BYTES = 32;
export const NONCE_BYTES = 16;
export const PROOF_BYTES = 32;
/** Addresses a registration may list (more are refused with `too-many-addresses`). */
export const MAX_ADDRESSES = 8;
/** Addresses the decoder reads before calling it malformed (so "too many" gets its own reason). */
export const DECODE_MAX_ADDRESSES = 64;
export const MAX_ADDRESS_BYTES = 100;
/** Peers in one query reply. */
export const MAX_PEERS_PER_REPLY = 32;
/** Largest request or reply frame. */
export const MAX_FRAME_BYTES = 16 * 1024;
export const MAX_REASON_BYTES = 200;
const MAX_STATS_BYTES = 8192;

export const REQUEST_KINDS = { register: 1, query: 2, leave: 3, stats: 4 } as const;
export const REPLY_KINDS = { registered: 0x81, peers: 0x82, left: 0x83, stats: 0x84, refused: 0xff } as const;

/**
 * Why a request was refused: stable codes (numbers on the wire, names in logs and stats). The
 * service counts every refusal by reason.
 */
export const REFUSALS = {
  malformed: 1,
  'unsupported-version': 2,
  'unknown-kind': 3,
  impersonation: 4,
  replay: 5,
  'clock-skew': 6,
  'wrong-network': 7,
  'bad-address': 8,
  'too-many-addresses': 9,
  'no-addresses': 10,
  'rate-limited': 11,
  'not-allowed': 12,
  full: 13,
  internal: 14,
} as const;
export type RefusalReason = keyof typeof REFUSALS;
const REASON_BY_CODE = new Map<number, RefusalReason>(
  Object.entries(REFUSALS).map(([k, v]) => [v, k as RefusalReason]),
);

export interface Register {
  readonly kind: 'register';
  readonly nodeKey: Uint8Array;
  readonly genesis: Uint8Array;
  readonly addresses: readonly string[];
  readonly height: number;
  readonly time: number;
  readonly nonce: Uint8Array;
  readonly proof: Uint8Array;
  /** The request's bytes before the proof (what the proof covers). */
  readonly signed: Uint8Array;
}

export interface Query {
  readonly kind: 'query';
  readonly genesis: Uint8Array;
  readonly max: number;
}

export interface Leave {
  readonly kind: 'leave';
  readonly nodeKey: Uint8Array;
  readonly genesis: Uint8Array;
  readonly time: number;
  readonly nonce: Uint8Array;
  readonly proof: Uint8Array;
  readonly signed: Uint8Array;
}

export interface Stats {
  readonly kind: 'stats';
}

export type Request = Register | Query | Leave | Stats;

export interface PeerEntry {
  readonly key: Uint8Array;
  readonly addresses: readonly string[];
  readonly height: number;
  /** When the node last registered (service clock, seconds). */
  readonly lastSeen: number;
}

export type Reply =
  | { readonly kind: 'registered'; readonly expiresIn: number; readonly joined: boolean }
  | { readonly kind: 'peers'; readonly eventsPort: number; readonly peers: readonly PeerEntry[] }
  | { readonly kind: 'left'; readonly removed: boolean }
  | { readonly kind: 'stats'; readonly json: string }
  | { readonly kind: 'refused'; readonly reason: RefusalReason; readonly message: string };

const utf8 = new TextEncoder();
const TAG_REGISTER = utf8.encode('cairn-discovery-register-v1');
const TAG_LEAVE = utf8.encode('cairn-discovery-leave-v1');

/** What a registration's or leave's proof covers: tag · service key · the request before the proof. */
export function proofContext(
  kind: 'register' | 'leave',
  serviceKey: Uint8Array,
  signed: Uint8Array,
): Uint8Array {
  return new Writer(signed.length + 64)
    .bytes(kind === 'register' ? TAG_REGISTER : TAG_LEAVE)
    .bytes(serviceKey)
    .bytes(signed)
    .finish();
}

function writeAddresses(w: Writer, addresses: readonly string[]): void {
  w.varint(addresses.length);
  for (const a of addresses) w.varBytes(utf8.encode(a));
}

function readAddresses(r: Reader, field: string, max: number): string[] {
  const n = r.count(`${field}.count`, max);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r.utf8(`${field}[${i}]`, MAX_ADDRESS_BYTES));
  return out;
}

/** The bytes a registration's proof covers (everything before the proof). */
export function registerSigned(r: Omit<Register, 'kind' | 'proof' | 'signed'>): Uint8Array {
  const w = new Writer(256)
    .u8(DISCOVERY_VERSION)
    .u8(REQUEST_KINDS.register)
    .bytes(r.nodeKey)
    .bytes(r.genesis);
  writeAddresses(w, r.addresses);
  return w.varint(r.height).u64(r.time).bytes(r.nonce).finish();
}

export function leaveSigned(r: Omit<Leave, 'kind' | 'proof' | 'signed'>): Uint8Array {
  return new Writer(128)
    .u8(DISCOVERY_VERSION)
    .u8(REQUEST_KINDS.leave)
    .bytes(r.nodeKey)
    .bytes(r.genesis)
    .u64(r.time)
    .bytes(r.nonce)
    .finish();
}

/** signed · proof: a registration or leave on the wire. */
export function withProof(signed: Uint8Array, proof: Uint8Array): Uint8Array {
  return new Writer(signed.length + PROOF_BYTES).bytes(signed).bytes(proof).finish();
}

export function encodeQuery(q: Omit<Query, 'kind'>): Uint8Array {
  return new Writer(40).u8(DISCOVERY_VERSION).u8(REQUEST_KINDS.query).bytes(q.genesis).varint(q.max).finish();
}

export function encodeStatsRequest(): Uint8Array {
  return Uint8Array.of(DISCOVERY_VERSION, REQUEST_KINDS.stats);
}

/**
 * Decodes one request frame. Throws DecodeError (field named) for anything that is not exactly
 * one well-formed request; a version other than ours is `decode-bad-value` on field `version`.
 */
export function decodeRequest(b: Uint8Array): Request {
  if (b.length > MAX_FRAME_BYTES)
    throw new DecodeError('decode-too-large', 'request', `${b.length} bytes (limit ${MAX_FRAME_BYTES})`);
  const r = new Reader(b);
  const version = r.u8('version');
  if (version !== DISCOVERY_VERSION)
    throw new DecodeError(
      'decode-bad-value',
      'version',
      `protocol ${version}, this service speaks ${DISCOVERY_VERSION}`,
    );
  const kind = r.u8('kind');
  switch (kind) {
    case REQUEST_KINDS.register: {
      const nodeKey = r.bytes(KEY_BYTES, 'register.nodeKey');
      const genesis = r.bytes(HASH_SIZE, 'register.genesis');
      const addresses = readAddresses(r, 'register.addresses', DECODE_MAX_ADDRESSES);
      const height = r.varint('register.height', 0xffffffff);
      const time = r.u64('register.time');
      const nonce = r.bytes(NONCE_BYTES, 'register.nonce');
      const signedEnd = r.position;
      const proof = r.bytes(PROOF_BYTES, 'register.proof');
      r.end('register');
      return {
        kind: 'register',
        nodeKey,
        genesis,
        addresses,
        height,
        time,
        nonce,
        proof,
        signed: b.subarray(0, signedEnd),
      };
    }
    case REQUEST_KINDS.query: {
      const genesis = r.bytes(HASH_SIZE, 'query.genesis');
      const max = r.varint('query.max', 0xffff);
      r.end('query');
      return { kind: 'query', genesis, max };
    }
    case REQUEST_KINDS.leave: {
      const nodeKey = r.bytes(KEY_BYTES, 'leave.nodeKey');
      const genesis = r.bytes(HASH_SIZE, 'leave.genesis');
      const time = r.u64('leave.time');
      const nonce = r.bytes(NONCE_BYTES, 'leave.nonce');
      const signedEnd = r.position;
      const proof = r.bytes(PROOF_BYTES, 'leave.proof');
      r.end('leave');
      return { kind: 'leave', nodeKey, genesis, time, nonce, proof, signed: b.subarray(0, signedEnd) };
    }
    case REQUEST_KINDS.stats:
      r.end('stats');
      return { kind: 'stats' };
    default:
      throw new DecodeError('decode-bad-value', 'kind', `unknown request kind ${kind}`);
  }
}

export function encodeReply(reply: Reply): Uint8Array {
  const w = new Writer(256).u8(DISCOVERY_VERSION).u8(REPLY_KINDS[reply.kind]);
  switch (reply.kind) {
    case 'registered':
      return w
        .varint(reply.expiresIn)
        .u8(reply.joined ? 1 : 0)
        .finish();
    case 'peers':
      w.varint(reply.eventsPort).varint(reply.peers.length);
      for (const p of reply.peers) {
        w.bytes(p.key);
        writeAddresses(w, p.addresses);
        w.varint(p.height).u64(p.lastSeen);
      }
      return w.finish();
    case 'left':
      return w.u8(reply.removed ? 1 : 0).finish();
    case 'stats':
      return w.varBytes(utf8.encode(reply.json)).finish();
    case 'refused': {
      let message = utf8.encode(reply.message);
      if (message.length > MAX_REASON_BYTES)
        message = utf8.encode(reply.message.slice(0, MAX_REASON_BYTES / 4));
      return w.u8(REFUSALS[reply.reason]).varBytes(message).finish();
    }
  }
}

export function decodeReply(b: Uint8Array): Reply {
  if (b.length > 64 * 1024) throw new DecodeError('decode-too-large', 'reply', `${b.length} bytes`);
  const r = new Reader(b);
  const version = r.u8('reply.version');
  if (version !== DISCOVERY_VERSION)
    throw new DecodeError(
      'decode-bad-value',
      'reply.version',
      `protocol ${version}, expected ${DISCOVERY_VERSION}`,
    );
  const kind = r.u8('reply.kind');
  let out: Reply;
  switch (kind) {
    case REPLY_KINDS.registered: {
      const expiresIn = r.varint('registered.expiresIn', 0xffffffff);
      const joined = r.u8('registered.joined');
      if (joined > 1) throw new DecodeError('decode-bad-value', 'registered.joined', 'must be 0 or 1');
      out = { kind: 'registered', expiresIn, joined: joined === 1 };
      break;
    }
    case REPLY_KINDS.peers: {
      const eventsPort = r.varint('peers.eventsPort', 65535);
      const n = r.count('peers.count', MAX_PEERS_PER_REPLY);
      const peers: PeerEntry[] = [];
      for (let i = 0; i < n; i++) {
        const key = r.bytes(KEY_BYTES, `peers[${i}].key`);
        const addresses = readAddresses(r, `peers[${i}].addresses`, MAX_ADDRESSES);
        const height = r.varint(`peers[${i}].height`, 0xffffffff);
        const lastSeen = r.u64(`peers[${i}].lastSeen`);
        peers.push({ key, addresses, height, lastSeen });
      }
      out = { kind: 'peers', eventsPort, peers };
      break;
    }
    case REPLY_KINDS.left: {
      const removed = r.u8('left.removed');
      if (removed > 1) throw new DecodeError('decode-bad-value', 'left.removed', 'must be 0 or 1');
      out = { kind: 'left', removed: removed === 1 };
      break;
    }
    case REPLY_KINDS.stats:
      out = { kind: 'stats', json: r.utf8('stats.json', MAX_STATS_BYTES) };
      break;
    case REPLY_KINDS.refused: {
      const code = r.u8('refused.reason');
      const reason = REASON_BY_CODE.get(code);
      if (reason === undefined)
        throw new DecodeError('decode-bad-value', 'refused.reason', `unknown code ${code}`);
      out = { kind: 'refused', reason, message: r.utf8('refused.message', MAX_REASON_BYTES) };
      break;
    }
    default:
      throw new DecodeError('decode-bad-value', 'reply.kind', `unknown reply kind ${kind}`);
  }
  r.end('reply');
  return out;
}

export type DiscoveryEvent = 'join' | 'leave';

export interface EventPayload {
  readonly nodeKey: Uint8Array;
  readonly addresses: readonly string[];
  readonly height: number;
}

export function encodeEvent(e: EventPayload): Uint8Array {
  const w = new Writer(200).u8(DISCOVERY_VERSION).bytes(e.nodeKey);
  writeAddresses(w, e.addresses);
  return w.varint(e.height).finish();
}

export function decodeEvent(b: Uint8Array): EventPayload {
  const r = new Reader(b);
  const version = r.u8('event.version');
  if (version !== DISCOVERY_VERSION)
    throw new DecodeError(
      'decode-bad-value',
      'event.version',
      `protocol ${version}, expected ${DISCOVERY_VERSION}`,
    );
  const nodeKey = r.bytes(KEY_BYTES, 'event.nodeKey');
  const addresses = readAddresses(r, 'event.addresses', MAX_ADDRESSES);
  const height = r.varint('event.height', 0xffffffff);
  r.end('event');
  return { nodeKey, addresses, height };
}
