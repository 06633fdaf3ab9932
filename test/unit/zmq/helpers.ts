/** Shared bits of the zmq tests: keys, sleeps, fast timings, a logger that keeps its lines. */
import { curveKeyPair } from 'zeromq';
import { createLogger, type Logger } from '../../../shared/log.ts';
import type { CurveKeys } from '../../../shared/zmq/curve.ts';

export function keys(): CurveKeys {
  return curveKeyPair();
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves when `cond()` holds, polling; rejects after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Fast heartbeats and reconnects so tests see failures quickly. */
export const FAST = {
  heartbeat: { intervalMs: 200, timeoutMs: 600, ttlMs: 1_000 },
  reconnectIntervalMs: 50,
  reconnectMaxIntervalMs: 200,
} as const;

/** A logger that keeps its lines (parsed JSON) for assertions. */
export function captureLogger(level: 'debug' | 'info' | 'warn' = 'debug'): {
  logger: Logger;
  lines: Record<string, unknown>[];
} {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger(
    { level },
    {
      write(s: string) {
        lines.push(JSON.parse(s) as Record<string, unknown>);
      },
    },
  );
  return { logger, lines };
}
