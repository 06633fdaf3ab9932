/**
 * How far V8 lets the old generation grow past what survived the last full collection.
 *
 * V8 picks the factor itself (up to 4×, more when collections are fast against allocation). A
 * syncing node allocates fast and keeps little (about 20 MB live), yet its old generation grew to
 * 70 MB committed before V8 collected it: 40% of the node's peak anonymous memory. At 1.2× the peak
 * anonymous memory fell from 134–139 MB to 81–86 MB with no measurable cost in CPU per transaction
 * (bench/sync-profile.ts 700 100; docs/performance.md). The flag is process-wide (the verify
 * workers' heaps too) and read at every collection, so setting it at start is enough.
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 20;

/**
 * Sets --heap-growing-percent unless the operator set it (node's command line; NODE_OPTIONS does
 * not take V8 heap flags other than the semi- and old-space sizes). Returns the value in force, or
 * undefined when the operator's is.
 */
export function limitHeapGrowth(
  percent = HEAP_GROWING_PERCENT,
  execArgv = process.execArgv,
): number | undefined {
  if (execArgv.some((a) => a.startsWith('--heap-growing-percent') || a.startsWith('--heap_growing_percent')))
    return undefined;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return percent;
}
