/**
 * Per-block difficulty by ASERT, exactly Bitcoin Cash's aserti3-2d (BCHN `CalculateASERT`).
 *
 * Absolutely scheduled: the target of the block after `parent` depends only on the anchor and on
 * how far `parent` is ahead of or behind the ideal schedule of one block per `targetSpacing`:
 *
 *   target = anchorTarget * 2^((timeDiff - targetSpacing * (heightDiff + 1)) / halfLife)
 *   timeDiff = parentTime - anchorParentTime, heightDiff = parentHeight - anchorHeight
 *
 * so each `halfLife` seconds behind schedule doubles the target and each ahead halves it.
 * Integer-only, so every implementation agrees bit for bit:
 *   exponent = ((timeDiff - spacing * (heightDiff + 1)) * 65536) / halfLife  (truncated toward 0)
 *   shifts = exponent >> 16 (floor), frac = exponent & 0xffff (in [0, 1) as 16.16 fixed point)
 *   factor = 65536 + ((195766423245049*frac + 971821376*frac^2 + 5127*frac^3 + 2^47) >> 48)
 *            (65536 * 2^(frac/65536), a cubic approximation, error < 0.013%)
 *   target = (anchorTarget * factor) * 2^(shifts - 16), clamped to [1, powLimit].
 *
 * In Cairn the anchor is the genesis block (height 0), and its "parent time" is
 * genesisTime - targetSpacing, so that a chain exactly on schedule keeps the genesis target.
 */
import { UsageError } from '../errors.ts';
import { encodeCompact } from './compact.ts';

export interface AsertParams {
  /** Target of the anchor block (decoded nBits); 1 <= anchorTarget <= powLimit. */
  anchorTarget: bigint;
  /** Timestamp of the anchor block's parent (for a genesis anchor: genesisTime - targetSpacing). */
  anchorParentTime: number;
  anchorHeight: number;
  /** Timestamp and height of the block the new block builds on. */
  parentTime: number;
  parentHeight: number;
  /** Ideal seconds between blocks. */
  targetSpacing: number;
  /** Seconds ahead of / behind schedule that halve / double the target. */
  halfLife: number;
  /** Easiest allowed target, below 2^256 (BCHN needs < 2^224; exact BigInt arithmetic does not). */
  powLimit: bigint;
}

function checkInt(v: number, what: string): void {
  if (!Number.isSafeInteger(v)) {
    throw new UsageError(`${what} must be a safe integer, got ${v}`);
  }
}

/** The target of the block after `parent` (BCHN's CalculateASERT). */
export function calculateAsert(p: AsertParams): bigint {
  checkInt(p.anchorParentTime, 'anchorParentTime');
  checkInt(p.anchorHeight, 'anchorHeight');
  checkInt(p.parentTime, 'parentTime');
  checkInt(p.parentHeight, 'parentHeight');
  checkInt(p.targetSpacing, 'targetSpacing');
  checkInt(p.halfLife, 'halfLife');
  if (p.targetSpacing <= 0) {
    throw new UsageError('targetSpacing must be positive');
  }
  if (p.halfLife <= 0) {
    throw new UsageError('halfLife must be positive');
  }
  // BCHN requires powLimit < 2^224 so its 256-bit product cannot overflow; BigInt products are
  // exact, so Cairn allows any limit below 2^256 (local's 0x207fffff is ~2^255).
  if (p.powLimit <= 0n || p.powLimit >> 256n !== 0n) {
    throw new UsageError('powLimit must be in [1, 2^256)');
  }
  if (p.anchorTarget <= 0n || p.anchorTarget > p.powLimit) {
    throw new UsageError('anchorTarget must be in [1, powLimit]');
  }
  if (p.parentHeight < p.anchorHeight) {
    throw new UsageError('parent is below the anchor');
  }

  const timeDiff = BigInt(p.parentTime) - BigInt(p.anchorParentTime);
  const heightDiff = BigInt(p.parentHeight) - BigInt(p.anchorHeight);
  const spacing = BigInt(p.targetSpacing);
  // BCHN asserts this so that the 64-bit products below cannot overflow.
  const drift = timeDiff - spacing * heightDiff;
  if ((drift < 0n ? -drift : drift) >= 1n << 47n) {
    throw new UsageError('time too far off schedule');
  }

  // BigInt division truncates toward zero, like C++'s int64 division.
  const exponent = ((timeDiff - spacing * (heightDiff + 1n)) * 65536n) / BigInt(p.halfLife);
  // BigInt >> is an arithmetic (flooring) shift and & uses two's complement, so for negative
  // exponents these match C++'s `exponent >> 16` and `uint16_t(exponent)`.
  const shifts = (exponent >> 16n) - 16n; // the - 16 removes the 65536 scale of `factor`
  const frac = exponent & 0xffffn;
  const factor =
    65536n +
    ((195766423245049n * frac + 971821376n * frac * frac + 5127n * frac * frac * frac + (1n << 47n)) >> 48n);
  let next = p.anchorTarget * factor;
  if (shifts <= 0n) {
    next = -shifts >= 256n ? 0n : next >> -shifts;
  } else if (shifts >= 256n || next << shifts > p.powLimit) {
    // BCHN sets powLimit when the 256-bit shift overflows; otherwise clamps below. Same result.
    next = p.powLimit;
  } else {
    next <<= shifts;
  }
  if (next === 0n) {
    return 1n; // 0 is not a valid target, 1 is
  }
  return next > p.powLimit ? p.powLimit : next;
}

/** The compact nBits of calculateAsert's target: what the next header must carry. */
export function nextBitsAsert(p: AsertParams): number {
  return encodeCompact(calculateAsert(p));
}
