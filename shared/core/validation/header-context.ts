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
}

export function medianTimePast(times: readonly number[]): number {
  if (times.length === 0) {
    return 0;
  }
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Compact target required of the child of `parent`: ASERT anchored at genesis. */
export function requiredBits(parent: { height: number; time: number }, p: NetworkParams): number {
  return nextBitsAsert({
    anchorTarget: p.powLimit,
    anchorParentTime: p.genesisTime - p.targetSpacing,
    anchorHeight: 0,
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
