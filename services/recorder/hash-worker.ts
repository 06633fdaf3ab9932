/**
 * A hash worker thread (hasher.ts starts them): searches its own nonce range of the current job.
 *
 * Two engines compute SHA-256d of the 88-byte header per nonce:
 *   - 'midstate' (default): sha256-midstate.ts, plain JavaScript with the first header block
 *     compressed once per job; it yields the hash's most significant 32 bits, and a nonce whose
 *     top bits do not exceed the share target's (a candidate) is hashed again in full with
 *     node:crypto before anything is compared or posted, so a post is always a real hash;
 *   - 'crypto': the nonce's low 32 bits written at bytes 80..84 (the high 32 at 84..88 change once
 *     per 2^32 nonces) of one header buffer, then
 *     `hash('sha256', hash('sha256', header, 'buffer'), 'buffer')`, the hash's most significant
 *     byte compared with the share target's before the full most-significant-first compare
 *     (hashMeetsTargetBytes). ≈ 4× slower: two native calls per nonce cost more than the hashing.
 *
 * Every `checkInterval` hashes it publishes its hash count and looks at the WAKE word: any change
 * (new job, a block found, resume, new CPU cap, stop) ends the chunk. Messages to the main thread:
 * `found` (a hash meeting the share target, or the block target) and `exhausted` (the range is
 * done for this job; the worker then waits for the next generation). After a block the worker
 * pauses that generation for every worker (SOLVED) until the main thread resumes it or posts a
 * new job. Shares beyond `sharesPerSecond` are not posted (counted as dropped), so a very easy
 * share target cannot flood the main thread or the node.
 */
import { hash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { HEADER_SIZE, NONCE_OFFSET } from '../../shared/core/block/types.ts';
import { hashMeetsTargetBytes } from '../../shared/core/pow/compact.ts';
import { C, HashState, nonceRange } from './hash-state.ts';
import { MidstateSha256d, top32Of } from './sha256-midstate.ts';

export type HashEngine = 'midstate' | 'crypto';

export interface HashWorkerData {
  readonly sab: SharedArrayBuffer;
  readonly workers: number;
  readonly index: number;
  readonly nonceBits: number;
  readonly checkInterval: number;
  readonly sharesPerSecond: number;
  readonly engine: HashEngine;
}

export type HashWorkerMessage =
  | { t: 'found'; generation: number; hi: number; lo: number; hash: Uint8Array; block: boolean }
  | { t: 'exhausted'; generation: number };

const data = workerData as HashWorkerData;
const port = parentPort!;
const state = new HashState(data.sab, data.workers);
const ctrl = state.ctrl;
const index = data.index;
const range = nonceRange(index, data.nonceBits);
const check = data.checkInterval;

const midstate = data.engine === 'midstate' ? new MidstateSha256d() : null;
const header = Buffer.alloc(HEADER_SIZE);
const target = new Uint8Array(32);
const share = new Uint8Array(32);

let generation = -1;
let present = false;
let exhausted = false;
let hi = range.hiStart;
let lo = range.loStart;
let hashes = 0;
let shareWindow = 0;
let sharesInWindow = 0;

function adopt(): void {
  const r = state.readJob(header, target, share);
  generation = r.generation;
  present = r.present;
  exhausted = false;
  hi = range.hiStart;
  lo = range.loStart;
  header.writeUInt32LE(hi, NONCE_OFFSET + 4);
  if (present) midstate?.setHeader(header, hi);
  state.setWorkerGeneration(index, generation);
  Atomics.store(state.switchAt, index, BigInt(hashes));
  Atomics.add(ctrl, C.ADOPTED, 1);
  Atomics.notify(ctrl, C.ADOPTED);
}

/** Posts a hit; true when it was a block (this generation is now paused for every worker). */
function found(h: Buffer, nonceLo: number): boolean {
  const block = hashMeetsTargetBytes(h, target);
  if (!block) {
    const now = performance.now();
    if (now - shareWindow >= 1000) {
      shareWindow = now;
      sharesInWindow = 0;
    }
    if (sharesInWindow >= data.sharesPerSecond) {
      state.addDroppedShare(index);
      return false;
    }
    sharesInWindow++;
  }
  const msg: HashWorkerMessage = { t: 'found', generation, hi, lo: nonceLo, hash: h, block };
  port.postMessage(msg);
  if (block) {
    Atomics.store(ctrl, C.SOLVED, generation);
    state.wake();
  }
  return block;
}

/** Hashes up to `check` nonces; returns true when it found a block. */
function chunk(): boolean {
  let n = check;
  const room = range.loEnd - lo;
  if (room < n) n = room;
  blockFound = false;
  const done = midstate === null ? hashCrypto(n) : hashMidstate(midstate, n);
  hashes += done;
  Atomics.store(state.hashes, index, BigInt(hashes));
  if (lo === range.loEnd) {
    hi++;
    if (hi === range.hiEnd) {
      exhausted = true;
      const msg: HashWorkerMessage = { t: 'exhausted', generation };
      port.postMessage(msg);
    } else {
      lo = range.loStart;
      header.writeUInt32LE(hi, NONCE_OFFSET + 4);
      midstate?.setHi(hi);
    }
  }
  return blockFound;
}

/** Set when the current chunk found a block (the chunk stops there). */
let blockFound = false;

/** The 'crypto' engine: `n` nonces from `lo`; returns how many were hashed. */
function hashCrypto(n: number): number {
  const top = share[31]!;
  let done = 0;
  while (done < n) {
    header.writeUInt32LE(lo, NONCE_OFFSET);
    const h = hash('sha256', hash('sha256', header, 'buffer'), 'buffer') as Buffer;
    done++;
    if (h[31]! <= top && hashMeetsTargetBytes(h, share) && found(h, lo)) {
      blockFound = true;
      lo++;
      break;
    }
    lo++;
  }
  return done;
}

/** The 'midstate' engine: `n` nonces from `lo`; candidates are hashed again with node:crypto. */
function hashMidstate(m: MidstateSha256d, n: number): number {
  const top = top32Of(share);
  let done = 0;
  while (done < n) {
    const t = m.top32(lo);
    done++;
    if (t <= top) {
      header.writeUInt32LE(lo, NONCE_OFFSET);
      const h = hash('sha256', hash('sha256', header, 'buffer'), 'buffer') as Buffer;
      if (hashMeetsTargetBytes(h, share) && found(h, lo)) {
        blockFound = true;
        lo++;
        break;
      }
    }
    lo++;
  }
  return done;
}

function run(): void {
  for (;;) {
    const wake = Atomics.load(ctrl, C.WAKE);
    if (Atomics.load(ctrl, C.STOP) === 1) return;
    if (state.generation() !== generation || (Atomics.load(ctrl, C.SEQ) & 1) === 1) adopt();
    if (!present || exhausted || Atomics.load(ctrl, C.SOLVED) === generation) {
      Atomics.wait(ctrl, C.WAKE, wake);
      continue;
    }
    const period = Atomics.load(ctrl, C.PERIOD);
    const duty = Atomics.load(ctrl, C.DUTY);
    const capped = duty < period;
    const start = capped ? performance.now() : 0;
    let interrupted = false;
    for (;;) {
      if (chunk() || exhausted) break;
      if (Atomics.load(ctrl, C.WAKE) !== wake) {
        interrupted = true;
        break;
      }
      if (capped && performance.now() - start >= duty) break;
    }
    if (capped && !interrupted) {
      const rest = start + period - performance.now();
      if (rest > 0) Atomics.wait(ctrl, C.WAKE, wake, rest);
    }
  }
}

run();
