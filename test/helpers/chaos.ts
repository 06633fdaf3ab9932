/**
 * Chaos-soak helpers: a seeded PRNG (the seed is printed so a run can be replayed with
 * CHAOS_SEED), the fault schedule drawn from it, JSON-RPC with a timeout (a SIGSTOPped node never
 * answers), a filler that takes a file system's last free byte, and figures.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { prng } from '../../scripts/sim/prng.ts';
import type { NodeProcess } from './cluster.ts';
import { rpc } from './rpc.ts';

export { prng };

/** CHAOS_SEED when set (a replay), else a fresh random seed. */
export function chaosSeed(env: NodeJS.ProcessEnv = process.env): number {
  const s = env.CHAOS_SEED;
  if (s !== undefined && s !== '') {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
      throw new Error(`CHAOS_SEED must be a u32, got ${s}`);
    return n;
  }
  return Math.floor(Math.random() * 0x100000000);
}

export type FaultKind = 'kill' | 'stop' | 'disk';

export interface PlannedFault {
  /** ms after the soak's start. */
  readonly at: number;
  readonly node: number;
  readonly kind: FaultKind;
  /** kill: how long the node stays down; stop: how long it stays stopped; disk: 0. */
  readonly ms: number;
}

export interface ScheduleOptions {
  readonly nodes: number;
  /** The node whose data directory is on the tmpfs (its disk fills once). */
  readonly diskNode: number;
  readonly soakMs: number;
  /** Most nodes under a fault (or recovering from one) at the same time. */
  readonly maxConcurrent: number;
  /** Time a node is planned busy after its fault ends (restart, catch-up). */
  readonly recoverMs: number;
  /** Time the disk fault is planned to take (fill, stop, restart, catch-up). */
  readonly diskMs: number;
}

/**
 * The faults of one soak: one disk fill on `diskNode` between 15 % and 40 % of the soak, then a
 * fault every 3–8 s on a node that is not planned busy (kill 1–5 s down, or SIGSTOP for 2–8 s),
 * with at most `maxConcurrent` nodes busy at once, none in the last 10 s.
 */
export function planFaults(rng: () => number, o: ScheduleOptions): PlannedFault[] {
  const between = (lo: number, hi: number) => Math.round(lo + (hi - lo) * rng());
  const faults: PlannedFault[] = [];
  const busy: { node: number; from: number; to: number }[] = [];
  const diskAt = between(0.15 * o.soakMs, 0.4 * o.soakMs);
  faults.push({ at: diskAt, node: o.diskNode, kind: 'disk', ms: 0 });
  busy.push({ node: o.diskNode, from: diskAt, to: diskAt + o.diskMs });
  const busyAt = (t: number, until: number) => busy.filter((b) => b.from < until && t < b.to);
  let t = between(3000, 8000);
  while (t < o.soakMs - 10_000) {
    const kind: FaultKind = rng() < 0.5 ? 'kill' : 'stop';
    const ms = kind === 'kill' ? between(1000, 5000) : between(2000, 8000);
    const end = t + ms + o.recoverMs;
    const taken = busyAt(t, end);
    const free = [...Array(o.nodes).keys()].filter((n) => !taken.some((b) => b.node === n));
    // at most maxConcurrent busy at any moment of this fault's window (counted at its start: windows overlap there)
    if (free.length > 0 && taken.length < o.maxConcurrent) {
      const node = free[Math.floor(rng() * free.length)]!;
      faults.push({ at: t, node, kind, ms });
      busy.push({ node, from: t, to: end });
      t += between(3000, 8000);
    } else {
      t += 1000;
    }
  }
  return faults.sort((a, b) => a.at - b.at);
}

/** A JSON-RPC call that fails after `timeoutMs` (a stopped node accepts the connection and never answers). */
export async function call<T = unknown>(
  node: NodeProcess,
  method: string,
  params: unknown[] = [],
  timeoutMs = 3000,
): Promise<T> {
  const r = await rpc(node, method, params, undefined, timeoutMs);
  if (r.body === undefined || r.body.error != null)
    throw new RpcCallError(
      method,
      r.status,
      r.body?.error?.code,
      r.body?.error?.message ?? 'no JSON-RPC reply',
    );
  return r.body.result as T;
}

export class RpcCallError extends Error {
  constructor(
    readonly method: string,
    readonly status: number,
    readonly code: number | undefined,
    readonly detail: string,
  ) {
    super(`${method}: HTTP ${status}${code === undefined ? '' : ` code ${code}`}: ${detail}`);
  }
}

/**
 * Writes `path` until the file system has no byte left (ENOSPC at 1 MiB, then 64 KiB, then 4 KiB
 * writes); returns the bytes written. Other writers on that file system fail from then on.
 */
export function fillDisk(path: string): number {
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    for (const size of [1 << 20, 1 << 16, 1 << 12, 512]) {
      const buf = Buffer.alloc(size, 0xa5);
      for (;;) {
        try {
          written += writeSync(fd, buf);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `p`'s value, or `fallback` when `p` has not settled within `ms` (the timer is cleared either way). */
export async function within<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<F>((r) => (timer = setTimeout(() => r(fallback), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
