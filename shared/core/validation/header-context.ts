/** Header rules that depend on the chain before it: difficulty and time. */

import type { BlockHeader } from '../block/types.ts';
import { ValidationError } from '../errors.ts';
import type { NetworkParams } from '../params/types.ts';
import { nextBitsAsert } from '../pow/asert.ts';

/** What the chain must tell about a header's parent. */
export interface ParentInfo {
  readonly height: number;
  readonly time: number;
  /** Times of the parent and up to medianTimeSpan-1 of its ancestors (any order). */
  readonly recentTimes: readonly number[];
  /** Time of block 1 on the parent's branch, the difficulty anchor (unused when the parent is genesis). */
  readonly anchorTime: number;
}

/** What requiredBits needs of the parent. */
export type BitsParent = Pick<ParentInfo, 'height' | 'time' | 'anchorTime'>;

export function medianTimePast(times: readonly number[]): number {
  if (times.length === 0) {
    return 0;
  }
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Compact target required of the child of `parent`: ASERT anchored at genesis. */
/**
 * The compact target a block on `parent` must carry: ASERT anchored at block 1, which any miner
 * may mine at the limit. Anchoring at block 1 rather than genesis starts the schedule when the
 * chain really starts: a genesis made long before launch (always so on local) would otherwise
 * keep the difficulty at the limit until the schedule caught up with the clock, i.e. for
 * (launch − genesis time) / spacing blocks.
 */
export function requiredBits(parent: BitsParent, p: NetworkParams): number {
  if (parent.height === 0) return p.powLimitBits;
  return nextBitsAsert({
    anchorTarget: p.powLimit,
    // block 1 is taken as on time, so the block after it stays at the limit
    anchorParentTime: parent.anchorTime - p.targetSpacing,
    anchorHeight: 1,
    parentTime: parent.time,
    parentHeight: parent.height,
    targetSpacing: p.targetSpacing,
    halfLife: p.asertHalfLife,
    powLimit: p.powLimit,
  });
}

/** `now` is the validating node's clock (seconds), passed in: the core reads no clock. */
export function checkHeaderContext(
  header: BlockHeader,
  parent: ParentInfo,
  p: NetworkParams,
  now: number,
): void {
  const bits = requiredBits(parent, p);
  if (header.bits !== bits) {
    throw new ValidationError(
      'bad-diffbits',
      `bits 0x${header.bits.toString(16)}, required 0x${bits.toString(16)}`,
    );
  }
  const mtp = medianTimePast(parent.recentTimes.slice(0, p.medianTimeSpan));
  if (header.time <= mtp) {
    throw new ValidationError('time-too-old', `time ${header.time} is not after median time past ${mtp}`);
  }
  if (header.time > now + p.maxFutureBlockTime) {
    throw new ValidationError(
      'time-too-new',
      `time ${header.time} is more than ${p.maxFutureBlockTime}s ahead of ${now}`,
      0,
    );
  }
}
