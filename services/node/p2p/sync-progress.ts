/**
 * The operator's view of a sync: one line at most every 5 s (or every 1,000 blocks) with the
 * percentage of the known headers, the rate and an estimate of the time left. Read at report
 * time, so it never says "height 624 of 620" when blocks arrived faster than headers.
 */
import type { Logger } from '../../../shared/log.ts';
import type { Chain } from '../chain/chain.ts';

const EVERY_MS = 5_000;
const EVERY_BLOCKS = 1_000;

export interface SyncStatus {
  readonly height: number;
  readonly target: number;
  /** 0..100, one decimal. */
  readonly percent: number;
  /** Blocks per second since the last report (0 at the first). */
  readonly rate: number;
  /** Seconds left at that rate; undefined when unknown. */
  readonly etaSeconds: number | undefined;
}

export function syncStatus(
  height: number,
  target: number,
  last: { height: number; at: number } | undefined,
  now: number,
): SyncStatus {
  const top = Math.max(height, target);
  const percent = top === 0 ? 100 : Math.floor((height / top) * 1000) / 10;
  const seconds = last === undefined ? 0 : (now - last.at) / 1000;
  const rate = seconds > 0 ? Math.max(0, height - last!.height) / seconds : 0;
  const etaSeconds = rate > 0 ? Math.ceil((top - height) / rate) : undefined;
  return { height, target: top, percent, rate, etaSeconds };
}

export function formatDuration(s: number): string {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** `verb`: what is under way (an import from a file shares the line's format). */
export function syncLine(s: SyncStatus, verb = 'syncing'): string {
  const rate = s.rate > 0 ? `, ${s.rate.toFixed(s.rate < 10 ? 1 : 0)} blocks/s` : '';
  const eta = s.etaSeconds === undefined ? '' : `, about ${formatDuration(s.etaSeconds)} left`;
  return `${verb}: ${s.percent.toFixed(1)}% (height ${s.height} of ${s.target}${rate}${eta})`;
}

export class SyncProgress {
  readonly #chain: Chain;
  readonly #log: Logger;
  #last: { height: number; at: number } | undefined;

  constructor(chain: Chain, log: Logger) {
    this.#chain = chain;
    this.#log = log;
  }

  /** Logs a line when due. */
  report(now = Date.now()): void {
    const height = this.#chain.tipHeight();
    const last = this.#last;
    if (last !== undefined && now - last.at < EVERY_MS && height < last.height + EVERY_BLOCKS) return;
    const s = syncStatus(height, this.#chain.bestHeader().height, last, now);
    this.#last = { height, at: now };
    this.#log.info(
      { height: s.height, target: s.target, percent: s.percent, rate: Math.round(s.rate), eta: s.etaSeconds },
      syncLine(s),
    );
  }
}
