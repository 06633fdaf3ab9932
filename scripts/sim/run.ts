/**
 * The simulation's experiment, run by scripts/sim.ts inside the observer's namespace once the
 * hosts and links exist: discovery, the nodes and their recorders are started each in its host's
 * namespace (the devnet's plan, identities and supervisor, with host addresses); the observer
 * subscribes to every node's feed, waits for the network to form and the recorders' coinbases to
 * mature, then runs the load, the churn and a late joiner for the set time, stops mining, waits
 * for one tip, and writes report.json, report.svg and report.txt to the results folder.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { curveKeyPair } from 'zeromq';
import { LOCAL } from '../../shared/core/params/networks.ts';
import { ensureIdentity } from '../devnet/identities.ts';
import {
  DEFAULT_PORT_BASE,
  type DevnetKeys,
  discoveryToml,
  nodeToml,
  planDevnet,
  recorderToml,
} from '../devnet/plan.ts';
import { Supervisor } from '../devnet/supervisor.ts';
import { Churn } from './churn.ts';
import { CpuSampler, FeedRecorder, NodeRpc, now, Timeline } from './collect.ts';
import { keyAddress, Load } from './load.ts';
import { Pacer } from './mining.ts';
import { plotSvg } from './plot.ts';
import { prng } from './prng.ts';
import { type BestBlock, buildReport, reachTimes, reportText, type SyncResult } from './report.ts';
import { readLinkStats, type StatsSource } from './shaping.ts';
import type { SimHost } from './topology.ts';

export interface SimOptions {
  readonly nodes: number;
  readonly recorders: number;
  readonly latencyMs: number;
  readonly jitterMs: number;
  readonly lossPct: number;
  readonly minutes: number;
  readonly blockKb: number;
  readonly txRate: number;
  readonly txOutputs: number;
  readonly churnEverySeconds: number;
  readonly churnDownSeconds: readonly [number, number];
  readonly miningCpuPercent: number;
  /** paced: Poisson blocks by generatetoaddress at the mining nodes (./mining.ts); recorders: real recorders, unpaced. */
  readonly mining: 'paced' | 'recorders';
  readonly blockIntervalMs: number;
  readonly lateJoiner: boolean;
  /** false: every node states P2P protocol 1 (whole blocks, one tx per push), to compare relays. */
  readonly compactBlocks?: boolean;
  readonly seed: number;
}

export interface SimPlan {
  readonly command: string;
  readonly options: SimOptions;
  readonly hosts: readonly SimHost[];
  /** host name → namespace */
  readonly namespaces: Readonly<Record<string, string>>;
  readonly stats: StatsSource;
  readonly shaper: string;
  readonly workDir: string;
  readonly resultsDir: string;
}

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = {
  node: join(REPO, 'services/node/main.ts'),
  recorder: join(REPO, 'services/recorder/main.ts'),
  discovery: join(REPO, 'services/discovery/main.ts'),
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

async function main(plan: SimPlan): Promise<number> {
  const o = plan.options;
  const total = o.nodes + (o.lateJoiner ? 1 : 0);
  const dplan = planDevnet({
    nodes: total,
    recorders: o.recorders,
    root: plan.workDir,
    keysDir: join(plan.workDir, 'keys'),
    portBase: DEFAULT_PORT_BASE,
    maxNodes: 250,
  });
  const address = (h: string) => plan.hosts.find((x) => x.name === h)!.address;
  const observer = curveKeyPair();
  const nodes = dplan.nodes.map((n) => n.name);
  const joiner = o.lateJoiner ? nodes.at(-1)! : undefined;
  const regular = nodes.filter((n) => n !== joiner);

  // the load's rate: as asked, or what fills blocks to --block-kb at the network's block spacing
  const probe = new Load({
    rate: 1,
    outputs: o.txOutputs,
    nodes: () => [],
    home: nodes[0]!,
    call: async () => undefined,
    rpcError: async () => ({ err: 'probe' }),
  });
  const txBytes = probe.txBytes();
  const paced = o.mining === 'paced';
  const spacingS = o.mining === 'paced' ? o.blockIntervalMs / 1000 : LOCAL.targetSpacing;
  const rate = o.blockKb > 0 ? (o.blockKb * 1000) / txBytes / spacingS : o.txRate;

  const keys: DevnetKeys = {
    discovery: ensureIdentity(dplan.discovery.identityDir, 'discovery', 'discovery').key,
    nodes: dplan.nodes.map((n) => ({
      peer: ensureIdentity(n.identityDir, 'peer', 'peer').key,
      proof: ensureIdentity(n.identityDir, 'proof', 'proof').key,
    })),
    recorders: dplan.recorders.map((r) => ensureIdentity(r.identityDir, 'recorder', 'recorder').key),
    payout: '', // set below: the load's mining key
  };
  const rpc = new NodeRpc(
    new Map(
      dplan.nodes.map((n) => [
        n.name,
        { address: address(n.name), rpcPort: n.ports.rpc, dataDir: n.dataDir },
      ]),
    ),
  );
  const timeline = new Timeline();
  const up = () => regular.filter((n) => timeline.isUp(n));
  const load = new Load({
    rate,
    outputs: o.txOutputs,
    nodes: up,
    home: nodes[0]!,
    call: (n, m, p) => rpc.call(n, m, p),
    rpcError: (n, m, p) => rpc.callOrError(n, m, p),
  });
  const k: DevnetKeys = { ...keys, payout: keyAddress(load.miner) };
  const hosts = {
    discovery: address('discovery'),
    nodes: nodes.map(address),
    feedSubscribers: [observer.publicKey],
  };
  mkdirSync(join(plan.workDir, 'config'), { recursive: true });
  writeFileSync(dplan.discovery.configPath, discoveryToml(dplan, hosts));
  for (const [i, n] of dplan.nodes.entries()) {
    const toml = nodeToml(dplan, i, k, hosts);
    writeFileSync(
      n.configPath,
      o.compactBlocks === false ? toml.replace('[peering]\n', '[peering]\ncompact_blocks = false\n') : toml,
    );
  }
  const recorderCpu = Math.max(1, Math.min(100, Math.round(o.miningCpuPercent / Math.max(1, o.recorders))));
  for (const [j, r] of dplan.recorders.entries())
    writeFileSync(r.configPath, recorderToml(dplan, j, k, recorderCpu));

  const unexpected: string[] = [];
  const sup = new Supervisor({
    tsxLoader: import.meta.resolve('tsx'),
    cwd: REPO,
    report: (text) => {
      const first = text.trim().split('\n')[0]!;
      if (first.startsWith('!')) unexpected.push(first.slice(2));
      log(first);
    },
  });
  const wrap = (host: string) => ['ip', 'netns', 'exec', plan.namespaces[host]!];
  const cpu = new CpuSampler();
  const roles = new Map<string, string>([['discovery', 'discovery']]);
  for (const n of nodes) roles.set(n, 'node');
  for (const r of dplan.recorders) roles.set(r.name, 'recorder');
  cpu.start(() => {
    const m = new Map<number, string>();
    for (const [name, pid] of Object.entries(sup.pids())) m.set(pid, roles.get(name) ?? name);
    if (plan.stats.kind === 'emulator') m.set(plan.stats.pid, 'link emulator');
    m.set(process.pid, 'observer');
    return m;
  });

  let aborted = false;
  const abort = async () => {
    if (aborted) return;
    aborted = true;
    log('stopping (signal)…');
    await sup.stopAll(5000);
    process.exit(130);
  };
  process.on('SIGTERM', () => void abort());
  process.on('SIGINT', () => void abort());

  log(
    `${o.nodes} nodes${joiner ? ' + 1 late joiner' : ''}, ${
      paced
        ? `${o.recorders} mining node(s), a block every ${o.blockIntervalMs / 1000} s on average`
        : `${o.recorders} recorder(s) at ${recorderCpu}% of a core each`
    }, load ${rate.toFixed(1)} tx/s of ${txBytes} B`,
  );
  sup.start({
    name: 'discovery',
    main: MAIN.discovery,
    args: ['start', '--config', dplan.discovery.configPath],
    logPath: dplan.discovery.logPath,
    wrap: wrap('discovery'),
  });
  const feeds = new FeedRecorder(observer);
  // nodes start one after another: 30 tsx processes compiling at once would take the machine for minutes
  const stagger = Math.min(1500, 300 + 40 * o.nodes);
  for (const [i, n] of dplan.nodes.entries()) {
    feeds.watch(n.name, address(n.name), n.ports.feed, k.nodes[i]!.peer);
    const spec = {
      name: n.name,
      main: MAIN.node,
      args: ['start', '--config', n.configPath],
      logPath: n.logPath,
      wrap: wrap(n.name),
    };
    if (n.name === joiner) {
      sup.add(spec);
      continue;
    }
    sup.start(spec);
    timeline.up(n.name);
    await sleep(stagger);
  }
  const miners = dplan.recorders.map((r) => dplan.nodes[r.node]!.name);
  const pacer = new Pacer({
    intervalMs: o.blockIntervalMs,
    miners,
    isUp: (n) => timeline.isUp(n),
    payout: k.payout,
    generate: async (n, addr) => 'ok' in (await rpc.callOrError(n, 'generatetoaddress', [1, addr])),
    rng: prng(o.seed + 1),
  });
  for (const r of paced ? [] : dplan.recorders)
    sup.start({
      name: r.name,
      main: MAIN.recorder,
      args: ['start', '--config', r.configPath],
      logPath: r.logPath,
      wrap: wrap(dplan.nodes[r.node]!.name),
    });

  // warm-up: every node has a peer and the chain is past coinbase maturity (the load needs coins)
  const warmupEnd = now() + Math.max(180_000, o.nodes * 8000);
  let warm = false;
  let premined = !paced;
  while (now() < warmupEnd) {
    await sleep(3000);
    await rpc.poll(regular);
    if (!premined && rpc.samples.some((s) => s.node === miners[0] && s.peers > 0)) {
      // coins for the load: past coinbase maturity at once, then blocks at the set pace
      // (each mature coinbase is 50 lanes; a high rate needs more lanes to keep chains short)
      const premine = LOCAL.coinbaseMaturity + 6 + Math.ceil(rate / 10);
      premined = 'ok' in (await rpc.callOrError(miners[0]!, 'generatetoaddress', [premine, k.payout]));
      if (premined) pacer.start();
    }
    const last = new Map(rpc.samples.filter((s) => s.t > now() - 4000).map((s) => [s.node, s]));
    const heights = [...last.values()].map((s) => s.height);
    const ready =
      last.size === regular.length &&
      [...last.values()].every((s) => s.peers > 0) &&
      Math.min(...heights) >= LOCAL.coinbaseMaturity + 4;
    log(
      `warm-up: ${last.size}/${regular.length} nodes answer, heights ${heights.length > 0 ? `${Math.min(...heights)}..${Math.max(...heights)}` : '—'}, peers ≥ ${Math.min(...[...last.values()].map((s) => s.peers), 99)}`,
    );
    if (ready) {
      warm = true;
      break;
    }
  }
  if (!warm)
    unexpected.push('the network did not finish warming up (every node with a peer, height ≥ 14) in time');

  // the load starts before the window: its first coinbase splits must be in a block before lanes run
  load.start();
  for (const until = now() + 90_000; load.lanes === 0 && now() < until; ) await sleep(500);
  const linkStart = readLinkStats(plan.stats);
  const startMs = now();
  const startHeight = Math.max(0, ...rpc.samples.map((s) => s.height));
  const endAt = startMs + o.minutes * 60_000;
  log(`measuring for ${o.minutes} min from height ${startHeight} (${load.lanes} load lanes)`);
  const churn = new Churn(
    sup,
    regular.slice(o.recorders > 0 ? Math.min(o.recorders, regular.length - 1) : 1),
    timeline,
    {
      everyS: o.churnEverySeconds,
      downMinS: o.churnDownSeconds[0],
      downMaxS: o.churnDownSeconds[1],
      rng: prng(o.seed),
      log,
    },
  );
  churn.start();

  // the late joiner: a fresh node started at 60% of the window, measured until it has the tip
  let sync: SyncResult | undefined;
  const syncDone = (async () => {
    if (joiner === undefined) return;
    await sleep(o.minutes * 60_000 * 0.6);
    const target = Math.max(0, ...rpc.samples.filter((s) => s.t > now() - 10_000).map((s) => s.height));
    const t0 = now();
    sup.resume(joiner);
    log(`late joiner ${joiner} starts; the network is at height ${target}`);
    let toTarget: number | null = null;
    while (now() < endAt + 30_000) {
      await sleep(500);
      const info = await rpc.call<{ blocks: number; bestblockhash: string }>(joiner, 'getblockchaininfo');
      if (info === undefined) continue;
      if (toTarget === null && info.blocks >= target) toTarget = (now() - t0) / 1000;
      const ref = await rpc.call<string>(nodes[0]!, 'getbestblockhash');
      if (toTarget !== null && ref === info.bestblockhash) {
        sync = {
          node: joiner,
          startHeight: 0,
          targetHeight: target,
          secondsToTarget: round1(toTarget),
          secondsToTip: round1((now() - t0) / 1000),
        };
        timeline.up(joiner); // from now on it counts as a node blocks must reach
        log(
          `late joiner synced: ${sync.secondsToTarget} s to height ${target}, ${sync.secondsToTip} s to the tip`,
        );
        return;
      }
    }
    sync = {
      node: joiner,
      startHeight: 0,
      targetHeight: target,
      secondsToTarget: toTarget === null ? null : round1(toTarget),
      secondsToTip: null,
    };
  })();

  while (now() < endAt) {
    await sleep(5000);
    const polled = [
      ...regular.filter((n) => timeline.isUp(n)),
      ...(joiner && timeline.isUp(joiner) ? [joiner] : []),
    ];
    await rpc.poll(polled);
    const c = cpu.samples.at(-1);
    log(
      `t+${Math.round((now() - startMs) / 1000)} s: blocks seen ${feeds.blocks.size}, txs sent ${load.submitted.size}, cpu ${c ? Math.round(c.busy * 100) : '?'}%`,
    );
  }
  const endMs = now();
  load.stop();
  await churn.stop();
  const linkEnd = readLinkStats(plan.stats);
  await syncDone;

  // end: mining stops, every node is up again; do they agree on one tip?
  pacer.stop();
  for (const r of paced ? [] : dplan.recorders) await sup.stop(r.name);
  if (joiner !== undefined) sup.resume(joiner);
  const stopMining = now();
  let oneTip = false;
  let byTip: Record<string, string[]> = {};
  let convergeSeconds: number | null = null;
  while (now() < stopMining + 120_000) {
    await sleep(1000);
    const tips = await Promise.all(nodes.map((n) => rpc.call<string>(n, 'getbestblockhash')));
    byTip = {};
    for (const [i, t] of tips.entries()) {
      const key = t ?? 'no answer';
      byTip[key] = [...(byTip[key] ?? []), nodes[i]!];
    }
    if (Object.keys(byTip).length === 1 && tips[0] !== undefined) {
      oneTip = true;
      convergeSeconds = round1((now() - stopMining) / 1000);
      break;
    }
  }
  log(oneTip ? `all ${nodes.length} nodes on one tip` : `nodes disagree: ${JSON.stringify(byTip)}`);

  // the best chain from the window on, with sizes
  const bestChain: BestBlock[] = [];
  const tipHeight = (await rpc.call<number>(nodes[0]!, 'getblockcount')) ?? 0;
  for (let h = Math.max(1, startHeight - 2); h <= tipHeight; h += 16) {
    const hs = Array.from({ length: Math.min(16, tipHeight - h + 1) }, (_, i) => h + i);
    const got = await Promise.all(
      hs.map(async (height) => {
        const hash = await rpc.call<string>(nodes[0]!, 'getblockhash', [height]);
        const b =
          hash === undefined
            ? undefined
            : await rpc.call<{ size: number; nTx: number }>(nodes[0]!, 'getblock', [hash, 1]);
        return hash && b ? { hash, height, size: b.size, nTx: b.nTx } : undefined;
      }),
    );
    for (const b of got) if (b) bestChain.push(b);
  }

  cpu.stop();
  const report = buildReport({
    command: plan.command,
    options: { ...o, txRate: round1(rate) },
    shaper: plan.shaper,
    startMs,
    endMs,
    nodes,
    timeline,
    blocks: feeds.blocks,
    txs: feeds.txs,
    submitted: load.submitted,
    bestChain,
    peerSamples: rpc.samples,
    payloadBytes: new Map([...rpc.payload].filter(([n]) => n !== joiner)),
    linkStart,
    linkEnd,
    cpu: cpu.samples,
    cores: cpu.cores,
    loopDelay: cpu.loopDelay(),
    sync,
    tips: {
      oneTip,
      convergeSeconds,
      byTip: oneTip ? {} : Object.fromEntries(Object.entries(byTip).map(([t, ns]) => [t.slice(0, 16), ns])),
    },
    churn: { stops: churn.events.length, nodes: [...churn.candidates] },
    load: {
      targetRate: round1(rate),
      txBytes,
      rejected: Object.fromEntries(load.rejected),
      sendErrors: load.sendErrors,
      skipped: load.skippedTicks,
    },
    unexpectedExits: unexpected,
    mining: { mode: o.mining, generated: pacer.found, failed: pacer.failed },
  });
  const firstSeen = (m: ReadonlyMap<string, number>) => Math.min(...m.values());
  const best = new Set(bestChain.map((b) => b.hash));
  const svg = plotSvg({
    title: `${o.nodes} nodes, ${o.latencyMs}±${o.jitterMs} ms, loss ${o.lossPct}%, ${report.blocks.meanSizeBytes / 1000} kB blocks — ${report.machine.machineBound ? 'MACHINE-BOUND' : 'faithful'}`,
    startMs,
    endMs,
    blocks: [...feeds.blocks]
      .filter(([h, m]) => best.has(h) && firstSeen(m) >= startMs && firstSeen(m) <= endMs)
      .map(([, m]) => ({ t: firstSeen(m), ...reachTimes(m, firstSeen(m), timeline) })),
    txs: [...load.submitted]
      .filter(([, t]) => t <= endMs - 10_000)
      .map(([h, t]) => ({ t, to90: reachTimes(feeds.txs.get(h) ?? new Map(), t, timeline).to90 })),
    cpu: cpu.samples.filter((c) => c.t >= startMs && c.t <= endMs),
    churn: churn.events.map((e) => ({ t: e.stoppedAt })),
  });
  mkdirSync(plan.resultsDir, { recursive: true });
  const text = reportText(report);
  writeFileSync(join(plan.resultsDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(plan.resultsDir, 'report.svg'), svg);
  writeFileSync(join(plan.resultsDir, 'report.txt'), `${text}\n`);
  // the raw arrivals (ms since the window's start), for a question the report does not answer
  const rel = (m: ReadonlyMap<string, number>) =>
    Object.fromEntries([...m].map(([n, t]) => [n, Math.round(t - startMs)]));
  writeFileSync(
    join(plan.resultsDir, 'raw.json'),
    JSON.stringify({
      startMs,
      endMs,
      timeline: timeline.toJSON(),
      churn: churn.events,
      bestChain,
      blocks: Object.fromEntries([...feeds.blocks].map(([h, m]) => [h, rel(m)])),
      txs: Object.fromEntries(
        [...load.submitted].map(([h, t]) => [
          h,
          { sent: Math.round(t - startMs), at: rel(feeds.txs.get(h) ?? new Map()) },
        ]),
      ),
    }),
  );
  console.log(`\n${text}\n\nresults: ${plan.resultsDir}/report.{json,svg,txt}`);

  feeds.close();
  await sup.stopAll(10_000);
  return 0;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

const plan = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as SimPlan;
process.exitCode = await main(plan);
