/**
 * The figures of a run, computed from what ./collect.ts recorded (pure), and their text form.
 *
 * Propagation of a block or tx to 50 / 90 / 100 % of nodes counts only the nodes that could see it
 * the normal way: running from `SETTLE_MS` before it first appeared (a node that just restarted is
 * catching up, not relaying) until it saw it or `WINDOW_MS` passed. A block's clock starts when
 * the first node announced it (its miner's node); a tx's when the load sent it.
 */
import type { CpuSample, PayloadBytes, PayloadKind, PeerSample, Timeline } from './collect.ts';
import type { LinkStats } from './shaping.ts';

export const SETTLE_MS = 15_000;
export const WINDOW_MS = 60_000;

export interface Quantiles {
  readonly n: number;
  /** Items that never reached the share (within the window). */
  readonly notReached: number;
  readonly medianMs: number | null;
  readonly p99Ms: number | null;
}

export interface Propagation {
  readonly to50: Quantiles;
  readonly to90: Quantiles;
  readonly to100: Quantiles;
}

export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

function round(x: number | null, d = 1): number | null {
  return x === null ? null : Math.round(x * 10 ** d) / 10 ** d;
}

/** Per item: ms to reach 50/90/100 % of the nodes eligible for it (null: not reached). */
export function reachTimes(
  arrivals: ReadonlyMap<string, number>,
  origin: number,
  timeline: Timeline,
): { to50: number | null; to90: number | null; to100: number | null; eligible: number } {
  const eligible = timeline
    .nodes()
    .filter((n) =>
      timeline.ranThrough(
        n,
        origin - SETTLE_MS,
        Math.min(arrivals.get(n) ?? Number.POSITIVE_INFINITY, origin + WINDOW_MS),
      ),
    );
  const times = eligible
    .map((n) => arrivals.get(n))
    .filter((t): t is number => t !== undefined && t - origin <= WINDOW_MS)
    .map((t) => Math.max(0, t - origin))
    .sort((a, b) => a - b);
  const at = (share: number) => {
    const need = Math.max(1, Math.ceil(share * eligible.length));
    return times.length >= need ? times[need - 1]! : null;
  };
  return { to50: at(0.5), to90: at(0.9), to100: at(1), eligible: eligible.length };
}

export function propagation(items: readonly ReturnType<typeof reachTimes>[]): Propagation {
  const q = (pick: (r: ReturnType<typeof reachTimes>) => number | null): Quantiles => {
    const v = items.map(pick);
    const ok = v.filter((x): x is number => x !== null).sort((a, b) => a - b);
    return {
      n: ok.length,
      notReached: v.length - ok.length,
      medianMs: round(quantile(ok, 0.5)),
      p99Ms: round(quantile(ok, 0.99)),
    };
  };
  return { to50: q((r) => r.to50), to90: q((r) => r.to90), to100: q((r) => r.to100) };
}

export interface BestBlock {
  readonly hash: string;
  readonly height: number;
  readonly size: number;
  readonly nTx: number;
}

export interface RunRecord {
  readonly command: string;
  readonly options: Record<string, unknown>;
  readonly shaper: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly nodes: readonly string[];
  readonly timeline: Timeline;
  readonly blocks: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly txs: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly submitted: ReadonlyMap<string, number>;
  /** The best chain at the end, every block from the first mined in the window on. */
  readonly bestChain: readonly BestBlock[];
  readonly peerSamples: readonly PeerSample[];
  readonly payloadBytes: ReadonlyMap<string, PayloadBytes>;
  readonly linkStart: LinkStats | undefined;
  readonly linkEnd: LinkStats | undefined;
  readonly cpu: readonly CpuSample[];
  readonly cores: number;
  readonly loopDelay: { p50: number; p99: number; max: number };
  readonly sync: SyncResult | undefined;
  readonly tips: { oneTip: boolean; convergeSeconds: number | null; byTip: Record<string, string[]> };
  readonly churn: { stops: number; nodes: string[] };
  readonly load: {
    targetRate: number;
    txBytes: number;
    rejected: Record<string, number>;
    sendErrors: number;
    skipped: number;
  };
  readonly unexpectedExits: readonly string[];
  /** Paced mining: blocks the pacer asked for and how many of those calls failed. */
  readonly mining?: { readonly mode: string; readonly generated: number; readonly failed: number };
}

export interface SyncResult {
  readonly node: string;
  readonly startHeight: number;
  readonly targetHeight: number;
  /** Seconds from start to the best height the others had when it started (null: not reached). */
  readonly secondsToTarget: number | null;
  /** Seconds from start until its tip was the others' tip. */
  readonly secondsToTip: number | null;
}

function stats(
  values: readonly number[],
): { min: number; p10: number; median: number; p90: number; max: number } | null {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return null;
  return {
    min: s[0]!,
    p10: quantile(s, 0.1)!,
    median: quantile(s, 0.5)!,
    p90: quantile(s, 0.9)!,
    max: s.at(-1)!,
  };
}

export function buildReport(r: RunRecord) {
  const inWindow = (t: number) => t >= r.startMs && t <= r.endMs;
  const firstSeen = (m: ReadonlyMap<string, number>) => Math.min(...m.values());
  const best = new Set(r.bestChain.map((b) => b.hash));
  const windowBlocks = [...r.blocks].filter(([, m]) => inWindow(firstSeen(m)));
  const bestInWindow = windowBlocks.filter(([h]) => best.has(h));
  const stale = windowBlocks.filter(([h]) => !best.has(h));
  const blockReach = bestInWindow.map(([, m]) => reachTimes(m, firstSeen(m), r.timeline));
  const txReach = [...r.submitted]
    .filter(([, t]) => inWindow(t) && t <= r.endMs - 10_000)
    .map(([h, t]) => reachTimes(r.txs.get(h) ?? new Map(), t, r.timeline));
  const chainBlocks = r.bestChain.filter((b) => bestInWindow.some(([h]) => h === b.hash));
  const durationS = (r.endMs - r.startMs) / 1000;

  // bytes: the link counters' difference over the window, per node, per best-chain block
  const perNode = (pick: (s: { rx: number; tx: number; p2pSent: number; p2pReceived: number }) => number) =>
    r.nodes
      .map((n) => {
        const a = r.linkStart?.hosts.get(n);
        const b = r.linkEnd?.hosts.get(n);
        return a && b ? pick(b) - pick(a) : undefined;
      })
      .filter((x): x is number => x !== undefined);
  const perBlock = (xs: number[]) => {
    if (xs.length === 0 || chainBlocks.length === 0) return null;
    const v = xs.map((x) => x / chainBlocks.length);
    return { mean: Math.round(v.reduce((a, b) => a + b, 0) / v.length), max: Math.round(Math.max(...v)) };
  };
  const payload = [...r.payloadBytes.values()].map((p) => p.sent + p.recv);
  const payloadOf = (kind: PayloadKind) => [...r.payloadBytes.values()].map((p) => p.byKind[kind]);
  const meanSize =
    chainBlocks.length > 0 ? chainBlocks.reduce((a, b) => a + b.size, 0) / chainBlocks.length : 0;

  const windowPeers = r.peerSamples.filter((s) => inWindow(s.t));
  const lastPeers = new Map<string, number>();
  for (const s of r.peerSamples) lastPeers.set(s.node, s.peers);

  const cpu = r.cpu.filter((c) => inWindow(c.t));
  const busy = cpu.map((c) => c.busy).sort((a, b) => a - b);
  const busyMean = busy.length > 0 ? busy.reduce((a, b) => a + b, 0) / busy.length : 0;
  const saturated = busy.length > 0 ? busy.filter((b) => b >= 0.95).length / busy.length : 0;
  const roles: Record<string, number> = {};
  for (const c of cpu)
    for (const [k, v] of Object.entries(c.byRole)) roles[k] = (roles[k] ?? 0) + v / cpu.length;
  const hist = r.linkEnd?.latenessHistogramMs;
  let emuP99: number | null = null;
  if (hist) {
    const total = hist.reduce((a, b) => a + b, 0);
    let acc = 0;
    for (const [ms, n] of hist.entries()) {
      acc += n;
      if (acc >= 0.99 * total) {
        emuP99 = ms;
        break;
      }
    }
  }
  const simCores = Object.values(roles).reduce((a, b) => a + b, 0);
  const otherCores = Math.max(0, busyMean * r.cores - simCores);
  const reasons: string[] = [];
  if (busyMean >= 0.85) reasons.push(`the CPU was ${Math.round(busyMean * 100)}% busy on average`);
  if (saturated >= 0.25) reasons.push(`${Math.round(saturated * 100)}% of seconds at ≥ 95% CPU`);
  if (emuP99 !== null && emuP99 > 10) reasons.push(`the link emulator sent 1% of frames ≥ ${emuP99} ms late`);
  if (r.loopDelay.p99 > 200)
    reasons.push(`the observer's event loop lagged ${Math.round(r.loopDelay.p99)} ms (p99)`);
  const machineBound = reasons.length > 0;
  // on a shared machine the saturation may not be the simulation's own: say whose it is
  if (machineBound)
    reasons.push(
      `the simulation's processes used ${simCores.toFixed(2)} of ${r.cores} cores, other processes on the machine ${otherCores.toFixed(2)}`,
    );

  return {
    command: r.command,
    options: r.options,
    shaper: r.shaper,
    startedAt: new Date(r.startMs).toISOString(),
    durationSeconds: Math.round(durationS),
    nodes: r.nodes.length,
    blocks: {
      mining: r.mining ?? null,
      seen: windowBlocks.length,
      bestChain: bestInWindow.length,
      stale: stale.length,
      staleRate: windowBlocks.length > 0 ? round(stale.length / windowBlocks.length, 4) : null,
      meanIntervalSeconds: bestInWindow.length > 0 ? round(durationS / bestInWindow.length, 2) : null,
      meanSizeBytes: Math.round(meanSize),
      meanTransactions:
        chainBlocks.length > 0 ? round(chainBlocks.reduce((a, b) => a + b.nTx, 0) / chainBlocks.length) : 0,
    },
    blockPropagation: propagation(blockReach),
    txPropagation: {
      sent: txReach.length,
      ...propagation(txReach),
    },
    bytesPerNodePerBlock: {
      /** Ethernet frames to/from other nodes and discovery (TCP, IP, CURVE overhead included). */
      wire: perBlock(perNode((s) => s.p2pSent + s.p2pReceived)),
      /** P2P message bytes (getpeerinfo bytessent + bytesrecv), summed over connections. */
      payload: perBlock(payload),
      /** Of it, what relayed blocks (block, getblocks, cmpctblock, blocktxn), per block. */
      blockRelay: perBlock(payloadOf('block')),
      /** Of it, what relayed transactions (tx, txs). */
      txRelay: perBlock(payloadOf('tx')),
    },
    peers: {
      overWindow: stats(windowPeers.map((s) => s.peers)),
      inboundOverWindow: stats(windowPeers.map((s) => s.inbound)),
      atEnd: Object.fromEntries(lastPeers),
    },
    sync: r.sync ?? null,
    tips: r.tips,
    churn: r.churn,
    load: {
      ...r.load,
      sentPerSecond: round(txReach.length / Math.max(1, durationS - 10), 2),
    },
    machine: {
      cores: r.cores,
      cpuBusyMeanPct: Math.round(busyMean * 100),
      cpuBusyP90Pct: Math.round((quantile(busy, 0.9) ?? 0) * 100),
      secondsSaturatedPct: Math.round(saturated * 100),
      load1Max: cpu.length > 0 ? Math.max(...cpu.map((c) => c.load1)) : null,
      /** CPU seconds per second by role (1.0 = one whole core). */
      coresByRole: Object.fromEntries(Object.entries(roles).map(([k, v]) => [k, round(v, 2)])),
      simulationCores: round(simCores, 2),
      /** Busy cores not accounted to the simulation's processes (other work on a shared machine, the kernel). */
      otherCores: round(otherCores, 2),
      emulatorLatenessP99Ms: emuP99,
      observerLoopDelayP99Ms: round(r.loopDelay.p99),
      machineBound,
      verdict: machineBound
        ? `MACHINE-BOUND: ${reasons.join('; ')}. The times below measure this machine as much as the network.`
        : 'faithful: the machine had CPU to spare; the times are the network’s and the nodes’',
    },
    unexpectedExits: r.unexpectedExits,
  };
}

export type Report = ReturnType<typeof buildReport>;

const ms = (x: number | null) =>
  x === null ? '—' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`;

export function reportText(p: Report): string {
  const row = (name: string, q: Propagation) =>
    `  ${name.padEnd(6)} ${(['to50', 'to90', 'to100'] as const)
      .map(
        (k) =>
          `${k.slice(2)}%: median ${ms(q[k].medianMs).padStart(8)}  p99 ${ms(q[k].p99Ms).padStart(8)}${q[k].notReached > 0 ? ` (${q[k].notReached} never)` : ''}`,
      )
      .join('   ')}`;
  const b = p.bytesPerNodePerBlock;
  const kb = (x: { mean: number; max: number } | null) =>
    x === null ? '—' : `mean ${(x.mean / 1000).toFixed(1)} kB, max ${(x.max / 1000).toFixed(1)} kB`;
  const peers = p.peers.overWindow;
  return [
    `Cairn network simulation: ${p.nodes} nodes, ${p.durationSeconds} s, shaper ${p.shaper}`,
    `  ${p.command}`,
    '',
    `machine: ${p.machine.verdict}`,
    `  CPU busy mean ${p.machine.cpuBusyMeanPct}%, p90 ${p.machine.cpuBusyP90Pct}%, ${p.machine.secondsSaturatedPct}% of seconds ≥ 95%; load1 max ${p.machine.load1Max}`,
    `  cores used: simulation ${p.machine.simulationCores} ${JSON.stringify(p.machine.coresByRole)}, other processes and kernel ${p.machine.otherCores}`,
    `  emulator lateness p99 ${p.machine.emulatorLatenessP99Ms ?? '—'} ms, observer loop delay p99 ${p.machine.observerLoopDelayP99Ms} ms`,
    '',
    `blocks: ${p.blocks.bestChain} on the best chain (every ${p.blocks.meanIntervalSeconds} s, mean ${(p.blocks.meanSizeBytes / 1000).toFixed(1)} kB, ${p.blocks.meanTransactions} tx), ${p.blocks.stale} stale: stale rate ${p.blocks.staleRate === null ? '—' : `${(p.blocks.staleRate * 100).toFixed(1)}%`}`,
    'block propagation (from the first node that had it):',
    row('block', p.blockPropagation),
    `transaction propagation (from sendrawtransaction; ${p.txPropagation.sent} sent, ${p.load.sentPerSecond}/s):`,
    row('tx', p.txPropagation),
    `bytes per node per block: wire ${kb(b.wire)}; P2P payload ${kb(b.payload)}`,
    `  of which blocks ${kb(b.blockRelay)} (${p.blocks.meanSizeBytes > 0 && b.blockRelay !== null ? `${(b.blockRelay.mean / p.blocks.meanSizeBytes).toFixed(2)}× the block` : '—'}); transactions ${kb(b.txRelay)}`,
    `peers per node over the run: ${peers === null ? '—' : `min ${peers.min}, p10 ${peers.p10}, median ${peers.median}, p90 ${peers.p90}, max ${peers.max}`}`,
    `new node sync: ${p.sync === null ? '—' : `${p.sync.node} from height ${p.sync.startHeight} to ${p.sync.targetHeight} in ${p.sync.secondsToTarget ?? 'never'} s, on the network's tip after ${p.sync.secondsToTip ?? 'never'} s`}`,
    `churn: ${p.churn.stops} stops of ${p.churn.nodes.length} candidate nodes; load rejections ${JSON.stringify(p.load.rejected)}`,
    `end: ${p.tips.oneTip ? `all nodes on one tip (converged ${p.tips.convergeSeconds} s after mining stopped)` : `NOT on one tip: ${JSON.stringify(p.tips.byTip)}`}`,
    ...(p.unexpectedExits.length > 0 ? [`unexpected process exits: ${p.unexpectedExits.join('; ')}`] : []),
  ].join('\n');
}
