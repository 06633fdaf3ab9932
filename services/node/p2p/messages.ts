/**
 * P2P messages (docs/protocol.md §P2P). A request is two frames: the command name (ASCII) and its
 * payload in the canonical encoding; a reply is `ok | payload` or `error | code | message`. Every
 * list and field is capped before anything is read, so a hostile peer cannot make us allocate.
 */

import { HEADER_SIZE } from '../../../shared/core/block/types.ts';
import { Reader } from '../../../shared/core/encoding/reader.ts';
import { Writer } from '../../../shared/core/encoding/writer.ts';
import { DecodeError } from '../../../shared/core/errors.ts';
import { HASH_SIZE, MIN_TX_SIZE } from '../../../shared/core/limits.ts';
import { readTx } from '../../../shared/core/tx/codec.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';

export const P2P_VERSION = 2;
/** Oldest protocol version this release still talks to. */
export const MIN_P2P_VERSION = 1;
/** First version that takes `cmpctblock` / `blocktxn` (compact block relay, p2p/compact-block.ts). */
export const COMPACT_BLOCKS_VERSION = 2;

export const LIMITS = {
  listenAddresses: 8,
  addressLength: 100,
  userAgent: 64,
  locator: 64,
  headers: 2000,
  blocksPerRequest: 16,
  invItems: 1000,
  peers: 100,
  blockBytes: 8_000_000,
  /** Transactions in one `txs` push. */
  txsPerPush: 1000,
} as const;

export type Command =
  | 'hello'
  | 'getheaders'
  | 'getblocks'
  | 'inv'
  | 'block'
  | 'tx'
  | 'getpeers'
  | 'ping'
  | 'cmpctblock'
  | 'blocktxn'
  | 'txs';
export const COMMANDS: readonly Command[] = [
  'hello',
  'getheaders',
  'getblocks',
  'inv',
  'block',
  'tx',
  'getpeers',
  'ping',
  'cmpctblock',
  'blocktxn',
  'txs',
];

export function isCommand(s: string): s is Command {
  return (COMMANDS as readonly string[]).includes(s);
}

// ---- hello ----

export interface Hello {
  readonly version: number;
  readonly genesis: Uint8Array;
  /** The sender's CURVE public key (32 bytes). */
  readonly nodeKey: Uint8Array;
  /** Addresses the sender accepts peers on (host:port). */
  readonly listen: readonly string[];
  readonly tipHash: Uint8Array;
  readonly height: number;
  /** Cumulative work of the sender's tip. */
  readonly work: bigint;
  readonly userAgent: string;
  /** Sender's clock, seconds. */
  readonly time: number;
  readonly nonce: Uint8Array;
  /** Proof that the sender holds nodeKey's secret (see p2p/session.ts); 32 bytes, zeros in replies. */
  readonly proof: Uint8Array;
  /**
   * Pruning (optional trailing field, sent only by a pruned node): the sender has no block data at
   * or below this height of its active chain; absent = it keeps every block.
   */
  readonly pruneHeight?: number;
}

const utf8 = new TextEncoder();
function workBytes(w: bigint): Uint8Array {
  let hex = w.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Uint8Array.from(Buffer.from(w === 0n ? '' : hex, 'hex'));
}

export function encodeHello(h: Hello): Uint8Array {
  const w = new Writer(256).u32(h.version).bytes(h.genesis).bytes(h.nodeKey).varint(h.listen.length);
  for (const a of h.listen) w.varBytes(utf8.encode(a));
  w.bytes(h.tipHash)
    .varint(h.height)
    .varBytes(workBytes(h.work))
    .varBytes(utf8.encode(h.userAgent))
    .u64(h.time)
    .bytes(h.nonce)
    .bytes(h.proof);
  // only a pruned node adds it: a full node's hello is byte for byte what older releases read
  if (h.pruneHeight !== undefined && h.pruneHeight > 0) w.varint(h.pruneHeight);
  return w.finish();
}

export function decodeHello(b: Uint8Array): Hello {
  const r = new Reader(b);
  const version = r.u32('hello.version');
  const genesis = r.bytes(HASH_SIZE, 'hello.genesis');
  const nodeKey = r.bytes(32, 'hello.nodeKey');
  const n = r.count('hello.listen', LIMITS.listenAddresses);
  const listen: string[] = [];
  for (let i = 0; i < n; i++) listen.push(r.utf8('hello.listen', LIMITS.addressLength));
  const tipHash = r.bytes(HASH_SIZE, 'hello.tipHash');
  const height = r.varint('hello.height');
  const workRaw = r.varBytes('hello.work', 32);
  const userAgent = r.utf8('hello.userAgent', LIMITS.userAgent);
  const time = r.u64('hello.time');
  const nonce = r.bytes(8, 'hello.nonce');
  const proof = r.bytes(32, 'hello.proof');
  const pruneHeight = r.remaining > 0 ? r.varint('hello.pruneHeight') : undefined;
  r.end('hello');
  const work = workRaw.length === 0 ? 0n : BigInt(`0x${Buffer.from(workRaw).toString('hex')}`);
  const h = { version, genesis, nodeKey, listen, tipHash, height, work, userAgent, time, nonce, proof };
  return pruneHeight === undefined ? h : { ...h, pruneHeight };
}

// ---- hashes lists (getheaders locator, getblocks, inv) ----

function encodeHashes(w: Writer, hashes: readonly Uint8Array[]): Writer {
  w.varint(hashes.length);
  for (const h of hashes) w.bytes(h);
  return w;
}

function readHashes(r: Reader, field: string, max: number): Uint8Array[] {
  const n = r.count(field, Math.min(max, Math.floor(r.remaining / HASH_SIZE)));
  const out: Uint8Array[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = r.bytes(HASH_SIZE, field);
  return out;
}

export interface GetHeaders {
  readonly locator: readonly Uint8Array[];
  /** Stop after this hash (all zeros: send as many as allowed). */
  readonly stop: Uint8Array;
}

export function encodeGetHeaders(m: GetHeaders): Uint8Array {
  return encodeHashes(new Writer(64 + m.locator.length * 32), m.locator)
    .bytes(m.stop)
    .finish();
}

export function decodeGetHeaders(b: Uint8Array): GetHeaders {
  const r = new Reader(b);
  const locator = readHashes(r, 'getheaders.locator', LIMITS.locator);
  const stop = r.bytes(HASH_SIZE, 'getheaders.stop');
  r.end('getheaders');
  return { locator, stop };
}

/** Reply to getheaders: consecutive raw 88-byte headers. */
export function encodeHeaders(raw: readonly Uint8Array[]): Uint8Array {
  const w = new Writer(8 + raw.length * HEADER_SIZE).varint(raw.length);
  for (const h of raw) w.bytes(h);
  return w.finish();
}

export function decodeHeaders(b: Uint8Array): Uint8Array[] {
  const r = new Reader(b);
  const n = r.count('headers.count', Math.min(LIMITS.headers, Math.floor(r.remaining / HEADER_SIZE)));
  const out: Uint8Array[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = r.bytes(HEADER_SIZE, 'headers.header');
  r.end('headers');
  return out;
}

export function encodeGetBlocks(hashes: readonly Uint8Array[]): Uint8Array {
  return encodeHashes(new Writer(8 + hashes.length * 32), hashes).finish();
}

export function decodeGetBlocks(b: Uint8Array): Uint8Array[] {
  const r = new Reader(b);
  const out = readHashes(r, 'getblocks.hashes', LIMITS.blocksPerRequest);
  r.end('getblocks');
  return out;
}

/** Reply to getblocks: the raw blocks found, in the order asked (missing ones left out). */
export function encodeBlocks(raw: readonly Uint8Array[]): Uint8Array {
  const w = new Writer(16 + raw.reduce((s, x) => s + x.length + 4, 0)).varint(raw.length);
  for (const b of raw) w.varBytes(b);
  return w.finish();
}

export function decodeBlocks(b: Uint8Array): Uint8Array[] {
  const r = new Reader(b);
  const n = r.count('blocks.count', LIMITS.blocksPerRequest);
  const out: Uint8Array[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = r.varBytes('blocks.block', LIMITS.blockBytes);
  r.end('blocks');
  return out;
}

// ---- inventory ----

export interface Inventory {
  readonly blocks: readonly Uint8Array[];
  readonly txs: readonly Uint8Array[];
}

export function encodeInv(m: Inventory): Uint8Array {
  const w = new Writer(16 + (m.blocks.length + m.txs.length) * 32);
  encodeHashes(w, m.blocks);
  return encodeHashes(w, m.txs).finish();
}

export function decodeInv(b: Uint8Array): Inventory {
  const r = new Reader(b);
  const blocks = readHashes(r, 'inv.blocks', LIMITS.invItems);
  const txs = readHashes(r, 'inv.txs', LIMITS.invItems);
  r.end('inv');
  return { blocks, txs };
}

/** Reply to inv: indexes (into blocks, then txs) of the items the receiver wants pushed. */
export function encodeWant(blockIdx: readonly number[], txIdx: readonly number[]): Uint8Array {
  const w = new Writer(16).varint(blockIdx.length);
  for (const i of blockIdx) w.varint(i);
  w.varint(txIdx.length);
  for (const i of txIdx) w.varint(i);
  return w.finish();
}

export function decodeWant(b: Uint8Array): { blocks: number[]; txs: number[] } {
  const r = new Reader(b);
  const read = (field: string) => {
    const n = r.count(field, LIMITS.invItems);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(r.varint(field, LIMITS.invItems - 1));
    return out;
  };
  const blocks = read('want.blocks');
  const txs = read('want.txs');
  r.end('want');
  return { blocks, txs };
}

/** Reply to a pushed block or tx: what the receiver made of it. */
export type PushStatus = 'accepted' | 'duplicate' | 'orphan' | 'rejected';
const PUSH: readonly PushStatus[] = ['accepted', 'duplicate', 'orphan', 'rejected'];

export function pushStatusByte(s: PushStatus): number {
  return PUSH.indexOf(s);
}

export function pushStatusOf(byte: number): PushStatus {
  const s = PUSH[byte];
  if (s === undefined) throw new DecodeError('decode-bad-value', 'push.status', 'unknown status');
  return s;
}

export function encodePushReply(s: PushStatus): Uint8Array {
  return Uint8Array.of(pushStatusByte(s));
}

export function decodePushReply(b: Uint8Array): PushStatus {
  if (b.length !== 1) throw new DecodeError('decode-bad-value', 'push.status', 'unknown status');
  return pushStatusOf(b[0]!);
}

// ---- txs: several transactions pushed at once (protocol 2) ----

/** varint n | n transactions in their canonical encoding, back to back (each is self-delimiting). */
export function encodeTxs(raws: readonly Uint8Array[]): Uint8Array {
  const w = new Writer(8 + raws.reduce((s, r) => s + r.length, 0)).varint(raws.length);
  for (const r of raws) w.bytes(r);
  return w.finish();
}

export function decodeTxs(b: Uint8Array): DecodedTx[] {
  const r = new Reader(b);
  const n = r.count('txs.count', Math.min(LIMITS.txsPerPush, Math.floor(r.remaining / MIN_TX_SIZE)));
  const out: DecodedTx[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = readTx(r, b);
  r.end('txs');
  return out;
}

/** Reply to `txs`: varint n | one push status byte per transaction, in order. */
export function encodeTxsReply(statuses: readonly PushStatus[]): Uint8Array {
  const w = new Writer(4 + statuses.length).varint(statuses.length);
  for (const s of statuses) w.u8(pushStatusByte(s));
  return w.finish();
}

export function decodeTxsReply(b: Uint8Array): PushStatus[] {
  const r = new Reader(b);
  const n = r.count('txsreply.count', LIMITS.txsPerPush);
  const out: PushStatus[] = [];
  for (let i = 0; i < n; i++) out.push(pushStatusOf(r.u8('txsreply.status')));
  r.end('txsreply');
  return out;
}

// ---- peers ----

export interface PeerAddress {
  readonly key: Uint8Array;
  readonly addresses: readonly string[];
}

export function encodePeers(peers: readonly PeerAddress[]): Uint8Array {
  const w = new Writer(64 * peers.length + 8).varint(peers.length);
  for (const p of peers) {
    w.bytes(p.key).varint(p.addresses.length);
    for (const a of p.addresses) w.varBytes(utf8.encode(a));
  }
  return w.finish();
}

export function decodePeers(b: Uint8Array): PeerAddress[] {
  const r = new Reader(b);
  const n = r.count('peers.count', LIMITS.peers);
  const out: PeerAddress[] = [];
  for (let i = 0; i < n; i++) {
    const key = r.bytes(32, 'peers.key');
    const m = r.count('peers.addresses', LIMITS.listenAddresses);
    const addresses: string[] = [];
    for (let k = 0; k < m; k++) addresses.push(r.utf8('peers.address', LIMITS.addressLength));
    out.push({ key, addresses });
  }
  r.end('peers');
  return out;
}

// ---- ping ----

export function encodePing(nonce: Uint8Array, height: number): Uint8Array {
  return new Writer(16).bytes(nonce).varint(height).finish();
}

export function decodePing(b: Uint8Array): { nonce: Uint8Array; height: number } {
  const r = new Reader(b);
  const m = { nonce: r.bytes(8, 'ping.nonce'), height: r.varint('ping.height') };
  r.end('ping');
  return m;
}
