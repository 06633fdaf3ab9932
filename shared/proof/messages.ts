/**
 * The proof channel between a node and its recorders (docs/protocol.md §Proof channel).
 *
 * Jobs: the node's PUB socket sends, per recorder, frames `topic | "job" | payload`, where the
 * topic is the recorder's CURVE public key in Z85 (40 bytes), so each recorder subscribes to its
 * own jobs (built with its own payout address).
 * Submissions: the recorder's REQ to the node's ROUTER, frames `command | payload`; replies are
 * `ok | payload` or `error | code | message` as on the peer channel.
 */

import { HEADER_SIZE } from '../core/block/types.ts';
import { bigIntToLeBytes, leBytesToBigInt } from '../core/bytes.ts';
import { Reader } from '../core/encoding/reader.ts';
import { Writer } from '../core/encoding/writer.ts';
import { DecodeError } from '../core/errors.ts';
import { HASH_SIZE, OWNER_SIZE } from '../core/limits.ts';

export const PROOF_VERSION = 1;
export const JOB_TOPIC_BYTES = 40;

export interface RecorderHello {
  readonly version: number;
  readonly genesis: Uint8Array;
  /** The recorder's CURVE public key (32 bytes). */
  readonly recorderKey: Uint8Array;
  /** Owner hash the recorder wants its coinbases paid to. */
  readonly payout: Uint8Array;
  readonly userAgent: string;
  readonly time: number;
  readonly nonce: Uint8Array;
  /** Key-possession proof over proofContext(...) (shared/zmq/curve.ts keyProof). */
  readonly proof: Uint8Array;
}

const utf8 = new TextEncoder();

/** What the recorder's proof covers: both keys, the payout, its clock and a nonce. */
export function helloProofContext(
  h: Omit<RecorderHello, 'proof' | 'userAgent' | 'version' | 'genesis'>,
  nodeKey: Uint8Array,
): Uint8Array {
  return new Writer(160)
    .bytes(utf8.encode('cairn-recorder-hello-v1'))
    .bytes(h.recorderKey)
    .bytes(nodeKey)
    .bytes(h.payout)
    .u64(h.time)
    .bytes(h.nonce)
    .finish();
}

export function encodeRecorderHello(h: RecorderHello): Uint8Array {
  return new Writer(200)
    .u32(h.version)
    .bytes(h.genesis)
    .bytes(h.recorderKey)
    .bytes(h.payout)
    .varBytes(utf8.encode(h.userAgent))
    .u64(h.time)
    .bytes(h.nonce)
    .bytes(h.proof)
    .finish();
}

export function decodeRecorderHello(b: Uint8Array): RecorderHello {
  const r = new Reader(b);
  const version = r.u32('hello.version');
  const genesis = r.bytes(HASH_SIZE, 'hello.genesis');
  const recorderKey = r.bytes(32, 'hello.recorderKey');
  const payout = r.bytes(OWNER_SIZE, 'hello.payout');
  const userAgent = r.utf8('hello.userAgent', 64);
  const time = r.u64('hello.time');
  const nonce = r.bytes(8, 'hello.nonce');
  const proof = r.bytes(32, 'hello.proof');
  r.end('hello');
  return { version, genesis, recorderKey, payout, userAgent, time, nonce, proof };
}

/** A block candidate for one recorder. */
export interface Job {
  /** Unique per node run; the recorder echoes it in its submission. */
  readonly jobId: bigint;
  readonly height: number;
  /** The 88-byte header with nonce 0. A recorder varies the nonce (bytes 80..88) only. */
  readonly header: Uint8Array;
  /** Block target: hash (as LE integer) ≤ target wins. */
  readonly target: bigint;
  /** Easier target for hash-rate accounting; equal to target when the node wants no shares. */
  readonly shareTarget: bigint;
  /** Node time (seconds) after which it answers `stale` for this job. */
  readonly expires: number;
  /** True when older jobs are void (new tip): stop them at once. */
  readonly clean: boolean;
}

export function encodeJob(j: Job): Uint8Array {
  if (j.header.length !== HEADER_SIZE)
    throw new DecodeError('decode-bad-value', 'job.header', 'must be 88 bytes');
  return new Writer(200)
    .u64big(j.jobId)
    .varint(j.height)
    .bytes(j.header)
    .bytes(bigIntToLeBytes(j.target, 32))
    .bytes(bigIntToLeBytes(j.shareTarget, 32))
    .u64(j.expires)
    .u8(j.clean ? 1 : 0)
    .finish();
}

export function decodeJob(b: Uint8Array): Job {
  const r = new Reader(b);
  const jobId = r.u64big('job.id');
  const height = r.varint('job.height');
  const header = r.bytes(HEADER_SIZE, 'job.header');
  const target = leBytesToBigInt(r.bytes(32, 'job.target'));
  const shareTarget = leBytesToBigInt(r.bytes(32, 'job.shareTarget'));
  const expires = r.u64('job.expires');
  const clean = r.u8('job.clean');
  r.end('job');
  if (clean > 1) throw new DecodeError('decode-bad-value', 'job.clean', 'must be 0 or 1');
  if (target === 0n || shareTarget < target)
    throw new DecodeError('decode-bad-value', 'job.target', 'share target below the block target');
  return { jobId, height, header, target, shareTarget, expires, clean: clean === 1 };
}

export interface Submission {
  readonly jobId: bigint;
  readonly nonce: bigint;
}

export function encodeSubmission(s: Submission): Uint8Array {
  return new Writer(16).u64big(s.jobId).u64big(s.nonce).finish();
}

export function decodeSubmission(b: Uint8Array): Submission {
  const r = new Reader(b);
  const s = { jobId: r.u64big('submit.jobId'), nonce: r.u64big('submit.nonce') };
  r.end('submit');
  return s;
}

/** What the node made of a submission. `ok` carries the block hash. */
export type SubmitStatus = 'ok' | 'share' | 'stale' | 'invalid' | 'unknown-job';
const STATUS: readonly SubmitStatus[] = ['ok', 'share', 'stale', 'invalid', 'unknown-job'];

export function encodeSubmitReply(status: SubmitStatus, blockHash?: Uint8Array): Uint8Array {
  const w = new Writer(40).u8(STATUS.indexOf(status));
  if (status === 'ok') w.bytes(blockHash ?? new Uint8Array(32));
  return w.finish();
}

export function decodeSubmitReply(b: Uint8Array): { status: SubmitStatus; blockHash?: Uint8Array } {
  const r = new Reader(b);
  const status = STATUS[r.u8('reply.status')];
  if (status === undefined) throw new DecodeError('decode-bad-value', 'reply.status', 'unknown status');
  const out = status === 'ok' ? { status, blockHash: r.bytes(HASH_SIZE, 'reply.blockHash') } : { status };
  r.end('reply');
  return out;
}
