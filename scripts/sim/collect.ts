/**
 * What the simulation records while it runs: when each node's feed announced each block and
 * transaction (a CURVE SUB per node, hashblock and hashtx only: cheap, and the observer's links
 * are not delayed, so the times are the nodes' own), each node's peers and P2P byte counters
 * (getpeerinfo every few seconds), and how busy the machine is (/proc, every second) — a
 * simulation whose machine is the bottleneck must say so.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Subscriber } from 'zeromq';
import { RpcClient, resolveRpcOptions } from '../../services/cli/rpc-client.ts';
import { type CurveKeys, clientOptions } from '../../shared/zmq/curve.ts';

/** Wall-clock ms with sub-ms resolution: one clock for every arrival. */
export const now = (): number => performance.timeOrigin + performance.now();

/** When nodes start and stop: who could have seen a block when. */
export class Timeline {
  readonly #spans = new Map<string, { from: number; to: number | undefined }[]>();

  up(node: string, t = now()): void {
    const s = this.#spans.get(node) ?? [];
    s.push({ from: t, to: undefined });
    this.#spans.set(node, s);
  }

  down(node: string, t = now()): void {
    const last = this.#spans.get(node)?.at(-1);
    if (last !== undefined && last.to === undefined) last.to = t;
  }

  isUp(node: string): boolean {
    const last = this.#spans.get(node)?.at(-1);
    return last !== undefined && last.to === undefined;
  }

  /** Whether `node` ran without a break through [from, to]. */
  ranThrough(node: string, from: number, to: number): boolean {
    return (this.#spans.get(node) ?? []).some((s) => s.from <= from && (s.to === undefined || s.to >= to));
  }

  nodes(): string[] {
    return [...this.#spans.keys()];
  }

  toJSON(): Record<string, { from: number; to: number | undefined }[]> {
    return Object.fromEntries(this.#spans);
  }
}

/** First arrival of each block and tx hash at each node, from the nodes' feeds. */
export class FeedRecorder {
  /** hash (display hex) → node → ms */
  readonly blocks = new Map<string, Map<string, number>>();
  readonly txs = new Map<string, Map<string, number>>();
  messages = 0;
  readonly #subs: Subscriber[] = [];

  constructor(readonly keys: CurveKeys) {}

  watch(node: string, address: string, port: number, serverKey: string): void {
    // a deep queue: at high tx rates the observer must not be the one dropping announcements
    const sub = new Subscriber({ ...clientOptions(this.keys, serverKey), receiveHighWaterMark: 1_000_000 });
    sub.connect(`tcp://${address}:${port}`);
    sub.subscribe('hashblock');
    sub.subscribe('hashtx');
    this.#subs.push(sub);
    void (async () => {
      try {
        for await (const [topic, body] of sub) {
          const t = now();
          this.messages++;
          const map = topic!.toString() === 'hashblock' ? this.blocks : this.txs;
          const hash = body!.toString('hex');
          const seen = map.get(hash) ?? new Map<string, number>();
          if (seen.size === 0) map.set(hash, seen);
          if (!seen.has(node)) seen.set(node, t);
        }
      } catch {
        // closed
      }
    })();
  }

  close(): void {
    for (const s of this.#subs) s.close();
  }
}

export interface PeerSample {
  readonly t: number;
  readonly node: string;
  readonly peers: number;
  readonly inbound: number;
  readonly height: number;
  readonly tip: string;
}

interface PeerInfo {
  id: number;
  inbound: boolean;
  conntime: number;
  bytessent: number;
  bytesrecv: number;
  bytessent_per_msg?: Record<string, number>;
  bytesrecv_per_msg?: Record<string, number>;
}

/** What a P2P command's bytes carry: blocks (whole or compact), transactions, or the rest. */
export type PayloadKind = 'block' | 'tx' | 'other';
const KIND_OF: Readonly<Record<string, PayloadKind>> = {
  block: 'block',
  getblocks: 'block',
  cmpctblock: 'block',
  blocktxn: 'block',
  tx: 'tx',
  txs: 'tx',
};

/** P2P payload bytes of one node: sent, received, and sent + received by what they carried. */
export interface PayloadBytes {
  sent: number;
  recv: number;
  byKind: Record<PayloadKind, number>;
}

function bytesByKind(p: PeerInfo): Record<PayloadKind, number> {
  const out: Record<PayloadKind, number> = { block: 0, tx: 0, other: 0 };
  for (const per of [p.bytessent_per_msg ?? {}, p.bytesrecv_per_msg ?? {}])
    for (const [command, n] of Object.entries(per)) out[KIND_OF[command] ?? 'other'] += n;
  return out;
}

/** RPC to every node (its cookie is read again after a restart) and the periodic poll. */
export class NodeRpc {
  readonly #clients = new Map<string, RpcClient>();
  readonly samples: PeerSample[] = [];
  /** P2P payload bytes per node, summed over connections (deltas between polls). */
  readonly payload = new Map<string, PayloadBytes>();
  readonly #last = new Map<string, { sent: number; recv: number; byKind: Record<PayloadKind, number> }>();

  constructor(readonly nodes: ReadonlyMap<string, { address: string; rpcPort: number; dataDir: string }>) {}

  client(node: string): RpcClient | undefined {
    const c = this.#clients.get(node);
    if (c) return c;
    const n = this.nodes.get(node)!;
    try {
      const made = new RpcClient({
        ...resolveRpcOptions({
          network: 'local',
          datadir: n.dataDir,
          rpcconnect: n.address,
          rpcport: n.rpcPort,
        }),
        timeoutMs: 10_000,
      });
      this.#clients.set(node, made);
      return made;
    } catch {
      return undefined; // no cookie yet
    }
  }

  async call<T>(node: string, method: string, params: unknown[] = []): Promise<T | undefined> {
    const c = this.client(node);
    if (c === undefined) return undefined;
    try {
      return await c.call<T>(method, params);
    } catch {
      this.#clients.delete(node); // a restarted node has a new cookie
      return undefined;
    }
  }

  /** A call whose error message matters (the load's rejections). */
  async callOrError<T>(
    node: string,
    method: string,
    params: unknown[],
  ): Promise<{ ok: T } | { err: string }> {
    const c = this.client(node);
    if (c === undefined) return { err: 'no cookie' };
    try {
      return { ok: await c.call<T>(method, params) };
    } catch (e) {
      const m = (e as Error).message;
      if (/ECONN|socket|cookie|401/i.test(m)) this.#clients.delete(node);
      return { err: m };
    }
  }

  /** One poll of `nodes`: peer counts, tips, and P2P bytes since the last poll. */
  async poll(nodes: readonly string[]): Promise<void> {
    await Promise.all(
      nodes.map(async (node) => {
        const [peers, info] = await Promise.all([
          this.call<PeerInfo[]>(node, 'getpeerinfo'),
          this.call<{ blocks: number; bestblockhash: string }>(node, 'getblockchaininfo'),
        ]);
        if (peers === undefined || info === undefined) return;
        const t = now();
        this.samples.push({
          t,
          node,
          peers: peers.length,
          inbound: peers.filter((p) => p.inbound).length,
          height: info.blocks,
          tip: info.bestblockhash,
        });
        const total = this.payload.get(node) ?? { sent: 0, recv: 0, byKind: { block: 0, tx: 0, other: 0 } };
        for (const p of peers) {
          // a connection is one id for as long as it lives: count what it moved since we last looked
          const k = `${node}|${p.id}|${p.conntime}|${p.inbound}`;
          const before = this.#last.get(k) ?? { sent: 0, recv: 0, byKind: { block: 0, tx: 0, other: 0 } };
          const kinds = bytesByKind(p);
          total.sent += Math.max(0, p.bytessent - before.sent);
          total.recv += Math.max(0, p.bytesrecv - before.recv);
          for (const kind of ['block', 'tx', 'other'] as const)
            total.byKind[kind] += Math.max(0, kinds[kind] - before.byKind[kind]);
          this.#last.set(k, { sent: p.bytessent, recv: p.bytesrecv, byKind: kinds });
        }
        this.payload.set(node, total);
      }),
    );
  }
}

export interface CpuSample {
  readonly t: number;
  /** Share of all cores busy over the last interval, 0..1 (every process on the machine). */
  readonly busy: number;
  readonly load1: number;
  /** CPU seconds per second by role over the interval (1 = one core). */
  readonly byRole: Readonly<Record<string, number>>;
}

function readJiffies(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

function pidTicks(pid: number): number | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime
  } catch {
    return undefined;
  }
}

/** Samples machine and per-role CPU every second, and this process's event-loop delay. */
export class CpuSampler {
  readonly samples: CpuSample[] = [];
  readonly cores = cpus().length;
  readonly #loop = monitorEventLoopDelay({ resolution: 10 });
  #timer: NodeJS.Timeout | undefined;

  /** `pids()`: pid → role (node, recorder, discovery, emulator, sim). */
  start(pids: () => ReadonlyMap<number, string>): void {
    this.#loop.enable();
    let last = readJiffies();
    let lastT = now();
    let lastPid = new Map<number, number>();
    this.#timer = setInterval(() => {
      const j = readJiffies();
      const t = now();
      const dt = (t - lastT) / 1000;
      const byRole: Record<string, number> = {};
      const cur = new Map<number, number>();
      for (const [pid, role] of pids()) {
        const ticks = pidTicks(pid);
        if (ticks === undefined) continue;
        cur.set(pid, ticks);
        const before = lastPid.get(pid);
        if (before !== undefined) byRole[role] = (byRole[role] ?? 0) + (ticks - before) / 100 / dt;
      }
      const load1 = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
      const dTotal = j.total - last.total;
      this.samples.push({ t, busy: dTotal > 0 ? (j.busy - last.busy) / dTotal : 0, load1, byRole });
      last = j;
      lastT = t;
      lastPid = cur;
    }, 1000);
  }

  /** The event-loop delay of the sim itself (its timings are late by this much at worst), ms. */
  loopDelay(): { p50: number; p99: number; max: number } {
    const h = this.#loop;
    return { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#loop.disable();
  }
}
